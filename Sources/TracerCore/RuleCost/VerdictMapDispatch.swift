extension RuleVerdict {
    /// Every chain this verdict can send a packet to.
    func chainTargets(in table: FirewallTable) -> [String] {
        chainTarget.map { [$0] } ?? []
    }
}

extension FirewallCost {
    /// A verdict-map lookup keyed on the destination address, protocol and port, each element
    /// going to a chain of its own: kube-proxy's nftables mode (`ip daddr . meta l4proto . th
    /// dport vmap @service-ips`).
    static func mapDispatch(_ rule: FirewallRule, table: FirewallTable) -> (map: String, destinations: [DispatchedDestination])? {
        nil
    }
}
