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
            .option("container", value: "name|id", help: "Only this container (name or id prefix).", repeatable: true),
            .option("netns", value: "name", help: "Only the endpoint in this network namespace, or every endpoint behind it when it is a host side.", repeatable: true),
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
        runtimes = RuntimeOptions(arguments)
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
        let reasons = try NetSession.dropReasons(command: "egress")
        let finder = EgressPathFinder(resolver: runtimes.resolver)
        let paths = try PathSelection.paths(finder, containers: container, namespaces: netns, command: "egress")
        if paths.isEmpty {
            printError("tracer egress: no container networks found (no container or named namespace routes out through a veth); tracing host drops only")
        }
        let scope = EgressScope(paths: paths)
        var options = NetProbeOptions()
        options.stages = !paths.isEmpty
        options.allDrops = paths.isEmpty
        let probe = try NetSession.loadProbe(options, reasons: reasons, showAll: all, scope: scope, command: "egress")
        defer { probe.close() }

        let describer = DropDescriber(reasons: reasons, scope: scope, directory: finder.directory, inventory: finder.inventory)
        let session = NetSession(probe: probe, scope: scope, describer: describer, format: common.output,
                                 deadline: duration.map { BootClock.now + $0.nanoseconds }, showAll: all, containerIDs: nil)
        // The paths first, through the session's own sink so they come out before the drops.
        for path in paths {
            switch common.output {
            case .table: session.sink.line("tracing " + FindingRender.pathLine(path))
            case .json: session.sink.line(bytes: FindingRender.pathJSON(path).finishedBytes)
            }
        }
        session.sink.flush()
        // Rules are named by the firewall itself: a temporary trace table in each host side
        // (removed on exit, and at start when a killed run left one behind).
        let watch = NetfilterWatch(paths: paths, nftTrace: !noNftTrace)
        defer { watch.stop() }
        for table in watch.removedStaleTables {
            printError("tracer egress: removed trace table \(table) left by a run that was killed")
        }
        session.onDrop = { record in watch.sawDrop(reason: record.reason, path: scope.path(of: record.event)) }
        let report = EgressReport(scope: scope, describer: describer, watch: watch)
        let started = BootClock.now
        do {
            try session.run(stop: { StopSignal.isRequested }, interval: interval?.nanoseconds ?? 1_000_000_000, onPoll: watch.poll) {
                if interval != nil { report.printStages(try report.outcomes(probe), to: session.sink, format: common.output) }
            }
        } catch {
            throw fail(error, command: "egress")
        }
        watch.finish()
        watch.stop()
        for note in watch.notes { printError("tracer egress: could not watch \(note)") }
        let outcomes: [FlowOutcome]
        do {
            outcomes = try report.outcomes(probe)
        } catch {
            throw fail(error, command: "egress")
        }
        report.printStages(outcomes, to: session.sink, format: common.output)
        let findings = report.findings(outcomes, arp: (try? probe.arpStats()) ?? [:], directory: finder.directory)
        report.printFindings(findings, to: session.sink, format: common.output)
        let elapsed = BootClock.now - started
        let stopped = outcomes.filter { !$0.isComplete }.count
        switch common.output {
        case .table:
            printError("tracer egress: \(paths.count) endpoint\(paths.count == 1 ? "" : "s"), \(outcomes.count) flows (\(stopped) stopped), "
                + "\(session.shownDrops) drops shown, \(session.lost) lost in \(Formatting.duration(elapsed))")
        case .json:
            var summary = JSONLine()
            summary.add("type", "summary")
            summary.add("duration_ns", elapsed)
            summary.add("endpoints", paths.count)
            summary.add("flows", outcomes.count)
            summary.add("stopped", stopped)
            summary.add("drops", session.shownDrops)
            summary.add("lost", session.lost)
            summary.add("findings", findings.count)
            session.sink.line(bytes: summary.finishedBytes)
        }
        session.sink.flush()
        if findings.contains(where: { $0.finding.severity == .error }) { throw TracerExit.errorFound }
    }
}

/// The end of `tracer egress`: flows with their stages, and findings for those that stopped.
final class EgressReport {
    let scope: EgressScope
    let describer: DropDescriber
    let watch: NetfilterWatch?

