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
        var chains: [Chain] = []
        for (table, base) in ForwardEvaluator.baseChains(ruleset, hook: hook, type: nil, family: packet.family) {
            var walker = Walker(table: table, packet: packet)
            let paths = walker.paths(of: base.name, depth: 0)
            let ends = [paths.ended, paths.returned].compactMap { $0 }
            chains.append(Chain(family: table.family, table: table.name, chain: base.name, backend: table.backend,
                                fewest: ends.map(\.lowerBound).min() ?? 0, most: ends.map(\.upperBound).max() ?? 0))
            if paths.returned == nil && paths.alwaysDrops { break }
        }
        return RuleWalk(hook: hook, chains: chains)
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
        let table: FirewallTable
        let packet: ImaginedPacket
        /// Each chain's ways from its first rule: a chain jumped to from many places is walked once.
        var known: [String: Paths] = [:]

        /// From the last rule back to the first, so that a chain of 10,000 rules is a loop, not
        /// 10,000 nested calls; jumps recurse (kube-proxy nests three deep).
        mutating func paths(of name: String, depth: Int) -> Paths {
            if let done = known[name] { return done }
            guard depth < 32, let chain = table.chain(name) else { return .back }
            var rest = Paths.back
            for rule in chain.rules.reversed() {
                let match = ForwardEvaluator.match(rule.matches, packet, sets: table.sets)
                if match == .no {
                    rest = rest.plus(1)
                    continue
                }
                let taken = ways(after: rule.verdict, then: rest, depth: depth).plus(1)
                rest = match == .yes ? taken : taken.or(rest.plus(1))
            }
            known[name] = rest
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
                guard let hit = ForwardEvaluator.lookup(lookup, sets: table.sets, packet) else { return rest }
                var all = hit.mayMiss ? rest : Paths()
                for one in hit.verdicts { all = all.or(ways(after: one, then: rest, depth: depth)) }
                return all
            }
        }
    }
}
