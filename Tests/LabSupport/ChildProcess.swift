import Foundation
import Glibc

/// A child started with posix_spawn: argv may hold any bytes, its output can go to a file, and
/// its rusage is read when it is reaped. The one spawner of the test suites.
///
/// Default signal dispositions and an empty mask: the test runner's own settings must not leak in.
/// posix_spawn and wait4, not Process: Process did not notice some children's exit.
public struct ChildProcess {
    public let pid: pid_t

    /// Spawns `argv[0]` (a path) with exactly these argument bytes and this environment.
    /// With `outputFile`, stdin is /dev/null and stdout and stderr go to that file together.
    public static func spawn(_ argv: [[UInt8]], environment: [String] = ["PATH=/usr/bin:/bin"],
                             outputFile: String? = nil) throws -> ChildProcess {
        var cArgs: [UnsafeMutablePointer<CChar>?] = argv.map { bytes in
            let p = UnsafeMutablePointer<CChar>.allocate(capacity: bytes.count + 1)
            for (i, byte) in bytes.enumerated() { p[i] = CChar(bitPattern: byte) }
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
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        if let outputFile {
            posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
            posix_spawn_file_actions_addopen(&actions, 1, outputFile, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
            posix_spawn_file_actions_adddup2(&actions, 1, 2)
        }
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
        let rc = posix_spawn(&pid, cArgs[0]!, &actions, &attributes, cArgs, cEnv)
        if rc != 0 { throw POSIXError(POSIXErrorCode(rawValue: rc) ?? .EINVAL) }
        return ChildProcess(pid: pid)
    }

    public static func spawn(_ argv: [String], environment: [String] = ["PATH=/usr/bin:/bin"],
                             outputFile: String? = nil) throws -> ChildProcess {
        try spawn(argv.map { Array($0.utf8) }, environment: environment, outputFile: outputFile)
    }

    /// Waits for the child; returns its wait status and the CPU the kernel charged it.
    @discardableResult
    public func wait() -> (status: Int32, cpuNanoseconds: UInt64) {
        var status: Int32 = 0
        var usage = rusage()
        while wait4(pid, &status, 0, &usage) < 0 && errno == EINTR {}
        let cpu = UInt64(usage.ru_utime.tv_sec + usage.ru_stime.tv_sec) * 1_000_000_000
            + UInt64(usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) * 1000
        return (status, cpu)
    }

    /// Our environment, as `KEY=value` strings.
    public static var inheritedEnvironment: [String] {
        var entries: [String] = []
        var entry = environ
        while let pointer = entry.pointee {
            entries.append(String(cString: pointer))
            entry += 1
        }
        return entries
    }
}
