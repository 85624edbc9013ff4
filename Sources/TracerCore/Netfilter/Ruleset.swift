/// Which of the kernel's firewalls a table lives in. iptables-nft tables are nftables tables
/// (nft sees them) written in iptables' terms; iptables-legacy tables are invisible to nft.
public enum NetfilterBackend: String, Sendable, Equatable, CaseIterable {
    case nftables
    case iptablesNft = "iptables-nft"
    case iptablesLegacy = "iptables-legacy"

    /// The binary that writes this backend's tables of a family ("ip", "ip6"): iptables-nft,
    /// ip6tables-legacy, ...; nft writes every family of its own.
    func tool(family: String) -> String {
        switch self {
        case .nftables: return "nft"
        case .iptablesNft: return family == "ip6" ? "ip6tables-nft" : "iptables-nft"
        case .iptablesLegacy: return family == "ip6" ? "ip6tables-legacy" : "iptables-legacy"
        }
    }
}

extension IPAddress.Family {
    /// The netfilter table family of this address family alone: ip or ip6.
    var tableFamily: String { self == .v4 ? "ip" : "ip6" }

    /// The address family of a table family of one (ip, ip6; nil for inet and the others).
    init?(tableFamily: String) {
        switch tableFamily {
        case "ip": self = .v4
        case "ip6": self = .v6
        default: return nil
        }
    }
}

/// The firewall of one network namespace, every backend together.
public struct Ruleset: Sendable, Equatable {
    public var tables: [FirewallTable]

    public init(tables: [FirewallTable] = []) { self.tables = tables }

    /// (table index, chain index) of every base chain of `hook`, lowest priority first and then
    /// as listed: the order the kernel calls them. The one place that order is decided.
    func baseChainIndices(hook: String) -> [(table: Int, chain: Int)] {
        var found: [(table: Int, chain: Int, priority: Int)] = []
        for (t, table) in tables.enumerated() {
            for (c, chain) in table.chains.enumerated() where chain.hook == hook { found.append((t, c, chain.priority ?? 0)) }
        }
        return found.enumerated().sorted { ($0.element.priority, $0.offset) < ($1.element.priority, $1.offset) }
            .map { ($0.element.table, $0.element.chain) }
    }

    public func table(family: String, name: String, backend: NetfilterBackend? = nil) -> FirewallTable? {
        tables.first { $0.family == family && $0.name == name && (backend == nil || $0.backend == backend) }
    }

    /// The nftables rule with this handle (iptables-nft rules carry their nft handle too).
    public func rule(family: String, table: String, chain: String, handle: UInt64) -> FirewallRule? {
        tables.first { $0.family == family && $0.name == table && $0.backend != .iptablesLegacy }?
            .chain(chain)?.rules.first { $0.handle == handle }
    }

    public var hasLegacyTables: Bool { tables.contains { $0.backend == .iptablesLegacy } }
    public var hasNftTables: Bool { tables.contains { $0.backend != .iptablesLegacy } }
}

public struct FirewallTable: Sendable, Equatable {
    /// nft family: ip, ip6, inet, arp, bridge, netdev. iptables tables are ip (ip6tables: ip6).
    public var family: String
    /// The address families whose packets pass its chains: ip one, ip6 the other, inet both.
    public var carries: Set<IPAddress.Family> {
        switch family {
        case "ip": return [.v4]
        case "ip6": return [.v6]
        case "inet": return [.v4, .v6]
        default: return []
        }
    }
    public var name: String
    public var backend: NetfilterBackend
    public var handle: UInt64?
    public var chains: [FirewallChain]
    /// The named sets its rules look up: the table's own sets and verdict maps (nft), or the
    /// ipsets its rules name (iptables; ipsets belong to the namespace, not to a table).
    public var sets: [NamedSet]

    public init(family: String, name: String, backend: NetfilterBackend, handle: UInt64? = nil, chains: [FirewallChain] = [],
                sets: [NamedSet] = []) {
        self.family = family
        self.name = name
        self.backend = backend
        self.handle = handle
        self.chains = chains
        self.sets = sets
    }

    public func chain(_ name: String) -> FirewallChain? { chains.first { $0.name == name } }

    public func set(_ name: String) -> NamedSet? { sets.first { $0.name == name } }

    /// "ip filter" / "inet labfilter", as nft names a table.
    public var label: String { "\(family) \(name)" }
}

