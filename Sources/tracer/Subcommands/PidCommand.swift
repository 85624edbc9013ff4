import TracerCore

struct PidCommand: TracerCommand {
    static let name = "pid"
    static let spec = CommandSpec(
        name: name,
        abstract: "Which container owns this PID: runtime, id, name, image, pod, PID inside, namespaces.",
        discussion: """
        Reads /proc and the runtimes' files on disk; no daemon or runtime socket is needed.
        With --container, lists a container's processes with their host and container PIDs.

        Examples:
          tracer pid 4242
          tracer pid 4242 4243 --output json
          tracer pid --container web
          tracer pid --container 3f2a --docker-root /srv/docker
        """,
        arguments: (name: "pid", help: "Process ids on the host."),
        options: [
            .option("container", value: "name|id", help: "List this container's processes (name, or id prefix)."),
        ] + CommonOptions.specs + RuntimeOptions.specs
    )

    let common: CommonOptions
    let runtimes: RuntimeOptions
    let pids: [String]
    let container: String?

    init(_ arguments: ParsedArguments) throws(UsageError) {
        common = try CommonOptions(arguments)
        runtimes = RuntimeOptions(arguments)
        pids = arguments.positionals
        container = try arguments.containerQueries().last
        try validate()
    }

    private func validate() throws(UsageError) {
        if pids.isEmpty && container == nil { throw UsageError("give at least one PID, or --container NAME") }
        let limit = PIDLimit.read()
        for text in pids {
            guard let value = Int64(text) else { throw UsageError("PID '\(text)' is not a number") }
            guard value > 0 else { throw UsageError("PID \(value) must be positive") }
            guard value <= Int64(limit) else { throw UsageError("PID \(value) is above pid_max (\(limit))") }
        }
    }

    func run() throws {
        let resolver = runtimes.resolver
        let clock = BootClock()
        if let container {
            try listContainer(container, resolver: resolver)
            return
        }
        let netns = NetnsDirectory(names: NetnsMounts.conventionalNames(), allProcesses: false, readsRouting: false)
        var missing: [Int32] = []
        for (i, pid) in pids.compactMap({ Int32($0) }).enumerated() {
            do {
                let report = try ProcessReport.read(pid: pid, resolver: resolver, netns: netns)
                switch common.output {
                case .table:
                    if i > 0 { print("") }
                    ProcessReportRender.table(report, clock: clock).forEach { print($0) }
                case .json:
                    print(ProcessReportRender.json(report, clock: clock).finished)
                }
            } catch ProcessLookupError.noSuchProcess(let pid) {
                printError("tracer pid: no such process: \(pid)")
                missing.append(pid)
            }
        }
        if !missing.isEmpty { throw TracerExit.noSuchProcess }
    }

    private func listContainer(_ query: String, resolver: ContainerResolver) throws {
        let inventory = ContainerInventory.scan(resolver: resolver)
        let matches = inventory.matching(query)
        guard matches.count == 1, let match = matches.first else {
            if matches.isEmpty {
                let closest = inventory.closestNames(to: query)
                printError("tracer pid: no running container named or with id prefix '\(query)'"
                    + (closest.isEmpty ? " (no containers found)" : "; closest: \(closest.joined(separator: ", "))"))
            } else {
                printError("tracer pid: '\(query)' matches \(matches.count) containers: "
                    + matches.map { $0.identity.name ?? $0.identity.shortID }.joined(separator: ", "))
            }
            throw TracerExit.unknownContainer
        }
        let rows: [(Int32, Int32, String)] = match.pids.map { pid in
            let status = try? ProcStatus.read(pid: pid)
            return (pid, status?.namespacePIDs.last ?? 0, ExecTable.arguments(ProcCmdline.read(pid: pid), truncated: false))
        }
        switch common.output {
        case .table:
            print("CONTAINER \(ByteText.escaped(match.identity.name ?? "-")) (\(match.identity.runtime.rawValue) \(ByteText.escaped(match.identity.id)))")
            print("PID     CPID    COMMAND")
            for (pid, cpid, command) in rows {
                print(Formatting.left(String(pid), 7) + " " + Formatting.left(String(cpid), 7) + " " + command)
            }
        case .json:
            for (pid, cpid, _) in rows {
                var json = JSONLine()
                json.add("type", "container_process")
                json.add("pid", pid)
                json.add("pid_in_container", cpid)
                json.add("cmdline", strings: ProcCmdline.read(pid: pid))
                json.add("container", object: ContainerJSON.object(match.identity))
                print(json.finished)
            }
        }
    }
}
