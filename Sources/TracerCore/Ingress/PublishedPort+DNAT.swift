/// The published ports a ruleset's DNAT rules make: what the kernel will do to a packet that
/// reaches the host. Pure: reads an already read `Ruleset` of every backend.
extension PublishedPort {
    /// Walks the nat chains of the prerouting and output hooks of every ip, ip6 and inet table
    /// (nftables, iptables-nft, iptables-legacy), following jumps and gotos, and turns every DNAT
    /// rule into published ports. The port and address often sit on the path, not on the DNAT rule
    /// itself: netavark matches `--dport` in NETAVARK-HOSTPORT-DNAT and again in NETAVARK-DN-*,
    /// kube-proxy in KUBE-NODEPORTS and DNATs in KUBE-SEP-*, so matches are gathered along the way.
    /// A DNAT rule in a chain that no nat base chain reaches is kept with its own matches and an
    /// empty `path`: it is there, but no packet meets it.
    public static func dnatPorts(in ruleset: Ruleset) -> [PublishedPort] {
        var found: [PublishedPort] = []
        for table in ruleset.tables where ["ip", "ip6", "inet"].contains(table.family) {
            var reached: Set<String> = []
            let bases = table.chains.filter { ($0.hook == "prerouting" || $0.hook == "output") && ($0.type ?? "nat") == "nat" }
                .sorted { ($0.priority ?? 0) < ($1.priority ?? 0) }
            for base in bases {
                var walk = DNATWalk(table: table, hook: base.hook ?? "")
                walk.visit(base, conditions: PathConditions(family: familyOf(table)), path: [], depth: 0)
                reached.formUnion(walk.reachedChains)
                found += walk.ports
            }
            // iptables takes DNAT in its nat table only; nft in any chain of a nat base chain's table.
            guard table.backend == .nftables || table.name == "nat" else { continue }
            for chain in table.chains where !reached.contains(chain.name) && !chain.isBaseChain {
                var walk = DNATWalk(table: table, hook: nil)
                walk.visit(chain, conditions: PathConditions(family: familyOf(table)), path: [], depth: 0, followJumps: false)
                found += walk.ports
            }
        }
        return mergeHooks(found)
    }

    private static func familyOf(_ table: FirewallTable) -> IPAddress.Family? {
        switch table.family {
        case "ip": return .v4
        case "ip6": return .v6
        default: return nil
        }
    }

    /// The same rule reached from prerouting and from output is one port with both hooks.
    private static func mergeHooks(_ ports: [PublishedPort]) -> [PublishedPort] {
        var merged: [PublishedPort] = []
        for port in ports {
            if let i = merged.firstIndex(where: { $0.sameFact(as: port) }) {
                guard case .dnatRule(var kept) = merged[i].sources[0], let rule = port.rules.first else { continue }
                for hook in rule.hooks where !kept.hooks.contains(hook) { kept.hooks.append(hook) }
                merged[i].sources[0] = .dnatRule(kept)
            } else {
                merged.append(port)
            }
        }
        return merged
    }

    /// Same port, same target, same rule (the path and hooks aside).
    func sameFact(as other: PublishedPort) -> Bool {
        guard hostAddress == other.hostAddress, hostPorts == other.hostPorts, transport == other.transport,
              containerAddress == other.containerAddress, containerPorts == other.containerPorts,
              let a = rules.first, let b = other.rules.first else { return false }
        return a.backend == b.backend && a.family == b.family && a.table == b.table && a.chain == b.chain
            && a.position == b.position && a.handle == b.handle
    }
}

/// What the matches on the way to a rule say about the packet; nil: not constrained.
struct PathConditions {
    var family: IPAddress.Family?
    var destinations: [PublishedPort.HostAddress]?
    var ports: [PortRange]?
    var transport: TransportProtocol?
    var containerID: String?

    /// The conditions after one more rule's matches; nil when they cannot all hold (a rule for
    /// port 80 on the path to one for 443). Negated matches and matches on anything else
    /// (interfaces, `fib daddr type local`, marks) narrow nothing a published port names.
    func adding(_ rule: FirewallRule) -> PathConditions? {
        var next = self
        if let proto = rule.impliedProtocol.flatMap(TransportProtocol.init(name:)) {
            guard next.transport == nil || next.transport == proto else { return nil }
            next.transport = proto
        }
        for match in rule.matches {
            switch match {
            case .proto(let names, negated: false) where names.count == 1:
                guard let proto = TransportProtocol(name: names[0]) else { return nil }
                guard next.transport == nil || next.transport == proto else { return nil }
                next.transport = proto
            case .destinationPort(let ranges, negated: false):
                let wanted = ranges.compactMap { PortRange(first: $0.lowerBound, last: $0.upperBound) }
                if let have = next.ports {
                    let both = wanted.flatMap { w in have.compactMap { h in PortRange(first: max(w.first, h.first), last: min(w.last, h.last)) } }
                    guard !both.isEmpty else { return nil }
                    next.ports = both
                } else {
                    next.ports = wanted
                }
            case .destination(let prefixes, negated: false):
                guard let family = prefixes.first?.family, next.family == nil || next.family == family else { return nil }
                next.family = family
                next.destinations = prefixes.map(Self.hostAddress)
            case .family(let family):
                guard next.family == nil || next.family == family else { return nil }
                next.family = family
            default:
                continue
            }
        }
        if let id = rule.comment.flatMap(Self.containerID) { next.containerID = id }
        return next
    }

