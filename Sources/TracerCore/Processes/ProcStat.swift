import Glibc

/// /proc/PID/stat: the one reader of that file. The command name sits in parentheses and may
/// itself hold spaces and parentheses, so fields are counted from the last ')'.
public struct ProcStat: Sendable, Equatable {
    public var pid: Int32
    public var comm: String
    public var state: Character
    public var ppid: Int32
    /// Clock ticks after boot (field 22).
    public var startTicks: UInt64

    public static func read(pid: Int32, procRoot: String = "/proc") throws -> ProcStat {
        guard let stat = parse(try FileSystem.readText("\(procRoot)/\(pid)/stat", kind: .processFile)) else {
            throw ProcessLookupError.unreadable(pid: pid, file: "stat")
        }
        return stat
    }

    public static func parse(_ text: String) -> ProcStat? {
        guard let open = text.firstIndex(of: "("), let close = text.lastIndex(of: ")") else { return nil }
        let pid = Int32(text[..<open].trimmed)
        let comm = String(text[text.index(after: open)..<close])
        let rest = text[text.index(after: close)...].split(separator: " ")
        // rest[0] is field 3 (state); field N is rest[N - 3].
        guard let pid, rest.count > 19, let state = rest[0].first, let ppid = Int32(rest[1]),
              let start = UInt64(rest[19]) else { return nil }
        return ProcStat(pid: pid, comm: comm, state: state, ppid: ppid, startTicks: start)
    }

    /// Start time in nanoseconds after boot, comparable with the BPF programs' boot-time stamps.
    public var startTimeNanoseconds: UInt64 {
        startTicks * (1_000_000_000 / UInt64(ProcStat.clockTicksPerSecond))
    }

    static let clockTicksPerSecond: Int = Int(sysconf(Int32(_SC_CLK_TCK)))
}

public enum ProcessLookupError: Error, Equatable, CustomStringConvertible {
    case noSuchProcess(Int32)
    case unreadable(pid: Int32, file: String)

    public var description: String {
        switch self {
        case .noSuchProcess(let pid): return "no such process: \(pid)"
        case .unreadable(let pid, let file): return "cannot read /proc/\(pid)/\(file)"
        }
    }
}
