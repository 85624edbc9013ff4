import BPF
import Glibc

/// Buffered standard output that notices a closed pipe (`tracer exec | head -1`)
/// instead of dying of SIGPIPE, so the tracer can detach and exit quietly.
public final class OutputSink {
    private var buffer: [UInt8] = []
    private let fd: Int32
    public private(set) var closed = false

    public init(fd: Int32 = 1) {
        self.fd = fd
        buffer.reserveCapacity(1 << 16)
    }

    public func line(_ text: String) {
        line(bytes: Array(text.utf8))
    }

    public func line(bytes: [UInt8]) {
        guard !closed else { return }
        buffer.append(contentsOf: bytes)
        buffer.append(10)
        if buffer.count >= 1 << 16 { flush() }
    }

    /// Writes what is buffered. Returns false once the reader has gone away.
    @discardableResult
    public func flush() -> Bool {
        guard !closed else { return false }
        var offset = 0
        while offset < buffer.count {
            let written = Errno.retryingOnInterrupt {
                buffer.withUnsafeBytes { write(fd, $0.baseAddress! + offset, $0.count - offset) }
            }
            guard case .success(let n) = written else {
                closed = true // EPIPE or any other failure: nobody reads us any more
                break
            }
            offset += n
        }
        buffer.removeAll(keepingCapacity: true)
        return !closed
    }

    public static var isTerminal: Bool { isatty(1) == 1 }
}
