/// The route the kernel takes for a packet an endpoint sends to "the internet", forwarded by the
/// host side: the policy rules (`ip rule`) in priority order, each `lookup` consulting its table
/// for a default route, as fib_rules_lookup does. A host with no rules beyond the defaults
/// (local, main, default) ends in the main table, as before policy routing was looked at.
///
/// The packet is assumed unmarked (fwmark 0): a firewall that marks it could send it elsewhere.
/// Rules with selectors not modelled here (uid range, ports, protocol, l3mdev, a destination
/// prefix narrower than the internet, an output interface) are taken not to match.
public enum PolicyRouting {
    public enum Decision: Sendable, Equatable {
        /// The default route taken; `rule` is the rule whose table held it (nil when no rules were read).
        case route(IPv4Route, rule: IPv4Rule?)
        /// A rule drops the packet before any route (blackhole, unreachable, prohibit).
        case dropped(by: IPv4Rule)
        /// No consulted table had a default route; the tables, in the order consulted.
        case noRoute(tables: [UInt32])
    }

    /// The route of `path`'s egress: from the endpoint's first address, entering by the bridge
    /// (or by the host veth of a routed endpoint).
    public static func egress(of path: EgressPath, rules: [IPv4Rule], routes: [IPv4Route]) -> Decision {
        egress(from: path.endpoint.ipv4.first?.address,
               inInterface: path.bridge?.name ?? path.hostVeth?.name, rules: rules, routes: routes)
    }

    /// `source`: the endpoint's address; `inInterface`: where the packet enters the host side
    /// (the bridge, or the veth of a routed endpoint).
    public static func egress(from source: IPAddress?, inInterface: String?, rules: [IPv4Rule], routes: [IPv4Route]) -> Decision {
        func defaultRoute(in table: UInt32) -> IPv4Route? {
            routes.first { $0.isDefault && $0.table == table }
        }
        guard !rules.isEmpty else {
            return defaultRoute(in: NL.RT_TABLE_MAIN).map { .route($0, rule: nil) } ?? .noRoute(tables: [NL.RT_TABLE_MAIN])
        }
        let address = source
        var consulted: [UInt32] = []
        var index = 0
        while index < rules.count {
            let rule = rules[index]
            index += 1
            guard matches(rule, source: address, inInterface: inInterface) else { continue }
            switch rule.action {
            case .lookup(let table):
                if !consulted.contains(table) { consulted.append(table) }
                // A default route has prefix length 0: any suppress_prefixlength suppresses it.
                if let route = defaultRoute(in: table), rule.suppressPrefixLength == nil { return .route(route, rule: rule) }
            case .goto(let target):
                // The kernel only lets a rule jump forward, so this ends.
                if let next = rules.firstIndex(where: { $0.priority == target }), next >= index { index = next }
            case .blackhole, .unreachable, .prohibit:
                return .dropped(by: rule)
            case .nop, .other:
                break
            }
        }
        return .noRoute(tables: consulted)
    }

    static func matches(_ rule: IPv4Rule, source: IPAddress?, inInterface: String?) -> Bool {
        guard rule.otherSelectors.isEmpty, rule.outInterface == nil else { return false }
        var selected = true
        if let prefix = rule.source {
            selected = selected && (source.map(prefix.contains) ?? false)
        }
        if let destination = rule.destination, destination.length != 0 { selected = false }
        if let name = rule.inInterface { selected = selected && name == inInterface }
        if let mark = rule.fwmark { selected = selected && (0 & (rule.fwmask ?? ~0)) == mark }
        return selected != rule.inverted
    }

    /// True when the rules are the kernel's defaults (0 local, 32766 main, 32767 default).
    public static func isDefault(_ rules: [IPv4Rule]) -> Bool {
        rules.allSatisfy { rule in
            guard case .lookup(let table) = rule.action, rule.source == nil, rule.destination == nil, rule.inInterface == nil,
                  rule.outInterface == nil, rule.fwmark == nil, !rule.inverted, rule.otherSelectors.isEmpty else { return false }
            return [255, 254, 253].contains(table)
        }
    }
}
