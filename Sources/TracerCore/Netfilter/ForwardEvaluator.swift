/// A packet as the static checks imagine it: what is known about it at a hook. Nil fields are
/// "any" (an internet address, any protocol), which makes matches on them "may match"; so do
/// an empty interface name or conntrack state (a traced packet whose devices were not resolved).
public struct ImaginedPacket: Sendable, Equatable {
    public var source: IPAddress?
    public var destination: IPAddress?
    public var inInterface: String
    public var outInterface: String
    /// new, established, related.
    public var ctState: String
    public var proto: String?
    public var destinationPort: Int?
    public var sourcePort: Int?
    /// The flow's destination was translated (conntrack's dnat status: a published port's flow
    /// and its replies); egress flows are not.
    public var dnat: Bool
    /// A reply of the flow (it runs against conntrack's original direction): its narrowest fix
    /// lets the flow's replies through, never its client's ephemeral port.
    public var isReply: Bool
    /// Which tables' chains it passes (ip or ip6, and inet) and which address matches can hold it.
    public var family: IPAddress.Family
    /// The ICMPv6 message type of an imagined error or neighbour discovery packet; nil for a
    /// flow's own packets (any protocol, at most an ICMPv6 echo).
    public var icmpv6Type: ICMPv6Type?
    /// What a nil address stands for: an internet address (an egress flow's far end, the
    /// default), or any address at all (the client of a Service, a pod or another node).
    public var unknownAddress: UnknownAddress = .internet

    public enum UnknownAddress: Sendable, Equatable { case internet, any }

    /// `family` defaults to the addresses' (IPv4 when both are "any").
    public init(source: IPAddress?, destination: IPAddress?, inInterface: String, outInterface: String, ctState: String,
                proto: String? = nil, destinationPort: Int? = nil, sourcePort: Int? = nil, dnat: Bool = false, isReply: Bool = false,
                family: IPAddress.Family? = nil, icmpv6Type: ICMPv6Type? = nil) {
        self.family = family ?? source?.family ?? destination?.family ?? .v4
        self.icmpv6Type = icmpv6Type
        self.source = source
        self.destination = destination
        self.inInterface = inInterface
        self.outInterface = outInterface
        self.ctState = ctState
        self.proto = proto
        self.destinationPort = destinationPort
        self.sourcePort = sourcePort
        self.dnat = dnat
        self.isReply = isReply
    }
}

/// A chain that drops the packet: by its policy (rule nil) or by a rule.
public struct NetfilterDrop: Sendable, Equatable {
    public var family: String
    public var table: String
    public var backend: NetfilterBackend
    /// The base chain the packet entered.
    public var baseChain: String
    /// The chain holding the rule (a user chain reached by jump/goto), or the base chain for a policy.
    public var chain: String
    public var rule: FirewallRule?
    /// False when the drop depends on something the check cannot know (the destination address,
    /// a port, a match it does not model), or when an earlier rule may have accepted the packet.
    public var certain: Bool
}

/// Walks a packet through the base chains of one hook, in priority order, following
/// jump/goto/return, over the matches that matter. Three-valued: each match says yes, no or maybe.
enum ForwardEvaluator {
    enum Tri { case yes, no, maybe }

    /// Drops the packet meets in the chains of `hook` of the tables its family passes (ip or
    /// ip6, and inet), in order. Stops after the first certain drop.
    static func drops(in ruleset: Ruleset, hook: String, packet: ImaginedPacket) -> [NetfilterDrop] {
        var found: [NetfilterDrop] = []
        for (table, chain) in baseChains(ruleset, hook: hook, type: nil, family: packet.family) {
            var walker = Walker(table: table, packet: packet)
            let end = walker.walk(chain, conditional: false, depth: 0)
            found += walker.drops
            if end == nil, chain.policy == "drop" {
                found.append(NetfilterDrop(family: table.family, table: table.name, backend: table.backend, baseChain: chain.name,
                                           chain: chain.name, rule: nil, certain: !walker.uncertain))
            }
            if found.contains(where: \.certain) { break }
        }
        return found
    }

    typealias NatHit = (table: FirewallTable, chain: String, rule: FirewallRule, certain: Bool)

    /// The first rule of a nat postrouting chain that rewrites the packet's source (masquerade/SNAT),
    /// and whether it surely applies.
    static func sourceNat(in ruleset: Ruleset, packet: ImaginedPacket) -> NatHit? {
        firstNat(in: ruleset, hook: "postrouting", packet: packet) { $0.sourceNat }
    }

