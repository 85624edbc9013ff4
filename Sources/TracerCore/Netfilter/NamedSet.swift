/// A named set of a firewall: an nftables set of a table (`set allow_in { type ipv4_addr . inet_service; }`)
/// or an ipset (`ipset create allow_in hash:ip,port`), which iptables rules of either backend look
/// up with `-m set --match-set`. Allow-lists live in them: the narrowest fix for a flow such a
/// list misses is the element it lacks.
public struct NamedSet: Sendable, Equatable {
    public enum Kind: String, Sendable, Equatable { case nftables, ipset }

    public var name: String
    public var kind: Kind
    /// nft: the key's types in order (["ipv4_addr", "inet_service"]); ipset: the set type
    /// split at the colon's right ("hash:ip,port" -> ["ip", "port"]).
    public var type: [String]
    /// nft: interval, constant, timeout, ...; ipset: the type's method ("hash").
    public var flags: [String]
    /// Each element's values, one per key field; nil: an element this model cannot read (a mark,
    /// a MAC address), which may match anything.
    public var elements: [[SetValue]?]
    /// A verdict map's (nft `map ... : verdict`): each element's verdict, in the order of `elements`;
    /// nil for a set.
    public var verdicts: [RuleVerdict]?

    public init(name: String, kind: Kind, type: [String], flags: [String] = [], elements: [[SetValue]?] = [],
                verdicts: [RuleVerdict]? = nil) {
        self.name = name
        self.kind = kind
        self.type = type
        self.flags = flags
        self.elements = elements
        self.verdicts = verdicts
    }
}

/// One field of a set element.
public enum SetValue: Sendable, Equatable {
    /// An address (a full-length prefix) or a prefix.
    case prefix(IPPrefix)
    case addressRange(IPAddress, IPAddress)
    /// A port or port range; ipset elements name the protocol (`tcp:22`), nft's do not.
    case ports(ClosedRange<Int>, protocol: String?)
    /// An interface or protocol name.
    case name(String)
    /// A plain number: a value of `numgen`.
    case number(Int)
}

/// A field of the packet a set lookup keys on, in the set's key order.
public enum SetSelector: Sendable, Equatable {
    case sourceAddress, destinationAddress
    /// The protocol the nft expression names (tcp, udp, or th for any with ports); nil for an
    /// ipset's port, whose elements carry the protocol.
    case sourcePort(protocol: String?)
    case destinationPort(protocol: String?)
    case l4proto
    case inInterface, outInterface
    /// A number the kernel draws for each packet (`numgen random mod 2`: 0 or 1), as kube-proxy's
    /// nftables mode picks an endpoint: each value may be the packet's.
    case numgen(mode: String, values: ClosedRange<Int>)
    /// Anything else (`meta mark`, `ether saddr`): it may match.
    case other(String)

    /// As nft writes it: "ip daddr", "tcp dport", "meta l4proto".
    var nftText: String {
        switch self {
        case .sourceAddress: return "ip saddr"
        case .destinationAddress: return "ip daddr"
        case .sourcePort(let p): return "\(p ?? "th") sport"
        case .destinationPort(let p): return "\(p ?? "th") dport"
        case .l4proto: return "meta l4proto"
        case .inInterface: return "iifname"
        case .outInterface: return "oifname"
        case .numgen(let mode, let values):
            return "numgen \(mode) mod \(values.count)" + (values.lowerBound == 0 ? "" : " offset \(values.lowerBound)")
        case .other(let text): return text
        }
    }
}

/// A rule's lookup of the packet in a named set: `ip daddr . tcp dport @allow_in` or
/// `-m set --match-set allow_in dst,dst`.
public struct SetLookup: Sendable, Equatable {
    public var selectors: [SetSelector]
    public var set: String
    public var negated: Bool
    /// ipset's direction flags as the rule gives them ("dst,dst"); nil for nft.
    public var ipsetFlags: String?

    public init(selectors: [SetSelector], set: String, negated: Bool, ipsetFlags: String? = nil) {
        self.selectors = selectors
        self.set = set
        self.negated = negated
        self.ipsetFlags = ipsetFlags
    }

    /// "ip daddr . tcp dport @allow_in", "-m set --match-set allow_in dst,dst".
    public var text: String {
        if let ipsetFlags { return "-m set \(negated ? "! " : "")--match-set \(set) \(ipsetFlags)" }
        return selectors.map(\.nftText).joined(separator: " . ") + (negated ? " != @" : " @") + set
    }