public struct FirewallChain: Sendable, Equatable {
    public var name: String
    public var handle: UInt64?
    /// Base chains only: hook (prerouting, forward, postrouting, ...), type (filter, nat, route),
    /// priority and policy ("accept"/"drop").
    public var hook: String?
    public var type: String?
    public var priority: Int?
    public var policy: String?
    /// Policy counters (iptables-save -c); nil where the backend has none.
    public var policyPackets: UInt64?
    public var policyBytes: UInt64?
    public var rules: [FirewallRule]

    public init(name: String, handle: UInt64? = nil, hook: String? = nil, type: String? = nil, priority: Int? = nil,
                policy: String? = nil, policyPackets: UInt64? = nil, policyBytes: UInt64? = nil, rules: [FirewallRule] = []) {
        self.name = name
        self.handle = handle
        self.hook = hook
        self.type = type
        self.priority = priority
        self.policy = policy
        self.policyPackets = policyPackets
        self.policyBytes = policyBytes
        self.rules = rules
    }

    public var isBaseChain: Bool { hook != nil }
}

public struct FirewallRule: Sendable, Equatable {
    /// The nft handle (nftables and iptables-nft); nil for iptables-legacy.
    public var handle: UInt64?
    /// 1-based position in its chain, as `iptables -L --line-numbers` counts.
    public var position: Int
    /// Readable form: nft syntax for nftables rules, the iptables-save line for iptables rules.
    public var text: String
    public var comment: String?
    public var matches: [RuleMatch]
    public var verdict: RuleVerdict
    public var packets: UInt64?
    public var bytes: UInt64?
    /// The layer 4 protocol a port match of an nft rule names (`tcp dport 80` holds an implicit
    /// `meta l4proto tcp` that nft's JSON does not list as a match); nil for iptables rules,
    /// whose `-p tcp` is a match of its own.
    public var impliedProtocol: String?

    public init(handle: UInt64? = nil, position: Int, text: String, comment: String? = nil, matches: [RuleMatch],
                verdict: RuleVerdict, packets: UInt64? = nil, bytes: UInt64? = nil, impliedProtocol: String? = nil) {
        self.handle = handle
        self.position = position
        self.text = text
        self.comment = comment
        self.matches = matches
        self.verdict = verdict
        self.packets = packets
        self.bytes = bytes
        self.impliedProtocol = impliedProtocol
    }
}

/// The matches that decide a forwarded packet's fate; each holds alternatives (an anonymous
/// set matches if any element does). Everything else is `.other` and evaluates as "may match".
public enum RuleMatch: Sendable, Equatable {
    case source([IPPrefix], negated: Bool)
    case destination([IPPrefix], negated: Bool)
    /// Interface names; a trailing "+" (iptables) or "*" (nft) matches a prefix.
    case inInterface([String], negated: Bool)
    case outInterface([String], negated: Bool)
    /// Conntrack states, lowercased: new, established, related, invalid, untracked; iptables'
    /// `--ctstate` also takes the virtual states snat and dnat, matched as the status bits.
    case ctState(Set<String>, negated: Bool)
    /// Conntrack status bits, lowercased (nft `ct status dnat`, iptables `--ctstatus`, and a
    /// `--ctstate` of only snat/dnat): any of them set matches.
    case ctStatus(Set<String>, negated: Bool)
    /// Layer 4 protocol names (tcp, udp, icmp, ...); ICMPv6 is always "ipv6-icmp", as nft and
    /// ip6tables-save print it (`ICMPv6Type.protocolName`).
    case proto([String], negated: Bool)
    /// ICMPv6 message types (`icmpv6 type packet-too-big`, `--icmpv6-type 2`).
    case icmpv6Type(Set<ICMPv6Type>, negated: Bool)
    case destinationPort([ClosedRange<Int>], negated: Bool)
    case sourcePort([ClosedRange<Int>], negated: Bool)
    /// The rule only applies to packets of this family: `meta nfproto ipv6`, or a field of the
    /// `ip`/`ip6` header this model does not read, in an inet chain. Address matches need none:
    /// their prefixes carry the family.
    case family(IPAddress.Family)
    /// A lookup in a named set of the rule's table (nft `@name`) or an ipset (`--match-set`);
    /// its elements are in `FirewallTable.sets`, where they can change without the rule changing.
    case setLookup(SetLookup)
    case other(String)
}

