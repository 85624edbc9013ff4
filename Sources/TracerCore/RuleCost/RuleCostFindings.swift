/// What matters in a ruleset's cost, as findings with stable codes, and the data plane that would
/// cost less.
public enum RuleCostFindings {
    /// kube-proxy's own advice: iptables mode serves up to about a thousand Services well.
    public static let defaultThreshold = 1000
    /// A list of this many drop or reject rules by address in a chain every new connection to
    /// the host meets is worth a set.
    static let rejectListLength = 100
    /// Rules a new connection to a Service evaluates at prerouting in kube-proxy's nftables mode,
    /// whatever the number of Services, from a client other than the endpoint itself:
    /// filter-prerouting's jump and firewall-check's lookup, nat-prerouting's jump, the
    /// service-ips lookup, the endpoint choice and the endpoint chain's two rules (the walk of the
    /// KEP-3866 shape `tools/lab/kubeproxy.sh --mode nftables` loads, and the trace of a real SYN:
    /// RuleCostLabTests checks both).
    public static let kubeProxyNftablesPrerouting = 7

    static func findings(_ ruleset: Ruleset, dispatches: [ServiceDispatch], dispatched: [FirewallCost.DispatchedDestination],
                         destinations: [DestinationCost], threshold: Int, netns host: NamespaceCommand) -> [Finding] {
        var findings: [Finding] = []
        for (index, dispatch) in dispatches.enumerated() where dispatch.kind == .rules && dispatch.destinations >= threshold {
            // The costliest destination counted of this chain's own.
            let own = Set(dispatched.filter { $0.dispatch == index }.map(\.destination))
            let worst = destinations.filter { own.contains($0.destination) }.max { $0.most < $1.most }
            let cost = worst.map { ": a new connection to \($0.destination) evaluates \($0.most) rules" } ?? ""
            findings.append(Finding(
                code: .linearServiceChain, severity: .warning,
                message: "\(dispatch.family) \(dispatch.table) \(dispatch.chain) (\(dispatch.backend.rawValue), \(dispatch.owner.rawValue)) "
                    + "sends each of \(dispatch.destinations) destinations to its chain with a rule of its own\(cost)",
                evidence: "\(dispatch.destinations) rules matching one address, protocol and port each, at or above the threshold of \(threshold)",
                fix: dispatch.owner == .kubeProxy ? "set kube-proxy's mode to nftables (Kubernetes 1.31 or later; a verdict map: one lookup) "
                    + "in its configuration (kubectl -n kube-system edit configmap kube-proxy: mode: \"nftables\") and restart it" : nil))
        }
        if let mixed = NetfilterInspector.backendsMixed(ruleset, run: host, netns: nil) { findings.append(mixed) }
        findings += rejectLists(ruleset)
        return findings
    }

    /// Chains reached from an input base chain holding a long run of drop or reject rules, each
    /// for one address or prefix.
    static func rejectLists(_ ruleset: Ruleset) -> [Finding] {
        var findings: [Finding] = []
        for table in ruleset.tables {
            let input = table.chains.filter { $0.hook == "input" }.map(\.name)
            for chain in ChainIndex(table).reachable(from: input) {
                let name = chain.name
                let listed = chain.rules.filter { rule in
                    rule.verdict.isDropping && rule.matches.contains { match in
                        switch match {
                        case .source(let p, false), .destination(let p, false): return p.count == 1
                        default: return false
                        }
                    }
                }
                if listed.count >= rejectListLength {
                    let bySource = listed.filter { $0.matches.contains { if case .source = $0 { return true } else { return false } } }.count * 2 >= listed.count
                    let (nft, ipset) = bySource ? ("ip saddr @blocked drop", "src") : ("ip daddr @blocked drop", "dst")
                    findings.append(Finding(
                        code: .inputRejectList, severity: .warning,
                        message: "\(table.label) \(name) (\(table.backend.rawValue)) drops or rejects \(listed.count) addresses with a rule each: "
                            + "every new connection to this host that none of them stops walks all of them",
                        evidence: "first: \(listed[0].text); last: \(listed[listed.count - 1].text)",
                        fix: table.backend == .nftables ? "put the addresses in a set (nft add set ...; one rule `\(nft)`): one lookup"
                            : "put the addresses in an ipset (ipset create blocked hash:net; one rule `-m set --match-set blocked \(ipset) -j DROP`): one lookup"))
                }
            }
        }
        return findings
    }

    /// kube-proxy's iptables mode dispatching the Services linearly: what its nftables mode would
    /// cost the destinations of those dispatches that were counted; none where it would cost no less.
    static func recommendation(dispatches: [ServiceDispatch], dispatched: [ServiceAddress: FirewallCost.DispatchedDestination],
                               destinations: [DestinationCost], rate: ConnectionRate?) -> DataPlaneRecommendation? {
        let linear = Set(dispatches.indices.filter { dispatches[$0].kind == .rules && dispatches[$0].owner == .kubeProxy })
        guard !linear.isEmpty else { return nil }
        // Like for like with the figure for nftables mode: a client other than the endpoint itself.
        let prerouting = destinations.filter { dispatched[$0.destination]?.dispatch.map(linear.contains) == true }
            .compactMap { $0.hooks.first { $0.hook == "prerouting" }?.fewest }.sorted()
        guard !prerouting.isEmpty else { return nil }
        let now = prerouting[prerouting.count / 2]
        let then = kubeProxyNftablesPrerouting
        guard then < now else { return nil }
        func core(_ rules: Int) -> Double? { rate.map { $0.perSecond * RuleCostEstimate.walkNanoseconds(rules: rules) / 1e9 } }
        return DataPlaneRecommendation(
            dataPlane: "nftables", rulesNow: now, rulesThen: then, coreFractionNow: core(now), coreFractionThen: core(then),
            services: prerouting.count,
            reason: "kube-proxy's nftables mode looks a Service up in a verdict map (one rule) whatever their number; IPVS mode also "
                + "looks it up in a hash table, with a few iptables rules left (not counted here when this kernel has no IPVS)")
    }
}
