import Foundation
import Testing
@testable import TracerCore

/// Fixtures captured from a namespace holding Docker's iptables-nft rules and a native inet table
/// (`nft -j -a list ruleset`, `nft -a -s list ruleset`, `iptables-nft-save -c`), and
/// hand-written iptables-legacy-save snapshots with Kubernetes-style chains.
@Suite struct NetfilterFixtureTests {
    func nftRuleset() throws -> Ruleset {
        let json = try FixtureFiles.text("netfilter/docker-fw.json")
        let text = try FixtureFiles.text("netfilter/docker-fw.nft")
        let parsed = try #require(NftJSONRuleset.parse(json: Array(json.utf8), text: text))
        return Ruleset(tables: parsed.tables.map(RulesetReader.markIptablesNft))
    }

    /// What RulesetReader builds: iptables-nft tables in iptables' terms with nft handles.
    func mergedRuleset() throws -> Ruleset {
        let nft = try nftRuleset()
        let saved = IptablesSave.parse(try FixtureFiles.text("netfilter/docker-fw.iptables-nft-save"), backend: .iptablesNft)
        var tables = nft.tables.filter { $0.backend == .nftables }
        for table in saved {
            tables.append(RulesetReader.attachHandles(table, from: try #require(nft.table(family: "ip", name: table.name))))
        }
        return Ruleset(tables: tables)
    }

    func path(bridge: String = "docker0", ip: String = "172.17.0.2/16") -> EgressPath {
        EgressPath(endpoint: .init(name: "web1", netnsInode: 1, netnsPath: "/proc/42/ns/net", interface: "eth0", interfaceIndex: 2,
                                   ipv4: [IPPrefix(ip)!], mtu: 1500),
                   hostNetnsInode: 4026531840, hostNetnsPath: "/proc/1/ns/net", hostIsRoot: true,
                   hostVeth: .init(name: "veth1", index: 5), bridge: .init(name: bridge, index: 3), uplink: .init(name: "eth0", index: 2))
    }

    @Test func parsesNftJSONWithTextAndHandles() throws {
        let ruleset = try nftRuleset()
        #expect(ruleset.tables.map(\.label) == ["ip filter", "ip nat", "inet fw"])
        #expect(ruleset.tables.map(\.backend) == [.iptablesNft, .iptablesNft, .nftables])
        let forward = try #require(ruleset.table(family: "inet", name: "fw")?.chain("forward"))
        #expect(forward.hook == "forward" && forward.priority == 10 && forward.policy == "accept" && forward.type == "filter")
        #expect(forward.rules.map(\.handle) == [5, 6, 8, 9, 10])
        let blocklist = forward.rules[1]
        #expect(blocklist.text == "ip daddr @blocked counter drop comment \"blocklist\"")
        #expect(blocklist.comment == "blocklist" && blocklist.verdict == .drop && blocklist.packets == 0)
        // `@blocked` is a lookup in the table's named set, read from the same listing.
        #expect(blocklist.matches == [.setLookup(SetLookup(selectors: [.destinationAddress], set: "blocked", negated: false))])
        #expect(ruleset.table(family: "inet", name: "fw")?.set("blocked")?.elements == [[.prefix("192.0.2.0/24")], [.prefix("198.51.100.7")]])
        #expect(forward.rules[0].matches == [.ctState(["established", "related"], negated: false)])
        #expect(forward.rules[2].matches.contains(.destinationPort([1000...2000], negated: false)))
        #expect(forward.rules[2].verdict == .reject)
        #expect(forward.rules[3].matches == [.inInterface(["br-*"], negated: false), .outInterface(["eth9"], negated: true)])
        #expect(forward.rules[3].verdict == .jump("egress"))
        #expect(forward.rules[4].matches == [.family(.v6)])
        let docker = try #require(ruleset.table(family: "ip", name: "filter")?.chain("DOCKER-USER")?.rules.first)
        #expect(docker.text == "meta l4proto tcp ip saddr 172.17.0.0/16 tcp dport { 25, 465 }  counter reject")
        // nft's JSON shows iptables-nft's multiport only as an opaque xt match: why RulesetReader
        // re-reads iptables-nft tables with iptables-nft-save.
        #expect(docker.matches.contains(.other("xt match multiport")))
    }

    @Test func namedSetsAreResolvedInTheirOwnTable() throws {
        let json = #"""
            {"nftables": [
              {"table": {"family": "inet", "name": "a", "handle": 1}},
              {"table": {"family": "inet", "name": "b", "handle": 2}},
              {"chain": {"family": "inet", "table": "a", "name": "fwd", "handle": 1, "type": "filter", "hook": "forward", "prio": 0, "policy": "accept"}},
              {"chain": {"family": "inet", "table": "b", "name": "fwd", "handle": 1, "type": "filter", "hook": "forward", "prio": 0, "policy": "accept"}},
              {"rule": {"family": "inet", "table": "a", "chain": "fwd", "handle": 3, "expr": [{"match": {"op": "==", "left": {"payload": {"protocol": "tcp", "field": "dport"}}, "right": "@ports"}}, {"drop": null}]}},
              {"rule": {"family": "inet", "table": "b", "chain": "fwd", "handle": 3, "expr": [{"match": {"op": "==", "left": {"payload": {"protocol": "tcp", "field": "dport"}}, "right": "@ports"}}, {"drop": null}]}},
              {"set": {"family": "inet", "name": "ports", "table": "a", "type": "inet_service", "handle": 2,
                       "elem": [25, {"range": [1000, 2000]}, {"elem": {"val": 465, "timeout": 60}}]}}
            ]}
            """#
        let ruleset = try #require(NftJSONRuleset.parse(json: Array(json.utf8)))
        let lookup = SetLookup(selectors: [.destinationPort(protocol: "tcp")], set: "ports", negated: false)
        let a = try #require(ruleset.table(family: "inet", name: "a"))
        #expect(a.chain("fwd")?.rules.first?.matches == [.setLookup(lookup)])
        func port(_ p: Int) -> ImaginedPacket {
            ImaginedPacket(source: nil, destination: nil, inInterface: "eth0", outInterface: "eth1", ctState: "new", proto: "tcp", destinationPort: p)
        }
        for (p, expected) in [(25, ForwardEvaluator.Tri.yes), (1500, .yes), (465, .yes), (80, .no)] {
            #expect(ForwardEvaluator.one(.setLookup(lookup), port(p), sets: a.sets) == expected, "port \(p)")
        }
        // Written out for readers of a rule's constraints (published ports): the set's ports now.
        #expect(a.inliningSets(try #require(a.chain("fwd")?.rules.first)).matches == [.destinationPort([25...25, 1000...2000, 465...465], negated: false)])
        // Table b has no set of that name: the lookup may match rather than matching nothing.
        let b = try #require(ruleset.table(family: "inet", name: "b"))
        #expect(b.sets.isEmpty)
        #expect(ForwardEvaluator.one(.setLookup(lookup), port(25), sets: b.sets) == .maybe)
    }

    @Test func iptablesNftWarningsNameTables() {
        let names = RulesetReader.iptablesNftTableNames("""
            # Warning: table ip nat is managed by iptables-nft, do not touch!
            # Warning: table ip filter is managed by iptables-nft, do not touch!
            Error: something else
            """)
        #expect(names == ["ip nat", "ip filter"])
    }

    @Test func parsesIptablesSaveInItsOwnTerms() throws {
        let tables = IptablesSave.parse(try FixtureFiles.text("netfilter/docker-fw.iptables-nft-save"), backend: .iptablesNft)
        let filter = try #require(tables.first { $0.name == "filter" })
        let forward = try #require(filter.chain("FORWARD"))
        #expect(forward.policy == "drop" && forward.hook == "forward" && forward.priority == 0 && forward.policyPackets == 0)
        #expect(filter.chain("DOCKER-USER")?.hook == nil)
        let user = try #require(filter.chain("DOCKER-USER")?.rules.first)
        #expect(user.text == "-A DOCKER-USER -s 172.17.0.0/16 -p tcp -m multiport --dports 25,465 -m comment --comment \"no mail from containers\" -j REJECT --reject-with icmp-port-unreachable")
        #expect(user.comment == "no mail from containers")
        #expect(user.matches == [.source([IPPrefix("172.17.0.0/16")], negated: false), .proto(["tcp"], negated: false),
                                 .destinationPort([25...25, 465...465], negated: false)])
        #expect(user.verdict == .reject)
        #expect(forward.rules[2].matches == [.outInterface(["docker0"], negated: false), .ctState(["related", "established"], negated: false)])
        #expect(forward.rules[4].matches == [.inInterface(["docker0"], negated: false), .outInterface(["docker0"], negated: true)])
        #expect(forward.rules[0].verdict == .jump("DOCKER-USER"))
        let nat = try #require(tables.first { $0.name == "nat" }?.chain("POSTROUTING"))
        #expect(nat.priority == 100 && nat.rules.first?.verdict == .masquerade)
    }

    @Test func quotedCommentsSurviveTheRoundTrip() throws {
        let tables = IptablesSave.parse(try FixtureFiles.text("netfilter/legacy-before.iptables-save"), backend: .iptablesLegacy)
        let rule = try #require(tables.first?.chain("FORWARD")?.rules[1])
        #expect(rule.comment == "kube: deny \"prod\" egress")
        #expect(rule.text == "-A FORWARD -s 10.244.0.0/16 -d 203.0.113.0/24 -m comment --comment \"kube: deny \\\"prod\\\" egress\" -j DROP")
        #expect(IptablesSave.tokenize(rule.text).last == "DROP")
    }

    @Test func handlesAreAttachedByPosition() throws {
        let merged = try mergedRuleset()
        let forward = try #require(merged.table(family: "ip", name: "filter", backend: .iptablesNft)?.chain("FORWARD"))
        #expect(forward.rules.map(\.handle) == [6, 7, 8, 9, 10, 11])
        #expect(forward.handle == 1)
        // Builtin chains iptables-nft-save prints but nft never created have no hook.
        #expect(merged.table(family: "ip", name: "filter")?.chain("INPUT")?.hook == nil)
        #expect(merged.rule(family: "ip", table: "filter", chain: "DOCKER-USER", handle: 16)?.comment == "no mail from containers")
    }

    @Test func dockerHostPassesEgressAndReplies() throws {
        let report = NetfilterInspector.inspect(path: path(), reading: RulesetReading(ruleset: try mergedRuleset(), unchecked: []))
        #expect(report.findings.filter { $0.severity == .error }.isEmpty, "\(report.findings)")
        // DOCKER-USER rejects mail: a conditional drop, named in docker's terms.
        let mail = try #require(report.findings.first { $0.code == .forwardRuleDrop && $0.message.contains("DOCKER-USER") })
        #expect(mail.severity == .warning)
        #expect(mail.message.hasPrefix("ip filter DOCKER-USER (from FORWARD) rule 1, handle 16 (iptables-nft): -A DOCKER-USER -s 172.17.0.0/16"))
        #expect(mail.fix == "iptables-nft -t filter -D DOCKER-USER -s 172.17.0.0/16 -p tcp -m multiport --dports 25,465 -m comment --comment \"no mail from containers\" -j REJECT --reject-with icmp-port-unreachable")
        #expect(!report.findings.contains { $0.code == .masqueradeMissing })
    }

    @Test func bridgeDockerDoesNotKnowHitsThePolicy() throws {
        let report = NetfilterInspector.inspect(path: path(bridge: "br-lab"), reading: RulesetReading(ruleset: try mergedRuleset(), unchecked: []))
        let policy = try #require(report.findings.first { $0.code == .forwardPolicyDrop })
        #expect(policy.severity == .error)
        #expect(policy.message.hasPrefix("ip filter FORWARD policy drop (iptables-nft) drops egress 172.17.0.2 -> the internet (br-lab -> eth0)"))
        #expect(policy.fix == "iptables-nft -t filter -P FORWARD ACCEPT")
        // The native table's goto to blackhole is only reached for 203.0.113.0/24 from br-* bridges.
        let aimed = NetfilterInspector.inspect(path: path(bridge: "br-lab"), reading: RulesetReading(ruleset: try mergedRuleset(), unchecked: []),
                                               destination: "203.0.113.9")
        #expect(aimed.findings.contains { $0.code == .forwardPolicyDrop && $0.severity == .error })
        // The certain policy drop at priority 0 ends the walk before inet fw (priority 10).
        #expect(!aimed.findings.contains { $0.message.contains("inet fw") })
    }

    @Test func gotoAndReturnAreFollowed() throws {
        let nft = try nftRuleset()
        let fw = Ruleset(tables: nft.tables.filter { $0.name == "fw" })
        let packet = ImaginedPacket(source: .v4(0xAC11_0002), destination: IPPrefix("203.0.113.10").address, inInterface: "br-x",
                                    outInterface: "eth0", ctState: "new", proto: "icmp")
        let drops = ForwardEvaluator.drops(in: fw, hook: "forward", packet: packet)
        let last = try #require(drops.last)
        #expect(last.certain && last.chain == "blackhole" && last.baseChain == "forward" && last.rule?.handle == 13)
        #expect(NetfilterInspector.describe(last) == "inet fw blackhole (from forward) handle 13: counter drop comment \"test-net-3\"")
        // Another destination returns from egress: nothing certain drops it.
        var other = packet
        other.destination = IPPrefix("8.8.8.8").address
        #expect(!ForwardEvaluator.drops(in: fw, hook: "forward", packet: other).contains { $0.certain })
        // Established replies are accepted first.
        other.ctState = "established"
        #expect(ForwardEvaluator.drops(in: fw, hook: "forward", packet: other).isEmpty)
    }

    @Test func masqueradeMissingAndUnreadableRuleset() throws {
        let noNat = Ruleset(tables: try mergedRuleset().tables.filter { $0.name != "nat" })
        let report = NetfilterInspector.inspect(path: path(), reading: RulesetReading(ruleset: noNat, unchecked: []))
        let finding = try #require(report.findings.first { $0.code == .masqueradeMissing })
        #expect(finding.message.hasPrefix("no SNAT/MASQUERADE covers 172.17.0.0/16 (172.17.0.2) out of eth0"))
        #expect(finding.evidence == "no nat postrouting chain in any backend")
        #expect(finding.fix == "iptables-nft -t nat -A POSTROUTING -s 172.17.0.0/16 -o eth0 -j MASQUERADE")

        let unreadable = NetfilterInspector.inspect(path: path(), reading: RulesetReading(
            ruleset: Ruleset(), unchecked: ["nftables: libnftables: Operation not permitted"]))
        #expect(unreadable.findings.isEmpty)
        #expect(unreadable.unchecked.last == "netfilter: no ruleset could be read; forward chains and NAT not checked")
    }

    @Test func legacyCounterGrowthNamesRuleAndPolicy() throws {
        let before = LegacyCounters(tables: IptablesSave.parse(try FixtureFiles.text("netfilter/legacy-before.iptables-save"), backend: .iptablesLegacy))
        let after = LegacyCounters(tables: IptablesSave.parse(try FixtureFiles.text("netfilter/legacy-after.iptables-save"), backend: .iptablesLegacy))
        let grown = after.growth(since: before)
        #expect(grown.count == 3)
        #expect(grown.prefix(2).allSatisfy { $0.isDrop })
        #expect(grown.map(\.packets).sorted() == [1, 7, 7])
        #expect(grown.contains { $0.description == "ip filter FORWARD policy drop (iptables-legacy): +1 packets" })
        #expect(grown.contains { $0.rule?.position == 2 && $0.packets == 7 && $0.isDrop })
        #expect(after.growth(since: after).isEmpty)
    }

    /// ip6tables-legacy's counters are read beside iptables-legacy's: a table of each family with
    /// the same name is its own, and a growth names its family, its tool and its fix's table.
    @Test func legacyCounterGrowthKeepsTheFamily() throws {
        func save(_ v4: Int, _ v6: Int) -> [FirewallTable] {
            let text = { (n: Int) in "*filter\n:INPUT ACCEPT [0:0]\n:FORWARD DROP [\(n):\(n * 80)]\n:OUTPUT ACCEPT [0:0]\nCOMMIT\n" }
            return IptablesSave.parse(text(v4), backend: .iptablesLegacy) + IptablesSave.parse(text(v6), backend: .iptablesLegacy, family: "ip6")
        }
        let grown = LegacyCounters(tables: save(5, 3)).growth(since: LegacyCounters(tables: save(5, 1)))
        #expect(grown.count == 1, "only the ip6 table's policy grew: \(grown)")
        #expect(grown.first?.description == "ip6 filter FORWARD policy drop (ip6tables-legacy): +2 packets")
        #expect(grown.first?.ipFamily == .v6 && grown.first?.drop.family == "ip6")
    }

    @Test func traceTableNamesCarryPidAndStartTime() {
        #expect(NftTraceSession.owner(ofTable: "tracer_trace_123_4567")! == (123, 4567))
        #expect(NftTraceSession.owner(ofTable: "tracer_trace_notmine") == nil)
        #expect(NftTraceSession.owner(ofTable: "tracer_trace_-1_5") == nil)
        #expect(NftTraceSession.owner(ofTable: "labfilter") == nil)
        let json = #"{"nftables": [{"metainfo": {}}, {"table": {"family": "inet", "name": "tracer_trace_9_10", "handle": 1}}, {"table": {"family": "ip", "name": "tracer_trace_9_11", "handle": 2}}, {"table": {"family": "inet", "name": "fw", "handle": 3}}]}"#
        #expect(NftTraceSession.traceTableNames(json: Array(json.utf8)) == ["tracer_trace_9_10"])
    }

    @Test func malformedInputIsRejectedNotTrapped() {
        #expect(NftJSONRuleset.parse(json: Array("{\"nftables\": 3}".utf8)) == nil)
        #expect(NftJSONRuleset.parse(json: [0xff, 0x00]) == nil)
        let broken = IptablesSave.parse("-A FORWARD -j DROP\n*filter\n[1:2 -A\n:X\n-A\n", backend: .iptablesLegacy)
        #expect(broken.count == 1 && broken[0].chains.map(\.name) == ["X"] && broken[0].chains[0].rules.isEmpty)
        #expect(["300.1.1.1", "1.2.3.4/33", ""].allSatisfy { IPPrefix($0) == nil })
    }
}
