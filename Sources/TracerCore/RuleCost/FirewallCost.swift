/// One base chain as a new connection meets it: where it hooks, in what order, how long it is
/// and whose rules it holds.
public struct BaseChainCost: Sendable, Equatable {
    public var hook: String
    public var priority: Int
    public var family: String
    public var table: String
    public var chain: String
    public var backend: NetfilterBackend
    public var type: String?
    public var policy: String?
    /// Its own rules.
    public var rules: Int
    /// Its rules and those of every chain it can jump or go to, each chain once: the most a
    /// packet could evaluate from it.
    public var reachableRules: Int
    /// Whose its rules are (a rule jumping to a chain belongs to that chain's owner), most first.
    public var owners: [OwnerShare]

    public struct OwnerShare: Sendable, Equatable {
        public var owner: FirewallOwner
        public var rules: Int
    }
}

/// A chain that grows with the number of services: each rule (or each element of a verdict map)
/// sends one destination to a chain of its own. A linear one costs a new connection one rule per
/// destination ahead of its own; a verdict map one lookup whatever its size.
public struct ServiceDispatch: Sendable, Equatable {
    public enum Kind: String, Sendable { case rules, verdictMap = "verdict-map" }

    public var family: String
    public var table: String
    /// The chain holding the rules (or the lookup of the map).
    public var chain: String
    public var backend: NetfilterBackend
    public var owner: FirewallOwner
    public var kind: Kind
    /// The verdict map's name (kind verdictMap).
    public var map: String?
    /// Destinations it dispatches.
    public var destinations: Int
    /// The most rules a packet evaluates in it: one per destination for rules, one for a map.
    public var mostEvaluated: Int
}

/// What a new connection's first packet to one destination costs in the firewall.
public struct DestinationCost: Sendable, Equatable {
    public var destination: ServiceAddress
    /// The name the rules give it: a kube-proxy Service port ("ns/web:http"), a rule's comment.
    public var service: String?
    /// Some rule or map element sends this destination to a chain of its own; false: no service
    /// uses it, and the walk shows what any packet to it evaluates.
    public var addressed: Bool
    /// The static walk, per hook of a forwarded connection (prerouting, forward, postrouting).
    public var hooks: [HookCount]
    /// Measured on a real packet by the nftables trace, when one was traced.
    public var traced: TracedWalk?

    public var fewest: Int { hooks.reduce(0) { $0 + $1.fewest } }
    public var most: Int { hooks.reduce(0) { $0 + $1.most } }

    public struct HookCount: Sendable, Equatable {
        public var hook: String
        public var fewest: Int
        public var most: Int
    }
}

/// The firewall cost analysis of one namespace's ruleset: pure, so that tests feed it rulesets.
public enum FirewallCost {
    /// Hooks in the order a packet can meet them.
    static let hookOrder = ["ingress", "prerouting", "input", "forward", "output", "postrouting"]
    /// The hooks a new connection forwarded to a service's endpoint passes: from a pod or another
    /// node through this host, the case kube-proxy's rules are for.
    public static let forwardedHooks = ["prerouting", "forward", "postrouting"]

    /// Every base chain, by hook then priority (lowest first: the order the kernel calls them).
    public static func baseChains(_ ruleset: Ruleset) -> [BaseChainCost] {
        var result: [BaseChainCost] = []
        for table in ruleset.tables {
            let index = ChainIndex(table)
            for chain in table.chains {
                guard let hook = chain.hook else { continue }
                var shares: [FirewallOwner: Int] = [:]
                for rule in chain.rules { shares[FirewallOwner.of(rule: rule, in: table, chain: chain.name), default: 0] += 1 }
                let owners = shares.map { BaseChainCost.OwnerShare(owner: $0.key, rules: $0.value) }
                    .sorted { ($0.rules, $1.owner) > ($1.rules, $0.owner) }
                result.append(BaseChainCost(hook: hook, priority: chain.priority ?? 0, family: table.family, table: table.name, chain: chain.name,
                                            backend: table.backend, type: chain.type, policy: chain.policy, rules: chain.rules.count,
                                            reachableRules: index.reachable(from: [chain.name]).reduce(0) { $0 + $1.rules.count },
                                            owners: owners))
            }
        }
        func rank(_ hook: String) -> Int { hookOrder.firstIndex(of: hook) ?? hookOrder.count }
        return result.sorted { (rank($0.hook), $0.hook, $0.priority, $0.family, $0.table) < (rank($1.hook), $1.hook, $1.priority, $1.family, $1.table) }
    }

    /// One destination a dispatch sends to its own chain, with the name the rules give it and
    /// the endpoints that chain translates it to.
    public struct DispatchedDestination: Sendable, Equatable {
        public var destination: ServiceAddress
        public var service: String?
        /// The chain the dispatch sends it to; nil for one found elsewhere (an IPVS virtual service).
        public var chain: String?
        /// The DNAT targets reachable from that chain: where its first packet goes after prerouting.
        public var endpoints: [Endpoint] = []
        /// Which of the dispatches found it (an index into them).
        public var dispatch: Int?
    }

    /// An address (and port, when the DNAT sets one) a destination is translated to.
    public struct Endpoint: Sendable, Hashable {
        public var address: IPAddress
        public var port: Int?
    }

