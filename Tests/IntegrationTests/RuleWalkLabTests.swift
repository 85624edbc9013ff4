import Foundation
import Glibc
import LabSupport
import Testing
@testable import TracerCore

/// The static rule walk (issue #16) on kube-proxy's shapes as kubeproxy.sh loads them in a
/// namespace and the tracer reads them back. iptables mode (iptables-nft, through nft): a new
/// connection's first packet evaluates one more rule for each Service before its own, and the
/// statistic choice of an endpoint widens the count by one rule per endpoint after the first.
/// nftables mode: one verdict map lookup finds the Service and one picks the endpoint, whatever
/// the number of either.
@Suite(.serialized, .requires(KubeProxyLab.canRun, Comment(rawValue: KubeProxyLab.reason)))
struct RuleWalkLabTests {
    static let endpoints = 2

    /// The SYN of a client outside the node to a Service's cluster IP, as PREROUTING sees it.
    static func syn(to fact: String?) throws -> ImaginedPacket {
        let address = try #require(fact.flatMap { IPAddress($0.split(separator: ":").first.map(String.init) ?? "") }, "\(fact ?? "nil")")
        return ImaginedPacket(source: IPAddress(10, 0, 0, 5), destination: address, inInterface: "eth0", outInterface: "",
                              ctState: "new", proto: "tcp", destinationPort: 80, sourcePort: 40000)
    }

    @Test func theCountIsLinearInTheServicesBeforeTheOneAddressed() throws {
        var last: [Int: RuleWalk] = [:]
        for services in [100, 1000] {
            let lab = try KubeProxyLab.up(KubeProxyLab.uniqueName("w\(services / 100)"), services: services, endpoints: Self.endpoints, mode: "iptables")
            defer { _ = try? lab.down() }
            let reading = RulesetReader.read(netnsPath: "/run/netns/\(lab.netns)")
            #expect(reading.ruleset.tables.contains { $0.name == "nat" && $0.chain("KUBE-SERVICES") != nil }, "\(reading.unchecked)")
            let walks = try ["first_service", "middle_service", "last_service"].map {
                RuleWalk.walk(reading.ruleset, hook: "prerouting", packet: try Self.syn(to: lab[$0]))
            }
            let middle = services / 2 + 1
            #expect(walks[1].fewest - walks[0].fewest == middle - 1, "\(services): \(walks.map(\.fewest))")
            #expect(walks[2].fewest - walks[0].fewest == services - 1, "\(services): \(walks.map(\.fewest))")
            for walk in walks { #expect(walk.most - walk.fewest == Self.endpoints - 1, "\(walk)") }
            last[services] = walks[2]
        }
        #expect(try #require(last[1000]).most - #require(last[100]).most == 900)
    }

    @Test func theCountIsConstantInTheServicesWithVerdictMaps() throws {
        for services in [100, 1000] {
            let lab = try KubeProxyLab.up(KubeProxyLab.uniqueName("n\(services / 100)"), services: services, endpoints: Self.endpoints, mode: "nftables")
            defer { _ = try? lab.down() }
            let reading = RulesetReader.read(netnsPath: "/run/netns/\(lab.netns)")
            let table = reading.ruleset.table(family: "ip", name: "kube-proxy")
            #expect(table?.set("service-ips")?.verdicts?.count == services, "\(reading.unchecked)")
            for service in ["first_service", "middle_service", "last_service"] {
                let walk = RuleWalk.walk(reading.ruleset, hook: "prerouting", packet: try Self.syn(to: lab[service]))
                // filter-prerouting: `ct state new jump firewall-check` and firewall-check's lookup in
                // the empty firewall-ips, which falls through (2). nat-prerouting: `jump services`,
                // the lookup in service-ips that goes to the Service's chain, its `numgen random mod 2`
                // pick that goes to an endpoint chain, whose masquerade mark for the endpoint's own
                // address does not hold for this client, and its DNAT (5). Both endpoint chains have
                // those two rules: the pick does not widen the count (unlike iptables' statistic jumps).
                #expect(walk.chains.map(\.chain) == ["filter-prerouting", "nat-prerouting"], "\(services) \(service): \(walk)")
                #expect(walk.chains.map(\.fewest) == [2, 5] && walk.chains.map(\.most) == [2, 5], "\(services) \(service): \(walk)")
            }
        }
    }
}