public enum RuleVerdict: Sendable, Equatable {
    case accept, drop, reject, `return`
    case jump(String)
    case goto(String)
    case masquerade
    case snat(String?)
    /// Nil: iptables-nft's DNAT as nft's JSON shows it (an opaque xt target), before
    /// iptables-nft-save gives its `--to-destination`.
    case dnat(DNATTarget?)
    /// Any other terminal or non-terminal action (queue, log, mark, ...); `nil` target: no verdict.
    case other(String)
    /// No verdict: the packet continues with the next rule (nft's `continue`).
    case none
    /// A verdict map (`ip daddr . meta l4proto . th dport vmap @service-ips`): the verdict of the
    /// element holding the packet's key; where none does, the packet continues with the next rule.
    case verdictMap(VerdictMapLookup)

    /// Does the packet stop in this chain for good (in this hook's base chain)?
    var isDropping: Bool { self == .drop || self == .reject }

    /// As nft writes it: "accept", "goto services", "continue".
    var nftText: String {
        switch self {
        case .accept: return "accept"
        case .drop: return "drop"
        case .reject: return "reject"
        case .return: return "return"
        case .jump(let target): return "jump \(target)"
        case .goto(let target): return "goto \(target)"
        case .masquerade: return "masquerade"
        case .snat(let address): return "snat" + (address.map { " to \($0)" } ?? "")
        case .dnat(let target): return "dnat" + (target.map { " to \($0.text)" } ?? "")
        case .other(let name): return name
        case .none: return "continue"
        case .verdictMap(let lookup): return lookup.text
        }
    }
}

extension IPPrefix {
    /// As nft and iptables-save print a prefix in a rule: a single address without its length.
    var ruleText: String { length == family.bitWidth ? "\(address)" : "\(self)" }

    /// A prefix of `family` in a rule's `ip saddr`/`ip6 saddr`/`-s` (normalised to its network,
    /// as the kernel keeps it); nil for anything else.
    static func network<S: StringProtocol>(_ text: S, family: IPAddress.Family) -> IPPrefix? {
        guard let prefix = IPPrefix(Substring(text)), prefix.family == family else { return nil }
        return prefix.network
    }

    /// An IPv4 prefix of a rule (`network(_:family:)`).
    static func ipv4Network<S: StringProtocol>(_ text: S) -> IPPrefix? { network(text, family: .v4) }
}

/// An ICMPv6 message type, as nft names it (`packet-too-big`) and ip6tables-save numbers it (2).
/// Only the types the checks ask about have names here; any other is kept by number.
public struct ICMPv6Type: Hashable, Sendable, CustomStringConvertible {
    public var number: UInt8

    public init(_ number: UInt8) { self.number = number }

    public static let packetTooBig = ICMPv6Type(2)
    public static let neighbourSolicitation = ICMPv6Type(135)
    public static let neighbourAdvertisement = ICMPv6Type(136)

    /// Echo request or reply: the only ICMPv6 a flow's own packets can be.
    var isEcho: Bool { number == 128 || number == 129 }

    /// The layer 4 protocol name both nft and ip6tables-save print for ICMPv6.
    static let protocolName = "ipv6-icmp"

    /// nft's names, and ip6tables' (`neighbour-solicitation`, `neighbor-solicitation`).
    private static let names: [String: UInt8] = [
        "destination-unreachable": 1, "packet-too-big": 2, "time-exceeded": 3, "parameter-problem": 4,
        "echo-request": 128, "echo-reply": 129, "nd-router-solicit": 133, "router-solicitation": 133,
        "nd-router-advert": 134, "router-advertisement": 134,
        "nd-neighbor-solicit": 135, "neighbour-solicitation": 135, "neighbor-solicitation": 135,
        "nd-neighbor-advert": 136, "neighbour-advertisement": 136, "neighbor-advertisement": 136, "nd-redirect": 137,
    ]

    /// A name, a number, or ip6tables' "type/code" (the code is not modelled).
    public init?<S: StringProtocol>(name: S) {
        let type = String(name.prefix { $0 != "/" })
        if let number = UInt8(type) ?? Self.names[type.lowercased()] { self.init(number) } else { return nil }
    }

    /// nft's name, for messages and fixes.
    public var description: String {
        // nft's own names are the shortest of each type's (`nd-neighbor-solicit`, `packet-too-big`).
        Self.names.filter { $0.value == number }.map(\.key).min { ($0.count, $0) < ($1.count, $1) } ?? "\(number)"
    }

    /// A rule's protocol name in the spelling the checks compare (`icmpv6`, `58` -> `ipv6-icmp`).
    static func normalisedProtocol(_ name: String) -> String {
        ["icmpv6", "ipv6-icmp", "58"].contains(name.lowercased()) ? protocolName : name.lowercased()
    }
}
