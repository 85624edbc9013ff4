/// `tracer egress` and `tracer ingress`: the endpoints' paths (and for ingress the published
/// ports), then their drops as they happen (the firewall asked to name the rule once it drops
/// an endpoint's packet), the flows' stages every `stageInterval`; at the end every flow of the
/// session's direction with how far it got, a finding for each that stopped (`FlowFindings`),
/// and the summary. Needs a network probe loaded with stages and the scope's
/// devices (root, or CAP_BPF, CAP_PERFMON, CAP_SYS_ADMIN and CAP_NET_ADMIN) or a recording.
public final class EgressSession {
    public struct Options: Sendable {
        /// Show the drops a healthy host makes all the time.
        public var showAll = false
        /// Stop at this boot-clock time.
        public var deadline: UInt64?
        /// Also print the flows' stages this often while tracing.
        public var stageInterval: UInt64?
        /// The flows followed: those the endpoints open (egress) or those reaching them (inbound).
        public var direction: FlowDirection
        /// Inbound: the published ports traced, with their static findings (printed first, and
        /// weighed with the path's checks when an inbound flow to their endpoint stops).
        public var publishedPorts: [PublishedPortReport]

        public init(showAll: Bool = false, deadline: UInt64? = nil, stageInterval: UInt64? = nil,
                    direction: FlowDirection = .egress, publishedPorts: [PublishedPortReport] = []) {
            self.showAll = showAll
            self.deadline = deadline
            self.stageInterval = stageInterval
            self.direction = direction
            self.publishedPorts = publishedPorts
        }
    }

    private let stream: DropStream
    private let watch: FirewallWatch?
    private let checks: (EgressPath) -> [Finding]
    private let options: Options
    /// How often losses are checked when stages are not printed at an interval.
    private let lostCheckInterval: UInt64 = 1_000_000_000

    /// `checks`: the static findings of a path (`EgressDiagnosis.checks(directory:)` on a
    /// host), which explain what the trace saw. `watch`: the firewall's word on its drops.
    public init(source: NetEventSource, describer: DropDescriber, scope: EgressScope, watch: FirewallWatch?,
                checks: @escaping (EgressPath) -> [Finding], options: Options = Options()) {
        stream = DropStream(source: source, describer: describer, scope: scope, filter: DropFilter(showAll: options.showAll))
        self.watch = watch
        let ports = options.publishedPorts
        // An inbound flow's explanation weighs its port's checks too (DNAT, FORWARD for the DNAT'd flow).
        self.checks = ports.isEmpty ? checks : { path in
            checks(path) + ports.filter { $0.path?.endpoint.netnsInode == path.endpoint.netnsInode }.flatMap(\.findings)
        }
        self.options = options
    }

    private var scope: EgressScope { stream.scope }

    /// Runs until `stop` says so, the deadline passes or the sink closes; the summary is the
    /// last record, and is returned (`errors` > 0: a flow stopped).
    @discardableResult
    public func run(into sink: some RecordSink<NetRecord>, stop: () -> Bool) throws -> FlowsSummary {
        let started = BootClock.now
        if scope.paths.isEmpty { sink.emit(.notice(.noEndpoints)) }
        for path in scope.paths { sink.emit(.path(path)) }
        for port in options.publishedPorts { sink.emit(.publishedPort(port)) }
        for table in watch?.removedStaleTables ?? [] { sink.emit(.notice(.removedStaleTraceTable(table))) }
        sink.flush()

        stream.onDrop = { [watch, scope] record in watch?.sawDrop(reason: record.reason, path: scope.path(of: record.event)) }
        try stream.run(into: sink, stop: stop, deadline: options.deadline, interval: options.stageInterval ?? lostCheckInterval,
                       onPoll: { watch?.poll() }) {
            if options.stageInterval != nil { sink.emit(.stages(try tracedFlows())) }
        }
        // The firewall's last word, then its trace tables go before the report is written.
        watch?.finish()
        watch?.stop()
        for note in watch?.notes ?? [] { sink.emit(.notice(.couldNotWatch(note))) }

        let flows = try tracedFlows()
        sink.emit(.stages(flows))
        // An endpoint's unanswered ARP or NDP stops its own (egress) flows.
        let neighbours = options.direction == .egress ? (try? stream.source.neighbourStats()) ?? [:] : [:]
        let findings = FlowFindings.decide(flows: flows, paths: scope.paths, neighbours: neighbours, checks: checks)
        sink.emit(.findings(findings))
        let summary = FlowsSummary(
            durationNanoseconds: BootClock.now - started, endpoints: scope.paths.count, flows: flows.count,
            stopped: flows.filter { !$0.outcome.isComplete }.count, drops: stream.shown, lost: stream.lost,
            findings: findings.count, errors: findings.filter { $0.finding.severity == .error }.count)
        sink.emit(.flowsSummary(summary))
        sink.flush()
        return summary
    }

    /// Every traced flow of the session's direction now, with the trace's evidence of its last drop.
    private func tracedFlows() throws -> [EgressExplainer.Evidence] {
        scope.outcomes(of: try stream.source.flows().filter { $0.key.direction == options.direction }).map(evidence)
    }

    /// The last drop's reason, location and device by name, and the firewall's verdict on a
    /// NETFILTER_DROP.
    private func evidence(_ outcome: FlowOutcome) -> EgressExplainer.Evidence {
        guard let drop = outcome.stats.lastDrop else { return EgressExplainer.Evidence(outcome: outcome) }
        let describer = stream.describer
        let reason = describer.reasons.reason(drop.reason)
        let verdict = reason.name == .netfilterDrop ? watch?.verdict(for: outcome.flow, path: outcome.path,
                                                                                   replyDropped: drop.stage?.isReply(in: outcome.flow.direction) ?? false) : nil
        return EgressExplainer.Evidence(
            outcome: outcome, reason: reason, location: describer.locationName(drop.location),
            dropDevice: scope.deviceName(drop.device), dropRole: scope.role(drop.device),
            netfilterVerdict: verdict?.text, netfilterRule: verdict?.nftRule, netfilterFix: verdict?.fix)
    }
}