    static func hostAddress(_ prefix: IPPrefix) -> PublishedPort.HostAddress {
        prefix.length == prefix.family.bitWidth ? .address(prefix.address) : .network(prefix)
    }

    /// The id in netavark's and the CNI portmap plugin's comment: `dnat name: podman id: <id>`,
    /// `dnat name: "bridge" id: "default-<id>"`.
    static func containerID(_ comment: String) -> String? {
        guard comment.hasPrefix("dnat name:"), let after = Substring(comment).lastOccurrence(of: " id: ") else { return nil }
        let id = comment[after...].trimmed.filter { $0 != "\"" }
        return id.isEmpty ? nil : String(id)
    }
}

/// One walk through a table's nat chains from one base chain.
private struct DNATWalk {
    let table: FirewallTable
    /// nil: a chain no base chain reaches.
    let hook: String?
    var ports: [PublishedPort] = []
    var reachedChains: Set<String> = []

    mutating func visit(_ chain: FirewallChain, conditions: PathConditions, path: [String], depth: Int, followJumps: Bool = true) {
        // iptables and nft both refuse loops; the bound keeps a hand-made ruleset from recursing forever.
        guard depth < 32 else { return }
        reachedChains.insert(chain.name)
        let path = path + [chain.name]
        for rule in chain.rules {
            guard let next = conditions.adding(table.inliningSets(rule)) else { continue }
            switch rule.verdict {
            case .jump(let target), .goto(let target):
                guard followJumps, let sub = table.chain(target) else { continue }
                visit(sub, conditions: next, path: path, depth: depth + 1)
            case .dnat(let target?):
                emit(rule: rule, target: target, conditions: next, chain: chain.name, path: hook == nil ? [] : path)
            case .dnat(nil):
                // An iptables-nft DNAT as nft's JSON shows it (ip6tables-nft's, which RulesetReader
                // does not re-read with a save tool): its matches and target are opaque xt
                // expressions, and a guess at its port would be a false published port.
                continue
            default:
                continue
            }
        }
    }

    mutating func emit(rule: FirewallRule, target: DNATTarget, conditions: PathConditions, chain: String, path: [String]) {
        let reference = DNATRule(backend: table.backend, family: table.family, table: table.name, chain: chain, handle: rule.handle,
                                 position: rule.position, text: rule.text, target: target, path: path, hooks: hook.map { [$0] } ?? [],
                                 containerID: conditions.containerID)
        let family = conditions.family ?? target.address?.family
        let defaultAddresses = conditions.destinations ?? [.unspecified(family)]
        // A rule without a protocol DNATs every protocol; with no port match, every port.
        let transports = (conditions.transport ?? target.mapProtocol).map { [$0] } ?? [.tcp, .udp]
        let every = PortRange(first: UInt16(1), last: UInt16.max)!
        if !target.mappings.isEmpty {
            for mapping in target.mappings {
                let addresses = mapping.destination.map { [PublishedPort.HostAddress.address($0)] } ?? defaultAddresses
                let ranges = mapping.destinationPorts.map { [$0] } ?? conditions.ports ?? [every]
                add(addresses, ranges, transports, mapping.address, mapping.ports, reference)
            }
        } else {
            add(defaultAddresses, conditions.ports ?? [every], transports, target.address, target.ports, reference)
        }
    }

    mutating func add(_ addresses: [PublishedPort.HostAddress], _ ranges: [PortRange], _ transports: [TransportProtocol],
                      _ containerAddress: IPAddress?, _ containerPorts: PortRange?, _ reference: DNATRule) {
        for address in addresses {
            for range in ranges {
                for transport in transports {
                    ports.append(PublishedPort(hostAddress: address, hostPorts: range, transport: transport,
                                               containerAddress: containerAddress, containerPorts: containerPorts,
                                               sources: [.dnatRule(reference)]))
                }
            }
        }
    }
}
