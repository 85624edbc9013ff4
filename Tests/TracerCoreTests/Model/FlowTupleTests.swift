import Testing
import TracerABI
@testable import TracerCore

/// `FlowTuple`: one text form for every table and message, ICMP echo id included.
struct FlowTupleTests {
    @Test func oneTextPerProtocol() {
        #expect(FlowTuple(proto: .tcp, source: "172.17.0.2", destination: "203.0.113.10", transport: .ports(source: 40000, destination: 443)).description
            == "tcp 172.17.0.2:40000 -> 203.0.113.10:443")
        #expect(FlowTuple(proto: .udp, source: "2001:db8::2", destination: "2001:db8::1", transport: .ports(source: 53, destination: 5353)).description
            == "udp [2001:db8::2]:53 -> [2001:db8::1]:5353")
        #expect(FlowTuple(proto: .icmp, source: "172.17.0.2", destination: "203.0.113.10", transport: .icmpEcho(id: 7)).description
            == "icmp 172.17.0.2 -> 203.0.113.10 id 7")
        #expect(FlowTuple(proto: .icmpv6, source: "fd00::2", destination: "2001:db8::1", transport: .icmpEcho(id: 9)).description
            == "icmpv6 fd00::2 -> 2001:db8::1 id 9")
        #expect(FlowTuple(proto: .icmp, source: "10.0.0.1", destination: "10.0.0.2").description == "icmp 10.0.0.1 -> 10.0.0.2")
        #expect(FlowTuple(proto: .gre, source: "10.0.0.1", destination: "10.0.0.2").description == "gre 10.0.0.1 -> 10.0.0.2")
        #expect(FlowTuple(proto: IPProtocol(253), source: "10.0.0.1", destination: "10.0.0.2").description == "253 10.0.0.1 -> 10.0.0.2")
    }

    @Test func portsFromTheProbe() {
        let echo = FlowTuple(proto: .icmp, source: "10.0.0.1", destination: "10.0.0.2", sourcePort: 7, destinationPort: 0)
        #expect(echo.transport == .icmpEcho(id: 7) && echo.sourcePort == 7 && echo.destinationPort == 0)
        #expect(FlowTuple(proto: .icmp, source: "10.0.0.1", destination: "10.0.0.2", sourcePort: 0, destinationPort: 0).transport == .none)
        #expect(FlowTuple(proto: .tcp, source: "10.0.0.1", destination: "10.0.0.2", sourcePort: 0, destinationPort: 0).transport
            == .ports(source: 0, destination: 0))
        let tcp = FlowTuple(proto: .tcp, source: "10.0.0.1", destination: "10.0.0.2", sourcePort: 1, destinationPort: 2)
        #expect(tcp.reversed == FlowTuple(proto: .tcp, source: "10.0.0.2", destination: "10.0.0.1", sourcePort: 2, destinationPort: 1))
        #expect(echo.reversed.transport == .icmpEcho(id: 7) && echo.reversed.source == "10.0.0.2")
    }

    /// A flow's stage line and a drop's table row print the same tuple text.
    @Test func everyRendererUsesIt() {
        let flow = FlowKey(endpointAddress: "172.17.0.2", remoteAddress: "203.0.113.10", endpointPort: 7, remotePort: 0, proto: 1)
        #expect(flow.tuple.description == "icmp 172.17.0.2 -> 203.0.113.10 id 7")
        let drop = DropEvent(timestamp: 0, location: 0, reason: 2, device: DeviceKey(netnsInode: 1, ifindex: 2), deviceName: "br-lab",
                             ethertype: 0x0800, ipVersion: 4, l4Protocol: 1, source: "172.17.0.2", destination: "203.0.113.10",
                             sourcePort: 7, destinationPort: 0, inScope: true)
        #expect(DropRender.tupleText(drop) == flow.tuple.description)
        var tcp = drop
        tcp.l4Protocol = 6
        tcp.sourcePort = 40000
        tcp.destinationPort = 443
        #expect(DropRender.tupleText(tcp) == "tcp 172.17.0.2:40000 -> 203.0.113.10:443")
        var arp = drop
        arp.source = nil
        arp.destination = nil
        arp.ethertype = 0x0806
        #expect(DropRender.tupleText(arp) == "arp" && arp.tuple == nil)

        let path = EgressPath(
            endpoint: .init(name: "c1", netnsInode: 11, netnsPath: "/run/netns/c1", interface: "eth0", interfaceIndex: 2,
                            ipv4: ["172.17.0.2/16"], mtu: 1500),
            hostNetnsInode: 22, hostNetnsPath: "/run/netns/host", hostIsRoot: false)
        let stats = FlowStats(packets: [3, 0, 0, 0, 0, 0, 0, 0], drops: 0, lastDrop: nil, natAddress: nil, natPort: 0, privateSourceSeen: false)
        let outcome = FlowOutcome(flow: flow, stats: stats, path: path)
        #expect(DropRender.stageLine(outcome).contains("icmp 172.17.0.2 -> 203.0.113.10 id 7"))
        #expect(EgressExplainer.observation(EgressExplainer.Evidence(outcome: outcome)).hasPrefix("icmp 172.17.0.2 -> 203.0.113.10 id 7:"))

        // An inbound flow names its translation: the FLOW column widens so the columns after it
        // stay under their headers.
        let inbound = FlowKey(endpointAddress: "172.17.0.2", remoteAddress: "198.51.100.1", endpointPort: 22, remotePort: 53658, proto: 6,
                              direction: .inbound)
        let published = FlowStats(packets: [0, 0, 0, 0, 1, 0, 0, 0, 1, 0], drops: 1, lastDrop: nil, natAddress: "198.51.100.2", natPort: 1222,
                                  privateSourceSeen: false)
        let long = FlowOutcome(flow: inbound, stats: published, path: path)
        #expect(long.text == "tcp 198.51.100.1:53658 -> 198.51.100.2:1222 dnat 172.17.0.2:22")
        let width = DropRender.flowWidth([outcome, long])
        #expect(width == long.text.count)
        let header = DropRender.stageHeader(flowWidth: width), line = DropRender.stageLine(long, flowWidth: width)
        let column = header.distance(from: header.startIndex, to: header.range(of: "LAST STAGE")!.lowerBound)
        #expect(line.dropFirst(column).hasPrefix((long.lastStage.map(long.name) ?? "?") + " "), "\(header)\n\(line)")
    }

    /// The nftables trace decodes an ICMP echo's identifier from the transport header.
    @Test func traceTupleOfAnEcho() {
        let header: [UInt8] = [0x45, 0, 0, 84, 0, 0, 0x40, 0, 64, 1, 0, 0, 172, 17, 0, 2, 203, 0, 113, 10]
        let echo: [UInt8] = [8, 0, 0, 0, 0x12, 0x34, 0, 1]
        #expect(NftTraceDecoder.tuple(network: header, transport: echo)?.description == "icmp 172.17.0.2 -> 203.0.113.10 id 4660")
        #expect(NftTraceDecoder.tuple(network: header, transport: [3, 1, 0, 0, 0, 0, 0, 0])?.transport == FlowTuple.Transport.none)
    }
}