    /// The first DNAT rule of the nat chains of `hook` (prerouting, output) that rewrites the
    /// packet's destination, and whether it surely applies.
    static func destinationNat(in ruleset: Ruleset, hook: String, packet: ImaginedPacket) -> NatHit? {
        firstNat(in: ruleset, hook: hook, packet: packet) { $0.destinationNat }
    }

    private static func firstNat(in ruleset: Ruleset, hook: String, packet: ImaginedPacket,
                                 hit: (Walker) -> (chain: String, rule: FirewallRule, certain: Bool)?) -> NatHit? {
        var best: NatHit?
        for (table, chain) in baseChains(ruleset, hook: hook, type: "nat", family: packet.family) {
            var walker = Walker(table: table, packet: packet)
            _ = walker.walk(chain, conditional: false, depth: 0)
            if let found = hit(walker) {
                if found.certain { return (table, found.chain, found.rule, true) }
                best = best ?? (table, found.chain, found.rule, false)
            }
        }
        return best
    }

    static func baseChains(_ ruleset: Ruleset, hook: String, type: String?, family: IPAddress.Family) -> [(FirewallTable, FirewallChain)] {
        ruleset.baseChainIndices(hook: hook).map { (ruleset.tables[$0.table], ruleset.tables[$0.table].chains[$0.chain]) }
            .filter { table, chain in table.carries.contains(family) && (type == nil || chain.type == type) }
    }

    enum End { case accept, drop, `return` }

    struct Walker {
        let table: FirewallTable
        let packet: ImaginedPacket
        var drops: [NetfilterDrop] = []
        /// An earlier rule may have accepted or returned the packet.
        var uncertain = false
        var baseChain = ""
        var sourceNat: (chain: String, rule: FirewallRule, certain: Bool)?
        var destinationNat: (chain: String, rule: FirewallRule, certain: Bool)?

        /// nil: fell off the end of the chain.
        mutating func walk(_ chain: FirewallChain, conditional: Bool, depth: Int) -> End? {
            if depth == 0 { baseChain = chain.name }
            guard depth < 32 else { return nil }
            for rule in chain.rules {
                let m = ForwardEvaluator.match(rule.matches, packet, sets: table.sets)
                if m == .no { continue }
                if let end = take(rule.verdict, of: rule, in: chain, maybe: m == .maybe || conditional, depth: depth) { return end }
            }
            return nil
        }

        /// The packet meets `verdict` of `rule`, whose matches hold (`maybe`: may hold): how the
        /// chain ends, or nil where the packet goes on with the next rule.
        mutating func take(_ verdict: RuleVerdict, of rule: FirewallRule, in chain: FirewallChain, maybe: Bool, depth: Int) -> End? {
            switch verdict {
            case .accept:
                if !maybe { return .accept }
                uncertain = true
            case .drop, .reject:
                drops.append(NetfilterDrop(family: table.family, table: table.name, backend: table.backend, baseChain: baseChain,
                                           chain: chain.name, rule: rule, certain: !maybe && !uncertain))
                if !maybe { return .drop }
            case .return:
                if !maybe { return .return }
                uncertain = true
            case .jump(let target), .goto(let target):
                guard let sub = table.chain(target) else { return nil }
                let end = walk(sub, conditional: maybe, depth: depth + 1)
                let isGoto = if case .goto = verdict { true } else { false }
                if maybe {
                    if end != nil { uncertain = true }
                    return nil
                }
                if end == .accept || end == .drop { return end }
                if isGoto { return .return }
            case .masquerade, .snat:
                if sourceNat == nil || (sourceNat?.certain == false && !maybe && !uncertain) {
                    sourceNat = (chain.name, rule, !maybe && !uncertain)
                }
                if !maybe { return .accept }
            case .dnat:
                if destinationNat == nil || (destinationNat?.certain == false && !maybe && !uncertain) {
                    destinationNat = (chain.name, rule, !maybe && !uncertain)
                }
                if !maybe { return .accept }
            case .verdictMap(let lookup):
                // The element surely holding the packet's key decides as that verdict would; each
                // element that may hold it is a verdict the packet may meet; a map not read may
                // have accepted it.
                guard let hit = ForwardEvaluator.lookup(lookup, sets: table.sets, packet) else {
                    uncertain = true
                    return nil
                }
                for one in hit.verdicts {
                    if let end = take(one, of: rule, in: chain, maybe: maybe || hit.sure == nil, depth: depth) { return end }
                }
            case .other, .none:
                break
            }
            return nil
        }
    }

