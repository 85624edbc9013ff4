import BPF
import Glibc

/// Runs a read-only iptables tool (`iptables-legacy-save -c`, `iptables-nft-save -c`) and
/// captures its output. posix_spawn clones the *calling thread*, so the child starts in that
/// thread's network namespace: call it inside `RouteNetlink.inNamespace`.
/// Legacy tables have no netlink interface nft can read; libiptc would need the same
/// getsockopt calls the tool makes, and the tool is what users compare with.
struct SaveTool {
    let path: String

    struct Result {
        var status: Int32
        var stdout: String
        var stderr: String
    }

    static let searchPath = ["/usr/sbin", "/sbin", "/usr/bin", "/bin", "/usr/local/sbin"]

    /// The tool by name from the usual directories, or nil when it is not installed.
    static func find(_ name: String) -> SaveTool? {
        for dir in searchPath where access("\(dir)/\(name)", X_OK) == 0 {
            return SaveTool(path: "\(dir)/\(name)")
        }
        return nil
    }

    /// Runs the tool; kills it if it has not finished within `timeoutSeconds`.
    func run(_ arguments: [String], timeoutSeconds: Int32 = 10) throws(NetfilterError) -> Result {
        var outPipe: [Int32] = [0, 0]
        var errPipe: [Int32] = [0, 0]
        // pipe2 is _GNU_SOURCE-only in Glibc's Swift module: pipe, then close-on-exec by fcntl.
        guard pipe(&outPipe) == 0 else { throw .tool("pipe: \(Errno.current)") }
        guard pipe(&errPipe) == 0 else {
            close(outPipe[0]); close(outPipe[1])
            throw .tool("pipe: \(Errno.current)")
        }
        for fd in outPipe + errPipe { _ = fcntl(fd, F_SETFD, FD_CLOEXEC) }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_adddup2(&actions, outPipe[1], 1)
        posix_spawn_file_actions_adddup2(&actions, errPipe[1], 2)

        let argv = [path] + arguments
        var cArgs: [UnsafeMutablePointer<CChar>?] = argv.map { strdup($0) }
        cArgs.append(nil)
        let cEnv: [UnsafeMutablePointer<CChar>?] = [strdup("PATH=/usr/sbin:/usr/bin:/sbin:/bin"), strdup("LC_ALL=C"), nil]
        defer {
            cArgs.forEach { free($0) }
            cEnv.forEach { free($0) }
        }
        var pid: pid_t = 0
        let rc = posix_spawn(&pid, path, &actions, nil, cArgs, cEnv)
        close(outPipe[1])
        close(errPipe[1])
        defer { close(outPipe[0]); close(errPipe[0]) }
        guard rc == 0 else { throw .tool("cannot run \(path): \(Errno(rc))") }

        var out: [UInt8] = []
        var err: [UInt8] = []
        var open = [true, true]
        let deadline = Self.monotonicMilliseconds() + Int64(timeoutSeconds) * 1000
        var timedOut = false
        while open[0] || open[1] {
            let remaining = deadline - Self.monotonicMilliseconds()
            if remaining <= 0 { timedOut = true; break }
            var fds = [pollfd(fd: open[0] ? outPipe[0] : -1, events: Int16(POLLIN), revents: 0),
                       pollfd(fd: open[1] ? errPipe[0] : -1, events: Int16(POLLIN), revents: 0)]
            guard case .success = Errno.retryingOnInterrupt({ poll(&fds, 2, Int32(min(remaining, 1000))) }) else { break }
            for i in 0..<2 where open[i] && fds[i].revents != 0 {
                var chunk = [UInt8](repeating: 0, count: 65536)
                let fd = fds[i].fd
                if case .success(let got) = Errno.retryingOnInterrupt({ read(fd, &chunk, chunk.count) }), got > 0 {
                    if i == 0 { out += chunk[0..<got] } else { err += chunk[0..<got] }
                } else {
                    open[i] = false
                }
            }
        }
        if timedOut { kill(pid, SIGKILL) }
        var status: Int32 = 0
        _ = Errno.retryingOnInterrupt { waitpid(pid, &status, 0) }
        if timedOut { throw .tool("\(path) did not finish within \(timeoutSeconds) s") }
        let exit = (status & 0x7f) == 0 ? (status >> 8) & 0xff : 128 + (status & 0x7f)
        return Result(status: exit, stdout: String(decoding: out, as: UTF8.self), stderr: String(decoding: err, as: UTF8.self))
    }

    private static func monotonicMilliseconds() -> Int64 {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        return Int64(ts.tv_sec) * 1000 + Int64(ts.tv_nsec) / 1_000_000
    }
}
