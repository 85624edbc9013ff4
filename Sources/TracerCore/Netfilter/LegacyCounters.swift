/// A snapshot of the iptables-legacy counters of one namespace (`iptables-legacy-save -c` and
/// `ip6tables-legacy-save -c`, each table with its family), for the rules nft trace cannot see:
/// two snapshots around a probe name the rule or policy whose counters grew, as people do by hand
/// with `iptables -L -v` (moby#36151).
public struct LegacyCounters: Sendable, Equatable {
    public var tables: [FirewallTable]

    public init(tables: [FirewallTable]) { self.tables = tables }

    /// Reads the counters of both families in the namespace at `netnsPath`. Needs root. The IPv4
    /// tool must be there; without the IPv6 one only IPv4 is read.
    public static func snapshot(netnsPath: String) throws(NetfilterError) -> LegacyCounters {
        let tools = RulesetReader.saveTools.compactMap { family, tool in SaveTool.find("\(tool)-legacy-save").map { (family, tool, $0) } }
        guard tools.contains(where: { $0.0 == "ip" }) else {
            throw .tool("iptables-legacy-save not found; legacy counters cannot be read")
        }
        let result: Result<[FirewallTable], NetfilterError>
        do {
            result = try RouteNetlink.inNamespace(netnsPath) { () -> Result<[FirewallTable], NetfilterError> in
                var tables: [FirewallTable] = []
                for (family, name, tool) in tools {
                    do throws(NetfilterError) {
                        let output = try tool.run(["-c"])
                        guard output.status == 0 else {
                            return .failure(.tool("\(name)-legacy-save -c exited \(output.status): \(output.stderr.trimmed)"))
                        }
                        tables += IptablesSave.parse(output.stdout, backend: .iptablesLegacy, family: family)
                    } catch {
                        return .failure(error)
                    }
                }
                return .success(tables)
            }
        } catch {
            throw .tool("cannot enter network namespace \(netnsPath): \(error)")
        }
        return LegacyCounters(tables: try result.get())
    }

    /// Rules and policies whose packet counters grew since `earlier`, drops first.
    public func growth(since earlier: LegacyCounters) -> [CounterGrowth] {
        var grown: [CounterGrowth] = []
        for table in tables {
            let before = earlier.tables.first { $0.family == table.family && $0.name == table.name }
            for chain in table.chains {
                let old = before?.chain(chain.name)
                if let packets = chain.policyPackets, let policy = chain.policy {
                    let delta = packets &- (old?.policyPackets ?? 0)
                    if delta > 0, packets >= (old?.policyPackets ?? 0) {
                        grown.append(CounterGrowth(family: table.family, table: table.name, chain: chain.name, rule: nil, policy: policy, packets: delta,
                                                   bytes: (chain.policyBytes ?? 0) &- (old?.policyBytes ?? 0)))
                    }
                }
                for rule in chain.rules {
                    guard let packets = rule.packets else { continue }
                    // The same rule: same position and text (a rule inserted in between shifts positions).
                    let previous = old?.rules.first { $0.position == rule.position && $0.text == rule.text }
                        ?? old?.rules.first { $0.text == rule.text }
                    let base = previous?.packets ?? 0
                    guard packets > base else { continue }
                    grown.append(CounterGrowth(family: table.family, table: table.name, chain: chain.name, rule: rule, policy: nil, packets: packets - base,
                                               bytes: (rule.bytes ?? 0) &- (previous?.bytes ?? 0)))
                }
            }
        }
        return grown.sorted { $0.isDrop && !$1.isDrop }
    }
}

/// One rule or policy whose iptables-legacy counters grew.
public struct CounterGrowth: Sendable, Equatable {
    /// "ip" (iptables-legacy) or "ip6" (ip6tables-legacy).
    public var family = "ip"
    public var table: String
    public var chain: String
    /// nil for a policy.
    public var rule: FirewallRule?
    /// "drop"/"accept" for a policy.
    public var policy: String?
    public var packets: UInt64
    public var bytes: UInt64

    /// Where it is, as `NarrowestFix` takes it.
    public var drop: NarrowestFix.Drop {
        NarrowestFix.Drop(family: family, table: table, backend: .iptablesLegacy, chain: chain, position: rule?.position)
    }

    public var isDrop: Bool {
        if let policy { return policy == "drop" }
        return rule.map { $0.verdict.isDropping } ?? false
    }

    /// The packets it counts: an IPv4 or an IPv6 flow's.
    public var ipFamily: IPAddress.Family { IPAddress.Family(tableFamily: family) ?? .v4 }

    /// "ip filter FORWARD policy drop (iptables-legacy): +1 packets",
    /// "ip6 filter FORWARD policy drop (ip6tables-legacy): +1 packets".
    public var description: String {
        let what = rule.map { "rule \($0.position): \($0.text)" } ?? "policy \(policy ?? "?")"
        return "\(family) \(table) \(chain) \(what) (\(NetfilterBackend.iptablesLegacy.tool(family: family))): +\(packets) packets"
    }
}
