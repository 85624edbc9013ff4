import BPF
import Glibc
import TracerCore

struct AgentCommand: TracerCommand {
    static let name = "agent"
    static let spec = CommandSpec(
        name: name,
        abstract: "Run on every node: top's and drops' counters as Prometheus metrics, optionally the exec stream as JSON lines.",
        discussion: """
        One long-running process for a DaemonSet or a systemd unit. Side by side, each on a
        thread of its own: the exact in-kernel counters of `tracer top` (execs, failed execs,
        exits, CPU and lifetime of the processes that exited, crash loops, fork storms) and the
        drops of `tracer drops` (by reason, direction and container), served as Prometheus
        metrics; with --exec-log, also every exec (or with --exits every exit) as the JSON lines
        of `tracer exec --output json` on standard output, for a log shipper.

        Endpoints: GET /metrics (text format 0.0.4) and GET /healthz (200 "ok" while every
        session runs; 503 with each failure once one has failed: the endpoint keeps answering).
        Series carry only bounded labels (container, pod_namespace, pod, runtime, command,
        reason, direction); a data series that has not grown for --series-ttl is removed, so
        containers that are gone leave no series behind.

        Stops on SIGINT or SIGTERM (exit 0): every session ends and its BPF is detached.
        An address in use or not on this host exits 1, a malformed one 64, before any BPF loads.

        Privileges: those of `tracer top` and `tracer drops` (root, or CAP_BPF and CAP_PERFMON,
        plus CAP_DAC_READ_SEARCH for any uid but 0); without them exit 77.

        Examples:
          tracer agent                                          metrics on 0.0.0.0:2113
          tracer agent --metrics-address 127.0.0.1:9000         loopback only
          tracer agent --labels container,pod_namespace,pod     no command, reason or direction
          tracer agent --exec-log --exits | vector ...          every exit as a JSON line too
        """,
        options: [
            .option("metrics-address", value: "addr:port", help: "Where the metrics endpoint listens (default \(MetricsAddress.defaultValue); [::1]:PORT for IPv6)."),
            .option("labels", value: "labels", help: "Keep only these labels, comma-separated: \(MetricLabel.allCases.map(\.rawValue).joined(separator: ", ")) (default all).",
                    values: .listOf(MetricLabel.self)),
            .option("series-ttl", value: "duration", help: "Remove a data series that has not grown for this long (default 5m)."),
            .option("interval", help: "How often the kernel's counters are read (default 5s); at least 100ms."),
            .flag("exec-log", help: "Also write every exec as a JSON line on standard output (as `tracer exec --output json`)."),
            .flag("exits", help: "With --exec-log: one line per process when it exits, with its lifetime, CPU and exit status."),
            .flag("verbose", help: "Show libbpf's messages, including verifier logs."),
        ] + RuntimeOptions.specs
    )

    let runtimes: RuntimeOptions
    let address: MetricsAddress
    let labels: LabelFilter
    let seriesTTL: DurationArgument
    let interval: DurationArgument
    let execLog: Bool
    let exits: Bool
    let verbose: Bool

    init(_ arguments: ParsedArguments) throws(UsageError) {
        runtimes = try RuntimeOptions(arguments)
        if let text: String = try arguments.value("metrics-address") {
            do { address = try MetricsAddress(parsing: text) } catch { throw UsageError("--metrics-address: \(error)") }
        } else {
            address = MetricsAddress.defaultValue
        }
        if let text: String = try arguments.value("labels") {
            do { labels = try LabelFilter(parsing: text) } catch { throw UsageError("--labels: \(error)") }
        } else {
            labels = LabelFilter()
        }
        seriesTTL = try arguments.value("series-ttl") ?? DurationArgument(argument: "5m")!
        interval = try arguments.interval() ?? DurationArgument(argument: "5s")!
        execLog = arguments.flag("exec-log")
        exits = arguments.flag("exits")
        verbose = arguments.flag("verbose")
        if exits && !execLog { throw UsageError("--exits: only with --exec-log") }
    }

    /// The metrics side, set once by the `tracer-agent` executable before it runs the command.
    /// Nil in `tracer`, which hands the command line to that executable instead: swift-nio and
    /// swift-prometheus would add about 0.8 ms to the start of every other command.
    nonisolated(unsafe) static var makeHost: ((AgentHostOptions) throws -> any AgentHost)?

