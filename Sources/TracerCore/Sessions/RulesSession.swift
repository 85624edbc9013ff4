import Glibc

/// A record of `tracer rules`' stream, in the order emitted.
public enum RulesRecord: Sendable, Equatable {
    /// The namespace read, and what could not be read or counted there.
    case namespace(label: String, unchecked: [String])
    case chain(BaseChainCost)
    case dispatch(ServiceDispatch)
    /// IPVS's virtual services in the namespace (kube-proxy's IPVS mode): one hash lookup per new
    /// connection whatever their number, after the rules that send the packet there.
    case ipvs(virtualServices: Int, realServers: Int)
    case destination(DestinationCost)
    /// Destinations named with `--to` that no rule or map element addresses.
    case finding(Finding)
    case estimate(RuleCostEstimate)
    case recommendation(DataPlaneRecommendation)
    /// A trace was asked for and these destinations saw no new connection in the seconds it
    /// watched (the time given, or less when stopped).
    case untraced([ServiceAddress], seconds: Double)
    case summary(RulesSummary)
}

public struct RulesSummary: Sendable, Equatable {
    public var baseChains: Int
    public var rules: Int
    public var destinations: Int
    public var warnings: Int
}

/// `tracer rules`: the firewall of one namespace as a new connection sees it. Reads the ruleset
/// (every backend), counts statically what a connection to each destination evaluates, measures
/// it on real packets with the nftables trace when asked, counts conntrack's new connections and
/// estimates the CPU; read-only but for the temporary trace table. Needs CAP_NET_ADMIN (and
/// CAP_SYS_ADMIN to enter another namespace).
public final class RulesSession {
    public struct Options: Sendable {
        /// The namespace to read: a path to enter (/run/netns/NAME, /proc/PID/ns/net).
        public var netnsPath: String
        public var label: String
        /// The host's namespace: fixes are printed without nsenter.
        public var isRoot: Bool
        /// Empty: every destination a dispatch names.
        public var destinations: [ServiceAddress]
        /// Wait this long for a real connection to each destination and trace it; nil: no trace.
        public var traceSeconds: Double?
        /// How long conntrack's new connections are counted for the rate.
        public var rateSeconds: Double
        /// A dispatch of at least this many destinations by rules is a finding.
        public var threshold: Int

        public init(netnsPath: String, label: String, isRoot: Bool = false, destinations: [ServiceAddress] = [], traceSeconds: Double? = nil,
                    rateSeconds: Double = 1, threshold: Int = RuleCostFindings.defaultThreshold) {
            self.netnsPath = netnsPath
            self.label = label
            self.isRoot = isRoot
            self.destinations = destinations
            self.traceSeconds = traceSeconds
            self.rateSeconds = rateSeconds
            self.threshold = threshold
        }
    }

    private let options: Options

    public init(_ options: Options) {
        self.options = options
    }

