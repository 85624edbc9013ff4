import Testing
@testable import TracerCore

/// The firewall checks for IPv6 packets, on rules as ip6tables-save and nft print them: one
/// evaluator, the packet's family deciding which tables it passes and which matches can hold it.
struct IPv6NetfilterTests {
    let path = EgressChecksTests.path
    let ipv6 = NetfilterInspector.IPv6Egress(addresses: ["fd00:17::2/64"], uplink: "eth0")

    /// `ip6tables-nft-save -c` of a host with Docker 27's IPv6 FORWARD policy and its NAT66.
    static let dockerSave = """
        *filter
        :INPUT ACCEPT [0:0]
        :FORWARD DROP [3:240]
        :OUTPUT ACCEPT [0:0]
        [0:0] -A FORWARD -o docker0 -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT
        COMMIT
        *nat
        :POSTROUTING ACCEPT [0:0]
        [0:0] -A POSTROUTING -s fd00:17::/64 ! -o docker0 -j MASQUERADE
        COMMIT
        """

    func reading(_ tables: [FirewallTable]) -> RulesetReading { RulesetReading(ruleset: Ruleset(tables: tables), unchecked: []) }

    @Test func ip6tablesSaveReadsIPv6AddressesAndICMPv6Types() {
        let rule = IptablesSave.parseRule(["-s", "fd00:17::/64", "-p", "ipv6-icmp", "-m", "icmp6", "--icmpv6-type", "135", "-j", "DROP"], family: .v6)
        #expect(rule.matches == [.source(["fd00:17::/64"], negated: false), .proto(["ipv6-icmp"], negated: false),
                                 .icmpv6Type([.neighbourSolicitation], negated: false)])
        // An IPv6 prefix is no IPv4 rule's, and the other way round.
        #expect(IptablesSave.parseRule(["-s", "fd00:17::/64", "-j", "DROP"]).matches == [.other("-s fd00:17::/64")])
        #expect(ICMPv6Type(name: "neighbour-solicitation") == .neighbourSolicitation && ICMPv6Type(name: "2/0") == .packetTooBig)
        #expect(ICMPv6Type.packetTooBig.description == "packet-too-big" && ICMPv6Type.neighbourAdvertisement.description == "nd-neighbor-advert")
    }

    @Test func theIPv6PolicyDropsTheIPv6EgressAndNotTheIPv4One() throws {
        let tables = IptablesSave.parse(Self.dockerSave, backend: .iptablesNft, family: "ip6")
        let report = NetfilterInspector.inspect(path: path, reading: reading(tables), ipv6: ipv6)
        let drop = try #require(report.findings.first { $0.code == .forwardPolicyDrop })
        #expect(drop.family == .v6 && drop.severity == .error && drop.stops == .egress)
        #expect(drop.message.hasPrefix("ip6 filter FORWARD policy drop (iptables-nft) drops egress fd00:17::2 -> the IPv6 internet (docker0 -> eth0)"))
        #expect(drop.fix == "ip6tables-nft -t filter -P FORWARD ACCEPT")
        // The replies are accepted (established); the NAT66 covers the ULA: nothing else, and no IPv4 finding.
        #expect(report.findings.filter { $0.severity == .error && $0.family == .v6 }.count == 1, "\(report.findings)")
        #expect(!report.findings.contains { $0.family == .v4 && $0.code != .masqueradeMissing })
    }

    @Test func nftIP6AndInetRulesHoldOnlyTheirFamily() throws {
        let json = """
            {"nftables": [{"table": {"family": "inet", "name": "f", "handle": 1}},
             {"chain": {"family": "inet", "table": "f", "name": "fwd", "handle": 1, "type": "filter", "hook": "forward", "prio": 0, "policy": "accept"}},
             {"rule": {"family": "inet", "table": "f", "chain": "fwd", "handle": 2, "expr": [
               {"match": {"op": "==", "left": {"payload": {"protocol": "ip", "field": "saddr"}}, "right": {"prefix": {"addr": "172.17.0.0", "len": 16}}}}, {"drop": null}]}},
             {"rule": {"family": "inet", "table": "f", "chain": "fwd", "handle": 3, "expr": [
               {"match": {"op": "==", "left": {"payload": {"protocol": "ip6", "field": "hoplimit"}}, "right": 1}}, {"drop": null}]}},
             {"rule": {"family": "inet", "table": "f", "chain": "fwd", "handle": 4, "expr": [
               {"match": {"op": "==", "left": {"payload": {"protocol": "icmpv6", "field": "type"}}, "right": {"set": ["packet-too-big", "nd-neighbor-solicit"]}}}, {"drop": null}]}},
             {"rule": {"family": "inet", "table": "f", "chain": "fwd", "handle": 5, "expr": [
               {"match": {"op": "==", "left": {"payload": {"protocol": "ip6", "field": "saddr"}}, "right": {"prefix": {"addr": "fd00:17::", "len": 64}}}},
               {"match": {"op": "==", "left": {"meta": {"key": "oifname"}}, "right": "eth0"}}, {"drop": null}]}}]}
            """
        let ruleset = try #require(NftJSONRuleset.parse(json: Array(json.utf8)))
        let rules = try #require(ruleset.table(family: "inet", name: "f")?.chain("fwd")?.rules)
        #expect(rules[1].matches == [.family(.v6), .other("ip6 hoplimit")])
        #expect(rules[2].matches == [.family(.v6), .proto(["ipv6-icmp"], negated: false), .icmpv6Type([.packetTooBig, .neighbourSolicitation], negated: false)])
        #expect(rules[3].matches.first == .source(["fd00:17::/64"], negated: false))
        let six = ImaginedPacket(source: IPAddress("fd00:17::2"), destination: nil, inInterface: "docker0", outInterface: "eth0", ctState: "new")
        #expect(six.family == .v6)
        let drops = ForwardEvaluator.drops(in: ruleset, hook: "forward", packet: six)
        // The IPv4 rule never holds it; the hop limit may; the ICMPv6 errors and discovery are never the flow's; handle 5 holds it.
        #expect(drops.map { $0.rule?.handle } == [3, 5] && drops.last?.certain == true, "\(drops)")
        let four = ImaginedPacket(source: .v4(0xAC11_0002), destination: nil, inInterface: "docker0", outInterface: "eth0", ctState: "new")
        #expect(ForwardEvaluator.drops(in: ruleset, hook: "forward", packet: four).map { $0.rule?.handle } == [2])
        let report = NetfilterInspector.inspect(path: path, reading: RulesetReading(ruleset: ruleset, unchecked: []), ipv6: ipv6)
        let rule = try #require(report.findings.first { $0.code == .forwardRuleDrop && $0.family == .v6 && $0.severity == .error })
        #expect(rule.fix == "nft delete rule inet f fwd handle 5")
    }

    @Test func aULALeavingWithoutNAT66IsMasqueradeMissingAndAGlobalPrefixNeedsNone() throws {
        let report = NetfilterInspector.inspect(path: path, reading: reading([]), ipv6: ipv6)
        let missing = try #require(report.findings.first { $0.code == .masqueradeMissing && $0.family == .v6 })
        #expect(missing.fix == "ip6tables-nft -t nat -A POSTROUTING -s fd00:17::/64 -o eth0 -j MASQUERADE")
        #expect(missing.message.contains("unique local"))
        #expect(report.findings.contains { $0.code == .masqueradeMissing && $0.family == .v4 })
        let global = NetfilterInspector.IPv6Egress(addresses: ["2001:db8:1::2/64"], uplink: "eth0")
        #expect(!NetfilterInspector.inspect(path: path, reading: reading([]), ipv6: global).findings.contains { $0.family == .v6 })
        // Legacy alone: the fix is in its backend.
        let legacy = IptablesSave.parse("*filter\n:FORWARD ACCEPT [0:0]\nCOMMIT\n", backend: .iptablesLegacy, family: "ip6")
        let fix = NetfilterInspector.inspect(path: path, reading: reading(legacy), ipv6: ipv6).findings
            .first { $0.code == .masqueradeMissing && $0.family == .v6 }?.fix
        #expect(fix == "ip6tables-legacy -t nat -A POSTROUTING -s fd00:17::/64 -o eth0 -j MASQUERADE")
        // A native nft nat chain and no ip6tables table: the rule goes there, in nft's terms.
        let nat = FirewallTable(family: "inet", name: "nat", backend: .nftables,
                                chains: [FirewallChain(name: "postrouting", hook: "postrouting", type: "nat", priority: 100, policy: "accept")])
        let nft = NetfilterInspector.inspect(path: path, reading: reading([nat]), ipv6: ipv6).findings
        #expect(nft.first { $0.code == .masqueradeMissing && $0.family == .v6 }?.fix
                == #"nft add rule inet nat postrouting ip6 saddr fd00:17::/64 oifname '"eth0"' masquerade"#)
        #expect(nft.first { $0.code == .masqueradeMissing && $0.family == .v4 }?.fix
                == #"nft add rule inet nat postrouting ip saddr 172.17.0.0/16 oifname '"eth0"' masquerade"#)
    }

    @Test func neighbourDiscoveryDroppedInInputIsICMPv6DroppedWithANarrowAccept() throws {
        let save = """
            *filter
            :INPUT ACCEPT [0:0]
            :FORWARD ACCEPT [0:0]
            :OUTPUT ACCEPT [0:0]
            [4:288] -A INPUT -p ipv6-icmp -m icmp6 --icmpv6-type 135 -j DROP
            [0:0] -A FORWARD -p ipv6-icmp -m icmp6 --icmpv6-type 2 -j DROP
            COMMIT
            *nat
            :POSTROUTING ACCEPT [0:0]
            [0:0] -A POSTROUTING -s fd00:17::/64 -o eth0 -j MASQUERADE
            COMMIT
            """
        let report = NetfilterInspector.inspect(path: path, reading: reading(IptablesSave.parse(save, backend: .iptablesNft, family: "ip6")), ipv6: ipv6)
        let icmp = report.findings.filter { $0.code == .icmpv6Dropped }
        #expect(icmp.count == 2, "\(report.findings)")
        let nd = try #require(icmp.first { $0.message.contains("INPUT") })
        #expect(nd.severity == .error && nd.family == .v6)
        #expect(nd.message.hasSuffix("drops ICMPv6 nd-neighbor-solicit: neighbour discovery fails, IPv6 stops"), "\(nd.message)")
        #expect(nd.evidence.contains("on docker0 (the endpoints resolving their gateway)") && nd.evidence.contains("on eth0 (the router resolving the host)"), "\(nd.evidence)")
        #expect(nd.fix == "ip6tables-nft -t filter -I INPUT 1 -p ipv6-icmp --icmpv6-type 135 -j ACCEPT")
        #expect(nd.evidence.contains("counter 4 packets"))
        let ptb = try #require(icmp.first { $0.message.contains("FORWARD") })
        #expect(ptb.severity == .warning && ptb.fix == "ip6tables-nft -t filter -I FORWARD 1 -p ipv6-icmp --icmpv6-type 2 -j ACCEPT")
        // Forwarded traffic itself passes: neither rule is a forward drop of the flow.
        #expect(!report.findings.contains { $0.code == .forwardRuleDrop })
    }

    @Test func aPolicyThatDropsTheFlowIsNotAlsoAnICMPv6Finding() throws {
        let tables = IptablesSave.parse("*filter\n:FORWARD DROP [0:0]\nCOMMIT\n", backend: .iptablesNft, family: "ip6")
        let report = NetfilterInspector.inspect(path: path, reading: reading(tables), ipv6: ipv6)
        #expect(report.findings.contains { $0.code == .forwardPolicyDrop })
        #expect(!report.findings.contains { $0.code == .icmpv6Dropped }, "\(report.findings)")
        // In nft, the narrow accept goes first in the chain that drops.
        let drop = NetfilterDrop(family: "inet", table: "fw", backend: .nftables, baseChain: "input", chain: "input", rule: nil, certain: true)
        #expect(NetfilterInspector.acceptICMPv6([.neighbourSolicitation, .neighbourAdvertisement], at: drop, run: NamespaceCommand(path: "/run/netns/h", isRoot: false))
                == "nsenter --net=/run/netns/h nft insert rule inet fw input icmpv6 type '{ nd-neighbor-solicit, nd-neighbor-advert }' accept")
    }
    /// A forward rule dropping all ICMPv6 only may drop the flow (its protocol is not known), but
    /// surely drops the Packet Too Big the endpoint needs: both are said.
    @Test func aRuleDroppingAllICMPv6MayDropTheFlowAndSurelyDropsPacketTooBig() throws {
        let tables = IptablesSave.parse("*filter\n:FORWARD ACCEPT [0:0]\n[0:0] -A FORWARD -p ipv6-icmp -j DROP\nCOMMIT\n",
                                        backend: .iptablesLegacy, family: "ip6")
        let report = NetfilterInspector.inspect(path: path, reading: reading(tables), ipv6: ipv6)
        #expect(report.findings.contains { $0.code == .legacyIptablesDrop && $0.severity == .warning && $0.family == .v6 })
        let ptb = try #require(report.findings.first { $0.code == .icmpv6Dropped })
        #expect(ptb.severity == .warning && ptb.message.contains("drops ICMPv6 packet-too-big"), "\(ptb.message)")
        #expect(ptb.fix == "ip6tables-legacy -t filter -I FORWARD 1 -p ipv6-icmp --icmpv6-type 2 -j ACCEPT")
    }
}
