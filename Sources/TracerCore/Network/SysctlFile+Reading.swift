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
        do {
            return .value(try FileSystem.readText(path, kind: .kernelSetting).trimmed)
        } catch {
            if error.errno == ENOENT { return .missing }
            if let e = error.errno { return .unreadable("\(path): \(Errno(e))") }
            return .unreadable(error.description)
        }
    }
}
