/// The narrowest firewall change that lets one dropped flow through, from the ruleset and the
/// rule (or policy) the firewall named. Never wider than the flow: deleting the rule that
/// dropped a DNAT'd SSH connection in the field "fixed" it by opening every DNAT'd port.
/// - the drop ends an allow-list (an earlier accept of the chain, or of the chain that jumped
///   here, looks the packet up in a named set and missed): add the missing element;
/// - the drop rule selects this flow and nothing wider: delete it;
/// - otherwise: an accept for exactly this flow (destination address, protocol, destination
///   port; the input interface when known) just before the drop, or at the end of the chain
///   whose policy dropped it.
/// Pure: tests feed fixture rulesets.
public enum NarrowestFix {
    /// Where the firewall dropped the packet.
    public struct Drop: Sendable, Equatable {
        public var family: String
        public var table: String
        /// Which backend's table, when both an nft and a legacy table have the name.
        public var backend: NetfilterBackend?
        public var chain: String
        /// The rule: its nft handle (nftables, iptables-nft) or its 1-based position (iptables);
        /// both nil for the chain's policy.
        public var handle: UInt64?
        public var position: Int?

        public init(family: String, table: String, backend: NetfilterBackend? = nil, chain: String, handle: UInt64? = nil,
                    position: Int? = nil) {
            self.family = family
            self.table = table
            self.backend = backend
            self.chain = chain
            self.handle = handle
            self.position = position
        }

        var isPolicy: Bool { handle == nil && position == nil }

        /// Where the static walk of a ruleset found a drop.
        init(_ drop: NetfilterDrop) {
            self.init(family: drop.family, table: drop.table, backend: drop.backend, chain: drop.chain, handle: drop.rule?.handle,
                      position: drop.backend == .nftables ? nil : drop.rule?.position)
        }
    }

    /// `packet` is the packet as the dropping chain saw it (after DNAT in forward); an unknown
    /// interface is "" and an unknown conntrack state "". Nil when the drop is not in the
    /// ruleset (it changed) or the flow has no destination to name.
    public static func fix(ruleset: Ruleset, drop: Drop, packet: ImaginedPacket) -> RuleFix? {
        guard let table = ruleset.tables.first(where: { t in
            t.family == drop.family && t.name == drop.table && (drop.backend == nil || t.backend == drop.backend)
        }), let chain = table.chain(drop.chain), packet.destination != nil || packet.isReply else { return nil }
        let index: Int?
        if drop.isPolicy {
            guard chain.isBaseChain else { return nil }
            index = nil
        } else if let handle = drop.handle, table.backend != .iptablesLegacy, let i = chain.rules.firstIndex(where: { $0.handle == handle }) {
            index = i
        } else if let position = drop.position, chain.rules.indices.contains(position - 1) {
            index = position - 1
        } else {
            return nil
        }
        let place = Place(table: table, chain: chain, index: index)
        if packet.isReply { return acceptReplies(place, packet) }
        let fix = addElement(place, packet) ?? index.flatMap { deleteRule(place, rule: chain.rules[$0], packet) } ?? insertAccept(place, packet)
        return fix.map { withReplies($0, ruleset: ruleset, place: place, packet: packet) }
    }

    /// Once the flow passes, its replies meet the firewall too: when the hook of the chain that
    /// dropped it would certainly drop them as well (a policy drop with no accept of established
    /// packets), the fix carries the accept of those replies, or it would not repair the flow.
    private static func withReplies(_ fix: RuleFix, ruleset: Ruleset, place: Place, packet: ImaginedPacket) -> RuleFix {
        guard let hook = place.chain.hook, let source = packet.source, let destination = packet.destination else { return fix }
        let reply = ImaginedPacket(source: destination, destination: source, inInterface: packet.outInterface, outInterface: packet.inInterface,
                                   ctState: "established", proto: packet.proto, destinationPort: packet.sourcePort,
                                   sourcePort: packet.destinationPort, dnat: packet.dnat, isReply: true, family: packet.family)
        guard let dropped = ForwardEvaluator.drops(in: ruleset, hook: hook, packet: reply).first(where: \.certain),
              let replies = self.fix(ruleset: ruleset, drop: Drop(dropped), packet: reply) else { return fix }
        var both = fix
        both.repliesCommand = replies.command
        both.evidence += "; its replies would then be dropped too (\(dropped.rule == nil ? "\(dropped.chain) policy" : "\(dropped.chain) rule")): \(replies.evidence)"
        return both
    }

