import Foundation
import Glibc
import LabSupport
import Testing
@testable import TracerCore

/// `tracer rules`' session on kube-proxy's shapes with real traffic (kubeproxy.sh --serve: a client
/// namespace, the node, an endpoints namespace): the count measured on a real SYN with the
/// nftables trace equals the static walk's, and the trace table is gone afterwards.
@Suite(.serialized, .requires(KubeProxyLab.canRun, Comment(rawValue: KubeProxyLab.reason)))
struct RuleCostLabTests {
    /// Runs the session tracing `destinations` while the client connects to each, a second in.
    static func traced(_ lab: KubeProxyLab, _ destinations: [ServiceAddress]) throws -> [RulesRecord] {
        let sink = CollectingSink<RulesRecord>()
        let connect = Thread {
            Thread.sleep(forTimeInterval: 1)
            for d in destinations {
                _ = try? lab.inClient("python3 \(KubeProxyLab.connectLatency) --count 1 --warmup 0 \(d.address):\(d.port)")
            }
        }
        connect.start()
        let session = RulesSession(.init(netnsPath: "/run/netns/\(lab.netns)", label: lab.netns, destinations: destinations, traceSeconds: 8,
                                         rateSeconds: 0.1))
        try session.run(into: sink)
        return sink.records
    }

    static func costs(_ records: [RulesRecord]) -> [DestinationCost] {
        records.compactMap { if case .destination(let cost) = $0 { return cost } else { return nil } }
    }

