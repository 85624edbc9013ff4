import BPF
import TracerCore

struct DropsCommand: TracerCommand {
    static let name = "drops"
    static let spec = CommandSpec(
        name: name,
        abstract: "Show packet drops across the host: the kernel's reason, where, device, namespace, tuple and container.",
        discussion: """
        Every skb:kfree_skb on the host, named with the running kernel's drop reasons and
        the function that dropped the packet. Drops of forwarded container traffic (no socket
        on the host) are attributed to the container by its addresses and namespace.
        Healthy-host noise (NO_SOCKET, QUEUE_PURGE, IPv6 multicast nobody listens to, ...)
        is hidden unless --all. At the end (and every --interval) the kernel's exact counts per
        (reason, location, device) are printed with the containers seen in each.

        Privileges: root, or CAP_BPF and CAP_PERFMON, plus CAP_DAC_READ_SEARCH for any uid but 0;
        without them exit 77. CAP_SYS_ADMIN attributes drops to container endpoints and
        CAP_SYSLOG names drop locations; without them a note says what is left out.

        Examples:
          tracer drops
          tracer drops --container web --duration 30s
          tracer drops --all --output json
        """,
        options: [
            .flag("all", help: "Also show the drops a healthy host makes all the time."),
            .option("container", value: "name|id", help: "Only drops of this container (name or id prefix).", repeatable: true, values: .containerName),
            .option("duration", help: "Stop after this long (e.g. 10s, 1m)."),
            .option("interval", help: "Print the exact counts this often, not only at the end (e.g. 10s); at least 100ms."),
        ] + CommonOptions.specs + RuntimeOptions.specs
    )

    let common: CommonOptions
    let runtimes: RuntimeOptions
    let all: Bool
    let container: [String]
    let duration: DurationArgument?
    let interval: DurationArgument?

    init(_ arguments: ParsedArguments) throws(UsageError) {
        common = try CommonOptions(arguments)
        runtimes = try RuntimeOptions(arguments)
        all = arguments.flag("all")
        container = try arguments.containerQueries()
        duration = try arguments.value("duration")
        interval = try arguments.interval()
    }

    func run() throws {
        StopSignal.install()
        try Privileges.require(.drops)
        LibbpfLog.install(verbose: common.verbose)
        let (session, probe) = try NetProbeLoading.dropsSession(
            command: "drops", runtimes: runtimes, all: all, containers: container,
            deadline: duration.map { BootClock.now + $0.nanoseconds }, countInterval: interval?.nanoseconds)
        defer { probe.close() }

        let render = NetRender(format: common.output, command: "drops")
        do {
            try session.run(into: RenderingSink(message: printError, render: render.lines), stop: { StopSignal.isRequested })
        } catch {
            throw fail(error, command: "drops")
        }
    }
}
