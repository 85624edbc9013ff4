import BPF
import Glibc

/// /proc/PID/ns/*: namespace inodes of a process, and whether each is shared with pid 1.
public struct ProcNamespaces: Sendable, Equatable {
    public static let kinds = ["mnt", "net", "pid", "uts", "ipc", "user", "cgroup", "time"]

    /// Inode number by kind; a kind the kernel lacks is absent.
    public var inodes: [String: UInt64]
    /// Why none could be read, when the kernel refused them all: EACCES is the ptrace access
    /// check on another user's process (CAP_SYS_PTRACE passes it).
    public var refused: Errno?

    public init(inodes: [String: UInt64], refused: Errno? = nil) {
        self.inodes = inodes
        self.refused = refused
    }

    public static func read(pid: Int32, procRoot: String = "/proc") -> ProcNamespaces {
        var inodes: [String: UInt64] = [:]
        var refused: Errno?
        for kind in kinds {
            var st = stat()
            if stat("\(procRoot)/\(pid)/ns/\(kind)", &st) == 0 {
                inodes[kind] = UInt64(st.st_ino)
            } else if errno == EACCES || errno == EPERM {
                refused = Errno.current
            }
        }
        return ProcNamespaces(inodes: inodes, refused: inodes.isEmpty ? refused : nil)
    }

    public subscript(kind: String) -> UInt64? { inodes[kind] }
}
