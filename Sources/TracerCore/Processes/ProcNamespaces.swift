import Glibc

/// /proc/PID/ns/*: namespace inodes of a process, and whether each is shared with pid 1.
public struct ProcNamespaces: Sendable, Equatable {
    public static let kinds = ["mnt", "net", "pid", "uts", "ipc", "user", "cgroup", "time"]

    /// Inode number by kind; a kind the kernel lacks is absent.
    public var inodes: [String: UInt64]

    public static func read(pid: Int32, procRoot: String = "/proc") -> ProcNamespaces {
        var inodes: [String: UInt64] = [:]
        for kind in kinds {
            var st = stat()
            if stat("\(procRoot)/\(pid)/ns/\(kind)", &st) == 0 { inodes[kind] = UInt64(st.st_ino) }
        }
        return ProcNamespaces(inodes: inodes)
    }

    public subscript(kind: String) -> UInt64? { inodes[kind] }
}