    @Test func theTracedCountEqualsTheStaticWalkInIptablesMode() throws {
        let lab = try KubeProxyLab.up(KubeProxyLab.uniqueName("t"), services: 100, endpoints: 1, mode: "iptables", serve: true)
        defer { _ = try? lab.down() }
        let destinations = try ["first_service", "last_service"].map { try #require(lab[$0].flatMap(ServiceAddress.init)) }
        let records = try Self.traced(lab, destinations)
        let costs = Self.costs(records)
        #expect(costs.count == 2)
        for cost in costs {
            let traced = try #require(cost.traced, "\(cost.destination) not traced: \(records)")
            // One endpoint: nothing random at prerouting but whether the client is the endpoint
            // itself (the hairpin's KUBE-MARK-MASQ, one rule more); the lab's client is not.
            let prerouting = try #require(cost.hooks.first { $0.hook == "prerouting" })
            #expect(prerouting.most == prerouting.fewest + 1)
            #expect(traced.hooks.first { $0.hook == "prerouting" }?.rules == prerouting.fewest, "\(traced.hooks) vs \(cost.hooks)")
            #expect(cost.fewest <= traced.rules && traced.rules <= cost.most, "\(traced.hooks) vs \(cost.hooks)")
            #expect(traced.packet.destination == cost.destination.address)
        }
        // The last Service costs 99 rules more than the first, on the wire as in the walk.
        #expect(try #require(costs[1].traced).rules - #require(costs[0].traced).rules == 99)
        // The trace table was removed.
        let tables = try lab.inNamespace("nft list tables")
        #expect(!tables.contains(NftTraceSession.tablePrefix), "\(tables)")
    }

    /// kube-proxy's nftables mode: the Services are found in a verdict map (one rule) and every
    /// one costs the same, which is the figure the recommendation quotes.
    @Test func theTracedCountEqualsTheStaticWalkAndIsConstantInNftablesMode() throws {
        let lab = try KubeProxyLab.up(KubeProxyLab.uniqueName("v"), services: 100, endpoints: 2, mode: "nftables", serve: true)
        defer { _ = try? lab.down() }
        let destinations = try ["first_service", "last_service"].map { try #require(lab[$0].flatMap(ServiceAddress.init)) }
        let records = try Self.traced(lab, destinations)
        let dispatches: [ServiceDispatch] = records.compactMap { if case .dispatch(let d) = $0 { return d } else { return nil } }
        let dispatch = try #require(dispatches.first { $0.kind == ServiceDispatch.Kind.verdictMap && $0.map == "service-ips" })
        #expect(dispatch.destinations == 100 && dispatch.mostEvaluated == 1 && dispatch.owner == FirewallOwner.kubeProxy)
        let costs = Self.costs(records)
        #expect(costs.count == 2)
        for cost in costs {
            #expect(cost.service == "ns/svc\(cost.destination == destinations[0] ? 1 : 100):http")
            let prerouting = try #require(cost.hooks.first { $0.hook == "prerouting" })
            // The endpoint as its own client would take mark-for-masquerade's one rule more.
            #expect(prerouting.fewest == RuleCostFindings.kubeProxyNftablesPrerouting && prerouting.most == RuleCostFindings.kubeProxyNftablesPrerouting + 1)
            let traced = try #require(cost.traced, "\(cost.destination) not traced: \(records)")
            #expect(traced.hooks.first { $0.hook == "prerouting" }?.rules == RuleCostFindings.kubeProxyNftablesPrerouting, "\(traced.hooks)")
            #expect(cost.fewest <= traced.rules && traced.rules <= cost.most, "\(traced.hooks) vs \(cost.hooks)")
        }
        #expect(costs[0].hooks == costs[1].hooks)
        #expect(!records.contains { if case .recommendation = $0 { return true } else { return false } })
    }

    /// iptables-legacy rules in a raw table and a drop policy in filter beside kube-proxy's
    /// iptables-nft tables: the finding names both tables, and its flush, pasted, clears it.
    @Test func theMixedBackendsFixPastedClearsTheFinding() throws {
        let lab = try KubeProxyLab.up(KubeProxyLab.uniqueName("x"), services: 5, endpoints: 1, mode: "iptables")
        defer { _ = try? lab.down() }
        _ = try lab.inNamespace("iptables-legacy -t raw -A PREROUTING -s 198.51.100.1/32 -j ACCEPT && iptables-legacy -t filter -P INPUT DROP")
        let path = "/run/netns/\(lab.netns)"
        let host = NamespaceCommand(path: path, isRoot: false)
        let finding = try #require(NetfilterInspector.backendsMixed(RulesetReader.read(netnsPath: path).ruleset, run: host, netns: nil))
        #expect(finding.evidence.contains("ip raw") && finding.evidence.contains("ip filter"), "\(finding.evidence)")
        // The fix saves the legacy rules, then (once they are moved) flushes: run what follows "then: ".
        let fix = try #require(finding.fix)
        let flush = try #require(fix.range(of: "then: ")).upperBound
        let pasted = try LabShell.run(["-c", String(fix[flush...])])
        #expect(pasted.status == 0, "\(pasted.output)")
        #expect(NetfilterInspector.backendsMixed(RulesetReader.read(netnsPath: path).ruleset, run: host, netns: nil) == nil)
    }

    /// The rate's count: conntrack's NEW events, one per connection the client makes through the node.
    @Test func everyNewConnectionIsCountedOnce() throws {
        let lab = try KubeProxyLab.up(KubeProxyLab.uniqueName("c"), services: 5, endpoints: 1, mode: "iptables", serve: true)
        defer { _ = try? lab.down() }
        let listener = try ConntrackNewEvents.listen(netnsPath: "/run/netns/\(lab.netns)")
        let service = try #require(lab["first_service"].flatMap(ServiceAddress.init))
        let made = try lab.inClient("python3 \(KubeProxyLab.connectLatency) --count 300 --warmup 0 \(service.address):\(service.port)")
        #expect(made.contains("connections=300 failures=0"), "\(made)")
        let counted = listener.count(until: BootClock.now + 500_000_000, stop: { false })
        #expect(counted.connections == 300 && counted.lost == 0, "\(counted)")
    }

    @Test func aDestinationWithoutANewConnectionIsUntraced() throws {
        let lab = try KubeProxyLab.up(KubeProxyLab.uniqueName("n"), services: 10, endpoints: 1, mode: "iptables", serve: true)
        defer { _ = try? lab.down() }
        let idle = try #require(ServiceAddress("10.96.0.5:80/tcp"))
        let sink = CollectingSink<RulesRecord>()
        try RulesSession(.init(netnsPath: "/run/netns/\(lab.netns)", label: lab.netns, destinations: [idle], traceSeconds: 0.5, rateSeconds: 0.1))
            .run(into: sink)
        let untraced = sink.records.compactMap { record -> (destinations: [ServiceAddress], seconds: Double)? in
            if case .untraced(let d, let seconds) = record { return (d, seconds) } else { return nil }
        }
        #expect(untraced.count == 1 && untraced.first?.destinations == [idle])
        #expect((untraced.first?.seconds ?? 0) >= 0.5)
        #expect(Self.costs(sink.records).first?.traced == nil)
    }
}
