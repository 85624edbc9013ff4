/// The firewall's own word on the packets `tracer egress` follows: the nftables trace (a
/// temporary table per host side that marks the endpoints' packets) for nftables and
/// iptables-nft, and counter growth for iptables-legacy, which nft cannot see.
public final class NetfilterWatch {
    private var sessions: [NftTraceSession] = []
    private var legacy: [(path: String, before: LegacyCounters)] = []
    /// The rule or policy that dropped an endpoint's packet, by endpoint address.
    private var verdicts: [IPv4Address: String] = [:]
    /// Legacy drops by host-side namespace path.
    private var legacyVerdicts: [String: String] = [:]
    /// Trace tables left by a run that was killed, removed at start.
    public private(set) var removedStaleTables: [String] = []
    /// What could not be watched, and why.
    public private(set) var notes: [String] = []

    public init(paths: [EgressPath], nftTrace: Bool) {
        var byHost: [String: [String]] = [:]
        for path in paths { byHost[path.hostNetnsPath, default: []] += path.endpoint.ipv4 }
        for (host, endpoints) in byHost.sorted(by: { $0.key < $1.key }) {
            if nftTrace {
                do {
                    let session = try NftTraceSession(hostNetnsPath: host, endpoints: endpoints)
                    removedStaleTables += session.removedStaleTables
                    sessions.append(session)
                } catch {
                    notes.append("nftables trace in \(host): \(error)")
                }
            }
            if let before = try? LegacyCounters.snapshot(netnsPath: host), before.tables.contains(where: { !$0.chains.isEmpty }) {
                legacy.append((host, before))
            }
        }
    }

    /// Takes the trace events that arrived; keeps the drops.
    public func poll() {
        for session in sessions {
            guard let events = try? session.poll(timeoutMilliseconds: 0) else { continue }
            for event in events where event.isDrop && !event.fromTraceTable {
                guard let tuple = event.tuple else { continue }
                let text = session.describe(event)
                for address in [tuple.source, tuple.destination].compactMap({ IPv4Address($0) }) where verdicts[address] == nil {
                    verdicts[address] = text
                }
            }
        }
    }

    /// Reads the legacy counters again: a policy or rule whose drop counter grew is named.
    public func finish() {
        poll()
        for (host, before) in legacy {
            guard let after = try? LegacyCounters.snapshot(netnsPath: host) else { continue }
            if let drop = after.growth(since: before).first(where: \.isDrop) { legacyVerdicts[host] = drop.description }
        }
    }

    /// The firewall's verdict on a flow's packets, if it dropped them.
    public func verdict(for flow: FlowKey, path: EgressPath) -> String? {
        verdicts[flow.endpointAddress] ?? legacyVerdicts[path.hostNetnsPath]
    }

    /// Removes the trace tables; safe to call more than once.
    public func stop() {
        for session in sessions { session.stop() }
    }

    deinit { stop() }
}
