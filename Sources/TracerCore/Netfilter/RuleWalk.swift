/// How many rules the first packet of a new connection evaluates at one hook (issue #16): in
/// each base chain, in priority order, every rule in turn until one whose matches hold ends the
/// chain (accept, drop, a NAT), a jump walking its target and coming back when that falls off
/// its end or returns. Later packets of the connection skip the nat chains (conntrack), so this
/// is the cost kube-proxy's iptables mode adds per connection, linear in the services. A verdict
/// map lookup is one rule however many elements it holds: kube-proxy's nftables mode finds the
/// Service and picks the endpoint with one each.
///
/// A match the ruleset cannot decide for the packet (a `statistic` probability, an address
/// type, an unknown source) may or may not hold: the walk gives the fewest and the most rules a
/// packet like it evaluates. Counted statically from the ruleset; the nftables trace measures one
/// real packet (its verdicts name each rule that ended a walk).
public struct RuleWalk: Sendable, Equatable {
    /// One base chain of the hook and the rules the packet evaluates from it (its jumps included).
    public struct Chain: Sendable, Equatable {
        public var family: String
        public var table: String
        public var chain: String
        public var backend: NetfilterBackend
        public var fewest: Int
        public var most: Int
    }

    public var hook: String
    public var chains: [Chain]

    public var fewest: Int { chains.reduce(0) { $0 + $1.fewest } }
    public var most: Int { chains.reduce(0) { $0 + $1.most } }

    /// The walk of `packet` through the base chains of `hook` of the tables its family passes.
    /// A base chain where every path drops the packet ends the walk.
    public static func walk(_ ruleset: Ruleset, hook: String, packet: ImaginedPacket) -> RuleWalk {
        walk(Prepared(ruleset), hook: hook, packet: packet)
    }

    /// The same on a ruleset prepared once for many walks (every Service of a node).
    public static func walk(_ prepared: Prepared, hook: String, packet: ImaginedPacket) -> RuleWalk {
        var chains: [Chain] = []
        for (t, base) in prepared.baseChains(hook: hook, family: packet.family) {
            let table = prepared.ruleset.tables[t]
            var walker = Walker(prepared: prepared, tableIndex: t, packet: packet)
            let paths = walker.paths(of: base, depth: 0)
            let ends = [paths.ended, paths.returned].compactMap { $0 }
            chains.append(Chain(family: table.family, table: table.name, chain: table.chains[base].name, backend: table.backend,
                                fewest: ends.map(\.lowerBound).min() ?? 0, most: ends.map(\.upperBound).max() ?? 0))
            if paths.returned == nil && paths.alwaysDrops { break }
        }
        return RuleWalk(hook: hook, chains: chains)
    }

    /// A ruleset indexed for walking: each table's chains by name, its base chains by hook in
    /// priority order, and the one host each rule is addressed to, if any. A rule addressed to
    /// another host than the packet's never matches, which is decided without reading its
    /// matches: kube-proxy's KUBE-SERVICES holds one such rule per Service.
    public final class Prepared: Sendable {
        public let ruleset: Ruleset
        let chainIndex: [[String: Int]]
        /// [table][chain][rule]: the rule's single destination host (`-d 10.96.0.1/32`).
        let hosts: [[[IPAddress?]]]
        /// Each hook's base chains, (table index, chain index), by priority then as listed.
        let bases: [String: [(Int, Int)]]

        public init(_ ruleset: Ruleset) {
            self.ruleset = ruleset
            chainIndex = ruleset.tables.map { table in
                Dictionary(table.chains.enumerated().map { ($1.name, $0) }, uniquingKeysWith: { a, _ in a })
            }
            let hooks = Set(ruleset.tables.flatMap { $0.chains.compactMap(\.hook) })
            bases = Dictionary(uniqueKeysWithValues: hooks.map { hook in
                (hook, ruleset.baseChainIndices(hook: hook).map { ($0.table, $0.chain) })
            })
            hosts = ruleset.tables.map { table in
                table.chains.map { chain in
                    chain.rules.map { rule in
                        for case .destination(let prefixes, false) in rule.matches
                        where prefixes.count == 1 && prefixes[0].length == prefixes[0].address.family.bitWidth {
                            return prefixes[0].address
                        }
                        return nil
                    }
                }
            }
        }

        /// (table index, chain index) of the base chains of `hook` in the tables `family` passes,
        /// lowest priority first, as the kernel calls them.
        func baseChains(hook: String, family: IPAddress.Family) -> [(Int, Int)] {
            (bases[hook] ?? []).filter { ruleset.tables[$0.0].carries.contains(family) }
        }
    }