    func run() throws {
        guard let makeHost = Self.makeHost else { try handOver() }
        let stop = try StopSignal.installWithEvent()
        try Privileges.require(.top)
        try Privileges.require(.drops)
        LibbpfLog.install(verbose: verbose)
        let host: any AgentHost
        do {
            host = try makeHost(AgentHostOptions(address: address, labels: labels, seriesTTLNanoseconds: seriesTTL.nanoseconds))
        } catch {
            printError("tracer agent: \(error)")
            throw TracerExit.failure
        }
        var sessions = [try topSession(host)]
        sessions.append(try dropsSession(host, stop: stop))
        if execLog { sessions.append(try execSession(host)) }
        let healthy = host.serve(sessions, until: stop) { name, error in
            printError("tracer agent: the \(name) session failed: \(error); /healthz answers 503")
        }
        if !healthy { throw TracerExit.failure }
    }

    /// Replaces this process (same PID, so a supervisor sees no change) with `tracer-agent`
    /// from the directory `tracer` runs from, given the same arguments; they were checked here.
    private func handOver() throws -> Never {
        var buffer = [CChar](repeating: 0, count: Int(PATH_MAX) + 1)
        let count = readlink("/proc/self/exe", &buffer, buffer.count - 1)
        let me = count > 0 ? String(decoding: buffer[..<count].map { UInt8(bitPattern: $0) }, as: UTF8.self) : ""
        let directory = me.split(separator: "/", omittingEmptySubsequences: false).dropLast().joined(separator: "/")
        let agent = directory + "/tracer-agent"
        let arguments = ["tracer-agent"] + CommandLine.arguments.dropFirst(2)
        let argv = arguments.map { strdup($0) } + [nil]
        execv(agent, argv)
        let why = String(cString: strerror(errno))
        printError("tracer agent: cannot run \(agent): \(why) (the agent is an executable of its own, built and installed beside tracer)")
        throw TracerExit.failure
    }

    private func topSession(_ host: any AgentHost) throws -> AgentSession {
        let attributor = ExecAttributor(resolver: runtimes.resolver)
        let aggregator = TopAggregator(by: host.topGroupKeys, sort: .cpu) { keys in
            attributor.attribute(keys, now: BootClock.now)
        }
        let probe: TopProbe
        do {
            probe = try TopProbe()
        } catch {
            throw fail(error, command: "agent")
        }
        let parts = HandedOver((TopSession(source: probe, aggregator: aggregator, intervalNanoseconds: interval.nanoseconds,
                                           snapshotWhenStopped: false), probe, host.topSink()))
        return AgentSession(name: "top") { stop in
            defer { parts.value.1.close() }
            try parts.value.0.run(into: parts.value.2, stop: stop)
        }
    }

    private func dropsSession(_ host: any AgentHost, stop: StopEvent) throws -> AgentSession {
        let parts = HandedOver((try NetProbeLoading.dropsSession(command: "agent", runtimes: runtimes, all: false, containers: [],
                                                                 deadline: nil, countInterval: interval.nanoseconds, stop: stop),
                                host.dropSink()))
        return AgentSession(name: "drops") { stop in
            defer { parts.value.0.probe.close() }
            try parts.value.0.session.run(into: parts.value.1, stop: { stop.isFired })
        }
    }

    private func execSession(_ host: any AgentHost) throws -> AgentSession {
        let mode: ExecPipeline.Mode = exits ? .exits : .execs
        var options = ExecProbeOptions()
        options.reportExits = mode == .exits
        let probe: ExecProbe
        do {
            probe = try ExecProbe(options: options)
        } catch {
            throw fail(error, command: "agent")
        }
        let session = ExecSession(source: probe, attributor: ExecAttributor(resolver: runtimes.resolver),
                                  pipeline: ExecPipeline(mode: mode, filter: ExecFilter()))
        let render = ExecRender(format: .json, mode: mode, colour: false)
        let parts = HandedOver((session, probe, host.execLogSink(output: RenderingSink(message: printError, render: render.lines))))
        return AgentSession(name: "exec") { stop in
            defer { parts.value.1.close() }
            try parts.value.0.run(into: parts.value.2, stop: { stop.isFired })
        }
    }
}
