/// Parses what libnftables prints for `list ruleset` with JSON and handle output
/// (`nft -j -a list ruleset`), plus, optionally, the text listing of the same ruleset
/// (`nft -a -s list ruleset`) for each rule's readable form. Pure: tests feed fixtures.
enum NftJSONRuleset {
    /// Tables whose names nft marks as iptables-nft's are tagged `.iptablesNft`, the rest `.nftables`.
    static func parse(json: [UInt8], text: String? = nil, iptablesNftTables: Set<String> = []) -> Ruleset? {
        guard let root = JSONValue.parse(json)?.objectValue, let items = root["nftables"]?.arrayValue else {
            return nil
        }
        let texts = text.map(ruleTexts) ?? [:]
        let maps = namedMaps(items)
        var tables: [FirewallTable] = []
        // Chains by "family table chain": kube-proxy's tables hold thousands.
        var chainIndex: [String: Int] = [:]
        func tableIndex(_ family: String, _ name: String) -> Int? {
            tables.firstIndex { $0.family == family && $0.name == name }
        }
        for item in items {
            guard let object = item.objectValue else { continue }
            if let t = object["table"]?.objectValue, let family = t["family"]?.stringValue, let name = t["name"]?.stringValue {
                let backend: NetfilterBackend = iptablesNftTables.contains("\(family) \(name)") ? .iptablesNft : .nftables
                tables.append(FirewallTable(family: family, name: name, backend: backend, handle: t["handle"]?.uint64))
            } else if let set = object["set"]?.objectValue ?? verdictMap(object), let family = set["family"]?.stringValue,
                      let table = set["table"]?.stringValue, let index = tableIndex(family, table), let named = namedSet(set) {
                tables[index].sets.append(named)
            } else if let c = object["chain"]?.objectValue, let family = c["family"]?.stringValue,
                      let table = c["table"]?.stringValue, let name = c["name"]?.stringValue,
                      let index = tableIndex(family, table) {
                chainIndex["\(family) \(table) \(name)"] = tables[index].chains.count
                tables[index].chains.append(FirewallChain(
                    name: name, handle: c["handle"]?.uint64, hook: c["hook"]?.stringValue, type: c["type"]?.stringValue,
                    priority: c["prio"]?.numberValue.map { Int($0) }, policy: c["policy"]?.stringValue))
            } else if let r = object["rule"]?.objectValue, let family = r["family"]?.stringValue,
                      let table = r["table"]?.stringValue, let chain = r["chain"]?.stringValue,
                      let t = tableIndex(family, table),
                      let c = chainIndex["\(family) \(table) \(chain)"] {
                let handle = r["handle"]?.uint64
                var rule = parseRule(r["expr"]?.arrayValue ?? [], family: family, maps: maps["\(family) \(table)"] ?? [:])
                rule.handle = handle
                rule.position = tables[t].chains[c].rules.count + 1
                rule.comment = r["comment"]?.stringValue
                rule.text = handle.flatMap { texts[RuleKey(family: family, table: table, chain: chain, handle: $0)] }
                    ?? rule.text
                tables[t].chains[c].rules.append(rule)
            }
        }
        return Ruleset(tables: tables)
    }

    /// A named set with its elements read by the key's types (`{"set": {"name": "allow_in", "type":
    /// ["ipv4_addr", "inet_service"], "elem": [{"concat": ["172.17.0.3", 22]}]}}`), or a verdict map
    /// with each element's verdict (`"map": "verdict", "elem": [[{"concat": [...]}, {"goto": {...}}]]`).
    static func namedSet(_ set: [String: JSONValue]) -> NamedSet? {
        guard let name = set["name"]?.stringValue else { return nil }
        let type = set["type"]?.arrayValue?.compactMap(\.stringValue) ?? set["type"]?.stringValue.map { [$0] } ?? []
        var named = NamedSet(name: name, kind: .nftables, type: type, flags: set["flags"]?.arrayValue?.compactMap(\.stringValue) ?? [])
        let elements = set["elem"]?.arrayValue ?? []
        if set["map"]?.stringValue == "verdict" {
            (named.elements, named.verdicts) = verdictElements(elements, type: type)
        } else {
            named.elements = elements.map { element(key: $0, type: type) }
        }
        return named
    }

