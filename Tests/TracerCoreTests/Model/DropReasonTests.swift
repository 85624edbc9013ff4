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
        func code(_ reason: DropReason, on device: String = "br-lab", role: DeviceRole = .bridge, _ findings: [Finding] = []) -> FindingCode {
            EgressExplainer.explain(.init(outcome: outcome, reason: reason, dropDevice: device, dropRole: role), staticFindings: findings).code
        }
        #expect(code(reasons.reason(77)) == .rpFilterDrop)
        #expect(code(DropReason(code: 12, name: .ipRPFilter)) == .rpFilterDrop)
        #expect(code(reasons.reason(999)) == .unexplained)
        #expect(code("NEIGH_FAILED", on: "uplink0", role: .uplink) == .neighbourFailed)
        let noCarrier = Finding(code: .uplinkNoCarrier, severity: .error, message: "uplink0 has no carrier", evidence: "NO-CARRIER", device: "uplink0")
        #expect(code("NEIGH_FAILED", on: "uplink0", role: .uplink, [noCarrier]) == .uplinkNoCarrier)
        #expect(DropReason.Name("NEIGH_SOMETHING_NEW").isNeighbour && DropReason.Name.tcEgress.isTrafficControl)
    }
}