    init(scope: EgressScope, describer: DropDescriber, watch: NetfilterWatch?) {
        self.scope = scope
        self.describer = describer
        self.watch = watch
    }

    func outcomes(_ probe: NetProbe) throws -> [FlowOutcome] {
        try probe.flows().compactMap { flow, stats in
            scope.path(address: flow.endpointAddress).map { FlowOutcome(flow: flow, stats: stats, path: $0) }
        }.sorted { ($0.path.endpoint.name, $0.flow.remoteAddress, $0.flow.endpointPort) < ($1.path.endpoint.name, $1.flow.remoteAddress, $1.flow.endpointPort) }
    }

    func evidence(_ outcome: FlowOutcome) -> EgressExplainer.Evidence {
        guard let drop = outcome.stats.lastDrop else { return EgressExplainer.Evidence(outcome: outcome) }
        let reason = describer.reasons.reason(drop.reason)
        let verdict = reason.name == .netfilterDrop ? watch?.verdict(for: outcome.flow, path: outcome.path) : nil
        return EgressExplainer.Evidence(
            outcome: outcome, reason: reason, location: describer.locationName(drop.location),
            dropDevice: scope.deviceName(drop.device), dropRole: scope.role(drop.device),
            netfilterVerdict: verdict?.text, netfilterRule: verdict?.nftRule)
    }

    func printStages(_ outcomes: [FlowOutcome], to sink: OutputSink, format: OutputFormat) {
        switch format {
        case .table:
            sink.line("")
            sink.line(DropRender.stageHeader)
            if outcomes.isEmpty { sink.line("(no packets from the endpoints yet)") }
            outcomes.forEach { sink.line(DropRender.stageLine($0)) }
        case .json:
            outcomes.forEach { sink.line(bytes: DropRender.stageJSON($0, evidence: evidence($0)).finishedBytes) }
        }
        sink.flush()
    }

    /// One finding per (endpoint, code): the first stopped flow that shows it is the example.
    func findings(_ outcomes: [FlowOutcome], arp: [DeviceKey: DeviceARPStats], directory: NetnsDirectory) -> [(finding: Finding, path: EgressPath)] {
        var staticFindings: [UInt64: [Finding]] = [:]
        func checks(_ path: EgressPath) -> [Finding] {
            if let known = staticFindings[path.endpoint.netnsInode] { return known }
            let found = EgressDiagnosis.findings(for: path, directory: directory)
            staticFindings[path.endpoint.netnsInode] = found
            return found
        }
        var result: [(finding: Finding, path: EgressPath)] = []
        var seen: Set<String> = []
        for outcome in outcomes where !outcome.isComplete {
            let finding = EgressExplainer.explain(evidence(outcome), staticFindings: checks(outcome.path))
            if seen.insert("\(outcome.path.endpoint.netnsInode)/\(finding.code.rawValue)").inserted {
                result.append((finding, outcome.path))
            }
        }
        // An endpoint whose ARP went unanswered never shows a flow until the neighbour entry fails.
        for path in scope.paths where !outcomes.contains(where: { $0.path.endpoint.netnsInode == path.endpoint.netnsInode }) {
            guard let stats = arp[path.endpoint.device], stats.requestsSent > 0, stats.repliesReceived == 0 else { continue }
            let finding = EgressExplainer.explainUnansweredARP(path: path, requests: stats.requestsSent, staticFindings: checks(path))
            if seen.insert("\(path.endpoint.netnsInode)/\(finding.code.rawValue)").inserted { result.append((finding, path)) }
        }
        return result
    }

    func printFindings(_ findings: [(finding: Finding, path: EgressPath)], to sink: OutputSink, format: OutputFormat) {
        switch format {
        case .table:
            sink.line("")
            if findings.isEmpty { sink.line("ok: every traced flow got its reply") }
            for (finding, path) in findings {
                sink.line(FindingRender.endpointLabel(path.endpoint) + ":")
                FindingRender.tableLines(finding).forEach(sink.line)
            }
        case .json:
            for (finding, path) in findings { sink.line(bytes: FindingRender.json(finding, path: path).finishedBytes) }
        }
        sink.flush()
    }
}