    /// A "map" item whose values are verdicts; other maps (`dnat to ... map @name`) are read by
    /// `namedMaps`, for the DNAT that uses them.
    private static func verdictMap(_ item: [String: JSONValue]) -> [String: JSONValue]? {
        guard let map = item["map"]?.objectValue, map["map"]?.stringValue == "verdict" else { return nil }
        return map
    }

    /// A verdict map's `[key, verdict]` pairs; a value that is no verdict stays `.other`.
    private static func verdictElements(_ pairs: [JSONValue], type: [String]) -> ([[SetValue]?], [RuleVerdict]) {
        var keys: [[SetValue]?] = []
        var verdicts: [RuleVerdict] = []
        for pair in pairs {
            guard let pair = pair.arrayValue, pair.count == 2 else { continue }
            keys.append(element(key: pair[0], type: type))
            let statement = pair[1].objectValue?.first
            verdicts.append(statement.flatMap { verdict($0.key, $0.value) } ?? .other(statement?.key ?? "?"))
        }
        return (keys, verdicts)
    }

    /// One element's key read by the key's types; nil where a field is of a type this model does
    /// not read. Elements with timeouts or comments come wrapped in `elem`.
    private static func element(key: JSONValue, type: [String]) -> [SetValue]? {
        let value = key.objectValue?["elem"]?.objectValue?["val"] ?? key
        let parts = value.objectValue?["concat"]?.arrayValue ?? [value]
        guard parts.count == type.count else { return nil }
        var values: [SetValue] = []
        for (part, kind) in zip(parts, type) {
            guard let v = setValue(part, type: kind) else { return nil }
            values.append(v)
        }
        return values
    }

    /// A verdict, as a rule's statement or a verdict map's value (`{"goto": {"target": "x"}}`,
    /// `{"accept": null}`); nil for any other statement.
    static func verdict(_ key: String, _ value: JSONValue) -> RuleVerdict? {
        let target = value.objectValue?["target"]?.stringValue ?? "?"
        switch key {
        case "accept": return .accept
        case "drop": return .drop
        case "reject": return .reject
        case "return": return .return
        case "continue": return RuleVerdict.none
        case "jump": return .jump(target)
        case "goto": return .goto(target)
        default: return nil
        }
    }

    /// A rule's `vmap` statement: its key, and the name of its table's map (`"data": "@service-ips"`)
    /// or the map itself (`"data": {"set": [[0, {"goto": ...}], ...]}`).
    static func verdictMapLookup(_ value: JSONValue) -> VerdictMapLookup? {
        guard let vmap = value.objectValue, let key = vmap["key"]?.objectValue else { return nil }
        let selectors = selectors(key)
        if let name = vmap["data"]?.stringValue, name.hasPrefix("@") {
            return VerdictMapLookup(selectors: selectors, map: .named(String(name.dropFirst())))
        }
        guard let pairs = vmap["data"]?.objectValue?["set"]?.arrayValue else { return nil }
        let type = selectors.map(keyType)
        let (elements, verdicts) = verdictElements(pairs, type: type)
        return VerdictMapLookup(selectors: selectors, map: .inline(NamedSet(name: "", kind: .nftables, type: type,
                                                                              elements: elements, verdicts: verdicts)))
    }

    /// The nft type of a key field, to read an anonymous map's elements as a named map's type
    /// names them; "" where no element value is read.
    private static func keyType(_ selector: SetSelector) -> String {
        switch selector {
        case .sourceAddress, .destinationAddress: return "ipv4_addr"
        case .sourcePort, .destinationPort: return "inet_service"
        case .l4proto: return "inet_proto"
        case .inInterface, .outInterface: return "ifname"
        case .numgen: return "integer"
        case .other: return ""
        }
    }

