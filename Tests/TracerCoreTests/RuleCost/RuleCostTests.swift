import Foundation
import Testing
@testable import TracerCore

/// `tracer rules`' pure parts: the destination argument, the rate, owners, the
/// chains that grow with the services, the findings, and the traced count from trace events.
struct RuleCostTests {
    @Test(arguments: [
        ("10.96.0.10:53/udp", "10.96.0.10:53/udp"),
        ("10.96.0.1:443/TCP", "10.96.0.1:443/tcp"),
        ("[fd00::10]:443/tcp", "[fd00::10]:443/tcp"),
        ("[FD00:0::10]:80/sctp", "[fd00::10]:80/sctp"),
    ])
    func aServiceAddressIsParsedOnceAndPrintedCanonically(text: String, printed: String) throws {
        #expect(try #require(ServiceAddress(text)).description == printed)
    }

    @Test(arguments: ["10.96.0.10:53", "10.96.0.10/udp", "10.96.0.10:0/udp", "10.96.0.10:65536/udp", "10.96.0.10:+53/udp",
                      "fd00::10:443/tcp", "[10.0.0.1]:80/tcp", "10.96.0.10:53/icmp", "web:80/tcp", "", ":80/tcp", "10.96.0.10:５３/udp"])
    func badDestinationsAreRefused(text: String) {
        #expect(ServiceAddress(text) == nil)
    }

    @Test func theRateIsConnectionsOverSeconds() {
        #expect(ConnectionRate(connections: 250, seconds: 2).perSecond == 125)
        #expect(ConnectionRate(connections: 0, seconds: 0).perSecond == 0)
    }

    @Test func ownersAreToldFromTheNamesTheirManagersGive() {
        let filter = FirewallTable(family: "ip", name: "filter", backend: .iptablesNft)
        #expect(FirewallOwner.of(table: filter, chain: "KUBE-SERVICES") == .kubeProxy)
        #expect(FirewallOwner.of(table: filter, chain: "DOCKER-USER") == .docker)
        #expect(FirewallOwner.of(table: filter, chain: "NETAVARK_FORWARD") == .netavark)
        #expect(FirewallOwner.of(table: filter, chain: "CNI-FORWARD") == .cni)
        #expect(FirewallOwner.of(table: filter, chain: "FORWARD") == .other)
        #expect(FirewallOwner.of(table: FirewallTable(family: "inet", name: "firewalld", backend: .nftables), chain: "filter_INPUT") == .firewalld)
        #expect(FirewallOwner.of(table: FirewallTable(family: "ip", name: "kube-proxy", backend: .nftables), chain: "services") == .kubeProxy)
        let jump = FirewallRule(position: 1, text: "", matches: [], verdict: .jump("KUBE-FORWARD"))
        #expect(FirewallOwner.of(rule: jump, in: filter, chain: "FORWARD") == .kubeProxy)
    }

    @Test func kubeProxysServiceChainIsFoundWithEveryDestinationItDispatches() throws {
        let ruleset = RuleWalkTests.kubeProxy(services: 30)
        let (dispatches, destinations) = FirewallCost.dispatches(ruleset)
        let dispatch = try #require(dispatches.first)
        #expect(dispatches.count == 1)
        #expect(dispatch.chain == "KUBE-SERVICES" && dispatch.owner == .kubeProxy && dispatch.kind == .rules)
        // An address no rule names walks all 31 (the NodePort check last).
        #expect(dispatch.destinations == 30 && dispatch.mostEvaluated == 31)
        #expect(destinations.count == 30)
        #expect(destinations[6].destination.description == "10.96.0.7:80/tcp")
        #expect(destinations[6].service == "ns/svc7:http")
    }

    @Test func baseChainsAreListedByHookThenPriorityWithTheirOwnersAndReach() throws {
        let chains = FirewallCost.baseChains(RuleWalkTests.kubeProxy(services: 10))
        let prerouting = try #require(chains.first)
        #expect(prerouting.hook == "prerouting" && prerouting.chain == "PREROUTING" && prerouting.rules == 1)
        // PREROUTING, KUBE-SERVICES (11), 10 x (KUBE-SVC 2 + 2 x KUBE-SEP 2), KUBE-MARK-MASQ 1, KUBE-NODEPORTS 0.
        #expect(prerouting.reachableRules == 1 + 11 + 10 * 6 + 1)
        #expect(prerouting.owners == [.init(owner: .kubeProxy, rules: 1)])
    }

