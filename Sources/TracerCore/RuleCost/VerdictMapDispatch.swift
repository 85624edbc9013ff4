extension RuleVerdict {
    /// Every chain this verdict can send a packet to: a jump's or goto's, or those of a verdict
    /// map's elements.
    func chainTargets(in table: FirewallTable) -> [String] {
        if let target = chainTarget { return [target] }
        guard case .verdictMap(let lookup) = self else { return [] }
        return lookup.map(in: table.sets)?.verdicts?.compactMap(\.chainTarget) ?? []
    }
}

extension FirewallCost {
    /// A verdict-map lookup keyed on the destination address, protocol and port, each element
    /// going to a chain of its own: kube-proxy's nftables mode (`ip daddr . meta l4proto . th
    /// dport vmap @service-ips`). Nil for any other rule.
    static func mapDispatch(_ rule: FirewallRule, table: FirewallTable) -> (map: String, destinations: [DispatchedDestination])? {
        guard case .verdictMap(let lookup) = rule.verdict, lookup.selectors.count == 3, lookup.selectors[0] == .destinationAddress,
              lookup.selectors[1] == .l4proto, case .destinationPort = lookup.selectors[2],
              let map = lookup.map(in: table.sets), let verdicts = map.verdicts else { return nil }
        var found: [DispatchedDestination] = []
        for (element, verdict) in zip(map.elements, verdicts) {
            guard let element, element.count == 3, case .prefix(let host) = element[0], host.length == host.address.family.bitWidth,
                  case .name(let protoName) = element[1], let proto = TransportProtocol(name: protoName),
                  case .ports(let ports, _) = element[2], ports.count == 1, let target = verdict.chainTarget else { continue }
            found.append(DispatchedDestination(destination: ServiceAddress(address: host.address, port: ports.lowerBound, proto: proto),
                                               service: kubeProxyServiceName(chain: target), chain: target))
        }
        return (map.name.isEmpty ? "(anonymous)" : map.name, found)
    }

    /// kube-proxy's nftables mode names a Service port's chain "service-<hash>-<namespace>/<name>/<protocol>/<port name>":
    /// "ns/web:http", as its iptables mode's comments name it.
    static func kubeProxyServiceName(chain: String) -> String? {
        guard chain.hasPrefix("service-") else { return nil }
        let rest = chain.dropFirst("service-".count).drop { $0 != "-" }.dropFirst()
        let parts = rest.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count == 4 else { return nil }
        return "\(parts[0])/\(parts[1]):\(parts[3])"
    }
}