    /// One field of an element by its type; nil for a type this model does not read.
    private static func setValue(_ value: JSONValue, type: String) -> SetValue? {
        switch type {
        case "ipv4_addr", "ipv6_addr":
            if let r = value.objectValue?["range"]?.arrayValue, r.count == 2,
               let lo = r[0].stringValue.flatMap(IPAddress.init), let hi = r[1].stringValue.flatMap(IPAddress.init) {
                return .addressRange(lo, hi)
            }
            if let p = value.objectValue?["prefix"]?.objectValue, let addr = p["addr"]?.stringValue.flatMap(IPAddress.init),
               let len = p["len"]?.numberValue {
                return .prefix(IPPrefix(address: addr, length: Int(len)).network)
            }
            return value.stringValue.flatMap(IPAddress.init).map { .prefix(IPPrefix($0)) }
        case "inet_service":
            return ports(value).flatMap { $0.count == 1 ? .ports($0[0], protocol: nil) : nil }
        case "inet_proto", "ifname":
            return value.stringValue.map { .name($0) }
        case "integer":
            return value.numberValue.flatMap { Int(exactly: $0) }.map { .number($0) }
        default:
            return nil
        }
    }

    /// The left side of a lookup: a selector, or a `concat` of them.
    private static func selectors(_ left: [String: JSONValue]) -> [SetSelector] {
        let parts = left["concat"]?.arrayValue ?? [.object(left)]
        return parts.map { part in
            let o = part.objectValue ?? [:]
            // kube-proxy's endpoint pick: `numgen random mod 2` draws 0 or 1 (plus the offset).
            if let numgen = o["numgen"]?.objectValue, let mod = numgen["mod"]?.numberValue.flatMap({ Int(exactly: $0) }), mod > 0 {
                let offset = numgen["offset"]?.numberValue.flatMap { Int(exactly: $0) } ?? 0
                return .numgen(mode: numgen["mode"]?.stringValue ?? "random", values: offset...(offset + mod - 1))
            }
            if let payload = o["payload"]?.objectValue {
                let proto = payload["protocol"]?.stringValue ?? ""
                let field = payload["field"]?.stringValue ?? ""
                switch (proto, field) {
                case ("ip", "saddr"): return .sourceAddress
                case ("ip", "daddr"): return .destinationAddress
                case (let p, "dport") where ["tcp", "udp", "th", "sctp", "dccp"].contains(p): return .destinationPort(protocol: p)
                case (let p, "sport") where ["tcp", "udp", "th", "sctp", "dccp"].contains(p): return .sourcePort(protocol: p)
                default: return .other("\(proto) \(field)")
                }
            }
            switch o["meta"]?.objectValue?["key"]?.stringValue {
            case "l4proto"?: return .l4proto
            case "iifname"?: return .inInterface
            case "oifname"?: return .outInterface
            case let key?: return .other("meta \(key)")
            case nil: return .other(o.keys.sorted().joined(separator: " "))
            }
        }
    }

    /// The named maps of each table ("family table" -> name -> its `[key, value]` elements), for a
    /// `dnat to ip daddr . tcp dport map @name`. nft lists them as "map" items, apart from sets.
    static func namedMaps(_ items: [JSONValue]) -> [String: [String: JSONValue]] {
        var maps: [String: [String: JSONValue]] = [:]
        for item in items {
            guard let map = item.objectValue?["map"]?.objectValue, let family = map["family"]?.stringValue,
                  let table = map["table"]?.stringValue, let name = map["name"]?.stringValue else { continue }
            maps["\(family) \(table)", default: [:]][name] = .array(map["elem"]?.arrayValue ?? [])
        }
        return maps
    }