    @Test func theStaticWalkOfADestinationCoversTheForwardedHooks() throws {
        let ruleset = RuleWalkTests.kubeProxy(services: 20)
        let dispatched = FirewallCost.dispatches(ruleset).destinations
        let twenty = try #require(dispatched.first { $0.destination.description == "10.96.0.20:80/tcp" })
        // Its two endpoints, where the forward and postrouting hooks see it go.
        #expect(twenty.endpoints.map { "\($0.address):\($0.port ?? 0)" } == ["10.244.20.1:8080", "10.244.20.2:8080"])
        let walks = FirewallCost.walks(ruleset, to: [(twenty.destination, twenty), (try #require(ServiceAddress("10.96.9.9:53/udp")), nil)])
        #expect(walks[0].map(\.hook) == FirewallCost.forwardedHooks)
        // As RuleWalkTests counts it, 1 + 20 + 1...2 + 2 at prerouting, and one more if the client is
        // the endpoint itself (any client: the hairpin's KUBE-MARK-MASQ); no forward or postrouting chain.
        #expect(walks[0][0] == .init(hook: "prerouting", fewest: 24, most: 26))
        // An address no service uses walks all of KUBE-SERVICES and the NodePort check.
        #expect(walks[1][0].fewest == 1 + 21)
    }

    @Test func aLinearServiceChainAtTheThresholdIsAFindingWithKubeProxysFix() throws {
        let ruleset = RuleWalkTests.kubeProxy(services: 12)
        let (dispatches, _) = FirewallCost.dispatches(ruleset)
        #expect(RuleCostFindings.findings(ruleset, dispatches: dispatches, dispatched: [], destinations: [], threshold: 13, netns: NamespaceCommand(path: "/proc/self/ns/net", isRoot: true)).isEmpty)
        let findings = RuleCostFindings.findings(ruleset, dispatches: dispatches, dispatched: [], destinations: [], threshold: 12, netns: NamespaceCommand(path: "/proc/self/ns/net", isRoot: true))
        let finding = try #require(findings.first)
        #expect(finding.code == .linearServiceChain && finding.severity == .warning)
        #expect(finding.message.contains("ip nat KUBE-SERVICES (iptables-nft, kube-proxy) sends each of 12 destinations"))
        #expect(finding.fix?.contains("nftables") == true)
    }

    @Test func aLongRejectListInInputIsAFindingAndAShortOneIsNot() {
        func ruleset(_ n: Int) -> Ruleset {
            var lines = ["*filter", ":INPUT ACCEPT [0:0]", ":BLOCK - [0:0]", "-A INPUT -j BLOCK"]
            for i in 0..<n { lines.append("-A BLOCK -s 198.51.\(i / 256).\(i % 256)/32 -j REJECT") }
            return Ruleset(tables: IptablesSave.parse((lines + ["COMMIT"]).joined(separator: "\n") + "\n", backend: .iptablesNft))
        }
        #expect(RuleCostFindings.rejectLists(ruleset(99)).isEmpty)
        let findings = RuleCostFindings.rejectLists(ruleset(150))
        #expect(findings.map(\.code) == [.inputRejectList])
        #expect(findings.first?.message.contains("ip filter BLOCK (iptables-nft) drops or rejects 150 addresses") == true)
    }

    @Test func bothBackendsLoadedIsTheSameFindingDiagnoseGives() throws {
        var ruleset = RuleWalkTests.kubeProxy(services: 2)
        // An empty legacy table (left after a flush) changes nothing: no finding.
        ruleset.tables.append(FirewallTable(family: "ip", name: "raw", backend: .iptablesLegacy,
                                            chains: [FirewallChain(name: "PREROUTING", hook: "prerouting", policy: "accept")]))
        #expect(NetfilterInspector.backendsMixed(ruleset, run: NamespaceCommand(path: "/run/netns/x", isRoot: false), netns: nil) == nil)
        ruleset.tables.append(FirewallTable(family: "ip", name: "filter", backend: .iptablesLegacy,
                                            chains: [FirewallChain(name: "INPUT", hook: "input", policy: "drop")]))
        let findings = RuleCostFindings.findings(ruleset, dispatches: [], dispatched: [], destinations: [], threshold: 1000, netns: NamespaceCommand(path: "/run/netns/x", isRoot: false))
        let mixed = try #require(findings.first { $0.code == .iptablesBackendsMixed })
        #expect(mixed == NetfilterInspector.backendsMixed(ruleset, run: NamespaceCommand(path: "/run/netns/x", isRoot: false), netns: nil))
        #expect(mixed.evidence.hasPrefix("iptables-legacy: ip filter;"), "\(mixed.evidence)")
        #expect(mixed.fix?.contains("iptables-legacy -t filter -F") == true && mixed.fix?.contains("iptables-legacy -t filter -P INPUT ACCEPT") == true,
                "\(mixed.fix ?? "")")
    }

    /// Trace events as the kernel sends them for a SYN to ns/svc2 through kube-proxy's rules:
    /// rules that did not match send nothing; a chain left without a verdict costs all its rules.
    @Test func theTracedCountIsEachChainsLastReportedRuleOrItsLength() throws {
        let ruleset = RuleWalkTests.kubeProxy(services: 3)
        let nat = try #require(ruleset.table(family: "ip", name: "nat"))
        // Handles by position, as the reader attaches nft's.
        var withHandles = ruleset
        var handle: UInt64 = 1
        for c in withHandles.tables[0].chains.indices {
            for r in withHandles.tables[0].chains[c].rules.indices {
                withHandles.tables[0].chains[c].rules[r].handle = handle
                handle += 1
            }
        }
        func h(_ chain: String, _ position: Int) -> UInt64? {
            withHandles.tables[0].chain(chain)?.rules[position - 1].handle
        }
        func event(_ chain: String, _ position: Int?, _ verdict: String, target: String? = nil, kind: NftTraceEvent.Kind = .rule) -> NftTraceEvent {
            NftTraceEvent(id: 1, kind: kind, family: "ip", table: "nat", chain: chain, ruleHandle: position.flatMap { h(chain, $0) }, verdict: verdict,
                          jumpTarget: target)
        }
        _ = nat
        let packet = FlowTuple(proto: .tcp, source: "10.0.0.2", destination: "10.96.0.2", sourcePort: 40000, destinationPort: 80)
        // KUBE-SEP-2A: its first rule (the hairpin mark) did not match, the DNAT did (accept).
        let events = [
            event("PREROUTING", 1, "jump", target: "KUBE-SERVICES"),
            event("KUBE-SERVICES", 2, "jump", target: "KUBE-SVC-2"),
            event("KUBE-SVC-2", 1, "jump", target: "KUBE-SEP-2A"),
            event("KUBE-SEP-2A", 2, "accept"),
        ]
        let walk = try #require(TracedWalk.count(packet: packet, events: events, ruleset: withHandles))
        #expect(walk.hooks == [.init(hook: "prerouting", rules: 1 + 2 + 1 + 2)])
        // The same static walk's range holds it.
        let two = try #require(FirewallCost.dispatches(withHandles).destinations.first { $0.destination.description == "10.96.0.2:80/tcp" })
        let statics = FirewallCost.walks(withHandles, to: [(two.destination, two)])[0][0]
        #expect(statics.fewest <= walk.rules && walk.rules <= statics.most)

        // A packet no rule translates: KUBE-SERVICES jumps to KUBE-NODEPORTS (empty) and falls
        // off its end, PREROUTING too; the policy ends the hook.
        let missed = [
            event("PREROUTING", 1, "jump", target: "KUBE-SERVICES"),
            event("KUBE-SERVICES", 4, "jump", target: "KUBE-NODEPORTS"),
            event("PREROUTING", nil, "accept", kind: .policy),
        ]
        let fell = try #require(TracedWalk.count(packet: packet, events: missed, ruleset: withHandles))
        #expect(fell.rules == 1 + 4 + 0)
        #expect(TracedWalk.count(packet: packet, events: [], ruleset: withHandles) == nil)
    }
}

/// A service name comes from a rule's comment, which anyone with CAP_NET_ADMIN writes: escaped in
/// the table, valid JSON whatever its bytes.
struct RulesRenderTests {
    static let hostile = "ns/web\u{1b}[2J\"\\\u{202e}:http\n"

    static func cost() throws -> DestinationCost {
        DestinationCost(destination: try #require(ServiceAddress("10.96.0.1:80/tcp")), service: hostile, addressed: true,
                        hooks: [.init(hook: "prerouting", fewest: 3, most: 4), .init(hook: "forward", fewest: 1, most: 1),
                                .init(hook: "postrouting", fewest: 0, most: 0)])
    }

    @Test func aHostileServiceNameIsEscapedInTheTable() throws {
        var render = RulesRender(format: .table, netnsPath: "/run/netns/x")
        let lines = render.lines(.destination(try Self.cost())).compactMap { line -> String? in
            if case .output(let bytes) = line { return String(decoding: bytes, as: UTF8.self) } else { return nil }
        }
        let row = try #require(lines.last)
        #expect(!row.contains("\u{1b}") && !row.contains("\u{202e}") && !row.contains("\n"))
        #expect(row.hasPrefix("10.96.0.1:80/tcp"))
        #expect(row.contains("4-5"))
    }

    @Test func everyRecordIsOneValidJSONLine() throws {
        var render = RulesRender(format: .json, netnsPath: "/run/netns/x")
        let records: [RulesRecord] = [
            .namespace(label: Self.hostile, unchecked: ["ipset: \u{0}"]),
            .chain(BaseChainCost(hook: "prerouting", priority: -100, family: "ip", table: "nat", chain: Self.hostile, backend: .iptablesNft,
                                 type: "nat", policy: "accept", rules: 1, reachableRules: 9, owners: [.init(owner: .kubeProxy, rules: 1)])),
            .dispatch(ServiceDispatch(family: "ip", table: "kube-proxy", chain: "services", backend: .nftables, owner: .kubeProxy,
                                      kind: .verdictMap, map: "service-ips", destinations: 3, mostEvaluated: 1)),
            .ipvs(virtualServices: 2, realServers: 4),
            .destination(try Self.cost()),
            .untraced([try #require(ServiceAddress("[fd00::1]:53/udp"))], seconds: 1.5),
            .estimate(RuleCostEstimate(rate: nil, rulesPerConnection: 4, destinations: 1, nanosecondsPerRule: 25)),
            .recommendation(DataPlaneRecommendation(dataPlane: "nftables", rulesNow: 1000, rulesThen: 7, coreFractionNow: 0.02,
                                                    coreFractionThen: 0.0001, services: 1000, reason: "r")),
            .summary(RulesSummary(baseChains: 1, rules: 2, destinations: 1, warnings: 0)),
        ]
        for record in records {
            let lines = render.lines(record)
            #expect(lines.count == 1)
            guard case .output(let bytes) = lines[0] else { Issue.record("not output: \(record)"); continue }
            let object = try JSONSerialization.jsonObject(with: Data(bytes)) as? [String: Any]
            #expect(object?["type"] is String, "\(String(decoding: bytes, as: UTF8.self))")
        }
        guard case .output(let bytes) = render.lines(.destination(try Self.cost()))[0],
              let object = try JSONSerialization.jsonObject(with: Data(bytes)) as? [String: Any] else { Issue.record("no JSON"); return }
        #expect(object["service"] as? String == Self.hostile)
        #expect(object["rules_evaluated"] as? Int == 5 && object["rules_evaluated_fewest"] as? Int == 4)
        #expect(object["estimated_walk_ns"] as? Double == 5 * RuleCostEstimate.measuredNanosecondsPerRule)
    }
}
