import Foundation
import Glibc
import Testing
@testable import TracerCore

/// tools/lab/egress.sh for the netfilter tests (LabSupport.EgressLab is the general driver; this one adds
/// the lab path as discovery would build it and commands in the host namespace): a container host's egress path built entirely
/// inside network namespaces (tel-NAME-c1, tel-NAME-host, tel-NAME-world).
struct NetfilterLab {
    static let script = TestPrograms.root.appendingPathComponent("tools/lab/egress.sh").path
    static let canRun = geteuid() == 0 && access("/usr/sbin/iptables-nft", X_OK) == 0 && access("/usr/sbin/nft", X_OK) == 0
    static let reason: Comment = "SKIPPED LOUDLY: the egress lab needs root, iproute2, nftables and iptables (tools/setup.sh --test)"

    let name: String

    var hostNetnsPath: String { "/run/netns/tel-\(name)-host" }

    /// Builds the lab; call `down()` in a defer.
    static func up(_ name: String) throws -> NetfilterLab {
        let lab = NetfilterLab(name: name)
        try lab.run("up", name)
        return lab
    }

    func down() { _ = try? run("down", name) }

    func breakIt(_ mode: String) throws { try run("break", name, mode) }

    /// One probe from c1 to the world; true if it was answered.
    func probe(tcp: Bool = false) -> Bool {
        (try? run(tcp ? ["probe", name, "--tcp"] : ["probe", name])) != nil
    }

    /// The lab's path from c1, as discovery would build it.
    func path() -> EgressPath {
        let endpoint = EgressPath.Endpoint(
            name: "c1", netnsInode: namespaceInode("/run/netns/tel-\(name)-c1"), netnsPath: "/run/netns/tel-\(name)-c1",
            interface: "eth0", interfaceIndex: 2, ipv4: ["172.17.0.2/16"], mtu: 1500)
        return EgressPath(endpoint: endpoint, hostNetnsInode: namespaceInode(hostNetnsPath), hostNetnsPath: hostNetnsPath,
                          hostIsRoot: false, hostVeth: .init(name: "veth-c1", index: 0), bridge: .init(name: "br-lab", index: 0),
                          uplink: .init(name: "uplink0", index: 0), gateway: "198.51.100.1")
    }

    /// Runs a command inside the lab's host namespace.
    @discardableResult
    func inHost(_ arguments: String...) throws -> String {
        try shell(["/usr/bin/nsenter", "--net=\(hostNetnsPath)"] + arguments)
    }

    @discardableResult
    private func run(_ arguments: String...) throws -> String { try run(arguments) }

    @discardableResult
    private func run(_ arguments: [String]) throws -> String { try shell(["/bin/bash", NetfilterLab.script] + arguments) }
}

/// Runs a program; throws with its stderr when it exits non-zero. Output goes through temporary
/// files, not pipes: the lab's listener outlives the script and would hold a pipe open forever.
@discardableResult
func shell(_ argv: [String]) throws -> String {
    let base = FileManager.default.temporaryDirectory.appendingPathComponent("tracer-nf-\(getpid())-\(UInt64.random(in: 0...UInt64.max))").path
    let outPath = base + ".out", errPath = base + ".err"
    defer { unlink(outPath); unlink(errPath) }
    var actions = posix_spawn_file_actions_t()
    posix_spawn_file_actions_init(&actions)
    defer { posix_spawn_file_actions_destroy(&actions) }
    posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
    posix_spawn_file_actions_addopen(&actions, 1, outPath, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
    posix_spawn_file_actions_addopen(&actions, 2, errPath, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
    var cArgs: [UnsafeMutablePointer<CChar>?] = argv.map { strdup($0) } + [nil]
    let cEnv: [UnsafeMutablePointer<CChar>?] = [strdup("PATH=/usr/sbin:/usr/bin:/sbin:/bin"), nil]
    defer { cArgs.forEach { free($0) }; cEnv.forEach { free($0) } }
    var pid: pid_t = 0
    let rc = posix_spawn(&pid, argv[0], &actions, nil, &cArgs, cEnv)
    guard rc == 0 else { throw CommandFailed(description: "cannot run \(argv[0]): \(String(cString: strerror(rc)))") }
    var status: Int32 = 0
    while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
    let output = (try? String(contentsOfFile: outPath, encoding: .utf8)) ?? ""
    guard status == 0 else {
        let errors = (try? String(contentsOfFile: errPath, encoding: .utf8)) ?? ""
        throw CommandFailed(description: "\(argv.joined(separator: " ")): wait status \(status): \(errors)")
    }
    return output
}
