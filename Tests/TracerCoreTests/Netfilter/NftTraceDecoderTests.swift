import Testing
@testable import TracerCore

/// NFT_MSG_TRACE messages built byte by byte, as nf_tables_trace.c lays them out.
@Suite struct NftTraceDecoderTests {
    func attribute(_ type: UInt16, _ value: [UInt8], nested: Bool = false) -> [UInt8] {
        let length = 4 + value.count
        var bytes = withUnsafeBytes(of: UInt16(length).littleEndian, Array.init)
        bytes += withUnsafeBytes(of: (type | (nested ? 0x8000 : 0)).littleEndian, Array.init)
        bytes += value
        bytes += [UInt8](repeating: 0, count: NL.align(length) - length)
        return bytes
    }

    func be32(_ v: UInt32) -> [UInt8] { withUnsafeBytes(of: v.bigEndian, Array.init) }
    func be64(_ v: UInt64) -> [UInt8] { withUnsafeBytes(of: v.bigEndian, Array.init) }
    func string(_ s: String) -> [UInt8] { Array(s.utf8) + [0] }

    func message(family: UInt8, _ attributes: [[UInt8]]) -> [UInt8] {
        let payload: [UInt8] = [family, 0, 0, 0] + attributes.flatMap { $0 }
        var bytes = withUnsafeBytes(of: UInt32(16 + payload.count).littleEndian, Array.init)
        bytes += withUnsafeBytes(of: NftTraceDecoder.messageType.littleEndian, Array.init)
        bytes += [UInt8](repeating: 0, count: 10)
        return bytes + payload
    }

    /// IPv4 + TCP headers 172.17.0.2:40000 -> 203.0.113.10:8080.
    let ipv4: [UInt8] = [0x45, 0, 0, 60, 0, 0, 0x40, 0, 64, 6, 0, 0, 172, 17, 0, 2, 203, 0, 113, 10]
    let tcp: [UInt8] = [0x9c, 0x40, 0x1f, 0x90, 0, 0, 0, 0]

    @Test func ruleDropWithHeaders() throws {
        let bytes = message(family: 1, [
            attribute(1, string("labfilter")), attribute(2, string("forward")), attribute(3, be64(4)),
            attribute(4, be32(3)), attribute(5, attribute(1, be32(0)), nested: true), attribute(6, be32(0xdeadbeef)),
            attribute(8, ipv4), attribute(9, tcp), attribute(10, be32(7)), attribute(12, be32(9)), attribute(15, be32(2)),
        ])
        let events = NftTraceDecoder.decode(datagram: bytes)
        let event = try #require(events.first)
        #expect(events.count == 1)
        #expect(event.family == "inet" && event.table == "labfilter" && event.chain == "forward")
        #expect(event.ruleHandle == 4 && event.kind == .rule && event.verdict == "drop" && event.isDrop)
        #expect(event.id == 0xdeadbeef && event.inInterfaceIndex == 7 && event.outInterfaceIndex == 9 && event.nfproto == 2)
        #expect(event.tuple == FlowTuple(proto: .tcp, source: "172.17.0.2", destination: "203.0.113.10", transport: .ports(source: 40000, destination: 8080)))
        #expect(event.tuple?.description == "tcp 172.17.0.2:40000 -> 203.0.113.10:8080")
    }

    @Test func policyDropAndJump() throws {
        let policy = message(family: 2, [attribute(1, string("filter")), attribute(2, string("FORWARD")), attribute(4, be32(1)),
                                         attribute(16, be32(0))])
        let jump = message(family: 2, [attribute(1, string("filter")), attribute(2, string("FORWARD")), attribute(3, be64(5)),
                                       attribute(4, be32(3)),
                                       attribute(5, attribute(1, be32(UInt32(bitPattern: -3))) + attribute(2, string("DOCKER-USER")), nested: true)])
        let events = NftTraceDecoder.decode(datagram: policy + jump)
        #expect(events.count == 2)
        #expect(events[0].kind == .policy && events[0].verdict == "drop" && events[0].isDrop && events[0].family == "ip")
        #expect(events[1].verdict == "jump" && events[1].jumpTarget == "DOCKER-USER" && !events[1].isDrop)
    }

    @Test func garbageIsIgnored() {
        #expect(NftTraceDecoder.decode(datagram: [1, 2, 3]).isEmpty)
        var truncated = message(family: 1, [attribute(1, string("t"))])
        truncated.removeLast(3)
        #expect(NftTraceDecoder.decode(datagram: truncated).isEmpty)
        #expect(NftTraceDecoder.tuple(network: [0x60] + [UInt8](repeating: 0, count: 38), transport: nil) == nil, "a truncated IPv6 header")
        #expect(NftTraceDecoder.tuple(network: [0x50] + [UInt8](repeating: 0, count: 39), transport: nil) == nil, "no IP version 5")
    }

    /// The trace carries IPv6 packets too: addresses from the fixed header, ports and echo ids
    /// from the transport header the kernel found past any extension headers.
    @Test func anIPv6PacketsTupleIsRead() {
        var header = [UInt8](repeating: 0, count: 40)
        header[0] = 0x60
        header[6] = 6
        header.replaceSubrange(8..<24, with: IPAddress("fd00:17::2").bytes)
        header.replaceSubrange(24..<40, with: IPAddress("2001:db8:ffff::10").bytes)
        #expect(NftTraceDecoder.tuple(network: header, transport: [0x9c, 0x40, 0x1f, 0x90])?.description == "tcp [fd00:17::2]:40000 -> [2001:db8:ffff::10]:8080")
        header[6] = 58
        #expect(NftTraceDecoder.tuple(network: header, transport: [128, 0, 0, 0, 0x12, 0x34, 0, 1])?.description == "icmpv6 fd00:17::2 -> 2001:db8:ffff::10 id 4660")
        #expect(NftTraceDecoder.tuple(network: header, transport: [135, 0, 0, 0, 0, 0, 0, 0])?.transport == FlowTuple.Transport.none, "a neighbour solicitation has no id")
    }
}