    /// The packet's drop: a table, a chain and the rule's index there (nil: the policy).
    struct Place {
        let table: FirewallTable
        let chain: FirewallChain
        let index: Int?

        /// "inet filter allowed_dnats".
        var label: String { "\(table.family) \(table.name) \(chain.name)" }
        var backendSuffix: String { table.backend == .nftables ? "" : " (\(table.backend.rawValue))" }

        /// "handle 11: drop", "rule 3: -A allowed_dnats -j DROP", "policy drop".
        func describe(_ rule: FirewallRule?) -> String {
            guard let rule else { return "policy \(chain.policy ?? "drop")" }
            switch table.backend {
            case .nftables: return "handle \(rule.handle.map(String.init) ?? "?"): \(rule.text)"
            case .iptablesNft, .iptablesLegacy: return "rule \(rule.position): \(rule.text)"
            }
        }

        /// Where the accept goes: "just before inet filter fwd handle 3: drop".
        var placement: String {
            guard let index else { return "at the end of \(label), whose policy drop dropped it" }
            return "just before \(label) \(describe(chain.rules[index]))"
        }

        /// iptables-legacy, iptables-nft (ip6tables-* for ip6 tables): the binary that writes this table.
        var iptables: String {
            let tool = table.backend.tool(family: table.family)
            return table.name == "filter" ? tool : "\(tool) -t \(table.name)"
        }
    }

    // MARK: add the element an allow-list lookup missed

    private static func addElement(_ place: Place, _ packet: ImaginedPacket) -> RuleFix? {
        // The rules a packet met before the drop: earlier ones of this chain, nearest first, then
        // those before each jump or goto to this chain.
        var earlier: [(FirewallChain, FirewallRule)] = place.chain.rules[..<(place.index ?? place.chain.rules.count)].reversed()
            .map { (place.chain, $0) }
        for parent in place.table.chains where parent.name != place.chain.name {
            guard let jump = parent.rules.firstIndex(where: { $0.verdict == .jump(place.chain.name) || $0.verdict == .goto(place.chain.name) })
            else { continue }
            earlier += parent.rules[..<jump].reversed().map { (parent, $0) }
        }
        let sets = place.table.sets
        for (chain, rule) in earlier where rule.verdict == .accept {
            for case .setLookup(let lookup) in rule.matches where !lookup.negated {
                guard ForwardEvaluator.lookup(lookup, in: place.table.set(lookup.set), packet) == .no,
                      let set = place.table.set(lookup.set), !set.flags.contains("constant"),
                      let key = lookup.key(for: packet),
                      rule.matches.allSatisfy({ $0 == .setLookup(lookup) || ForwardEvaluator.one($0, packet, sets: sets) != .no }),
                      onlyAccepts(set: set.name, in: place.table)
                else { continue }
                let element = set.elementText(key)
                let command = set.kind == .ipset
                    ? "ipset add \(set.name) \(element)"
                    : "nft add element \(place.table.family) \(place.table.name) \(set.name) { \(element) }"
                let ruleName = place.table.backend == .nftables
                    ? "handle \(rule.handle.map(String.init) ?? "?")" : "rule \(rule.position)"
                let dropName = place.describe(place.index.map { place.chain.rules[$0] })
                return RuleFix(kind: .addSetElement, command: command, evidence:
                    "the lookup \(lookup.text) in \(place.table.family) \(place.table.name) \(chain.name) (\(ruleName), accept)"
                    + "\(place.backendSuffix) missed \(element); the packet then met \(place.label) \(dropName); "
                    + "the element lets in only packets with that key")
            }
        }
        return nil
    }

    /// Every rule of the table that looks up `set` accepts on a hit: adding an element changes
    /// nothing but what those accepts let through (a blocklist using the same set would drop more).
    private static func onlyAccepts(set: String, in table: FirewallTable) -> Bool {
        for chain in table.chains {
            for rule in chain.rules {
                for case .setLookup(let lookup) in rule.matches where lookup.set == set {
                    if lookup.negated || rule.verdict != .accept { return false }
                }
            }
        }
        return true
    }

