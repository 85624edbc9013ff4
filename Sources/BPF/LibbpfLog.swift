import CLibBPF
import Glibc
import Synchronization

/// libbpf's own messages. Quiet by default: kept for error reports (the verifier log
/// travels inside `BPFError.load`), and echoed to standard error when verbose.
public enum LibbpfLog {
    private struct State {
        var verbose = false
        var lines: [String] = []
    }

    private static let state = Mutex(State())
    private static let keptLines = 4000

    /// Routes libbpf's printing here. Call once before opening objects.
    public static func install(verbose: Bool) {
        state.withLock { $0.verbose = verbose }
        _ = libbpf_set_print(printCallback)
    }

    /// Messages since the last `drain()`, oldest first.
    public static func drain() -> String {
        state.withLock { s in
            defer { s.lines.removeAll(keepingCapacity: true) }
            return s.lines.joined()
        }
    }

    fileprivate static func record(_ level: libbpf_print_level, _ line: String) {
        let echo = state.withLock { s -> Bool in
            if s.lines.count >= keptLines { s.lines.removeFirst(s.lines.count / 2) }
            s.lines.append(line)
            return s.verbose
        }
        if echo { _ = line.withCString { write(2, $0, strlen($0)) } }
    }
}

private let printCallback: libbpf_print_fn_t = { level, format, args in
    guard let format, let args else { return 0 }
    var buffer = [CChar](repeating: 0, count: 1 << 16)
    let n = vsnprintf(&buffer, buffer.count, format, args)
    if n < 0 { return 0 }
    LibbpfLog.record(level, buffer.withUnsafeBufferPointer { String(cString: $0.baseAddress!) })
    return n
}