    /// One rule's expressions -> matches, verdict, counters and a fallback text. `sets` and `maps`
    /// are the named sets and maps of the rule's table; a reference to a set that is not there
    /// stays unknown.
    static func parseRule(_ expressions: [JSONValue], family: String, maps: [String: JSONValue] = [:]) -> FirewallRule {
        var matches: [RuleMatch] = []
        var impliedProtocol: String?
        var verdict = RuleVerdict.none
        var packets: UInt64?
        var bytes: UInt64?
        var words: [String] = []
        for expression in expressions {
            guard let object = expression.objectValue, let (key, value) = object.first else { continue }
            switch key {
            case "match":
                if let m = value.objectValue {
                    let parsed = parseMatch(m, family: family)
                    matches += parsed
                    words += parsed.map(describe)
                    let left = m["left"]?.objectValue
                    for part in left?["concat"]?.arrayValue ?? left.map { [.object($0)] } ?? [] {
                        if let payload = part.objectValue?["payload"]?.objectValue,
                           let proto = payload["protocol"]?.stringValue, ["tcp", "udp", "sctp", "dccp"].contains(proto),
                           ["dport", "sport"].contains(payload["field"]?.stringValue ?? "") {
                            impliedProtocol = proto
                        }
                    }
                }
            case "counter":
                packets = value.objectValue?["packets"]?.uint64
                bytes = value.objectValue?["bytes"]?.uint64
                words.append("counter")
            case "accept", "drop", "reject", "return", "continue", "jump", "goto":
                verdict = self.verdict(key, value) ?? verdict
                words.append(verdict.nftText)
            case "vmap":
                let lookup = verdictMapLookup(value)
                verdict = lookup.map { .verdictMap($0) } ?? verdict
                words.append(lookup?.text ?? key)
            case "masquerade": verdict = .masquerade; words.append(key)
            case "snat": verdict = .snat(addressText(value)); words.append(key)
            case "dnat": verdict = .dnat(dnatTarget(value, maps: maps)); words.append(key)
            case "xt":
                let name = value.objectValue?["name"]?.stringValue ?? "?"
                if value.objectValue?["type"]?.stringValue == "target" {
                    verdict = xtTarget(name)
                } else if name != "comment" {
                    matches.append(.other("xt match \(name)"))
                }
                words.append("xt \(name)")
            case "queue": verdict = .other("queue"); words.append(key)
            default:
                words.append(key)
            }
        }
        return FirewallRule(position: 0, text: words.joined(separator: " "), matches: matches, verdict: verdict,
                            packets: packets, bytes: bytes, impliedProtocol: impliedProtocol)
    }

    /// A `dnat` statement's target: `{"addr": "192.168.70.10", "port": 22}`, a port range, or an
    /// `addr` that is a map keyed on the packet (`ip daddr . tcp dport map @published`).
    static func dnatTarget(_ value: JSONValue, maps: [String: JSONValue]) -> DNATTarget? {
        guard let o = value.objectValue else { return nil }
        let ports = o["port"].flatMap(portRange)
        let portText = ports.map { ":\($0)" } ?? ""
        if let text = o["addr"]?.stringValue {
            let address = IPAddress(text)
            return DNATTarget(address: address, ports: ports, text: (address?.family == .v6 ? "[\(text)]" : text) + portText)
        }
        guard let map = o["addr"]?.objectValue?["map"]?.objectValue else {
            return o["addr"] == nil ? DNATTarget(address: nil, ports: ports, text: portText) : nil
        }
        // The key's fields in order: [("ip", "daddr"), ("tcp", "dport")].
        let keyParts = map["key"]?.objectValue?["concat"]?.arrayValue ?? map["key"].map { [$0] } ?? []
        let fields = keyParts.map { part -> (String, String) in
            let payload = part.objectValue?["payload"]?.objectValue
            return (payload?["protocol"]?.stringValue ?? "?", payload?["field"]?.stringValue ?? "?")
        }
        let elements: [JSONValue]
        var text = fields.map { "\($0.0) \($0.1)" }.joined(separator: " . ") + " map "
        if let name = map["data"]?.stringValue, name.hasPrefix("@") {
            elements = maps[String(name.dropFirst())]?.arrayValue ?? []
            text += name
        } else {
            elements = map["data"]?.objectValue?["set"]?.arrayValue ?? []
            text += "{ ... }"
        }
        var mappings: [DNATTarget.Mapping] = []
        for element in elements {
            guard let pair = element.arrayValue, pair.count == 2 else { continue }
            let keyValue = pair[0].objectValue?["elem"]?.objectValue?["val"] ?? pair[0]
            let keys = keyValue.objectValue?["concat"]?.arrayValue ?? [keyValue]
            let values = pair[1].objectValue?["concat"]?.arrayValue ?? [pair[1]]
            var mapping = DNATTarget.Mapping(destination: nil, destinationPorts: nil,
                                             address: values.first?.stringValue.flatMap(IPAddress.init),
                                             ports: values.count > 1 ? portRange(values[1]) : nil)
            for (field, key) in zip(fields, keys) {
                switch field.1 {
                case "daddr": mapping.destination = key.stringValue.flatMap(IPAddress.init)
                case "dport": mapping.destinationPorts = portRange(key)
                default: break
                }
            }
            mappings.append(mapping)
        }
        let mapProtocol = fields.first { $0.1 == "dport" }.flatMap { TransportProtocol(name: $0.0) }
        return DNATTarget(address: nil, mappings: mappings, mapProtocol: mapProtocol, text: text)
    }