    // MARK: delete a rule that drops this flow alone

    private static func deleteRule(_ place: Place, rule: FirewallRule, _ packet: ImaginedPacket) -> RuleFix? {
        guard rule.verdict.isDropping, let selected = selectsOnly(rule, packet) else { return nil }
        // Without the rule, would the packet pass this chain? A later drop or the policy would still stop it.
        let rest = place.chain.rules[(place.index.map { $0 + 1 } ?? place.chain.rules.count)...]
        var accepted = false
        for later in rest {
            let m = ForwardEvaluator.match(later.matches, packet, sets: place.table.sets)
            if m == .no { continue }
            if later.verdict.isDropping { return nil }
            if later.verdict == .accept, m == .yes {
                accepted = true
                break
            }
        }
        if !accepted, place.chain.isBaseChain, place.chain.policy == "drop" { return nil }
        let command: String
        if place.table.backend == .nftables, let handle = rule.handle {
            command = "nft delete rule \(place.table.family) \(place.table.name) \(place.chain.name) handle \(handle)"
        } else {
            // iptables-nft's tables are iptables-nft's to change, by the rule's own words.
            let spec = rule.text.hasPrefix("-A ") ? String(rule.text.dropFirst(3)) : "\(place.chain.name) \(rule.position)"
            command = "\(place.iptables) -D \(spec)"
        }
        return RuleFix(kind: .deleteRule, command: command, evidence:
            "\(place.label) \(place.describe(rule))\(place.backendSuffix) matches only \(selected): it drops nothing but this flow")
    }

    /// The flow the rule selects, when its matches name this packet's destination address,
    /// protocol and destination port exactly, and otherwise only narrow it further (its source
    /// address, its interfaces, a conntrack state); nil when it selects anything wider.
    static func selectsOnly(_ rule: FirewallRule, _ packet: ImaginedPacket) -> String? {
        guard let destination = packet.destination, let proto = packet.proto else { return nil }
        var hasDestination = false, hasProto = rule.impliedProtocol == proto, hasPort = packet.destinationPort == nil
        if let implied = rule.impliedProtocol, implied != proto { return nil }
        for match in rule.matches {
            switch match {
            case .destination(let p, negated: false) where p == [IPPrefix(destination)]:
                hasDestination = true
            case .source(let p, negated: false) where packet.source.map({ p == [IPPrefix($0)] }) == true:
                continue
            case .proto(let names, negated: false) where names == [proto]:
                hasProto = true
            case .destinationPort(let ranges, negated: false) where packet.destinationPort.map({ ranges == [$0...$0] }) == true:
                hasPort = true
            case .inInterface(let names, negated: false) where names == [packet.inInterface] && !names[0].hasSuffix("+") && !names[0].hasSuffix("*"):
                continue
            case .outInterface(let names, negated: false) where names == [packet.outInterface] && !names[0].hasSuffix("+") && !names[0].hasSuffix("*"):
                continue
            case .ctState(_, negated: _):
                guard ForwardEvaluator.one(match, packet, sets: []) != .no else { return nil }
            default:
                return nil
            }
        }
        guard hasDestination, hasProto, hasPort else { return nil }
        return flowText(packet)
    }

    // MARK: an accept for this flow alone

    private static func insertAccept(_ place: Place, _ packet: ImaginedPacket) -> RuleFix? {
        guard let destination = packet.destination, let words = matchWords(packet, destination, packet.destinationPort, side: "d"),
              let command = acceptCommand(place, nft: words.nft + ["accept"], iptables: words.iptables + ["-j ACCEPT"]) else { return nil }
        return RuleFix(kind: .insertAccept, command: command, evidence:
            "an accept for \(flowText(packet)) only, \(place.placement)\(place.backendSuffix); no allow-list lookup before it missed this flow")
    }