    /// The packet's values for the selectors: the element that would make this lookup match it.
    /// Nil when a field is unknown, or is the source port (an element keyed on one client's
    /// ephemeral port would let that connection alone through, and not its next).
    func key(for packet: ImaginedPacket) -> [SetValue]? {
        var values: [SetValue] = []
        for selector in selectors {
            switch selector {
            case .sourceAddress:
                guard let a = packet.source else { return nil }
                values.append(.prefix(IPPrefix(a)))
            case .destinationAddress:
                guard let a = packet.destination else { return nil }
                values.append(.prefix(IPPrefix(a)))
            case .destinationPort(let selectorProto):
                // `tcp dport` never holds a UDP packet, whatever the set gains.
                guard let port = packet.destinationPort, let proto = packet.proto,
                      selectorProto == nil || selectorProto == "th" || selectorProto == proto else { return nil }
                values.append(.ports(port...port, protocol: proto))
            case .l4proto:
                guard let proto = packet.proto else { return nil }
                values.append(.name(proto))
            case .inInterface:
                guard !packet.inInterface.isEmpty else { return nil }
                values.append(.name(packet.inInterface))
            case .outInterface:
                guard !packet.outInterface.isEmpty else { return nil }
                values.append(.name(packet.outInterface))
            case .sourcePort, .numgen, .other:
                return nil
            }
        }
        return values
    }
}

/// A rule's lookup of the packet's key in a verdict map: a named map of its table
/// (`ip daddr . meta l4proto . th dport vmap @service-ips`) or one written in the rule
/// (`numgen random mod 2 vmap { 0 : goto a, 1 : goto b }`).
public struct VerdictMapLookup: Sendable, Equatable {
    public enum Map: Sendable, Equatable {
        /// Its elements are in `FirewallTable.sets`, where they change without the rule changing.
        case named(String)
        /// A map without a name (`NamedSet.name` empty), with its elements' verdicts.
        case inline(NamedSet)
    }

    public var selectors: [SetSelector]
    public var map: Map

    public init(selectors: [SetSelector], map: Map) {
        self.selectors = selectors
        self.map = map
    }

    /// "ip daddr . meta l4proto . th dport vmap @service-ips", "numgen random mod 2 vmap { 0 : goto a, 1 : goto b }".
    public var text: String {
        let key = selectors.map(\.nftText).joined(separator: " . ")
        switch map {
        case .named(let name):
            return "\(key) vmap @\(name)"
        case .inline(let map):
            let elements = zip(map.elements, map.verdicts ?? []).map { element, verdict in
                "\(element.map(map.elementText) ?? "?") : \(verdict.nftText)"
            }
            return "\(key) vmap { \(elements.joined(separator: ", ")) }"
        }
    }

    /// The map with its elements: the inline one, or the named one of `sets`.
    func map(in sets: [NamedSet]) -> NamedSet? {
        switch map {
        case .named(let name): return sets.first { $0.name == name && $0.verdicts != nil }
        case .inline(let map): return map
        }
    }

    /// Does some element of `map` surely hold the key, though which is not known? Only where the
    /// key is a number the kernel draws and every value it can draw has an element: kube-proxy's
    /// endpoint pick always picks one.
    func holdsEveryKey(_ map: NamedSet) -> Bool {
        guard selectors.count == 1, case .numgen(_, let values) = selectors[0], values.count <= map.elements.count else { return false }
        let keys = Set(map.elements.compactMap { element -> Int? in
            if case .number(let n)? = element?.first { return n } else { return nil }
        })
        return values.allSatisfy(keys.contains)
    }
}

extension NamedSet {
    /// The element as the set's own tool writes it: `172.17.0.2 . 22` (nft), `172.17.0.2,tcp:22` (ipset).
    func elementText(_ values: [SetValue]) -> String {
        switch kind {
        case .nftables:
            return values.map { value in
                switch value {
                case .prefix(let p): return p.ruleText
                case .addressRange(let a, let b): return "\(a)-\(b)"
                case .ports(let r, _): return r.lowerBound == r.upperBound ? "\(r.lowerBound)" : "\(r.lowerBound)-\(r.upperBound)"
                case .name(let n): return type.contains("ifname") && !n.isEmpty ? "\"\(n)\"" : n
                case .number(let n): return "\(n)"
                }
            }.joined(separator: " . ")
        case .ipset:
            return values.map { value in
                switch value {
                case .prefix(let p): return p.ruleText
                case .addressRange(let a, let b): return "\(a)-\(b)"
                case .ports(let r, let proto):
                    let range = r.lowerBound == r.upperBound ? "\(r.lowerBound)" : "\(r.lowerBound)-\(r.upperBound)"
                    return proto.map { "\($0):\(range)" } ?? range
                case .name(let n): return n
                case .number(let n): return "\(n)"
                }
            }.joined(separator: ",")
        }
    }
}

