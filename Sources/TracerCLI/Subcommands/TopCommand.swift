import BPF
import Glibc
import TracerCore

struct TopCommand: TracerCommand {
    static let name = "top"
    static let spec = CommandSpec(
        name: name,
        abstract: "Live summary of short-lived processes: what they cost, by container, parent and command.",
        discussion: """
        Counts every exec, failed exec and exit in the kernel, exactly, by (cgroup, parent
        command, command), with the CPU and lifetime of the processes that exited. Each
        interval shows execs/s, exits/s, failed execs, CPU of exited processes (% of one
        core), average and maximum lifetime and the last argv, sorted by CPU; the header has
        the share of the host's CPU that went to short-lived processes and anything lost.

        Flags: a crash loop (!) is one command in one container exiting non-zero or by a
        signal at least 5 times within 60 s; a fork storm is an exec rate at least 10 times
        the host's usual rate and at least 100/s.

        Keys: q or Ctrl-C quits and restores the terminal; Ctrl-Z suspends it cleanly (fg resumes).

        Privileges: root, or CAP_BPF and CAP_PERFMON, plus CAP_DAC_READ_SEARCH for any uid but 0
        (tracefs is root's only); without them exit 77 naming what is missing.

        Examples:
          tracer top                                  live view, refreshed every 2 s
          tracer top --by container,parent           rows per container and parent
          tracer top --sort execs                     busiest exec'ers first
          tracer top --once --interval 5s             one snapshot after 5 s, then exit
          tracer top --once --interval 5s -o json     the same as one JSON object
          tracer top --container web                  only the processes of the container web
          tracer top --host                           only processes outside containers
        """,
        options: [
            .option("interval", help: "Refresh interval (e.g. 1s, 500ms); at least 100ms."),
            .flag("once", help: "Print one snapshot after one interval and exit."),
            .option("by", value: "keys", help: "Group rows by these keys, comma-separated: \(TopGroupKey.allCases.map(\.rawValue).joined(separator: ", ")).",
                    values: .listOf(TopGroupKey.self)),
            .option("sort", value: "key", help: "Sort rows by: \(TopSortKey.allCases.map(\.rawValue).joined(separator: ", ")).", values: .oneOf(TopSortKey.self)),
            .option("limit", help: "Show at most this many rows (the screen shows what fits)."),
            .option("count", help: "Stop after this many snapshots."),
            .option("container", value: "name|id", help: "Only this container's processes (name, or id prefix).", repeatable: true, values: .containerName),
            .flag("host", help: "Only processes on the host, in no container."),
        ] + CommonOptions.specs + RuntimeOptions.specs
    )

    let common: CommonOptions
    let runtimes: RuntimeOptions
    let interval: DurationArgument
    let once: Bool
    let by: String
    let sort: String
    let limit: Int?
    let count: Int?
    let container: [String]
    let host: Bool

    init(_ arguments: ParsedArguments) throws(UsageError) {
        common = try CommonOptions(arguments)
        runtimes = try RuntimeOptions(arguments)
        interval = try arguments.interval() ?? DurationArgument(argument: "2s")!
        once = arguments.flag("once")
        by = try arguments.value("by") ?? TopGroupKey.allCases.map(\.rawValue).joined(separator: ",")
        sort = try arguments.value("sort") ?? TopSortKey.cpu.rawValue
        limit = try arguments.value("limit")
        count = try arguments.value("count")
        container = try arguments.containerQueries()
        host = arguments.flag("host")
        try validate()
    }

    var groupKeys: [TopGroupKey] {
        get throws(UsageError) {
            let names = by.split(separator: ",", omittingEmptySubsequences: false).map { String($0.filter { $0 != " " }) }
            var keys: [TopGroupKey] = []
            for name in names {
                guard let key = TopGroupKey(rawValue: name) else {
                    throw UsageError("--by: unknown group key '\(name)'; valid keys: \(TopGroupKey.allCases.map(\.rawValue).joined(separator: ", "))")
                }
                if !keys.contains(key) { keys.append(key) }
            }
            return keys
        }
    }

    private func validate() throws(UsageError) {
        _ = try groupKeys
        if TopSortKey(rawValue: sort) == nil {
            throw UsageError("--sort: unknown sort key '\(sort)'; valid keys: \(TopSortKey.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        if let limit, limit <= 0 { throw UsageError("--limit: must be at least 1") }
        if let count, count <= 0 { throw UsageError("--count: must be at least 1") }
        if host && !container.isEmpty { throw UsageError("--host and --container exclude each other") }
    }

    func run() throws {
        StopSignal.install()
        try Privileges.require(.top)
        LibbpfLog.install(verbose: common.verbose)
        let resolver = runtimes.resolver
        let attributor = ExecAttributor(resolver: resolver)
        let aggregator = TopAggregator(by: try groupKeys, sort: TopSortKey(rawValue: sort)!) { keys in
            attributor.attribute(keys, now: BootClock.now)
        }
        if host {
            aggregator.only = .host
        } else if !container.isEmpty {
            aggregator.only = .containers(try ContainerSelection.select(container, resolver: resolver).ids)
        }
        let probe: TopProbe
        do {
            probe = try TopProbe()
        } catch {
            throw fail(error, command: "top")
        }
        defer { probe.close() }

        let interactive = !once && common.output == .table && OutputSink.isTerminal
        let session = TopSession(source: probe, aggregator: aggregator, intervalNanoseconds: interval.nanoseconds,
                                 limits: .init(count: once ? 1 : count, rows: limit), snapshotWhenStopped: !interactive)
        let render = TopRender(format: common.output,
                               width: TopRender.streamWidth(columns: getenv("COLUMNS").map { String(cString: $0) }))
        do {
            if interactive {
                let terminal = TopTerminal(render: render)
                defer { terminal.restore() }
                try session.run(into: terminal, stop: { StopSignal.isRequested }, idle: terminal.idle)
            } else {
                try session.run(into: RenderingSink(message: printError, render: render.lines), stop: { StopSignal.isRequested })
            }
        } catch {
            throw fail(error, command: "top")
        }
    }
}
