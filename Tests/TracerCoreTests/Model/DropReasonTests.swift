import Testing
@testable import TracerCore

/// `DropReason`: the kernel's number and name; names are compared, numbers are this kernel's.
struct DropReasonTests {
    let reasons = DropReasons(names: [2: "NOT_SPECIFIED", 5: "NETFILTER_DROP", 77: "IP_RPFILTER"])

    @Test func numbersBecomeNamedReasons() {
        #expect(reasons.reason(5) == DropReason(code: 5, name: .netfilterDrop))
        #expect(reasons.reason(5).description == "NETFILTER_DROP")
        #expect(reasons.reason(999).name.rawValue == "REASON_999")
        #expect(reasons.number(.ipRPFilter) == 77 && reasons.number(.tcIngress) == nil)
        #expect(DropReasons.healthyHostNoise.contains("NO_SOCKET"))
    }

    /// The explainer goes by the name, whatever number this kernel gave it.
    @Test func theExplainerComparesNames() {
        let path = EgressPath(
            endpoint: .init(name: "c1", netnsInode: 11, netnsPath: "/run/netns/c1", interface: "eth0", interfaceIndex: 2,
                            ipv4: ["172.17.0.2/16"], mtu: 1500),
            hostNetnsInode: 22, hostNetnsPath: "/run/netns/host", hostIsRoot: false)
        let flow = FlowKey(endpointAddress: "172.17.0.2", remoteAddress: "203.0.113.10", endpointPort: 7, remotePort: 0, proto: 1)
        let outcome = FlowOutcome(flow: flow, stats: FlowStats(packets: [1, 1, 1, 0, 0, 0, 0, 0], drops: 1, lastDrop: nil, natAddress: nil,
                                                                natPort: 0, privateSourceSeen: false), path: path)
        #expect(EgressExplainer.candidates(.init(outcome: outcome, reason: reasons.reason(77))) == [.rpFilterDrop])
        #expect(EgressExplainer.candidates(.init(outcome: outcome, reason: DropReason(code: 12, name: .ipRPFilter))) == [.rpFilterDrop])
        #expect(EgressExplainer.candidates(.init(outcome: outcome, reason: reasons.reason(999))) == [.kernelDrop])
        #expect(EgressExplainer.candidates(.init(outcome: outcome, reason: "NEIGH_FAILED", dropRole: .uplink)) == [.uplinkNoCarrier, .neighbourFailed])
        #expect(DropReason.Name("NEIGH_SOMETHING_NEW").isNeighbour && DropReason.Name.tcEgress.isTrafficControl)
    }
}
