/// The firewall's own word on the packets `tracer egress` follows: the nftables trace (a
/// temporary table in a host side that marks the endpoints' packets) for nftables and
/// iptables-nft, and counter growth for iptables-legacy, which nft cannot see.
/// The trace table is added only once the kernel reported a NETFILTER_DROP of an endpoint
/// there: marked packets cost a netlink message per rule they cross, which healthy traffic
/// should not pay. The next dropped packet (a retransmission, the next probe) is named.
public final class NetfilterWatch {
    private let nftTrace: Bool
    private var endpointsByHost: [String: [IPPrefix]] = [:]
    /// The host side's devices of the paths by ifindex, to name a traced packet's input interface.
    private var devicesByHost: [String: [UInt32: String]] = [:]
    private var sessions: [String: NftTraceSession] = [:]
    private var legacy: [(path: String, before: LegacyCounters)] = []
    /// What the firewall said of a dropped packet: the rule or policy in the host's terms, and
    /// for an nftables rule its place as `nft delete rule` takes it ("inet probe pre handle 2").
    public struct Verdict: Sendable, Equatable {
        public var text: String
        public var nftRule: String?
        /// The narrowest change that lets the dropped flow through, when the ruleset shows one.
        public var fix: RuleFix?

        public init(text: String, nftRule: String? = nil, fix: RuleFix? = nil) {
            self.text = text
            self.nftRule = nftRule
            self.fix = fix
        }
    }

    /// A packet the nftables trace saw dropped: the rule or policy, and what its fix needs.
    private struct TracedDrop {
        var text: String
        var nftRule: String?
        var ruleset: Ruleset
        var drop: NarrowestFix.Drop
        var packet: ImaginedPacket
    }

    /// The rule or policy that dropped an endpoint's packet, by endpoint address.
    private var tracedDrops: [IPAddress: TracedDrop] = [:]
    /// Legacy drops by host-side namespace path, with the ruleset (and its ipsets) read then.
    /// Per host side and family: one namespace's firewall may drop flows of both.
    private var legacyVerdicts: [String: [IPAddress.Family: (growth: CounterGrowth, ruleset: Ruleset)]] = [:]
    /// Trace tables left by a run that was killed, removed at start.
    public private(set) var removedStaleTables: [String] = []
    /// What could not be watched, and why.
    public private(set) var notes: [String] = []

    public init(paths: [EgressPath], nftTrace: Bool) {
        self.nftTrace = nftTrace
        for path in paths {
            endpointsByHost[path.hostNetnsPath, default: []] += path.endpoint.addresses
            for device in [path.hostVeth, path.bridge, path.uplink].compactMap({ $0 }) where device.index > 0 {
                devicesByHost[path.hostNetnsPath, default: [:]][UInt32(device.index)] = device.name
            }
        }
        for host in endpointsByHost.keys.sorted() {
            if let removed = try? NftTraceSession.removeStale(hostNetnsPath: host) { removedStaleTables += removed }
            if let before = try? LegacyCounters.snapshot(netnsPath: host), before.tables.contains(where: { !$0.chains.isEmpty }) {
                legacy.append((host, before))
            }
        }
    }

    /// A drop the kernel reported: a firewall drop of an endpoint starts tracing its host side.
    public func sawDrop(reason: DropReason, path: EgressPath?) {
        guard nftTrace, reason.name == .netfilterDrop, let path, sessions[path.hostNetnsPath] == nil,
              let endpoints = endpointsByHost[path.hostNetnsPath] else { return }
        do {
            sessions[path.hostNetnsPath] = try NftTraceSession(hostNetnsPath: path.hostNetnsPath, endpoints: endpoints)
        } catch {
            notes.append("nftables trace in \(path.hostNetnsPath): \(error)")
            endpointsByHost[path.hostNetnsPath] = nil // not again
        }
    }

    /// Takes the trace events that arrived; keeps the drops with the packet as the dropping
    /// chain saw it (after DNAT in forward), for the narrowest fix once its flow is known.
    public func poll() {
        for (host, session) in sessions {
            guard let events = try? session.poll(timeoutMilliseconds: 0) else { continue }
            for event in events where event.isDrop && !event.fromTraceTable {
                guard let tuple = event.tuple else { continue }
                let rule = event.kind == .rule ? event.ruleHandle.map { "\(event.family) \(event.table) \(event.chain) handle \($0)" } : nil
                let devices = devicesByHost[host] ?? [:]
                let packet = ImaginedPacket(tuple: tuple, inInterface: event.inInterfaceIndex.flatMap { devices[$0] } ?? "",
                                            outInterface: event.outInterfaceIndex.flatMap { devices[$0] } ?? "")
                // Trace events come from nft's tables: never a legacy table of the same name.
                let backend = session.ruleset.tables.first {
                    $0.family == event.family && $0.name == event.table && $0.backend != .iptablesLegacy
                }?.backend ?? .nftables
                let drop = NarrowestFix.Drop(family: event.family, table: event.table, backend: backend, chain: event.chain,
                                             handle: event.kind == .rule ? event.ruleHandle : nil)
                let traced = TracedDrop(text: session.describe(event), nftRule: rule, ruleset: session.ruleset, drop: drop, packet: packet)
                for address in [tuple.source, tuple.destination] where tracedDrops[address] == nil {
                    tracedDrops[address] = traced
                }
            }
        }
    }

    /// Reads the legacy counters again: a policy or rule whose drop counter grew is named.
    public func finish() {
        poll()
        for (host, before) in legacy {
            guard let after = try? LegacyCounters.snapshot(netnsPath: host) else { continue }
            let drops = after.growth(since: before).filter(\.isDrop)
            guard !drops.isEmpty else { continue }
            let ruleset = RulesetReader.read(netnsPath: host).ruleset
            for drop in drops where legacyVerdicts[host]?[drop.ipFamily] == nil {
                legacyVerdicts[host, default: [:]][drop.ipFamily] = (drop, ruleset)
            }
        }
    }

    /// The firewall's verdict on a flow's packets, if it dropped them. A traced packet that runs
    /// against the flow's original direction is a reply; counters cannot tell which packet they
    /// counted, so a legacy drop is a reply when the flow stopped on its way back (`replyDropped`).
    /// A legacy drop's fix takes the flow's tuple as the dropping chain saw it: the endpoint's on
    /// an egress flow, the client's after DNAT on an inbound one, reversed for a reply.
    public func verdict(for flow: FlowKey, path: EgressPath, replyDropped: Bool = false) -> Verdict? {
        if var traced = tracedDrops[flow.endpointAddress] {
            traced.packet.isReply = traced.packet.source == flow.tuple.destination && traced.packet.destination == flow.tuple.source
            return Verdict(text: traced.text, nftRule: traced.nftRule,
                           fix: NarrowestFix.fix(ruleset: traced.ruleset, drop: traced.drop, packet: traced.packet))
        }
        guard let (growth, ruleset) = legacyVerdicts[path.hostNetnsPath]?[flow.endpointAddress.family] else { return nil }
        var packet = ImaginedPacket(tuple: replyDropped ? flow.tuple.reversed : flow.tuple)
        packet.isReply = replyDropped
        return Verdict(text: growth.description, nftRule: nil, fix: NarrowestFix.fix(ruleset: ruleset, drop: growth.drop, packet: packet))
    }

    /// Removes the trace tables; safe to call more than once.
    public func stop() {
        for session in sessions.values { session.stop() }
    }

    deinit { stop() }
}
