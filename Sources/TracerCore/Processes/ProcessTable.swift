import Glibc

/// One pass over /proc: every process with its cgroup, for finding containers' processes.
public struct ProcessTable: Sendable {
    public struct Entry: Sendable {
        public var pid: Int32
        public var cgroup: ProcCgroup
        /// The tgid in the process's own pid namespace (1 for a container's init).
        public var pidInNamespace: Int32
    }

    public var entries: [Entry]

    public static func scan(procRoot: String = "/proc") -> ProcessTable {
        var entries: [Entry] = []
        for pid in pids(procRoot: procRoot) {
            // A process may exit between the listing and the read: skip it.
            guard let cgroup = try? ProcCgroup.read(pid: pid, procRoot: procRoot),
                  let status = try? ProcStatus.read(pid: pid, procRoot: procRoot) else { continue }
            entries.append(Entry(pid: pid, cgroup: cgroup, pidInNamespace: status.pidInOwnNamespace))
        }
        return ProcessTable(entries: entries)
    }

    /// Numeric directory names of /proc, ascending.
    public static func pids(procRoot: String = "/proc") -> [Int32] {
        guard let names = FileSystem.entries(procRoot) else { return [] }
        return names.compactMap { Int32($0) }.sorted()
    }
}

/// The pid limit, for validating pid arguments.
public enum PIDLimit {
    public static func read(procRoot: String = "/proc") -> Int32 {
        (try? FileSystem.readText("\(procRoot)/sys/kernel/pid_max", kind: .kernelSetting)).flatMap { Int32($0.trimmed) } ?? 4_194_304
    }
}