extension ForwardEvaluator {
    /// A lookup in `set` (nil: the set could not be read): yes when an element holds the
    /// packet's key, no when none can, maybe when a field or an element is unknown.
    static func lookup(_ lookup: SetLookup, in set: NamedSet?, _ packet: ImaginedPacket) -> Tri {
        guard let set else { return .maybe }
        var result = Tri.no
        for element in set.elements {
            let one = holds(element, lookup.selectors, packet)
            if one == .yes { result = .yes; break }
            if one == .maybe { result = .maybe }
        }
        return flip(result, lookup.negated)
    }

    /// Does the element (nil: one this model cannot read) hold the packet's key?
    static func holds(_ element: [SetValue]?, _ selectors: [SetSelector], _ packet: ImaginedPacket) -> Tri {
        guard let element, element.count == selectors.count else { return .maybe }
        var result = Tri.yes
        for (selector, value) in zip(selectors, element) {
            switch field(selector, value, packet) {
            case .no: return .no
            case .maybe: result = .maybe
            case .yes: break
            }
        }
        return result
    }

    /// The verdicts a verdict map may give the packet, and whether it may hold none of them
    /// (the packet then continues with the next rule). An element surely holding the packet's
    /// key gives its verdict alone. Nil: a named map the table does not have.
    struct VerdictMapHit {
        var verdicts: [RuleVerdict]
        var mayMiss: Bool

        /// The one verdict the packet surely takes.
        var sure: RuleVerdict? { verdicts.count == 1 && !mayMiss ? verdicts[0] : nil }
    }

    static func lookup(_ lookup: VerdictMapLookup, sets: [NamedSet], _ packet: ImaginedPacket) -> VerdictMapHit? {
        guard let map = lookup.map(in: sets) else { return nil }
        var maybe: [RuleVerdict] = []
        for (element, verdict) in zip(map.elements, map.verdicts ?? []) {
            switch holds(element, lookup.selectors, packet) {
            case .yes: return VerdictMapHit(verdicts: [verdict], mayMiss: false)
            case .maybe: maybe.append(verdict)
            case .no: break
            }
        }
        return VerdictMapHit(verdicts: maybe, mayMiss: !lookup.holdsEveryKey(map))
    }

    private static func field(_ selector: SetSelector, _ value: SetValue, _ p: ImaginedPacket) -> Tri {
        switch (selector, value) {
        case (.sourceAddress, _), (.destinationAddress, _):
            let address = selector == .sourceAddress ? p.source : p.destination
            switch value {
            case .prefix(let prefix): return self.address([prefix], address, family: p.family, unknown: p.unknownAddress)
            case .addressRange(let lo, let hi):
                guard let address else { return .maybe }
                return address.family == lo.family && lo <= address && address <= hi ? .yes : .no
            default: return .no
            }
        case (.destinationPort(let proto), .ports(let range, let elementProto)), (.sourcePort(let proto), .ports(let range, let elementProto)):
            guard let packetProto = p.proto else { return .maybe }
            if let proto, proto != "th", proto != packetProto { return .no }
            if let elementProto, elementProto != packetProto { return .no }
            let port: Int?
            if case .destinationPort = selector { port = p.destinationPort } else { port = p.sourcePort }
            guard let port else { return .maybe }
            return range.contains(port) ? .yes : .no
        case (.l4proto, .name(let name)):
            guard let proto = p.proto else { return .maybe }
            return name == proto ? .yes : .no
        case (.inInterface, .name(let name)), (.outInterface, .name(let name)):
            let device = selector == .inInterface ? p.inInterface : p.outInterface
            return device.isEmpty ? .maybe : interface([name], device)
        case (.numgen(_, let values), .number(let n)):
            return values.contains(n) ? .maybe : .no
        default:
            return .maybe
        }
    }
}