    /// 22, or {"range": [9000, 9001]}.
    private static func portRange(_ value: JSONValue) -> PortRange? {
        if let n = value.numberValue, n.isFinite, let p = UInt16(exactly: n) { return PortRange(p) }
        if let r = value.objectValue?["range"]?.arrayValue, r.count == 2, let a = r[0].numberValue, let b = r[1].numberValue,
           a.isFinite, b.isFinite, let lo = UInt16(exactly: a), let hi = UInt16(exactly: b) {
            return PortRange(first: lo, last: hi)
        }
        return nil
    }

    /// iptables targets as iptables-nft stores them (xt expressions).
    static func xtTarget(_ name: String) -> RuleVerdict {
        switch name {
        case "MASQUERADE": return .masquerade
        case "SNAT": return .snat(nil)
        case "DNAT": return .dnat(nil)
        case "REJECT": return .reject
        case "ACCEPT": return .accept
        case "DROP": return .drop
        case "RETURN": return .return
        default: return .other(name)
        }
    }

    /// One nft match as the model's matches: usually one; an `ip`/`ip6` field the model does
    /// not read is "this family only" and "may match"; nothing for `meta nfproto` naming every family.
    private static func parseMatch(_ m: [String: JSONValue], family: String) -> [RuleMatch] {
        guard let op = m["op"]?.stringValue, let left = m["left"]?.objectValue, let right = m["right"] else { return [] }
        let negated = op == "!="
        // In an inet table an ip or ip6 header field implies that family; in an ip or ip6 table it is the table's.
        func only(_ f: IPAddress.Family) -> [RuleMatch] { family == "inet" ? [.family(f)] : [] }
        if let reference = right.stringValue, reference.hasPrefix("@") {
            // The set's elements carry the family: an IPv4 element never holds an IPv6 address.
            return [.setLookup(SetLookup(selectors: selectors(left), set: String(reference.dropFirst()), negated: negated))]
        }
        if let payload = left["payload"]?.objectValue {
            let proto = payload["protocol"]?.stringValue ?? ""
            let field = payload["field"]?.stringValue ?? ""
            // The ip and ip6 headers are named as the table families of one.
            let headerFamily = IPAddress.Family(tableFamily: proto)
            switch (proto, field) {
            case ("ip", "saddr"), ("ip6", "saddr"):
                return prefixes(right, family: headerFamily!).map { [.source($0, negated: negated)] } ?? only(headerFamily!) + [.other("\(proto) saddr")]
            case ("ip", "daddr"), ("ip6", "daddr"):
                return prefixes(right, family: headerFamily!).map { [.destination($0, negated: negated)] } ?? only(headerFamily!) + [.other("\(proto) daddr")]
            case ("ip", "protocol"), ("ip6", "nexthdr"):
                return only(headerFamily!) + [.proto(strings(right).map(ICMPv6Type.normalisedProtocol), negated: negated)]
            case ("icmpv6", "type"):
                let types = strings(right).compactMap { ICMPv6Type(name: $0) }
                guard !types.isEmpty else { return only(.v6) + [.other("icmpv6 type")] }
                return only(.v6) + [.proto([ICMPv6Type.protocolName], negated: false), .icmpv6Type(Set(types), negated: negated)]
            case (let p, "dport") where ["tcp", "udp", "th", "sctp", "dccp"].contains(p):
                return [ports(right).map { .destinationPort($0, negated: negated) } ?? .other("\(p) dport")]
            case (let p, "sport") where ["tcp", "udp", "th", "sctp", "dccp"].contains(p):
                return [ports(right).map { .sourcePort($0, negated: negated) } ?? .other("\(p) sport")]
            case (_, _) where headerFamily != nil:
                return only(headerFamily!) + [.other("\(proto) \(field)")]
            case ("icmpv6", _):
                return only(.v6) + [.proto([ICMPv6Type.protocolName], negated: false), .other("icmpv6 \(field)")]
            default:
                return [.other("\(proto) \(field)")]
            }
        }
        if let meta = left["meta"]?.objectValue?["key"]?.stringValue {
            switch meta {
            case "iifname": return [.inInterface(strings(right), negated: negated)]
            case "oifname": return [.outInterface(strings(right), negated: negated)]
            case "l4proto": return [.proto(strings(right).map(ICMPv6Type.normalisedProtocol), negated: negated)]
            case "nfproto":
                let named = strings(right)
                var families: Set<IPAddress.Family> = []
                if named.contains("ipv4") { families.insert(.v4) }
                if named.contains("ipv6") { families.insert(.v6) }
                if negated { families = Set<IPAddress.Family>([.v4, .v6]).subtracting(families) }
                return families.count == 1 ? [.family(families.first!)] : families.isEmpty ? [.other("meta nfproto")] : []
            default: return [.other("meta \(meta)")]
            }
        }
        if left["ct"]?.objectValue?["key"]?.stringValue == "state" {
            return [.ctState(Set(strings(right).map { $0.lowercased() }), negated: negated)]
        }
        if left["ct"]?.objectValue?["key"]?.stringValue == "status" {
            return [.ctStatus(Set(strings(right).map { $0.lowercased() }), negated: negated)]
        }
        return [.other(left.keys.sorted().joined(separator: " "))]
    }

