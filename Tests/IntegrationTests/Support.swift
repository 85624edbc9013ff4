import Foundation
import Glibc
import LabSupport
import Testing
import TracerCore

/// Integration tests load real BPF programs: they need root (CAP_BPF + CAP_PERFMON or CAP_SYS_ADMIN).
/// Without it they are skipped with this reason, which the test runner prints.
enum Privilege {
    static var canTrace: Bool {
        guard let status = try? ProcStatus.readSelf() else { return false }
        return status.has(capability: .sysAdmin) || (status.has(capability: .bpf) && status.has(capability: .perfmon))
    }

    static let reason: Comment = "SKIPPED LOUDLY: loading BPF programs needs root (CAP_BPF and CAP_PERFMON); run the tests as root"
}

/// The small C programs in tools/testprogs, compiled once per test run with the system compiler.
enum TestPrograms {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()
    private static let built = NSLock()
    nonisolated(unsafe) private static var cache: [String: String] = [:]

    static func path(_ name: String) throws -> String {
        built.lock()
        defer { built.unlock() }
        if let path = cache[name] { return path }
        let output = FileManager.default.temporaryDirectory.appendingPathComponent("tracer-testprog-\(getpid())-\(name)").path
        let source = root.appendingPathComponent("tools/testprogs/\(name).c").path
        let cc = try ChildProcess.spawn(["/usr/bin/cc", "-O1", "-pthread", "-o", output, source])
        let status = cc.wait().status
        guard status == 0 else { throw TestProgramError(name: name) }
        cache[name] = output
        return output
    }

    struct TestProgramError: Error, CustomStringConvertible {
        let name: String
        var description: String { "cannot compile tools/testprogs/\(name).c with /usr/bin/cc (run tools/setup.sh --test)" }
    }
}

/// Polls a probe until `match` finds what it waits for, or the deadline passes.
func waitForEvents(_ probe: ExecProbe, seconds: Double = 5, until done: ([ProcessEvent]) -> Bool) throws -> [ProcessEvent] {
    var seen: [ProcessEvent] = []
    let deadline = Date().addingTimeInterval(seconds)
    while Date() < deadline {
        seen += try probe.poll(timeoutMilliseconds: 50)
        if done(seen) { break }
    }
    return seen
}

extension Array where Element == ProcessEvent {
    func execs(pid: pid_t) -> [ExecEvent] {
        compactMap { if case .exec(let e) = $0, e.pid == UInt32(pid) { return e } else { return nil } }
    }

    func exits(pid: pid_t) -> [ExitEvent] {
        compactMap { if case .exit(let e) = $0, e.pid == UInt32(pid) { return e } else { return nil } }
    }
}

/// The running kernel's (major, minor), from uname.
enum KernelRelease {
    static var current: (Int, Int) {
        var u = utsname()
        uname(&u)
        let release = withUnsafeBytes(of: &u.release) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
        let parts = release.split(whereSeparator: { !$0.isNumber }).compactMap { Int($0) }
        return (parts.first ?? 0, parts.count > 1 ? parts[1] : 0)
    }
}
