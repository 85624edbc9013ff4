import Foundation
import Testing
@testable import TracerCore

/// The narrowest fix for a dropped flow, on rulesets captured from real namespaces
/// (`allowlist.*`: the field example of ingress.md, with nft, and with iptables-legacy and an
/// ipset of the same shape) and on small hand-written ones.
@Suite struct NarrowestFixTests {
    /// The client's SYN to the published port, as the forward hook sees it after DNAT.
    let ssh = ImaginedPacket(tuple: FlowTuple(proto: .tcp, source: "198.51.100.1", destination: "172.17.0.2",
                                              sourcePort: 53658, destinationPort: 22))

    func fieldExample() throws -> Ruleset {
        let json = try FixtureFiles.text("netfilter/allowlist.json")
        let text = try FixtureFiles.text("netfilter/allowlist.nft")
        return try #require(NftJSONRuleset.parse(json: Array(json.utf8), text: text))
    }

    func legacyExample(backend: NetfilterBackend = .iptablesLegacy) throws -> Ruleset {
        let ipsets = IpsetSave.parse(try FixtureFiles.text("netfilter/allowlist.ipset"))
        return Ruleset(tables: IptablesSave.parse(try FixtureFiles.text("netfilter/allowlist.iptables-save"), backend: backend, ipsets: ipsets))
    }

    /// A ruleset of one inet table `t` from nft JSON items.
    func nft(_ items: String) throws -> Ruleset {
        let json = #"{"nftables": [{"table": {"family": "inet", "name": "t", "handle": 1}}, "# + items + "]}"
        return try #require(NftJSONRuleset.parse(json: Array(json.utf8)))
    }

    static let forwardChain = #"{"chain": {"family": "inet", "table": "t", "name": "fwd", "handle": 1, "type": "filter", "hook": "forward", "prio": 0, "policy": "accept"}}"#
    static func rule(_ handle: Int, _ expr: String, chain: String = "fwd") -> String {
        #"{"rule": {"family": "inet", "table": "t", "chain": ""# + chain + #"", "handle": "# + String(handle) + #", "expr": ["# + expr + "]}}"
    }
    static let ipDaddr172 = #"{"match": {"op": "==", "left": {"payload": {"protocol": "ip", "field": "daddr"}}, "right": "172.17.0.2"}}"#
    static let tcpDport22 = #"{"match": {"op": "==", "left": {"payload": {"protocol": "tcp", "field": "dport"}}, "right": 22}}"#

    // MARK: the field example