/// Reads `ipset save` (`ipset list -o save`): `create NAME TYPE options` and `add NAME ELEMENT` lines.
enum IpsetSave {
    static func parse(_ text: String) -> [String: NamedSet] {
        var sets: [String: NamedSet] = [:]
        for line in text.split(separator: "\n") {
            let words = line.split(separator: " ").map(String.init)
            guard words.count >= 3 else { continue }
            if words[0] == "create" {
                let parts = words[2].split(separator: ":", maxSplits: 1)
                let method = parts.first.map(String.init) ?? words[2]
                let type = parts.count > 1 ? parts[1].split(separator: ",").map(String.init) : []
                sets[words[1]] = NamedSet(name: words[1], kind: .ipset, type: type, flags: [method])
            } else if words[0] == "add", var set = sets[words[1]] {
                set.elements.append(element(words[2], type: set.type))
                sets[words[1]] = set
            }
        }
        return sets
    }

    /// "172.17.0.2,tcp:22" of a hash:ip,port set -> [.prefix, .ports]; nil for a field type this
    /// model does not read (mark, mac).
    static func element(_ text: String, type: [String]) -> [SetValue]? {
        let fields = text.split(separator: ",", omittingEmptySubsequences: false)
        guard fields.count == type.count else { return nil }
        var values: [SetValue] = []
        for (field, kind) in zip(fields, type) {
            switch kind {
            case "ip", "net":
                if let dash = field.firstIndex(of: "-"), let lo = IPAddress(String(field[..<dash])),
                   let hi = IPAddress(String(field[field.index(after: dash)...])) {
                    values.append(.addressRange(lo, hi))
                } else if let prefix = IPPrefix(field) {
                    values.append(.prefix(prefix.network))
                } else {
                    return nil
                }
            case "port":
                // "tcp:22", "udp:1000-2000", "22" (tcp when no protocol is given).
                let protoAndPorts = field.split(separator: ":", maxSplits: 1)
                let proto = protoAndPorts.count == 2 ? String(protoAndPorts[0]) : "tcp"
                let ends = (protoAndPorts.last ?? "").split(separator: "-")
                guard let lo = ends.first.flatMap({ Int($0) }), let hi = (ends.count > 1 ? Int(ends[1]) : lo), lo <= hi else { return nil }
                values.append(.ports(lo...hi, protocol: proto))
            case "iface":
                values.append(.name(field.hasPrefix("physdev:") ? String(field.dropFirst(8)) : String(field)))
            default:
                return nil
            }
        }
        return values
    }

    /// The selectors of `--match-set NAME dst,dst` for the set's type: "ip"/"net" an address, "port"
    /// a port, "iface" an interface (src: in, dst: out); unknown where the set was not read.
    static func selectors(flags: String, set: NamedSet?) -> [SetSelector] {
        let directions = flags.split(separator: ",").map(String.init)
        return directions.enumerated().map { i, direction in
            let source = direction == "src"
            guard let set, i < set.type.count else { return .other(direction) }
            switch set.type[i] {
            case "ip", "net": return source ? .sourceAddress : .destinationAddress
            case "port": return source ? .sourcePort(protocol: nil) : .destinationPort(protocol: nil)
            case "iface": return source ? .inInterface : .outInterface
            default: return .other("\(set.type[i]) \(direction)")
            }
        }
    }
}

extension FirewallTable {
    /// The rule with each single-field lookup in a readable set written out as the match it
    /// amounts to now (`tcp dport @web` holding 80 and 443 -> `th dport { 80, 443 }`), for
    /// readers that take a rule's matches as constraints on a packet (published ports).
    func inliningSets(_ rule: FirewallRule) -> FirewallRule {
        var inlined = rule
        inlined.matches = rule.matches.map { match in
            guard case .setLookup(let lookup) = match, lookup.selectors.count == 1, let set = set(lookup.set) else { return match }
            let elements = set.elements.compactMap { $0?.first }
            guard elements.count == set.elements.count else { return match }
            let n = lookup.negated
            switch lookup.selectors[0] {
            case .sourceAddress, .destinationAddress:
                let prefixes = elements.compactMap { value -> IPPrefix? in if case .prefix(let p) = value { return p } else { return nil } }
                guard prefixes.count == elements.count else { return match }
                return lookup.selectors[0] == .sourceAddress ? .source(prefixes, negated: n) : .destination(prefixes, negated: n)
            case .destinationPort, .sourcePort:
                let ranges = elements.compactMap { value -> ClosedRange<Int>? in if case .ports(let r, _) = value { return r } else { return nil } }
                guard ranges.count == elements.count else { return match }
                if case .sourcePort = lookup.selectors[0] { return .sourcePort(ranges, negated: n) }
                return .destinationPort(ranges, negated: n)
            default:
                return match
            }
        }
        return inlined
    }
}
