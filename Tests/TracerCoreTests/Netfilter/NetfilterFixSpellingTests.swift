import Testing
@testable import TracerCore

/// Every fix that runs in a host side is spelled by `NamespaceCommand`: the static netfilter
/// findings quote a namespace path as the trace's findings do.
struct NetfilterFixSpellingTests {
    @Test func aHostSidePathThatNeedsQuotingIsQuotedInEveryFix() throws {
        let hostPath = "/var/run/docker/netns/lab host"
        let path = EgressPath(
            endpoint: .init(name: "web1", netnsInode: 11, netnsPath: "/proc/42/ns/net", interface: "eth0", interfaceIndex: 2,
                            ipv4: ["172.17.0.2/16"], mtu: 1500),
            hostNetnsInode: 22, hostNetnsPath: hostPath, hostIsRoot: false,
            hostVeth: .init(name: "veth1", index: 5), bridge: .init(name: "docker0", index: 3), uplink: .init(name: "eth0", index: 4))
        // No NAT at all: MASQUERADE is missing.
        let report = NetfilterInspector.inspect(path: path, reading: RulesetReading(ruleset: Ruleset(), unchecked: []))
        let missing = try #require(report.findings.first { $0.code == .masqueradeMissing })
        #expect(missing.fix == "nsenter --net='/var/run/docker/netns/lab host' iptables-nft -t nat -A POSTROUTING -s 172.17.0.0/16 -o eth0 -j MASQUERADE")
        // The trace's own fallback spells the same prefix.
        let outcome = FlowOutcome(flow: FlowKey(endpointAddress: "172.17.0.2", remoteAddress: "203.0.113.10", endpointPort: 7, remotePort: 0, proto: 1),
                                  stats: FlowStats(packets: [3, 3, 3, 0, 0, 0, 0, 0], drops: 3, lastDrop: nil, natAddress: nil, natPort: 0,
                                                   privateSourceSeen: false), path: path)
        let traced = EgressExplainer.explain(.init(outcome: outcome, reason: "NETFILTER_DROP", location: "nft_do_chain", dropDevice: "docker0",
                                                   dropRole: .bridge, netfilterVerdict: "inet x y handle 2", netfilterRule: "inet x y handle 2",
                                                   netfilterFix: RuleFix(kind: .insertAccept, command: "nft insert rule inet x y position 2 ip daddr 203.0.113.10 meta l4proto icmp accept",
                                                                         evidence: "an accept for icmp to 203.0.113.10 only")),
                                             staticFindings: [])
        #expect(traced.fix == "nsenter --net='/var/run/docker/netns/lab host' nft insert rule inet x y position 2 ip daddr 203.0.113.10 meta l4proto icmp accept")
    }
}
