/// A process seen from exec to exit: what it ran, and what it cost.
public struct ProcessRecord: Sendable, Equatable {
    public var exec: ExecEvent
    public var exit: ExitEvent
}

/// What `tracer exec` shows, one item per line.
public enum ExecOutput: Sendable, Equatable {
    case exec(ExecEvent)
    case exit(ProcessRecord)
}

/// Filters the kernel cannot apply: they need the command name, the arguments or the lifetime.
public struct ExecFilter {
    public var comm: String?
    public var argsPattern: String? {
        didSet { argsRegex = argsPattern.flatMap { try? Regex($0) } }
    }
    private var argsRegex: Regex<AnyRegexOutput>?
    public var failedOnly = false
    /// Only these container ids, when not nil.
    public var containerIDs: Set<String>?
    /// Only processes in no container.
    public var hostOnly = false
    /// Keep only processes that lived less than this (exits only).
    public var maxLifetime: UInt64?

    public init() {}

    /// Throws the regex engine's complaint for a pattern that does not compile.
    public static func validate(argsPattern: String) throws {
        _ = try Regex(argsPattern)
    }

    func accepts(_ exec: ExecEvent) -> Bool {
        if failedOnly && !exec.failed { return false }
        if let containerIDs {
            guard case .container(let identity)? = exec.attribution, containerIDs.contains(identity.id) else { return false }
        }
        if hostOnly, case .container? = exec.attribution { return false }
        if let comm, Array(comm.utf8) != exec.comm { return false }
        if let argsRegex {
            let text = exec.args.map { String(decoding: $0, as: UTF8.self) }.joined(separator: " ")
            if (try? argsRegex.firstMatch(in: text)) == nil { return false }
        }
        return true
    }
}

/// A compiled Regex is an immutable value; it is only read while matching.
extension ExecFilter: @unchecked Sendable {}

/// Joins execs to exits by (pid, start time) and applies the user-space filters.
/// In `.execs` mode every accepted exec is shown as it happens; in `.exits` mode a
/// process is shown once, when it exits, with its lifetime, CPU and exit status.
public final class ExecPipeline {
    public enum Mode: Sendable { case execs, exits }

    private struct ProcessIdentity: Hashable {
        var pid: UInt32
        var startTime: UInt64
    }

    public let mode: Mode
    public let filter: ExecFilter
    private var running: [ProcessIdentity: ExecEvent] = [:]
    /// Bound on processes waiting for their exit; the kernel's own table holds 65536.
    private let maxRunning = 65536

    public private(set) var execCount = 0
    public private(set) var failedExecCount = 0
    public private(set) var exitCount = 0

    public init(mode: Mode, filter: ExecFilter) {
        self.mode = mode
        self.filter = filter
    }

    public func process(_ events: [ProcessEvent]) -> [ExecOutput] {
        var out: [ExecOutput] = []
        for event in events {
            switch event {
            case .exec(let exec):
                if exec.failed { failedExecCount += 1 } else { execCount += 1 }
                if mode == .exits && !exec.failed {
                    remember(exec)
                } else if filter.accepts(exec) && (filter.maxLifetime == nil || exec.failed) {
                    out.append(.exec(exec))
                }
            case .exit(let exit):
                exitCount += 1
                guard let exec = running.removeValue(forKey: ProcessIdentity(pid: exit.pid, startTime: exit.startTime)) else {
                    continue
                }
                guard filter.accepts(exec) else { continue }
                if let max = filter.maxLifetime, exit.lifetimeNanoseconds >= max { continue }
                out.append(.exit(ProcessRecord(exec: exec, exit: exit)))
            }
        }
        return out
    }

    private func remember(_ exec: ExecEvent) {
        // When full, drop the older half at once: evicting one entry per exec would scan the
        // whole table on every exec of a busy host.
        if running.count >= maxRunning {
            let cutoff = running.values.map(\.timestamp).sorted()[maxRunning / 2]
            running = running.filter { $0.value.timestamp >= cutoff }
        }
        // A second exec by the same process replaces the first: the record shows what it ran last.
        running[ProcessIdentity(pid: exec.pid, startTime: exec.startTime)] = exec
    }
}
