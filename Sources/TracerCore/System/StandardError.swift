import CLinux
import Glibc

/// What a library writes to standard error by itself, taken instead of shown.
enum StandardError {
    /// Runs `body` with descriptor 2 on an anonymous file, then puts it back and returns what was
    /// written. The tracer's own messages are written by the thread that runs the command, which
    /// is in `body` meanwhile, so none of them is caught. When no file can be made, `body` runs
    /// as it would have.
    static func captured<T>(_ body: () -> T) -> (result: T, text: String) {
        let file = tracer_memfd("tracer-stderr")
        guard file >= 0 else { return (body(), "") }
        defer { close(file) }
        let saved = dup(2)
        guard saved >= 0, dup2(file, 2) >= 0 else {
            if saved >= 0 { close(saved) }
            return (body(), "")
        }
        let result = body()
        dup2(saved, 2)
        close(saved)
        let text = (try? FileSystem.readText("/proc/self/fd/\(file)", kind: .kernelSetting)) ?? ""
        return (result, text)
    }
}
