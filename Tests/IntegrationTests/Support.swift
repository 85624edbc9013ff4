import Foundation
import Glibc
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

/// A child started with posix_spawn, so argv can hold any bytes and its rusage can be read.
struct Child {
    let pid: pid_t

    /// Spawns `argv[0]` (a path) with exactly these argument bytes.
    static func spawn(_ argv: [[UInt8]], environment: [String] = ["PATH=/usr/bin:/bin"]) throws -> Child {
        var cArgs: [UnsafeMutablePointer<CChar>?] = argv.map { bytes in
            let p = UnsafeMutablePointer<CChar>.allocate(capacity: bytes.count + 1)
            bytes.withUnsafeBufferPointer { b in
                for (i, byte) in b.enumerated() { p[i] = CChar(bitPattern: byte) }
            }
            p[bytes.count] = 0
            return p
        }
        cArgs.append(nil)
        var cEnv: [UnsafeMutablePointer<CChar>?] = environment.map { strdup($0) }
        cEnv.append(nil)
        defer {
            cArgs.forEach { $0?.deallocate() }
            cEnv.forEach { free($0) }
        }
        // Default signal dispositions and an empty mask: the test runner's own settings must not leak in.
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var all = sigset_t()
        sigfillset(&all)
        var none = sigset_t()
        sigemptyset(&none)
        posix_spawnattr_setsigdefault(&attributes, &all)
        posix_spawnattr_setsigmask(&attributes, &none)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK))
        var pid: pid_t = 0
        let rc = posix_spawn(&pid, cArgs[0]!, nil, &attributes, cArgs, cEnv)
        if rc != 0 { throw POSIXError(POSIXErrorCode(rawValue: rc) ?? .EINVAL) }
        return Child(pid: pid)
    }

    static func spawn(_ argv: [String]) throws -> Child {
        try spawn(argv.map { Array($0.utf8) })
    }

    /// Waits for the child; returns its wait status and the CPU the kernel charged it.
    @discardableResult
    func wait() -> (status: Int32, cpuNanoseconds: UInt64) {
        var status: Int32 = 0
        var usage = rusage()
        while wait4(pid, &status, 0, &usage) < 0 && errno == EINTR {}
        let cpu = UInt64(usage.ru_utime.tv_sec + usage.ru_stime.tv_sec) * 1_000_000_000
            + UInt64(usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) * 1000
        return (status, cpu)
    }
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
        let cc = try Child.spawn(["/usr/bin/cc", "-O1", "-pthread", "-o", output, source])
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