    static func match(_ matches: [RuleMatch], _ packet: ImaginedPacket, sets: [NamedSet]) -> Tri {
        var result = Tri.yes
        for m in matches {
            switch one(m, packet, sets: sets) {
            case .no: return .no
            case .maybe: result = .maybe
            case .yes: break
            }
        }
        return result
    }

    static func flip(_ t: Tri, _ negated: Bool) -> Tri {
        guard negated else { return t }
        switch t {
        case .yes: return .no
        case .no: return .yes
        case .maybe: return .maybe
        }
    }

    static func one(_ m: RuleMatch, _ p: ImaginedPacket, sets: [NamedSet]) -> Tri {
        switch m {
        case .source(let prefixes, let negated): return flip(address(prefixes, p.source, family: p.family, unknown: p.unknownAddress), negated)
        case .destination(let prefixes, let negated):
            return flip(address(prefixes, p.destination, family: p.family, unknown: p.unknownAddress), negated)
        case .inInterface(let names, let negated):
            return p.inInterface.isEmpty ? .maybe : flip(interface(names, p.inInterface), negated)
        case .outInterface(let names, let negated):
            return p.outInterface.isEmpty ? .maybe : flip(interface(names, p.outInterface), negated)
        case .ctState(let states, let negated):
            if p.ctState.isEmpty { return .maybe }
            if states.contains(p.ctState) || (states.contains("dnat") && p.dnat) { return flip(.yes, negated) }
            return flip(states.contains("snat") ? .maybe : .no, negated)
        case .ctStatus(let bits, let negated):
            // Only the dnat bit is known for an imagined packet; seen-reply, assured, snat... are not.
            if bits.contains("dnat") && p.dnat { return flip(.yes, negated) }
            return flip(bits.subtracting(["dnat"]).isEmpty ? .no : .maybe, negated)
        case .proto(let names, let negated):
            guard let proto = p.proto else { return .maybe }
            return flip(names.contains(proto) ? .yes : .no, negated)
        case .destinationPort(let ranges, let negated):
            guard let port = p.destinationPort else { return .maybe }
            return flip(ranges.contains { $0.contains(port) } ? .yes : .no, negated)
        case .sourcePort(let ranges, let negated):
            guard let port = p.sourcePort else { return .maybe }
            return flip(ranges.contains { $0.contains(port) } ? .yes : .no, negated)
        case .setLookup(let lookup): return self.lookup(lookup, in: sets.first { $0.name == lookup.set }, p)
        case .family(let family): return family == p.family ? .yes : .no
        case .icmpv6Type(let types, let negated):
            if let proto = p.proto, proto != ICMPv6Type.protocolName { return .no }
            // A flow's own packets are never ICMPv6 errors or neighbour discovery: at most an echo.
            let type: Tri = p.icmpv6Type.map { types.contains($0) ? .yes : .no } ?? (types.contains(where: \.isEcho) ? .maybe : .no)
            let matched = flip(type, negated)
            return p.proto == nil && matched == .yes ? .maybe : matched
        case .other: return .maybe
        }
    }

    /// Addresses that are never on the internet: a prefix inside one of them cannot match
    /// "any internet address". IPv6: unspecified, loopback, IPv4-mapped, ULA, link-local, multicast.
    static let nonInternet: [IPPrefix] = ["0.0.0.0/8", "10.0.0.0/8", "100.64.0.0/10", "127.0.0.0/8", "169.254.0.0/16",
                                          "172.16.0.0/12", "192.168.0.0/16", "224.0.0.0/4", "240.0.0.0/4",
                                          "::/127", "::ffff:0:0/96", "fc00::/7", "fe80::/10", "ff00::/8"]
        .compactMap { IPPrefix($0) }

    /// Does an address match hold the packet's address (nil: any internet address of `family`)?
    /// Prefixes of the other family never do.
    static func address(_ prefixes: [IPPrefix], _ address: IPAddress?, family: IPAddress.Family,
                        unknown: ImaginedPacket.UnknownAddress = .internet) -> Tri {
        if let address { return prefixes.contains { $0.contains(address) } ? .yes : .no }
        let own = prefixes.filter { $0.family == family }
        if own.contains(where: { $0.length == 0 }) { return .yes }
        if own.isEmpty { return .no }
        if unknown == .internet, own.allSatisfy({ p in nonInternet.contains { $0.contains(p) } }) { return .no }
        return .maybe
    }

    static func interface(_ names: [String], _ device: String) -> Tri {
        names.contains { name in
            if let last = name.last, last == "+" || last == "*" { return device.hasPrefix(String(name.dropLast())) }
            return name == device
        } ? .yes : .no
    }
}
