import BPF
import Glibc

public enum NetfilterError: Error, Equatable, CustomStringConvertible {
    /// libnftables refused or failed (its first error line).
    case library(String)
    /// The namespace could not be entered.
    case namespace(path: String, errno: Int32)
    /// A netlink socket call failed.
    case socket(String, errno: Int32)
    /// A helper program could not be run.
    case tool(String)

    public var description: String {
        switch self {
        case .library(let message): return "libnftables: \(message)"
        case .namespace(let path, let e): return "cannot enter network namespace \(path): \(Errno(e))"
        case .socket(let what, let e): return "\(what): \(Errno(e))"
        case .tool(let message): return message
        }
    }
}
