import Foundation
@testable import TracerCore

/// A /proc tree in a scratch directory, for the readers that take a `procRoot`: each process
/// gets the stat, status, cgroup and cmdline files the kernel would show.
final class FakeProc {
    let root: URL
    var path: String { root.path }

    init() throws {
        root = FileManager.default.temporaryDirectory.appendingPathComponent("fake-proc-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: root, withIntermediateDirectories: true)
    }

    deinit { try? FileManager.default.removeItem(at: root) }

    /// `namespacePIDs` is NStgid, from the host's pid down; empty leaves the line out (before Linux 4.1).
    func add(pid: Int32, ppid: Int32 = 1, comm: String, args: [String], cgroup: String, namespacePIDs: [Int32]) throws {
        let dir = root.appendingPathComponent(String(pid))
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        // Fields 3 to 22: state, ppid, zeros up to the start time (field 22); then a few of the
        // 30 fields the kernel writes after it.
        let fields = ["S", String(ppid)] + Array(repeating: "0", count: 17) + ["12345", "0", "0"]
        try "\(pid) (\(comm)) \(fields.joined(separator: " "))\n".write(to: dir.appendingPathComponent("stat"), atomically: true, encoding: .utf8)
        var status = "Name:\t\(comm)\nTgid:\t\(pid)\nPPid:\t\(ppid)\nUid:\t0\t0\t0\t0\nVmSize:\t1000 kB\n"
        if !namespacePIDs.isEmpty { status += "NStgid:\t" + namespacePIDs.map(String.init).joined(separator: "\t") + "\n" }
        try status.write(to: dir.appendingPathComponent("status"), atomically: true, encoding: .utf8)
        try "0::\(cgroup)\n".write(to: dir.appendingPathComponent("cgroup"), atomically: true, encoding: .utf8)
        try Data(args.flatMap { Array($0.utf8) + [0] }).write(to: dir.appendingPathComponent("cmdline"))
    }

    /// The docker fixture's web container (init pid 4242 in its config) with a second process,
    /// and a host process.
    static func webAndHost() throws -> FakeProc {
        let proc = try FakeProc()
        let web = "/system.slice/docker-\(Fixture.dockerWeb).scope"
        try proc.add(pid: 4242, comm: "nginx", args: ["nginx", "-g", "daemon off;"], cgroup: web, namespacePIDs: [4242, 1])
        try proc.add(pid: 4300, ppid: 4242, comm: "sleep", args: ["sleep", "25"], cgroup: web, namespacePIDs: [4300, 7])
        try proc.add(pid: 4400, comm: "bash", args: ["bash"], cgroup: "/user.slice/session-1.scope", namespacePIDs: [4400])
        return proc
    }
}