    /// A value, a {"set": [...]} or a bare array, as strings.
    private static func strings(_ value: JSONValue) -> [String] {
        switch value {
        case .string(let s): return [s]
        case .number(let n): return [String(Int(n))]
        case .array(let a): return a.flatMap(strings)
        case .object(let o): return o["set"].map(strings) ?? []
        default: return []
        }
    }

    /// The prefixes of an address match of `family` (a value, an anonymous set, a prefix, a range).
    private static func prefixes(_ value: JSONValue, family: IPAddress.Family) -> [IPPrefix]? {
        switch value {
        case .string(let s): return IPPrefix.network(s, family: family).map { [$0] }
        case .array(let a):
            var all: [IPPrefix] = []
            for element in a {
                guard let p = prefixes(element, family: family) else { return nil }
                all += p
            }
            return all
        case .object(let o):
            if let set = o["set"] { return prefixes(set, family: family) }
            if let p = o["prefix"]?.objectValue, let addr = p["addr"]?.stringValue, let len = p["len"]?.numberValue,
               let a = IPPrefix.network(addr, family: family)?.address {
                return [IPPrefix(address: a, length: Int(len)).network]
            }
            // A range a-b: approximate with the smallest prefix holding both ends.
            if let r = o["range"]?.arrayValue, r.count == 2,
               let lo = r[0].stringValue.flatMap({ IPPrefix.network($0, family: family)?.address }),
               let hi = r[1].stringValue.flatMap({ IPPrefix.network($0, family: family)?.address }) {
                let common = zip(lo.bytes, hi.bytes).prefix { $0 == $1 }.count
                let next = common < lo.bytes.count ? (lo.bytes[common] ^ hi.bytes[common]).leadingZeroBitCount : 0
                return [IPPrefix(address: lo, length: common * 8 + next).network]
            }
            return nil
        default: return nil
        }
    }

