/// Who wrote a chain, told from the names each manager gives its tables and chains: kube-proxy
/// (`KUBE-*` chains, nftables mode's `ip kube-proxy` table), Docker (`DOCKER*`), netavark
/// (`NETAVARK*`, its `inet netavark` table), firewalld (its `firewalld` tables), CNI plugins
/// (`CNI-*`), the tracer's own trace tables, and everything else.
public enum FirewallOwner: String, Sendable, CaseIterable, Comparable {
    case kubeProxy = "kube-proxy"
    case docker
    case netavark
    case firewalld
    case cni
    case tracer
    case other

    public static func of(table: FirewallTable, chain: String) -> FirewallOwner {
        switch table.name {
        case "kube-proxy": return .kubeProxy
        case "netavark": return .netavark
        case "firewalld": return .firewalld
        case let name where name.hasPrefix(NftTraceSession.tablePrefix): return .tracer
        default: break
        }
        if chain.hasPrefix("KUBE-") { return .kubeProxy }
        if chain.hasPrefix("DOCKER") { return .docker }
        if chain.hasPrefix("NETAVARK") { return .netavark }
        if chain.hasPrefix("CNI-") { return .cni }
        return .other
    }

    /// A rule belongs to the owner of the chain it sends packets to, else to its own chain's.
    static func of(rule: FirewallRule, in table: FirewallTable, chain: String) -> FirewallOwner {
        if let target = rule.verdict.chainTarget {
            let owner = of(table: table, chain: target)
            if owner != .other { return owner }
        }
        return of(table: table, chain: chain)
    }

    public static func < (a: FirewallOwner, b: FirewallOwner) -> Bool {
        allCases.firstIndex(of: a)! < allCases.firstIndex(of: b)!
    }
}

extension RuleVerdict {
    /// The chain a jump or goto sends the packet to.
    var chainTarget: String? {
        switch self {
        case .jump(let target), .goto(let target): return target
        default: return nil
        }
    }
}
