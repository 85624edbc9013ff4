import BPF
import TracerCore

struct EgressCommand: TracerCommand {
    static let name = "egress"
    static let spec = CommandSpec(
        name: name,
        abstract: "Follow containers' egress through veth, bridge, forwarding, NAT and uplink, and say where it is lost and why.",
        discussion: """
        For each endpoint (container, or `ip netns` namespace) the path is found as in
        `tracer diagnose`, and its devices are traced: endpoint-tx -> host-veth-rx -> bridge-rx
        -> uplink-queue (forwarded, through NAT), then the reply: reply-uplink-rx
        -> reply-bridge-tx -> reply-host-veth-tx -> reply-endpoint-rx. Drops on the way come
        with the kernel's reason and location as they happen; at the end each flow that
        stopped is shown with the last stage it reached and a diagnosis: a stable code, the
        setting or rule responsible (from the static checks of the path), and a fix.
        Failures without any kernel drop (a missing MASQUERADE, an unanswered ARP) are found
        from the stages. Generate the traffic while it runs (or let the application do so).

        Exit codes: 0 no flow stopped, 2 a flow stopped (a finding at error severity),
        4 unknown container, 5 unknown network namespace, 77 missing privileges: root, or
        CAP_BPF, CAP_PERFMON, CAP_SYS_ADMIN (entering namespaces) and CAP_NET_ADMIN (the
        firewall), plus CAP_DAC_READ_SEARCH for any uid but 0.

        Examples:
          tracer egress --duration 10s
          tracer egress --container web --output json
        """,
        options: [
            .option("container", value: "name|id", help: "Only this container (name or id prefix).", repeatable: true, values: .containerName),
            .option("netns", value: "name", help: "Only the endpoint in this network namespace, or every endpoint behind it when it is a host side.", repeatable: true, values: .netnsName),
            .option("duration", help: "Stop after this long (e.g. 10s); without it, run until Ctrl-C."),
            .option("interval", help: "Print the flows' stages this often while tracing (e.g. 5s); at least 100ms."),
            .flag("all", help: "Also show drops a healthy host makes all the time."),
            .flag("no-nft-trace", help: "Do not add the temporary nftables trace table that names the rule dropping a packet."),
        ] + CommonOptions.specs + RuntimeOptions.specs
    )

    let common: CommonOptions
    let runtimes: RuntimeOptions
    let container: [String]
    let netns: [String]
    let duration: DurationArgument?
    let interval: DurationArgument?
    let all: Bool
    let noNftTrace: Bool

    init(_ arguments: ParsedArguments) throws(UsageError) {
        common = try CommonOptions(arguments)
        runtimes = try RuntimeOptions(arguments)
        container = try arguments.containerQueries()
        netns = arguments.strings("netns")
        duration = try arguments.value("duration")
        interval = try arguments.interval()
        all = arguments.flag("all")
        noNftTrace = arguments.flag("no-nft-trace")
    }

    func run() throws {
        StopSignal.install()
        try Privileges.require(.egress)
        LibbpfLog.install(verbose: common.verbose)
        let reasons = try NetProbeLoading.dropReasons(command: "egress")
        let finder = EgressPathFinder(resolver: runtimes.resolver)
        let paths = try PathSelection.paths(finder, containers: container, namespaces: netns, command: "egress")
        let scope = EgressScope(paths: paths)
        let probe = try NetProbeLoading.probe(.egress(scope: scope, reasons: reasons, showAll: all), scope: scope, command: "egress")
        defer { probe.close() }

        let describer = DropDescriber(reasons: reasons, scope: scope, directory: finder.directory, inventory: finder.inventory)
        // Rules are named by the firewall itself: a temporary trace table in each host side
        // (removed on exit, and at start when a killed run left one behind).
        let watch = NetfilterWatch(paths: paths, nftTrace: !noNftTrace)
        defer { watch.stop() }
        let session = EgressSession(source: probe, describer: describer, scope: scope, watch: watch,
                                    checks: EgressDiagnosis.checks(directory: finder.directory), options: .init(
                                        showAll: all, deadline: duration.map { BootClock.now + $0.nanoseconds },
                                        stageInterval: interval?.nanoseconds))
        let render = NetRender(format: common.output, command: "egress")
        let summary: FlowsSummary
        do {
            summary = try session.run(into: RenderingSink(message: printError, render: render.lines), stop: { StopSignal.isRequested })
        } catch {
            throw fail(error, command: "egress")
        }
        if summary.errors > 0 { throw TracerExit.errorFound }
    }
}
