import BPF
import Glibc

extension SysctlFile {
    /// A /proc/sys value, or why there is none: a missing file usually means the module or
    /// device is absent (nf_conntrack, br_netfilter), which is an answer, not a failure.
    enum Reading: Sendable, Equatable {
        case value(String)
        case missing
        case unreadable(String)

        var value: String? {
            if case .value(let v) = self { return v }
            return nil
        }
    }

    /// Reads `/proc/sys/<key>` in the calling thread's network namespace for net.* keys.
    static func reading(_ key: String) -> Reading {
        let path = "/proc/sys/\(key)"
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else {
            let e = errno
            return e == ENOENT ? .missing : .unreadable("\(path): \(Errno(e))")
        }
        defer { close(fd) }
        var buffer = [UInt8](repeating: 0, count: 256)
        let n = buffer.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress, $0.count) }
        guard n >= 0 else { return .unreadable("\(path): \(Errno(errno))") }
        return .value(String(decoding: buffer[..<n], as: UTF8.self).trimmed)
    }
}