    /// The rules counted on every way through a chain from one rule on: the ways that end the
    /// base chain's walk (a verdict) and those that come back to the caller (its end, a return).
    struct Paths {
        var ended: ClosedRange<Int>?
        var returned: ClosedRange<Int>?
        /// Every way that ends does so with a drop.
        var alwaysDrops = false

        static let back = Paths(returned: 0...0)

        func plus(_ n: Int) -> Paths {
            Paths(ended: ended.map { ($0.lowerBound + n)...($0.upperBound + n) },
                  returned: returned.map { ($0.lowerBound + n)...($0.upperBound + n) }, alwaysDrops: alwaysDrops)
        }

        /// Either of the two ways.
        func or(_ other: Paths) -> Paths {
            func join(_ a: ClosedRange<Int>?, _ b: ClosedRange<Int>?) -> ClosedRange<Int>? {
                guard let a, let b else { return a ?? b }
                return min(a.lowerBound, b.lowerBound)...max(a.upperBound, b.upperBound)
            }
            let drops = (ended == nil || alwaysDrops) && (other.ended == nil || other.alwaysDrops)
            return Paths(ended: join(ended, other.ended), returned: join(returned, other.returned), alwaysDrops: drops)
        }

        /// `first`'s ways, the ways that come back followed by `then` (the rest of the caller).
        static func then(_ first: Paths, _ then: Paths) -> Paths {
            var result = Paths(ended: first.ended, returned: nil, alwaysDrops: first.alwaysDrops)
            if let back = first.returned {
                result = result.or(Paths(ended: then.ended.map { ($0.lowerBound + back.lowerBound)...($0.upperBound + back.upperBound) },
                                         returned: then.returned.map { ($0.lowerBound + back.lowerBound)...($0.upperBound + back.upperBound) },
                                         alwaysDrops: then.alwaysDrops))
            }
            return result
        }
    }

    struct Walker {
        let prepared: Prepared
        let tableIndex: Int
        let packet: ImaginedPacket
        /// Each chain's ways from its first rule: a chain jumped to from many places is walked once.
        var known: [Int: Paths] = [:]

        mutating func paths(of name: String, depth: Int) -> Paths {
            guard let chain = prepared.chainIndex[tableIndex][name] else { return .back }
            return paths(of: chain, depth: depth)
        }

        /// From the last rule back to the first, so that a chain of 10,000 rules is a loop, not
        /// 10,000 nested calls; jumps recurse (kube-proxy nests three deep).
        mutating func paths(of chain: Int, depth: Int) -> Paths {
            if let done = known[chain] { return done }
            guard depth < 32 else { return .back }
            let rules = prepared.ruleset.tables[tableIndex].chains[chain].rules
            let hosts = prepared.hosts[tableIndex][chain]
            let sets = prepared.ruleset.tables[tableIndex].sets
            var rest = Paths.back
            for r in rules.indices.reversed() {
                if let host = hosts[r], let destination = packet.destination, host != destination {
                    rest = rest.plus(1)
                    continue
                }
                let match = ForwardEvaluator.match(rules[r].matches, packet, sets: sets)
                if match == .no {
                    rest = rest.plus(1)
                    continue
                }
                let taken = ways(after: rules[r].verdict, then: rest, depth: depth).plus(1)
                rest = match == .yes ? taken : taken.or(rest.plus(1))
            }
            known[chain] = rest
            return rest
        }

        /// The ways on from a rule whose matches hold, not counting the rule: `rest` is the ways
        /// from the next rule on.
        mutating func ways(after verdict: RuleVerdict, then rest: Paths, depth: Int) -> Paths {
            switch verdict {
            case .accept, .masquerade, .snat, .dnat:
                return Paths(ended: 0...0)
            case .drop, .reject:
                return Paths(ended: 0...0, alwaysDrops: true)
            case .return:
                return .back
            case .jump(let target):
                return Paths.then(paths(of: target, depth: depth + 1), rest)
            case .goto(let target):
                return paths(of: target, depth: depth + 1)
            case .other, .none:
                return rest
            case .verdictMap(let lookup):
                // One rule however many elements: the verdict of each element that may hold the
                // packet's key, and the next rule where none may (a map not read: as if none did).
                guard let hit = ForwardEvaluator.lookup(lookup, sets: prepared.ruleset.tables[tableIndex].sets, packet) else { return rest }
                var all = hit.mayMiss ? rest : Paths()
                for one in hit.verdicts { all = all.or(ways(after: one, then: rest, depth: depth)) }
                return all
            }
        }
    }
}