    @discardableResult
    public func run(into sink: some RecordSink<RulesRecord>, stop: @escaping () -> Bool = { false }) throws(NetfilterError) -> RulesSummary {
        let reading = RulesetReader.read(netnsPath: options.netnsPath)
        var ruleset = reading.ruleset
        var unchecked = reading.unchecked
        // The tracer's own trace tables (another run's, or one a killed run left) are not the host's firewall.
        let own = ruleset.tables.filter { FirewallOwner.of(table: $0, chain: "") == .tracer }
        ruleset.tables.removeAll { FirewallOwner.of(table: $0, chain: "") == .tracer }
        if !own.isEmpty { unchecked.append("left out: \(own.map(\.label).joined(separator: ", ")) (trace tables of tracer runs)") }
        sink.emit(.namespace(label: options.label, unchecked: unchecked))

        let chains = FirewallCost.baseChains(ruleset)
        for chain in chains { sink.emit(.chain(chain)) }
        var (dispatches, dispatched) = FirewallCost.dispatches(ruleset)
        for dispatch in dispatches { sink.emit(.dispatch(dispatch)) }
        let ipvs: [IPVSService]?
        do {
            ipvs = try RouteNetlink.inNamespace(options.netnsPath) { try IPVSServices.read(path: "/proc/thread-self/net/ip_vs") }
        } catch {
            ipvs = nil
            unchecked.append("IPVS: \(error)")
        }
        if let ipvs {
            sink.emit(.ipvs(virtualServices: ipvs.count, realServers: ipvs.reduce(0) { $0 + $1.realServers.count }))
            let known = Set(dispatched.map(\.destination))
            for service in ipvs {
                guard case .address(let proto, let address, let port) = service.key,
                      case let destination = ServiceAddress(address: address, port: Int(port), proto: proto), !known.contains(destination) else { continue }
                dispatched.append(.init(destination: destination, service: nil))
            }
        }
        sink.flush()

        let byDestination = Dictionary(dispatched.map { ($0.destination, $0) }, uniquingKeysWith: { a, _ in a })
        var named: Set<ServiceAddress> = []
        let wanted = options.destinations.isEmpty ? dispatched.map(\.destination) : options.destinations.filter { named.insert($0).inserted }
        let walks = FirewallCost.walks(ruleset, to: wanted.map { ($0, byDestination[$0]) })
        var costs = zip(wanted, walks).map { destination, hooks in
            DestinationCost(destination: destination, service: byDestination[destination]?.service, addressed: byDestination[destination] != nil,
                            hooks: hooks)
        }
        var untraced: [ServiceAddress] = []
        var traced = 0.0
        if let seconds = options.traceSeconds, !wanted.isEmpty {
            let tracing = BootClock.now
            let walks = try trace(wanted, seconds: seconds, stop: stop, unchecked: &unchecked)
            traced = Double(BootClock.now - tracing) / 1e9
            for i in costs.indices { costs[i].traced = walks[costs[i].destination] }
            untraced = wanted.filter { walks[$0] == nil }
            if ruleset.hasLegacyTables {
                unchecked.append("traced counts: iptables-legacy tables are invisible to the nftables trace; their rules are in the static counts only")
            }
        }
        // Every destination found: the costliest first; those named: in the order named.
        if options.destinations.isEmpty { costs.sort { $0.most > $1.most } }
        for cost in costs { sink.emit(.destination(cost)) }
        if !untraced.isEmpty { sink.emit(.untraced(untraced, seconds: traced)) }
        sink.flush()

        let rate = measureRate(stop: stop, unchecked: &unchecked)

        let findings = RuleCostFindings.findings(ruleset, dispatches: dispatches, dispatched: dispatched, destinations: costs, threshold: options.threshold,
                                                 netns: NamespaceCommand(path: options.netnsPath, isRoot: options.isRoot))
        for finding in findings { sink.emit(.finding(finding)) }
        let counted = costs.filter(\.addressed)
        let estimate = RuleCostEstimate(rate: rate, rulesPerConnection: median((counted.isEmpty ? costs : counted).map(\.most)),
                                        destinations: (counted.isEmpty ? costs : counted).count,
                                        nanosecondsPerRule: RuleCostEstimate.measuredNanosecondsPerRule)
        if !costs.isEmpty { sink.emit(.estimate(estimate)) }
        if let recommendation = RuleCostFindings.recommendation(dispatches: dispatches, dispatched: byDestination, destinations: counted, rate: rate) {
            sink.emit(.recommendation(recommendation))
        }
        if unchecked.count > reading.unchecked.count { sink.emit(.namespace(label: options.label, unchecked: Array(unchecked.dropFirst(reading.unchecked.count)))) }
        let summary = RulesSummary(baseChains: chains.count, rules: ruleset.tables.reduce(0) { $0 + $1.chains.reduce(0) { $0 + $1.rules.count } },
                                   destinations: costs.count, warnings: findings.filter { $0.severity != .info }.count)
        sink.emit(.summary(summary))
        sink.flush()
        return summary
    }

