/// What `PidSession` reads: the host's /proc and the runtimes' files (`HostProcesses`), or
/// recorded reports in tests.
public protocol ProcessSource: AnyObject {
    /// Everything about one process; throws `ProcessLookupError.noSuchProcess` when it is not running.
    func report(pid: Int32) throws -> ProcessReport
    /// The containers running now, with their processes.
    func inventory() -> ContainerInventory
    /// A process's argv; empty for a kernel thread or a process gone.
    func commandLine(pid: Int32) -> [[UInt8]]
}

/// The host's processes as `tracer pid` reads them. Needs no privilege for the reports of the
/// caller's own processes; root (or CAP_SYS_PTRACE and CAP_SYS_ADMIN) for anyone's namespaces.
public final class HostProcesses: ProcessSource {
    private let resolver: ContainerResolver
    private let procRoot: String
    /// Read only when a report needs it: the names and interfaces of network namespaces; routes
    /// only of the process's own (`contentsWithRoutes`).
    private lazy var netns = NetnsDirectory(hostRoot: resolver.hostRoot, procRoot: procRoot,
                                            names: NetnsMounts.conventionalNames(hostRoot: resolver.hostRoot),
                                            allProcesses: false, readsRouting: false)

    /// Reads under the resolver's host root; `procRoot` overrides its /proc (fixtures).
    public init(resolver: ContainerResolver, procRoot: String? = nil) {
        self.resolver = resolver
        self.procRoot = procRoot ?? resolver.hostRoot.proc
    }

    public func report(pid: Int32) throws -> ProcessReport {
        try ProcessReport.read(pid: pid, resolver: resolver, netns: netns, procRoot: procRoot)
    }

    public func inventory() -> ContainerInventory {
        ContainerInventory.scan(resolver: resolver, procRoot: procRoot)
    }

    public func commandLine(pid: Int32) -> [[UInt8]] {
        ProcCmdline.read(pid: pid, procRoot: procRoot)
    }
}

/// A record of `tracer pid`'s output.
public enum PidRecord: Sendable {
    /// One process asked for.
    case process(ProcessReport)
    /// A pid asked for that is not running.
    case noSuchProcess(Int32)
    /// The processes of the container `--container` named.
    case containerProcesses(ContainerProcesses)
}

/// A container and its processes, as `tracer pid --container` lists them.
public struct ContainerProcesses: Sendable, Equatable {
    public var container: ContainerIdentity
    public var processes: [ContainerProcess]

    public init(container: ContainerIdentity, processes: [ContainerProcess]) {
        self.container = container
        self.processes = processes
    }
}

/// One process of a container: its pid on the host, the pid it has inside, its argv.
public struct ContainerProcess: Sendable, Equatable {
    public var pid: Int32
    public var pidInContainer: Int32
    public var commandLine: [[UInt8]]

    public init(pid: Int32, pidInContainer: Int32, commandLine: [[UInt8]]) {
        self.pid = pid
        self.pidInContainer = pidInContainer
        self.commandLine = commandLine
    }
}

/// `tracer pid`: the reports of the pids asked for, in their order; or one container's processes.
public struct PidSession {
    public enum Query: Sendable, Equatable {
        case processes([Int32])
        /// A container's name, or a prefix of its id, that names exactly one.
        case container(String)
    }

    /// How the session ended: the pids that were not running (exit 3 when there are any).
    public struct Outcome: Sendable, Equatable {
        public var missing: [Int32] = []
    }

    private let query: Query
    private let source: ProcessSource

    public init(query: Query, source: ProcessSource) {
        self.query = query
        self.source = source
    }

    /// Emits one record per pid, or the container's listing. Throws `ContainerQueryError` when the
    /// query names no container or several, and what reading a process throws but its absence.
    public func run(into sink: some RecordSink<PidRecord>) throws -> Outcome {
        var outcome = Outcome()
        switch query {
        case .processes(let pids):
            for pid in pids {
                do {
                    sink.emit(.process(try source.report(pid: pid)))
                } catch ProcessLookupError.noSuchProcess(let pid) {
                    sink.emit(.noSuchProcess(pid))
                    outcome.missing.append(pid)
                }
            }
        case .container(let name):
            let container = try source.inventory().container(name)
            sink.emit(.containerProcesses(ContainerProcesses(
                container: container.identity,
                processes: container.members.map { member in
                    ContainerProcess(pid: member.pid, pidInContainer: member.pidInContainer,
                                     commandLine: source.commandLine(pid: member.pid))
                })))
        }
        sink.flush()
        return outcome
    }
}