    private static func ports(_ value: JSONValue) -> [ClosedRange<Int>]? {
        switch value {
        case .number(let n): return [Int(n)...Int(n)]
        case .array(let a):
            var all: [ClosedRange<Int>] = []
            for element in a {
                guard let p = ports(element) else { return nil }
                all += p
            }
            return all
        case .object(let o):
            if let set = o["set"] { return ports(set) }
            if let r = o["range"]?.arrayValue, r.count == 2, let lo = r[0].numberValue, let hi = r[1].numberValue, lo <= hi {
                return [Int(lo)...Int(hi)]
            }
            return nil
        default: return nil
        }
    }

    private static func addressText(_ value: JSONValue) -> String? {
        guard let addr = value.objectValue?["addr"] else { return nil }
        return strings(addr).first
    }

    static func describe(_ match: RuleMatch) -> String {
        func not(_ negated: Bool) -> String { negated ? "!= " : "" }
        func list(_ items: [String]) -> String { items.count == 1 ? items[0] : "{ \(items.joined(separator: ", ")) }" }
        switch match {
        case .source(let p, let n): return "\(p.first?.family == .v6 ? "ip6" : "ip") saddr \(not(n))\(list(p.map(\.ruleText)))"
        case .destination(let p, let n): return "\(p.first?.family == .v6 ? "ip6" : "ip") daddr \(not(n))\(list(p.map(\.ruleText)))"
        case .inInterface(let i, let n): return "iifname \(not(n))\(list(i.map { "\"\($0)\"" }))"
        case .outInterface(let i, let n): return "oifname \(not(n))\(list(i.map { "\"\($0)\"" }))"
        case .ctState(let s, let n): return "ct state \(not(n))\(s.sorted().joined(separator: ","))"
        case .ctStatus(let s, let n): return "ct status \(not(n))\(s.sorted().joined(separator: ","))"
        case .proto(let p, let n): return "meta l4proto \(not(n))\(list(p))"
        case .icmpv6Type(let t, let n): return "icmpv6 type \(not(n))\(list(t.sorted { $0.number < $1.number }.map(\.description)))"
        case .destinationPort(let r, let n): return "th dport \(not(n))\(list(r.map(portText)))"
        case .sourcePort(let r, let n): return "th sport \(not(n))\(list(r.map(portText)))"
        case .family(let f): return "meta nfproto \(f == .v4 ? "ipv4" : "ipv6")"
        case .setLookup(let lookup): return lookup.text
        case .other(let s): return s
        }
    }

    private static func portText(_ r: ClosedRange<Int>) -> String {
        r.lowerBound == r.upperBound ? "\(r.lowerBound)" : "\(r.lowerBound)-\(r.upperBound)"
    }

    struct RuleKey: Hashable {
        var family: String
        var table: String
        var chain: String
        var handle: UInt64
    }

    /// Rule lines of the text listing (`nft -a -s list ruleset`) by their handle, without the
    /// "# handle N" suffix: nft's own rendering, including its translation of xt matches.
    static func ruleTexts(_ listing: String) -> [RuleKey: String] {
        var result: [RuleKey: String] = [:]
        var family = "", table = "", chain: String?
        for rawLine in listing.split(separator: "\n") {
            let line = rawLine.trimmed
            let words = line.split(separator: " ")
            if words.first == "table", words.count >= 3 {
                family = String(words[1])
                table = String(words[2])
                chain = nil
            } else if words.first == "chain", words.count >= 2 {
                chain = String(words[1])
            } else if let first = words.first, ["set", "map", "flowtable", "counter", "quota", "ct", "limit",
                                                "secmark", "synproxy"].contains(first), line.hasSuffix("{") || line.contains("{ #") {
                chain = nil
            } else if let chain, let after = Substring(line).lastOccurrence(of: " # handle "),
                      let handle = UInt64(line[after...]) {
                let text = line[..<line.index(after, offsetBy: -10)]
                result[RuleKey(family: family, table: table, chain: chain, handle: handle)] = String(text)
            }
        }
        return result
    }
}

extension JSONValue {
    var uint64: UInt64? {
        guard let n = numberValue, n >= 0, n < 1.8e19 else { return nil }
        return UInt64(n)
    }
}