    /// New connections per second, counted from conntrack's events for the interval asked for.
    private func measureRate(stop: () -> Bool, unchecked: inout [String]) -> ConnectionRate? {
        let listener: ConntrackNewEvents
        do {
            listener = try ConntrackNewEvents.listen(netnsPath: options.netnsPath)
        } catch {
            unchecked.append("conntrack: cannot listen to its new connections (\(error)): no rate")
            return nil
        }
        let start = BootClock.now
        let (connections, lost) = listener.count(until: start + UInt64(options.rateSeconds * 1e9), stop: stop)
        if lost > 0 { unchecked.append("conntrack: the kernel dropped some of its \(connections)+ new-connection events: the rate is at least the one shown") }
        return ConnectionRate(connections: connections, seconds: Double(BootClock.now - start) / 1e9, lostEvents: lost)
    }

    private func median(_ values: [Int]) -> Int {
        guard !values.isEmpty else { return 0 }
        return values.sorted()[values.count / 2]
    }

    /// Adds the trace table for `destinations`, waits up to `seconds` for the first packet of a
    /// new connection to each, and counts what each evaluated. The table is removed on return.
    private func trace(_ destinations: [ServiceAddress], seconds: Double, stop: () -> Bool,
                       unchecked: inout [String]) throws(NetfilterError) -> [ServiceAddress: TracedWalk] {
        let session = try NftTraceSession(hostNetnsPath: options.netnsPath, destinations: destinations)
        defer { session.stop() }
        if !session.removedStaleTables.isEmpty {
            unchecked.append("removed \(session.removedStaleTables.joined(separator: ", ")): left by a tracer run that was killed")
        }
        let wanted = Set(destinations)
        // A connection is known by its client's address and port: trace ids differ between hooks.
        struct Client: Hashable { var address: IPAddress; var port: UInt16 }
        var flows: [Client: (destination: ServiceAddress, packet: FlowTuple, events: [NftTraceEvent], last: UInt64, isNew: Bool)] = [:]
        var done: [ServiceAddress: TracedWalk] = [:]
        let deadline = BootClock.now + UInt64(seconds * 1e9)
        let quiet: UInt64 = 300_000_000
        func complete(_ client: Client) {
            guard let flow = flows.removeValue(forKey: client), flow.isNew, done[flow.destination] == nil,
                  let walk = TracedWalk.count(packet: flow.packet, events: flow.events, ruleset: session.ruleset) else { return }
            done[flow.destination] = walk
        }
        while !stop() {
            let now = BootClock.now
            // A packet is complete once quiet a while (it passes every hook at once).
            for (client, flow) in flows where now - flow.last > quiet { complete(client) }
            if done.count == wanted.count || (now > deadline && flows.isEmpty) { break }
            for event in try session.poll(timeoutMilliseconds: 100) {
                guard let tuple = event.tuple, case .ports(let sport, let dport) = tuple.transport else { continue }
                let client = Client(address: tuple.source, port: sport)
                // Each packet's first event is the marking rule's: a client's next packet starts anew.
                if event.fromTraceTable && event.chain != NftTraceSession.newConnectionChain {
                    complete(client)
                    guard let proto = TransportProtocol(name: tuple.proto.name),
                          case let destination = ServiceAddress(address: tuple.destination, port: Int(dport), proto: proto),
                          wanted.contains(destination), done[destination] == nil else { continue }
                    flows[client] = (destination, tuple, [], BootClock.now, false)
                }
                guard flows[client] != nil else { continue }
                if event.fromTraceTable && event.chain == NftTraceSession.newConnectionChain { flows[client]!.isNew = true }
                flows[client]!.events.append(event)
                flows[client]!.last = BootClock.now
            }
        }
        return done
    }
}
