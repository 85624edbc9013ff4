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
            // One endpoint: nothing random at prerouting, where the Service is looked up.
            let prerouting = try #require(cost.hooks.first { $0.hook == "prerouting" })
            #expect(prerouting.fewest == prerouting.most)
            #expect(traced.hooks.first { $0.hook == "prerouting" }?.rules == prerouting.most, "\(traced.hooks) vs \(cost.hooks)")
            #expect(cost.fewest <= traced.rules && traced.rules <= cost.most, "\(traced.hooks) vs \(cost.hooks)")
            #expect(traced.packet.destination == cost.destination.address)
        }
        // The last Service costs 99 rules more than the first, on the wire as in the walk.
        #expect(try #require(costs[1].traced).rules - #require(costs[0].traced).rules == 99)
        // The trace table was removed.
        let tables = try lab.inNamespace("nft list tables")
        #expect(!tables.contains(NftTraceSession.tablePrefix), "\(tables)")
    }

    @Test func aDestinationWithoutANewConnectionIsUntraced() throws {
        let lab = try KubeProxyLab.up(KubeProxyLab.uniqueName("n"), services: 10, endpoints: 1, mode: "iptables", serve: true)
        defer { _ = try? lab.down() }
        let idle = try #require(ServiceAddress("10.96.0.5:80/tcp"))
        let sink = CollectingSink<RulesRecord>()
        try RulesSession(.init(netnsPath: "/run/netns/\(lab.netns)", label: lab.netns, destinations: [idle], traceSeconds: 0.5, rateSeconds: 0.1))
            .run(into: sink)
        #expect(sink.records.contains(.untraced([idle], seconds: 0.5)))
        #expect(Self.costs(sink.records).first?.traced == nil)
    }
}
