import Foundation
import Glibc
import LabSupport
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

/// Runs a program (with the sbin directories on PATH); throws with its output when it exits
/// non-zero. Through LabShell: output goes to a file, since the lab's listener outlives the script.
@discardableResult
func shell(_ argv: [String]) throws -> String {
    let (status, output) = try LabShell.run(["-c", "PATH=/usr/sbin:/usr/bin:/sbin:/bin:$PATH exec \"$0\" \"$@\""] + argv)
    guard status == 0 else {
        throw CommandFailed(description: "\(argv.joined(separator: " ")): exit \(status): \(output)")
    }
    return output
}
