import Testing
@testable import TracerCore

/// Verdict maps (issue #16): kube-proxy's nftables mode as tools/lab/kubeproxy.sh loads it, 3
/// Services of 2 endpoints (`kubeproxy-nftables.*`: `nft -j -a list ruleset`, `nft -a -s list
/// ruleset`), and small hand-written maps.
@Suite struct VerdictMapTests {
    func kubeProxy(withText: Bool = true) throws -> FirewallTable {
        let json = try FixtureFiles.text("netfilter/kubeproxy-nftables.json")
        let text = withText ? try FixtureFiles.text("netfilter/kubeproxy-nftables.nft") : nil
        let ruleset = try #require(NftJSONRuleset.parse(json: Array(json.utf8), text: text))
        return try #require(ruleset.table(family: "ip", name: "kube-proxy"))
    }

    /// A ruleset of one ip table `t` whose chains hold rules of nft JSON expressions; a chain
    /// with a hook is a nat base chain of it.
    func nft(_ chains: [(name: String, hook: String?, rules: [String])]) throws -> Ruleset {
        var items = [#"{"table": {"family": "ip", "name": "t", "handle": 1}}"#]
        for chain in chains {
            let base = chain.hook.map { #", "type": "nat", "hook": "\#($0)", "prio": -100, "policy": "accept""# } ?? ""
            items.append(#"{"chain": {"family": "ip", "table": "t", "name": "\#(chain.name)"\#(base)}}"#)
            for rule in chain.rules {
                items.append(#"{"rule": {"family": "ip", "table": "t", "chain": "\#(chain.name)", "expr": [\#(rule)]}}"#)
            }
        }
        let json = #"{"nftables": [\#(items.joined(separator: ", "))]}"#
        return try #require(NftJSONRuleset.parse(json: Array(json.utf8)))
    }

    static func syn(to destination: IPAddress) -> ImaginedPacket {
        ImaginedPacket(source: "10.0.0.5", destination: destination, inInterface: "eth0", outInterface: "",
                       ctState: "new", proto: "tcp", destinationPort: 80, sourcePort: 40000)
    }

    static let serviceKey: [SetSelector] = [.destinationAddress, .l4proto, .destinationPort(protocol: "th")]

    @Test func parsesANamedVerdictMapWithItsElementsAndVerdicts() throws {
        let table = try kubeProxy()
        let services = try #require(table.set("service-ips"))
        #expect(services.type == ["ipv4_addr", "inet_proto", "inet_service"])
        #expect(services.elements.first == [.prefix("10.96.0.1/32"), .name("tcp"), .ports(80...80, protocol: nil)])
        #expect(services.verdicts == [.goto("service-6MPX42RU-ns/svc1/tcp/http"), .goto("service-ERB7DQAX-ns/svc2/tcp/http"),
                                      .goto("service-N6NOFWUJ-ns/svc3/tcp/http")])
        // An empty verdict map is still a map, and a plain set has no verdicts.
        #expect(table.set("firewall-ips")?.verdicts == [])
        #expect(table.set("cluster-ips")?.verdicts == nil && table.set("cluster-ips")?.elements.count == 3)
    }

    @Test func parsesARuleLookingUpANamedMap() throws {
        let table = try kubeProxy(withText: false)
        let rules = try #require(table.chain("services")?.rules)
        #expect(rules[0].verdict == .verdictMap(VerdictMapLookup(selectors: Self.serviceKey, map: .named("service-ips"))))
        #expect(rules[0].text == "ip daddr . meta l4proto . th dport vmap @service-ips")
        // The NodePort lookup comes after two matches (fib's address type, not 127.0.0.0/8).
        #expect(rules[1].matches.count == 2)
        #expect(rules[1].verdict == .verdictMap(VerdictMapLookup(selectors: [.l4proto, .destinationPort(protocol: "th")],
                                                                 map: .named("service-nodeports"))))
    }

    @Test func parsesTheEndpointPickAsANumgenKeyedMapInTheRule() throws {
        let table = try kubeProxy(withText: false)
        let rule = try #require(table.chain("service-6MPX42RU-ns/svc1/tcp/http")?.rules.first)
        guard case .verdictMap(let lookup) = rule.verdict, case .inline(let map) = lookup.map else {
            Issue.record("not an anonymous verdict map: \(rule.verdict)")
            return
        }
        #expect(lookup.selectors == [.numgen(mode: "random", values: 0...1)])
        #expect(map.elements == [[.number(0)], [.number(1)]])
        #expect(map.verdicts == [.goto("endpoint-ROCVWFWP-ns/svc1/tcp/http__10.244.0.1/8080"),
                                 .goto("endpoint-P3H6G56T-ns/svc1/tcp/http__10.244.0.2/8080")])
        #expect(rule.text == "numgen random mod 2 vmap { 0 : goto endpoint-ROCVWFWP-ns/svc1/tcp/http__10.244.0.1/8080, "
            + "1 : goto endpoint-P3H6G56T-ns/svc1/tcp/http__10.244.0.2/8080 }")
        // With nft's own listing, its text.
        #expect(try kubeProxy().chain("service-6MPX42RU-ns/svc1/tcp/http")?.rules.first?.text == rule.text)
    }

    @Test func aServiceCostsTheSameRulesWhereverItIsInTheMap() throws {
        let ruleset = Ruleset(tables: [try kubeProxy()])
        // filter-prerouting: its jump and firewall-check's lookup in the empty firewall-ips (2);
        // nat-prerouting: its jump, the service-ips lookup, the endpoint pick, the endpoint
        // chain's masquerade mark for its own address (not this client) and its DNAT (5).
        for service in ["10.96.0.1", "10.96.0.2", "10.96.0.3"] {
            let walk = RuleWalk.walk(ruleset, hook: "prerouting", packet: Self.syn(to: IPAddress(service)!))
            #expect(walk.chains.map(\.chain) == ["filter-prerouting", "nat-prerouting"])
            #expect(walk.chains.map(\.fewest) == [2, 5] && walk.chains.map(\.most) == [2, 5], "\(service): \(walk)")
        }
    }

    @Test func aMissContinuesWithTheNextRule() throws {
        let walk = RuleWalk.walk(Ruleset(tables: [try kubeProxy()]), hook: "prerouting", packet: Self.syn(to: "192.0.2.1"))
        // nat-prerouting's jump, the service-ips lookup that misses, the NodePort rule (its fib
        // match may hold, and its lookup in the empty service-nodeports misses): services ends,
        // and so does nat-prerouting.
        #expect(walk.chains.map(\.fewest) == [2, 3] && walk.chains.map(\.most) == [2, 3], "\(walk)")
    }

    /// `numgen random mod <mod>` picking a, b or c (1, 2 and 3 rules), then five rules that do
    /// not match the packet.
    func endpointPick(mod: Int) throws -> Ruleset {
        let pick = #"{"vmap": {"key": {"numgen": {"mode": "random", "mod": \#(mod), "offset": 0}}, "data": {"set": [[0, {"goto": {"target": "a"}}], [1, {"goto": {"target": "b"}}], [2, {"goto": {"target": "c"}}]]}}}"#
        let elsewhere = #"{"match": {"op": "==", "left": {"payload": {"protocol": "ip", "field": "saddr"}}, "right": "192.0.2.99"}}, {"accept": null}"#
        return try nft([("pre", "prerouting", [pick] + Array(repeating: elsewhere, count: 5)),
                        ("a", nil, [#"{"accept": null}"#]),
                        ("b", nil, [elsewhere, #"{"accept": null}"#]),
                        ("c", nil, [elsewhere, elsewhere, #"{"accept": null}"#])])
    }

    @Test func theEndpointPickSpreadsTheCountOverTheEndpointChains() throws {
        let walk = RuleWalk.walk(try endpointPick(mod: 3), hook: "prerouting", packet: Self.syn(to: "10.96.0.1"))
        // Every value 0...2 has an element: the pick never falls through to the rules after it.
        #expect(walk.fewest == 1 + 1 && walk.most == 1 + 3, "\(walk)")
    }

    @Test func anEndpointPickWithoutAnElementForEveryValueMayFallThrough() throws {
        let walk = RuleWalk.walk(try endpointPick(mod: 4), hook: "prerouting", packet: Self.syn(to: "10.96.0.1"))
        // 3 has no element: the pick and the five rules after it.
        #expect(walk.fewest == 1 + 1 && walk.most == 1 + 5, "\(walk)")
    }

    /// `ip daddr vmap { 10.96.0.9 : drop, 198.51.100.0/24 : jump web }` in a forward chain; web accepts.
    func forwardMap() throws -> Ruleset {
        let map = #"{"vmap": {"key": {"payload": {"protocol": "ip", "field": "daddr"}}, "data": {"set": [["10.96.0.9", {"drop": null}], [{"prefix": {"addr": "198.51.100.0", "len": 24}}, {"jump": {"target": "web"}}]]}}}"#
        let json = #"""
            {"nftables": [{"table": {"family": "ip", "name": "t", "handle": 1}},
             {"chain": {"family": "ip", "table": "t", "name": "fwd", "type": "filter", "hook": "forward", "prio": 0, "policy": "accept"}},
             {"chain": {"family": "ip", "table": "t", "name": "web"}},
             {"rule": {"family": "ip", "table": "t", "chain": "fwd", "expr": [\#(map)]}},
             {"rule": {"family": "ip", "table": "t", "chain": "fwd", "expr": [{"drop": null}]}},
             {"rule": {"family": "ip", "table": "t", "chain": "web", "expr": [{"accept": null}]}}]}
            """#
        return try #require(NftJSONRuleset.parse(json: Array(json.utf8)))
    }

    @Test func theForwardEvaluatorTakesTheVerdictOfTheElementHoldingTheKey() throws {
        let ruleset = try forwardMap()
        let table = try #require(ruleset.tables.first)
        #expect(table.chain("fwd")?.rules.first?.text == "ip daddr vmap { 10.96.0.9 : drop, 198.51.100.0/24 : jump web }")
        func drops(to destination: IPAddress?) -> [NetfilterDrop] {
            var packet = Self.syn(to: "10.96.0.9")
            packet.destination = destination
            return ForwardEvaluator.drops(in: ruleset, hook: "forward", packet: packet)
        }
        // The map's drop, surely.
        #expect(drops(to: "10.96.0.9").map(\.certain) == [true] && drops(to: "10.96.0.9").first?.rule?.text.contains("vmap") == true)
        // The jump to web accepts: no drop.
        #expect(drops(to: "198.51.100.7").isEmpty)
        // No element: the next rule's drop.
        #expect(drops(to: "10.96.0.10").map { $0.rule?.verdict } == [.drop])
        // Any internet address may be in 198.51.100.0/24 and accepted there: the next rule's drop is not certain.
        #expect(drops(to: nil).map(\.certain) == [false])
    }

    @Test func theDNATOfAPickedEndpointIsOnlyMaybeTheOne() throws {
        let ruleset = Ruleset(tables: [try kubeProxy()])
        let hit = try #require(ForwardEvaluator.destinationNat(in: ruleset, hook: "prerouting", packet: Self.syn(to: "10.96.0.2")))
        #expect(hit.chain == "endpoint-WKR5QGBZ-ns/svc2/tcp/http__10.244.0.3/8080" && !hit.certain)
    }
}