    /// The chains that grow with the services, and the destinations they dispatch, in the order
    /// found. A chain dispatches when at least two of its rules each send one address, protocol
    /// and port to a chain no other of its rules sends to (admin rules that all jump to one
    /// chain of their own do not).
    public static func dispatches(_ ruleset: Ruleset) -> (dispatches: [ServiceDispatch], destinations: [DispatchedDestination]) {
        var dispatches: [ServiceDispatch] = []
        var destinations: [DispatchedDestination] = []
        var seen: Set<ServiceAddress> = []
        for table in ruleset.tables {
            let index = ChainIndex(table)
            func add(_ found: [DispatchedDestination]) {
                for var d in found where seen.insert(d.destination).inserted {
                    d.dispatch = dispatches.count - 1
                    d.endpoints = d.chain.map { endpoints(from: $0, in: index) } ?? []
                    destinations.append(d)
                }
            }
            for chain in table.chains {
                let candidates = chain.rules.compactMap(dispatched)
                let targets = Dictionary(grouping: candidates, by: { $0.chain ?? "" })
                let linear = candidates.filter { targets[$0.chain ?? ""]?.count == 1 }
                if linear.count >= 2 {
                    dispatches.append(ServiceDispatch(family: table.family, table: table.name, chain: chain.name, backend: table.backend,
                                                      owner: FirewallOwner.of(table: table, chain: chain.name), kind: .rules, map: nil,
                                                      destinations: linear.count, mostEvaluated: chain.rules.count))
                    add(linear)
                }
                for rule in chain.rules {
                    guard let (map, found) = mapDispatch(rule, table: table), !found.isEmpty else { continue }
                    dispatches.append(ServiceDispatch(family: table.family, table: table.name, chain: chain.name, backend: table.backend,
                                                      owner: FirewallOwner.of(table: table, chain: chain.name), kind: .verdictMap, map: map,
                                                      destinations: found.count, mostEvaluated: 1))
                    add(found)
                }
            }
        }
        return (dispatches, destinations)
    }

    /// The DNAT targets of the rules reachable from `chain`: a Service's endpoints.
    static func endpoints(from chain: String, in index: ChainIndex) -> [Endpoint] {
        var found: [Endpoint] = []
        for reached in index.reachable(from: [chain]) {
            for rule in reached.rules {
                if case .dnat(let target?) = rule.verdict, let address = target.address {
                    let endpoint = Endpoint(address: address, port: target.ports.map { Int($0.first) })
                    if !found.contains(endpoint) { found.append(endpoint) }
                }
            }
            if found.count >= 1000 { break }
        }
        return found
    }

    /// A rule that sends one address, port and protocol to a chain of its own:
    /// `-d 10.96.0.1/32 -p tcp -m tcp --dport 80 -j KUBE-SVC-...`.
    static func dispatched(_ rule: FirewallRule) -> DispatchedDestination? {
        guard rule.verdict.chainTarget != nil else { return nil }
        var address: IPAddress?
        var port: Int?
        var proto = rule.impliedProtocol.flatMap { TransportProtocol(name: $0) }
        for match in rule.matches {
            switch match {
            case .destination(let prefixes, false) where prefixes.count == 1 && prefixes[0].length == prefixes[0].address.family.bitWidth:
                address = prefixes[0].address
            case .destinationPort(let ranges, false) where ranges.count == 1 && ranges[0].count == 1:
                port = ranges[0].lowerBound
            case .proto(let names, false) where names.count == 1:
                proto = TransportProtocol(name: names[0])
            default:
                continue
            }
        }
        guard let address, let port, let proto else { return nil }
        return DispatchedDestination(destination: ServiceAddress(address: address, port: port, proto: proto),
                                     service: rule.comment.map(serviceName), chain: rule.verdict.chainTarget)
    }

    /// kube-proxy's comment names the Service port, then the kind of address: "ns/web:http cluster IP".
    static func serviceName(_ comment: String) -> String {
        for suffix in [" cluster IP", " external IP", " loadbalancer IP", " health check node port"] where comment.hasSuffix(suffix) {
            return String(comment.dropLast(suffix.count))
        }
        return comment
    }

    /// The static walk of a new connection's first packet to each destination, forwarded through
    /// this host from any client: prerouting addressed to it, then forward and postrouting
    /// addressed to each endpoint it may be translated to (the widest range of them), to any
    /// address when it is translated where the tracer cannot see (IPVS), or to it when nothing
    /// translates it.
    public static func walks(_ ruleset: Ruleset, to destinations: [(destination: ServiceAddress, dispatched: DispatchedDestination?)])
        -> [[DestinationCost.HookCount]] {
        let prepared = RuleWalk.Prepared(ruleset)
        // Endpoints are shared by many Services' hooks after the translation: each walked once.
        var translatedWalks: [String: RuleWalk] = [:]
        return destinations.map { destination, dispatched in
            var first = ImaginedPacket(source: nil, destination: destination.address, inInterface: "", outInterface: "", ctState: "new",
                                       proto: destination.proto.rawValue, destinationPort: destination.port, family: destination.address.family)
            first.unknownAddress = .any
            var translated: [ImaginedPacket] = [first]
            if let dispatched {
                translated = (dispatched.endpoints.isEmpty ? [nil] : dispatched.endpoints.map { Optional($0) }).map { endpoint in
                    var packet = first
                    packet.destination = endpoint?.address
                    packet.destinationPort = endpoint.map { $0.port ?? destination.port }
                    packet.dnat = true
                    return packet
                }
            }
            return forwardedHooks.map { hook in
                let walks: [RuleWalk] = hook == "prerouting" ? [RuleWalk.walk(prepared, hook: hook, packet: first)] : translated.map { packet in
                    let key = "\(hook) \(packet.destination.map { "\($0)" } ?? "any") \(packet.destinationPort ?? 0) \(destination.proto) \(packet.dnat)"
                    if let known = translatedWalks[key] { return known }
                    let walk = RuleWalk.walk(prepared, hook: hook, packet: packet)
                    translatedWalks[key] = walk
                    return walk
                }
                return DestinationCost.HookCount(hook: hook, fewest: walks.map(\.fewest).min() ?? 0, most: walks.map(\.most).max() ?? 0)
            }
        }
    }
}