    /// The matches of an accept, in nft's and iptables' words: the input interface when known,
    /// the address and the port on one side (`side` "d": destination, "s": source), the protocol.
    private static func matchWords(_ packet: ImaginedPacket, _ address: IPAddress, _ port: Int?, side: String)
        -> (nft: [String], iptables: [String])? {
        let v6 = address.family == .v6
        var nft: [String] = [], iptables = ["-\(side)", "\(address)/\(v6 ? 128 : 32)"]
        if !packet.inInterface.isEmpty {
            nft.append("iifname \(nftString(packet.inInterface))")
            iptables += ["-i", IptablesSave.shellQuoted(packet.inInterface)]
        }
        nft.append("\(v6 ? "ip6" : "ip") \(side)addr \(address)")
        guard let proto = packet.proto else { return (nft, iptables) }
        iptables += ["-p", proto]
        if let port, ported(proto) {
            nft.append("\(proto) \(side)port \(port)")
            iptables += ["-m", proto, "--\(side)port", "\(port)"]
        } else {
            nft.append("meta l4proto \(proto)")
        }
        return (nft, iptables)
    }

    /// The accept `nft`/`iptables` (rule words, verdict included) placed just before the drop,
    /// or at the end of the chain whose policy dropped.
    private static func acceptCommand(_ place: Place, nft: [String], iptables: [String]) -> String? {
        let rule = place.index.map { place.chain.rules[$0] }
        switch place.table.backend {
        case .nftables:
            let spec = nft.joined(separator: " ")
            let where_ = "\(place.table.family) \(place.table.name) \(place.chain.name)"
            guard let rule else { return "nft add rule \(where_) \(spec)" }
            return rule.handle.map { "nft insert rule \(where_) position \($0) \(spec)" }
        case .iptablesNft, .iptablesLegacy:
            let spec = iptables.joined(separator: " ")
            return rule.map { "\(place.iptables) -I \(place.chain.name) \($0.position) \(spec)" } ?? "\(place.iptables) -A \(place.chain.name) \(spec)"
        }
    }

    private static func ported(_ proto: String) -> Bool { ["tcp", "udp", "sctp", "dccp"].contains(proto) }

    // MARK: an accept for the replies of one service's flows

    /// A reply dropped: an accept for established packets from the flow's destination (address,
    /// protocol, port as the reply's source), so the next connection's replies pass too; the
    /// client's ephemeral port is never pinned.
    private static func acceptReplies(_ place: Place, _ packet: ImaginedPacket) -> RuleFix? {
        guard let source = packet.source, let proto = packet.proto, !ported(proto) || packet.sourcePort != nil,
              let words = matchWords(packet, source, packet.sourcePort, side: "s"),
              let command = acceptCommand(place, nft: words.nft + ["ct state established accept"],
                                          iptables: words.iptables + ["-m conntrack --ctstate ESTABLISHED -j ACCEPT"]) else { return nil }
        let service = "\(proto) from \(source)" + (packet.sourcePort.map { " port \($0)" } ?? "")
            + (packet.inInterface.isEmpty ? "" : " in on \(packet.inInterface)")
        return RuleFix(kind: .acceptReplies, command: command, evidence:
            "a reply was dropped: an accept for the established replies of \(service) only, \(place.placement)\(place.backendSuffix); "
            + "no new connection passes it")
    }

    /// "tcp to 172.17.0.2 port 22 (in on uplink0)".
    static func flowText(_ packet: ImaginedPacket) -> String {
        var text = "\(packet.proto ?? "ip") to \(packet.destination.map { "\($0)" } ?? "?")"
        if let port = packet.destinationPort { text += " port \(port)" }
        if !packet.inInterface.isEmpty { text += " in on \(packet.inInterface)" }
        return text
    }

    /// An interface name as nft takes it, quoted.
    private static func nftString(_ s: String) -> String {
        "\"" + s.replacingAll("\\", with: "\\\\").replacingAll("\"", with: "\\\"") + "\""
    }
}

extension ImaginedPacket {
    /// A packet the firewall traced: its tuple (TCP/UDP ports, the ICMP protocol), the devices
    /// when known ("" when not), the conntrack state unknown.
    public init(tuple: FlowTuple, inInterface: String = "", outInterface: String = "") {
        var sourcePort: Int?
        var destinationPort: Int?
        if case .ports(let s, let d) = tuple.transport {
            sourcePort = Int(s)
            destinationPort = Int(d)
        }
        self.init(source: tuple.source, destination: tuple.destination, inInterface: inInterface, outInterface: outInterface,
                  ctState: "", proto: tuple.proto.name, destinationPort: destinationPort, sourcePort: sourcePort)
    }
}