    @Test func theFieldExampleReadsTheSetAndTheConcatenatedLookup() throws {
        let table = try #require(try fieldExample().table(family: "inet", name: "filter"))
        let set = try #require(table.set("allow_in"))
        #expect(set.kind == .nftables && set.type == ["ipv4_addr", "inet_service"])
        #expect(set.elements == [[.prefix("172.17.0.3/32"), .ports(22...22, protocol: nil)]])
        let lookup = try #require(table.chain("allowed_dnats")?.rules.first)
        #expect(lookup.matches == [.setLookup(SetLookup(selectors: [.destinationAddress, .destinationPort(protocol: "tcp")], set: "allow_in",
                                                          negated: false))])
        #expect(lookup.impliedProtocol == "tcp" && lookup.verdict == .accept)
        #expect(lookup.text == "ip daddr . tcp dport @allow_in accept")
    }

    @Test func theFieldExampleGetsTheMissingElementNotTheDropsDeletion() throws {
        let fix = try #require(NarrowestFix.fix(ruleset: try fieldExample(),
                                                drop: .init(family: "inet", table: "filter", backend: .nftables, chain: "allowed_dnats", handle: 7),
                                                packet: ssh))
        #expect(fix.kind == .addSetElement)
        #expect(fix.command == "nft add element inet filter allow_in { 172.17.0.2 . 22 }")
        #expect(fix.evidence.contains("the lookup ip daddr . tcp dport @allow_in in inet filter allowed_dnats (handle 6, accept) missed 172.17.0.2 . 22"))
        #expect(fix.evidence.contains("inet filter allowed_dnats handle 7: drop"))
        #expect(!fix.command.contains("delete"))
    }

    @Test func aFlowTheSetCannotHoldGetsAnAcceptForItselfBeforeTheDrop() throws {
        // UDP to port 22: `tcp dport` never matches it, whatever allow_in holds.
        let udp = ImaginedPacket(tuple: FlowTuple(proto: .udp, source: "198.51.100.1", destination: "172.17.0.2",
                                                  sourcePort: 40000, destinationPort: 22))
        let fix = try #require(NarrowestFix.fix(ruleset: try fieldExample(),
                                                drop: .init(family: "inet", table: "filter", chain: "allowed_dnats", handle: 7), packet: udp))
        #expect(fix.kind == .insertAccept)
        #expect(fix.command == "nft insert rule inet filter allowed_dnats position 7 ip daddr 172.17.0.2 udp dport 22 accept")
        #expect(fix.evidence.contains("udp to 172.17.0.2 port 22 only") && fix.evidence.contains("just before inet filter allowed_dnats handle 7: drop"))
    }

    @Test func theLegacyShapeGetsTheIpsetElement() throws {
        let ruleset = try legacyExample()
        let table = try #require(ruleset.table(family: "ip", name: "filter"))
        // Only the set the rules name comes with the table.
        #expect(table.sets.map(\.name) == ["allow_in"])
        let lookup = try #require(table.chain("allowed_dnats")?.rules.first)
        #expect(lookup.matches == [.setLookup(SetLookup(selectors: [.destinationAddress, .destinationPort(protocol: nil)], set: "allow_in",
                                                          negated: false, ipsetFlags: "dst,dst"))])
        let fix = try #require(NarrowestFix.fix(ruleset: ruleset, drop: .init(family: "ip", table: "filter", backend: .iptablesLegacy,
                                                                               chain: "allowed_dnats", position: 2), packet: ssh))
        #expect(fix.kind == .addSetElement)
        #expect(fix.command == "ipset add allow_in 172.17.0.2,tcp:22")
        #expect(fix.evidence.contains("the lookup -m set --match-set allow_in dst,dst in ip filter allowed_dnats (rule 1, accept) (iptables-legacy) missed 172.17.0.2,tcp:22"))
        // The counters name the rule by position (the legacy path): the same fix.
        let growth = CounterGrowth(table: "filter", chain: "allowed_dnats", rule: table.chain("allowed_dnats")?.rules[1], policy: nil, packets: 1, bytes: 60)
        #expect(NarrowestFix.fix(ruleset: ruleset, drop: growth.drop, packet: ssh) == fix)
    }

    @Test func theIptablesNftShapeGetsTheIpsetElementToo() throws {
        let fix = try #require(NarrowestFix.fix(ruleset: try legacyExample(backend: .iptablesNft),
                                                drop: .init(family: "ip", table: "filter", chain: "allowed_dnats", position: 2), packet: ssh))
        #expect(fix.command == "ipset add allow_in 172.17.0.2,tcp:22")
        #expect(fix.evidence.contains("(iptables-nft)"))
    }

    // MARK: an accept for the flow, or the rule's deletion

    /// A FORWARD policy drop would drop the flow's replies too once the flow passes: the fix
    /// accepts the replies as well (established, from the flow's destination), in the same
    /// family's tool; with an accept of established packets before the policy, the flow's own
    /// accept is enough.
    @Test func aPolicyDropsFixAcceptsTheRepliesItWouldDropNext() throws {
        let echo = ImaginedPacket(tuple: FlowTuple(proto: .icmpv6, source: "fd00:17::2", destination: "2001:db8:ffff::10", transport: .icmpEcho(id: 7)))
        func ruleset(_ rules: String) -> Ruleset {
            Ruleset(tables: IptablesSave.parse("*filter\n:INPUT ACCEPT [0:0]\n:FORWARD DROP [0:0]\n:OUTPUT ACCEPT [0:0]\n\(rules)COMMIT\n",
                                               backend: .iptablesLegacy, family: "ip6"))
        }
        let drop = NarrowestFix.Drop(family: "ip6", table: "filter", backend: .iptablesLegacy, chain: "FORWARD")
        let fix = try #require(NarrowestFix.fix(ruleset: ruleset(""), drop: drop, packet: echo))
        #expect(fix.command == "ip6tables-legacy -A FORWARD -d 2001:db8:ffff::10/128 -p icmpv6 -j ACCEPT")
        #expect(fix.repliesCommand == "ip6tables-legacy -A FORWARD -s 2001:db8:ffff::10/128 -p icmpv6 -m conntrack --ctstate ESTABLISHED -j ACCEPT")
        #expect(fix.commands(in: NamespaceCommand(path: "/run/netns/h", isRoot: false))
                == "nsenter --net=/run/netns/h \(fix.command) && nsenter --net=/run/netns/h \(fix.repliesCommand ?? "")")
        let established = "-A FORWARD -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT\n"
        let alone = try #require(NarrowestFix.fix(ruleset: ruleset(established), drop: drop, packet: echo))
        #expect(alone.repliesCommand == nil && alone.command == fix.command)
    }

    @Test func aRuleDropOfIptablesGetsAnAcceptWithTheExactBinary() throws {
        let save = """
            *filter
            :FORWARD ACCEPT [0:0]
            -A FORWARD -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT
            -A FORWARD -d 172.17.0.0/16 -j DROP
            COMMIT
            *raw
            :PREROUTING ACCEPT [0:0]
            -A PREROUTING -d 172.17.0.2/32 ! -i br-lab -j DROP
            COMMIT
            """
        for (backend, tool) in [(NetfilterBackend.iptablesLegacy, "iptables-legacy"), (.iptablesNft, "iptables-nft")] {
            let ruleset = Ruleset(tables: IptablesSave.parse(save, backend: backend))
            let forward = try #require(NarrowestFix.fix(ruleset: ruleset, drop: .init(family: "ip", table: "filter", chain: "FORWARD", position: 2),
                                                        packet: ssh))
            #expect(forward.kind == .insertAccept)
            #expect(forward.command == "\(tool) -I FORWARD 2 -d 172.17.0.2/32 -p tcp -m tcp --dport 22 -j ACCEPT")
            // Docker 28's raw drop: the table is named, the input interface is kept when known.
            var fromUplink = ssh
            fromUplink.inInterface = "uplink0"
            let raw = try #require(NarrowestFix.fix(ruleset: ruleset, drop: .init(family: "ip", table: "raw", chain: "PREROUTING", position: 1),
                                                    packet: fromUplink))
            #expect(raw.command == "\(tool) -t raw -I PREROUTING 1 -d 172.17.0.2/32 -i uplink0 -p tcp -m tcp --dport 22 -j ACCEPT")
        }
    }

    @Test func aPolicyDropGetsAnAcceptAtTheEndOfItsChain() throws {
        let ruleset = try nft(#"{"chain": {"family": "inet", "table": "t", "name": "fwd", "handle": 1, "type": "filter", "hook": "forward", "prio": 0, "policy": "drop"}}, "#
                              + Self.rule(2, #"{"match": {"op": "==", "left": {"meta": {"key": "iifname"}}, "right": "br-lab"}}, {"accept": null}"#))
        var packet = ssh
        packet.inInterface = "uplink0"
        let fix = try #require(NarrowestFix.fix(ruleset: ruleset, drop: .init(family: "inet", table: "t", chain: "fwd"), packet: packet))
        #expect(fix.kind == .insertAccept)
        #expect(fix.command == #"nft add rule inet t fwd iifname "uplink0" ip daddr 172.17.0.2 tcp dport 22 accept"#)
        #expect(fix.evidence.contains("at the end of inet t fwd, whose policy drop dropped it"))
        let legacy = Ruleset(tables: IptablesSave.parse("*filter\n:FORWARD DROP [3:180]\nCOMMIT\n", backend: .iptablesLegacy))
        #expect(NarrowestFix.fix(ruleset: legacy, drop: .init(family: "ip", table: "filter", chain: "FORWARD"), packet: ssh)?.command
                == "iptables-legacy -A FORWARD -d 172.17.0.2/32 -p tcp -m tcp --dport 22 -j ACCEPT")
    }

    @Test func aDropOfThisFlowAloneIsDeletedAndSaysSo() throws {
        let ruleset = try nft(Self.forwardChain + ", " + Self.rule(3, Self.ipDaddr172 + ", " + Self.tcpDport22 + #", {"drop": null}"#))
        let fix = try #require(NarrowestFix.fix(ruleset: ruleset, drop: .init(family: "inet", table: "t", chain: "fwd", handle: 3), packet: ssh))
        #expect(fix.kind == .deleteRule)
        #expect(fix.command == "nft delete rule inet t fwd handle 3")
        #expect(fix.evidence.contains("matches only tcp to 172.17.0.2 port 22: it drops nothing but this flow"))
        // iptables: deleted by its own words.
        let legacy = Ruleset(tables: IptablesSave.parse("*filter\n:FORWARD ACCEPT [0:0]\n-A FORWARD -d 172.17.0.2/32 -p tcp -m tcp --dport 22 -j DROP\nCOMMIT\n",
                                                        backend: .iptablesLegacy))
        let legacyFix = try #require(NarrowestFix.fix(ruleset: legacy, drop: .init(family: "ip", table: "filter", chain: "FORWARD", position: 1), packet: ssh))
        #expect(legacyFix.kind == .deleteRule)
        #expect(legacyFix.command == "iptables-legacy -D FORWARD -d 172.17.0.2/32 -p tcp -m tcp --dport 22 -j DROP")
    }

    @Test func aWiderDropIsNeverDeleted() throws {
        // Every port of the address; every address's port 22; the flow's drop with a drop policy behind it.
        let wider = [Self.ipDaddr172, Self.tcpDport22]
        for match in wider {
            let ruleset = try nft(Self.forwardChain + ", " + Self.rule(3, match + #", {"drop": null}"#))
            let fix = try #require(NarrowestFix.fix(ruleset: ruleset, drop: .init(family: "inet", table: "t", chain: "fwd", handle: 3), packet: ssh))
            #expect(fix.kind == .insertAccept)
            #expect(fix.command == "nft insert rule inet t fwd position 3 ip daddr 172.17.0.2 tcp dport 22 accept")
        }
        let behindPolicy = try nft(#"{"chain": {"family": "inet", "table": "t", "name": "fwd", "handle": 1, "type": "filter", "hook": "forward", "prio": 0, "policy": "drop"}}, "#
                                   + Self.rule(3, Self.ipDaddr172 + ", " + Self.tcpDport22 + #", {"drop": null}"#))
        #expect(NarrowestFix.fix(ruleset: behindPolicy, drop: .init(family: "inet", table: "t", chain: "fwd", handle: 3), packet: ssh)?.kind == .insertAccept)
    }

    @Test func aDroppedReplyGetsAnAcceptForTheServicesRepliesNeverTheClientsPort() throws {
        // c1's SYN-ACK to the client, dropped by DOCKER-USER's last rule: the next connection
        // comes from another ephemeral port, so the fix keys on c1's side and conntrack's state.
        var reply = ImaginedPacket(tuple: FlowTuple(proto: .tcp, source: "172.17.0.2", destination: "198.51.100.1",
                                                    sourcePort: 22, destinationPort: 53658), inInterface: "br-lab")
        reply.isReply = true
        let save = "*filter\n:FORWARD ACCEPT [0:0]\n:DOCKER-USER - [0:0]\n-A FORWARD -j DOCKER-USER\n"
            + "-A DOCKER-USER -d 172.17.0.2/32 -p tcp -m tcp --dport 22 -j RETURN\n-A DOCKER-USER -j DROP\nCOMMIT\n"
        let ruleset = Ruleset(tables: IptablesSave.parse(save, backend: .iptablesNft))
        let fix = try #require(NarrowestFix.fix(ruleset: ruleset, drop: .init(family: "ip", table: "filter", chain: "DOCKER-USER", position: 2),
                                                packet: reply))
        #expect(fix.kind == .acceptReplies)
        #expect(fix.command == "iptables-nft -I DOCKER-USER 2 -s 172.17.0.2/32 -i br-lab -p tcp -m tcp --sport 22 -m conntrack --ctstate ESTABLISHED -j ACCEPT")
        #expect(!fix.command.contains("53658"))
        let nftRules = try nft(Self.forwardChain + ", " + Self.rule(3, #"{"drop": null}"#))
        let nftFix = try #require(NarrowestFix.fix(ruleset: nftRules, drop: .init(family: "inet", table: "t", chain: "fwd", handle: 3), packet: reply))
        #expect(nftFix.command == #"nft insert rule inet t fwd position 3 iifname "br-lab" ip saddr 172.17.0.2 tcp sport 22 ct state established accept"#)
        // The static check's reply knows no client: the same fix.
        let imagined = ImaginedPacket(source: "172.17.0.2", destination: nil, inInterface: "br-lab", outInterface: "uplink0", ctState: "established",
                                      proto: "tcp", sourcePort: 22, dnat: true, isReply: true)
        #expect(NarrowestFix.fix(ruleset: ruleset, drop: .init(family: "ip", table: "filter", chain: "DOCKER-USER", position: 2), packet: imagined) == fix)
    }

    @Test func aSetThatAlsoBlocksIsNotGrown() throws {
        // allow_in is also a blocklist elsewhere: adding to it would drop more, so the flow gets its own accept.
        let set = #"{"set": {"family": "inet", "name": "allow_in", "table": "t", "type": ["ipv4_addr", "inet_service"], "handle": 9, "elem": [{"concat": ["172.17.0.3", 22]}]}}"#
        let lookup = #"{"match": {"op": "==", "left": {"concat": [{"payload": {"protocol": "ip", "field": "daddr"}}, {"payload": {"protocol": "tcp", "field": "dport"}}]}, "right": "@allow_in"}}"#
        let base = set + ", " + Self.forwardChain + ", " + Self.rule(2, lookup + #", {"accept": null}"#) + ", " + Self.rule(3, #"{"drop": null}"#)
        let allowList = try nft(base)
        #expect(NarrowestFix.fix(ruleset: allowList, drop: .init(family: "inet", table: "t", chain: "fwd", handle: 3), packet: ssh)?.kind == .addSetElement)
        let alsoBlocks = try nft(base + #", {"chain": {"family": "inet", "table": "t", "name": "out", "handle": 4, "type": "filter", "hook": "output", "prio": 0, "policy": "accept"}}, "#
                                 + Self.rule(5, lookup + #", {"drop": null}"#, chain: "out"))
        #expect(NarrowestFix.fix(ruleset: alsoBlocks, drop: .init(family: "inet", table: "t", chain: "fwd", handle: 3), packet: ssh)?.kind == .insertAccept)
    }

    @Test func aKeyOnTheClientsPortIsNoFix() throws {
        // An element keyed on the ephemeral source port would let this connection alone through.
        let set = #"{"set": {"family": "inet", "name": "pairs", "table": "t", "type": ["ipv4_addr", "inet_service"], "handle": 9, "elem": []}}"#
        let lookup = #"{"match": {"op": "==", "left": {"concat": [{"payload": {"protocol": "ip", "field": "daddr"}}, {"payload": {"protocol": "tcp", "field": "sport"}}]}, "right": "@pairs"}}"#
        let ruleset = try nft(set + ", " + Self.forwardChain + ", " + Self.rule(2, lookup + #", {"accept": null}"#) + ", " + Self.rule(3, #"{"drop": null}"#))
        #expect(NarrowestFix.fix(ruleset: ruleset, drop: .init(family: "inet", table: "t", chain: "fwd", handle: 3), packet: ssh)?.kind == .insertAccept)
    }

    @Test func aLegacyDropIsFixedForThePacketOfTheFlowsDirection() throws {
        // Counters give no packet: the flow's direction says which one the forward hook saw.
        var flow = FlowKey(endpointAddress: "172.17.0.2", remoteAddress: "198.51.100.1", endpointPort: 22, remotePort: 53658, proto: 6,
                           direction: .inbound)
        let inbound = ImaginedPacket(tuple: flow.tuple)
        #expect(inbound.source == "198.51.100.1" && inbound.destination == "172.17.0.2" && inbound.destinationPort == 22 && inbound.proto == "tcp")
        flow.direction = .egress
        let egress = ImaginedPacket(tuple: flow.tuple)
        #expect(egress.source == "172.17.0.2" && egress.destination == "198.51.100.1" && egress.destinationPort == 53658)
        let drop = NarrowestFix.Drop(family: "ip", table: "filter", backend: .iptablesLegacy, chain: "allowed_dnats", position: 2)
        #expect(NarrowestFix.fix(ruleset: try legacyExample(), drop: drop, packet: inbound)?.command == "ipset add allow_in 172.17.0.2,tcp:22")
    }

    @Test func aDropNoLongerInTheRulesetHasNoFix() throws {
        let ruleset = try fieldExample()
        #expect(NarrowestFix.fix(ruleset: ruleset, drop: .init(family: "inet", table: "filter", chain: "allowed_dnats", handle: 99), packet: ssh) == nil)
        #expect(NarrowestFix.fix(ruleset: ruleset, drop: .init(family: "inet", table: "gone", chain: "allowed_dnats", handle: 7), packet: ssh) == nil)
        // A policy of a chain that has none (not a base chain).
        #expect(NarrowestFix.fix(ruleset: ruleset, drop: .init(family: "inet", table: "filter", chain: "allowed_dnats"), packet: ssh) == nil)
    }

    // MARK: set lookups in the evaluator and the parsers

    @Test func lookupsAreYesNoOrMaybe() throws {
        let table = try #require(try fieldExample().table(family: "inet", name: "filter"))
        let lookup = SetLookup(selectors: [.destinationAddress, .destinationPort(protocol: "tcp")], set: "allow_in", negated: false)
        func eval(_ packet: ImaginedPacket, _ l: SetLookup = lookup) -> ForwardEvaluator.Tri { ForwardEvaluator.lookup(l, in: table.set(l.set), packet) }
        let member = ImaginedPacket(tuple: FlowTuple(proto: .tcp, source: "198.51.100.1", destination: "172.17.0.3", sourcePort: 1, destinationPort: 22))
        #expect(eval(member) == .yes)
        #expect(eval(ssh) == .no)
        var unknownPort = member
        unknownPort.destinationPort = nil
        #expect(eval(unknownPort) == .maybe)
        #expect(eval(member, SetLookup(selectors: lookup.selectors, set: "allow_in", negated: true)) == .no)
        // A set that could not be read: maybe.
        #expect(eval(member, SetLookup(selectors: lookup.selectors, set: "missing", negated: false)) == .maybe)
    }

    @Test func ipsetSaveElementsAreTyped() {
        let sets = IpsetSave.parse("""
            create a hash:ip,port family inet hashsize 1024 maxelem 65536
            add a 172.17.0.3,tcp:22
            add a 172.17.0.4,udp:1000-2000
            create n hash:net,iface family inet
            add n 10.0.0.0/8,physdev:eth0
            create m hash:ip,mark family inet
            add m 10.0.0.1,0x00000001
            """)
        #expect(sets["a"]?.type == ["ip", "port"] && sets["a"]?.flags == ["hash"])
        #expect(sets["a"]?.elements == [[.prefix("172.17.0.3/32"), .ports(22...22, protocol: "tcp")],
                                        [.prefix("172.17.0.4/32"), .ports(1000...2000, protocol: "udp")]])
        #expect(sets["n"]?.elements == [[.prefix("10.0.0.0/8"), .name("eth0")]])
        // A mark is not read: the element may match anything.
        #expect(sets["m"]?.elements == [nil])
        #expect(IpsetSave.selectors(flags: "src,dst", set: sets["n"]) == [.sourceAddress, .outInterface])
        #expect(IpsetSave.selectors(flags: "dst,dst", set: nil) == [.other("dst"), .other("dst")])
    }

    @Test func nftSetElementsWithRangesPrefixesAndTimeouts() throws {
        let ruleset = try nft(#"{"set": {"family": "inet", "name": "nets", "table": "t", "type": "ipv4_addr", "handle": 4, "flags": ["interval"], "elem": [{"prefix": {"addr": "10.0.0.0", "len": 8}}, {"range": ["192.0.2.1", "192.0.2.9"]}, {"elem": {"val": "198.51.100.7", "timeout": 60}}]}}"#)
        let set = try #require(ruleset.table(family: "inet", name: "t")?.set("nets"))
        #expect(set.flags == ["interval"])
        #expect(set.elements == [[.prefix("10.0.0.0/8")], [.addressRange("192.0.2.1", "192.0.2.9")], [.prefix("198.51.100.7/32")]])
        let lookup = SetLookup(selectors: [.sourceAddress], set: "nets", negated: true)
        func source(_ a: IPAddress) -> ImaginedPacket { ImaginedPacket(source: a, destination: nil, inInterface: "", outInterface: "", ctState: "new") }
        #expect(ForwardEvaluator.lookup(lookup, in: set, source("192.0.2.5")) == .no)
        #expect(ForwardEvaluator.lookup(lookup, in: set, source("192.0.2.10")) == .yes)
    }
}
