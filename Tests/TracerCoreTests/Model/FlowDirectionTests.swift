import Testing
@testable import TracerCore

/// `FlowDirection` and `PacketDirection`: who started the flow and which way a packet goes;
/// the renderers keep today's words for egress flows.
struct FlowDirectionTests {
    @Test func renderedWords() {
        #expect(DropRender.directionText(.egress) == "egress")
        #expect(DropRender.directionText(.egressReply) == "reply")
        #expect(DropRender.directionText(.inbound) == "inbound")
        #expect(DropRender.directionText(.inboundReply) == "inbound-reply")
    }

    @Test func whichWayLeavesTheEndpoint() {
        #expect(PacketDirection.egress.leavesEndpoint && !PacketDirection.egressReply.leavesEndpoint)
        #expect(!PacketDirection.inbound.leavesEndpoint && PacketDirection.inboundReply.leavesEndpoint)
        #expect(FlowDirection.allCases == [.egress, .inbound])
    }

    /// On an egress path the stages before the uplink carry the endpoint's packets, those after
    /// it the replies; an inbound path meets the same devices the other way round.
    @Test func stagesOfEachPath() {
        for stage in PathStage.counted {
            #expect(stage.direction(in: .egress) == (stage.rawValue < PathStage.uplinkRX.rawValue ? .egress : .egressReply), "\(stage)")
            #expect(stage.direction(in: .inbound) == (stage.rawValue < PathStage.uplinkRX.rawValue ? .inboundReply : .inbound), "\(stage)")
        }
        #expect(PathStage.path(.inbound).map { $0.name(in: .inbound) } == [
            "uplink-rx", "dnat", "forward", "bridge-tx", "host-veth-tx", "endpoint-rx",
            "reply-endpoint-tx", "reply-host-veth-rx", "reply-bridge-rx", "reply-uplink-queue"])
        #expect(PathStage.path(.egress).map { $0.name(in: .egress) } == [
            "endpoint-tx", "host-veth-rx", "bridge-rx", "uplink-queue",
            "reply-uplink-rx", "reply-bridge-tx", "reply-host-veth-tx", "reply-endpoint-rx"])
    }

    /// A flow stopped before a reply stage stopped on its way back.
    @Test func aStoppedFlowsDirection() {
        let path = EgressPath(
            endpoint: .init(name: "c1", netnsInode: 11, netnsPath: "/run/netns/c1", interface: "eth0", interfaceIndex: 2,
                            ipv4: ["172.17.0.2/16"], mtu: 1500),
            hostNetnsInode: 22, hostNetnsPath: "/run/netns/host", hostIsRoot: false,
            hostVeth: .init(name: "veth-c1", index: 5), bridge: .init(name: "br-lab", index: 3), uplink: .init(name: "uplink0", index: 4))
        let flow = FlowKey(endpointAddress: "172.17.0.2", remoteAddress: "203.0.113.10", endpointPort: 7, remotePort: 0, proto: 1)
        func outcome(_ reached: Int) -> FlowOutcome {
            let packets = (0..<PathStage.counted.count).map { UInt64($0 < reached ? 1 : 0) }
            return FlowOutcome(flow: flow, stats: FlowStats(packets: packets, drops: 0, lastDrop: nil, natAddress: nil, natPort: 0,
                                                            privateSourceSeen: false), path: path)
        }
        #expect(outcome(2).direction == .egress)
        #expect(outcome(5).direction == .egressReply)
        #expect(outcome(8).direction == .egress && outcome(8).isComplete)
        #expect(DropRender.stageJSON(outcome(5), evidence: nil).finishedBytes.containsSubsequence(Array(#""direction":"reply""#.utf8)))
    }

    /// A drop without a traced flow: the endpoint's own address says which way it went.
    @Test func aDropsDirectionFromTheEndpointsAddress() {
        let path = EgressPath(
            endpoint: .init(name: "c1", netnsInode: 11, netnsPath: "/run/netns/c1", interface: "eth0", interfaceIndex: 2,
                            ipv4: ["172.17.0.2/16"], mtu: 1500),
            hostNetnsInode: 22, hostNetnsPath: "/run/netns/host", hostIsRoot: false)
        let describer = DropDescriber(reasons: DropReasons(names: [2: "NOT_SPECIFIED"]), symbols: KernelSymbols(path: "/nonexistent"),
                                      scope: EgressScope(paths: [path]), directory: nil, inventory: nil)
        var event = DropEvent(timestamp: 0, location: 0, reason: 2, device: DeviceKey(netnsInode: 11, ifindex: 2), deviceName: "eth0",
                              ethertype: 0x0800, ipVersion: 4, l4Protocol: 17, source: "172.17.0.2", destination: "203.0.113.10",
                              sourcePort: 1, destinationPort: 53, inScope: true)
        #expect(describer.describe(event).direction == .egress)
        // To the endpoint without a traced flow: it may open a flow or answer one; not guessed.
        swap(&event.source, &event.destination)
        #expect(describer.describe(event).direction == nil)
        // On a traced flow, the flow says who opened it and the packet's way says the rest.
        event.flow = FlowKey(endpointAddress: "172.17.0.2", remoteAddress: "203.0.113.10", endpointPort: 1, remotePort: 53, proto: 17)
        #expect(describer.describe(event).direction == .egressReply)
        event.flow?.direction = .inbound
        #expect(describer.describe(event).direction == .inbound)
        event.stage = .bridgeRX
        #expect(describer.describe(event).direction == .inboundReply)
        event.stage = .dnat
        #expect(describer.describe(event).direction == .inbound)
    }
}

extension Array where Element == UInt8 {
    func containsSubsequence(_ needle: [UInt8]) -> Bool {
        guard needle.count <= count else { return false }
        return (0...(count - needle.count)).contains { Array(self[$0..<($0 + needle.count)]) == needle }
    }
}
