/// A snapshot of the iptables-legacy counters of one namespace (`iptables-legacy-save -c`), for the
/// rules nft trace cannot see: two snapshots around a probe name the rule or policy whose counters
/// grew, as people do by hand with `iptables -L -v` (moby#36151).
public struct LegacyCounters: Sendable, Equatable {
    public var tables: [FirewallTable]

    public init(tables: [FirewallTable]) { self.tables = tables }

    /// Reads the counters in the namespace at `netnsPath`. Needs root.
    public static func snapshot(netnsPath: String) throws(NetfilterError) -> LegacyCounters {
        guard let tool = SaveTool.find("iptables-legacy-save") else {
            throw .tool("iptables-legacy-save not found; legacy counters cannot be read")
        }
        let result: Result<SaveTool.Result, NetfilterError>
        do {
            result = try RouteNetlink.inNamespace(netnsPath) { () -> Result<SaveTool.Result, NetfilterError> in
                do throws(NetfilterError) { return .success(try tool.run(["-c"])) } catch { return .failure(error) }
            }
        } catch {
            throw .tool("cannot enter network namespace \(netnsPath): \(error)")
        }
        let output = try result.get()
        guard output.status == 0 else { throw .tool("iptables-legacy-save -c exited \(output.status): \(output.stderr.trimmed)") }
        return LegacyCounters(tables: IptablesSave.parse(output.stdout, backend: .iptablesLegacy))
    }

    /// Rules and policies whose packet counters grew since `earlier`, drops first.
    public func growth(since earlier: LegacyCounters) -> [CounterGrowth] {
        var grown: [CounterGrowth] = []
        for table in tables {
            let before = earlier.tables.first { $0.name == table.name }
            for chain in table.chains {
                let old = before?.chain(chain.name)
                if let packets = chain.policyPackets, let policy = chain.policy {
                    let delta = packets &- (old?.policyPackets ?? 0)
                    if delta > 0, packets >= (old?.policyPackets ?? 0) {
                        grown.append(CounterGrowth(table: table.name, chain: chain.name, rule: nil, policy: policy, packets: delta,
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
                    grown.append(CounterGrowth(table: table.name, chain: chain.name, rule: rule, policy: nil, packets: packets - base,
                                               bytes: (rule.bytes ?? 0) &- (previous?.bytes ?? 0)))
                }
            }
        }
        return grown.sorted { $0.isDrop && !$1.isDrop }
    }
}

/// One rule or policy whose iptables-legacy counters grew.
public struct CounterGrowth: Sendable, Equatable {
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
        NarrowestFix.Drop(family: "ip", table: table, backend: .iptablesLegacy, chain: chain, position: rule?.position)
    }

    public var isDrop: Bool {
        if let policy { return policy == "drop" }
        return rule.map { $0.verdict.isDropping } ?? false
    }

    /// "ip filter FORWARD policy drop (iptables-legacy): +1 packets".
    public var description: String {
        let what = rule.map { "rule \($0.position): \($0.text)" } ?? "policy \(policy ?? "?")"
        return "ip \(table) \(chain) \(what) (iptables-legacy): +\(packets) packets"
    }
}
