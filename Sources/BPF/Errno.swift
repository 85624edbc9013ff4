import Glibc

/// An errno value: the one place its name and text are spelled, and the one place a C call is
/// retried after EINTR (in the manner of swift-system's `Errno` and `valueOrErrno`).
public struct Errno: Error, Equatable, Hashable, Sendable, CustomStringConvertible {
    public let rawValue: Int32

    public init(_ rawValue: Int32) { self.rawValue = rawValue }

    /// errno as the last C call left it; read it right after the call.
    public static var current: Errno { Errno(errno) }

    /// The symbolic name (`EACCES`), nil for numbers this table does not know.
    public var name: String? { Self.names[rawValue] }

    /// The C library's text: "Permission denied".
    public var text: String {
        // strerror knows 524 only as "Unknown error": it is the kernel-internal ENOTSUPP.
        rawValue == 524 ? "not supported by this kernel" : String(cString: strerror(rawValue))
    }

    /// "Permission denied (EACCES, errno 13)".
    public var description: String {
        "\(text) (\(name.map { $0 + ", " } ?? "")errno \(rawValue))"
    }

    /// Calls `body` again while it fails with EINTR. `body` is a C call that returns -1 and sets
    /// errno on failure (read, write, send, recv, poll, waitpid): its result, or the failure's errno.
    public static func retryingOnInterrupt<T: FixedWidthInteger>(_ body: () -> T) -> Result<T, Errno> {
        while true {
            let result = body()
            if result != -1 { return .success(result) }
            let e = errno
            if e != EINTR { return .failure(Errno(e)) }
        }
    }

    private static let names: [Int32: String] = [
        EPERM: "EPERM", ENOENT: "ENOENT", ESRCH: "ESRCH", EINTR: "EINTR", EIO: "EIO", E2BIG: "E2BIG",
        ENOEXEC: "ENOEXEC", EBADF: "EBADF", EAGAIN: "EAGAIN", ENOMEM: "ENOMEM", EACCES: "EACCES", EFAULT: "EFAULT",
        EBUSY: "EBUSY", EEXIST: "EEXIST", ENOTDIR: "ENOTDIR", EISDIR: "EISDIR", EINVAL: "EINVAL", ENFILE: "ENFILE",
        EMFILE: "EMFILE", ETXTBSY: "ETXTBSY", ENOSPC: "ENOSPC", EPIPE: "EPIPE", ENAMETOOLONG: "ENAMETOOLONG",
        ENOSYS: "ENOSYS", ELOOP: "ELOOP", ELIBBAD: "ELIBBAD", EOPNOTSUPP: "EOPNOTSUPP", EMSGSIZE: "EMSGSIZE",
        ENOBUFS: "ENOBUFS", ETIMEDOUT: "ETIMEDOUT", 524: "ENOTSUPP",
    ]
}
