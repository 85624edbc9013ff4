import Testing
import TracerABI
@testable import TracerCore

/// The network probe's map layouts and the flow counters added up from their copies.
struct NetEventDecoderTests {
    @Test func layoutsMatchTheCHeader() {
        #expect(MemoryLayout<tracer_device_way>.size == 12)
        #expect(MemoryLayout<tracer_device_slot>.size == 4 + 12 * Int(TRACER_DEVICE_SLOT_WAYS))
        #expect(MemoryLayout<tracer_netns_scope>.size == 4)
        #expect(MemoryLayout<tracer_flow_slot>.size == 168)
        #expect(MemoryLayout<tracer_flow_slot>.offset(of: \tracer_flow_slot.stats) == 40)
        #expect(MemoryLayout<tracer_net_config>.size == 40)
        #expect(TRACER_FLOW_SLOTS == 1 << TRACER_FLOW_SLOT_BITS)
    }

    static func key(port: UInt16, endpoint: IPAddress = IPAddress(172, 17, 0, 2), remote: IPAddress = IPAddress(203, 0, 113, 10)) -> tracer_flow_key {
        var key = tracer_flow_key()
        key.endpoint_addr = NetEventDecoder.rawAddress(endpoint)
        key.remote_addr = NetEventDecoder.rawAddress(remote)
        key.endpoint_port = port.bigEndian
        key.remote_port = UInt16(80).bigEndian
        key.proto = 6
        return key
    }

    static func stats(_ packets: [UInt64], drops: UInt64 = 0, dropAt: UInt64 = 0, reason: UInt32 = 0, nat: IPAddress? = nil) -> tracer_flow_stats {
        var raw = tracer_flow_stats()
        withUnsafeMutableBytes(of: &raw.packets) { counts in
            for (i, count) in packets.enumerated() { counts.storeBytes(of: count, toByteOffset: 8 * i, as: UInt64.self) }
        }
        raw.drops = drops
        raw.last_drop_ns = dropAt
        raw.last_drop_reason = reason
        raw.last_drop_stage = UInt32(TRACER_STAGE_NONE.rawValue)
        raw.nat_addr = nat.map(NetEventDecoder.rawAddress) ?? tracer_addr()
        return raw
    }

    @Test func aSlotYieldsTheFlowOfEachCPUThatTookIt() {
        let taken = tracer_flow_slot(key: Self.key(port: 40000), stats: Self.stats([3, 3, 3, 3]))
        let empty = tracer_flow_slot()
        let flows = NetEventDecoder.flows(inSlot: [taken, empty])
        #expect(flows.count == 1)
        #expect(flows.first?.0.endpointPort == 40000)
        #expect(flows.first?.0.remoteAddress == IPAddress(203, 0, 113, 10))
        #expect(flows.first?.1.packets.0 == 3)
    }

    @Test func copiesAddUpWithTheLatestDrop() {
        let nat = IPAddress(198, 51, 100, 2)
        let fromSlot = Self.stats([2, 2, 2, 2, 1, 1, 1, 1], drops: 1, dropAt: 100, reason: 7, nat: nat)
        let fromLRU = Self.stats([1, 1, 1, 0], drops: 2, dropAt: 200, reason: 9)
        let combined = NetEventDecoder.combine([fromSlot, fromLRU])
        #expect(combined.packets == [3, 3, 3, 2, 1, 1, 1, 1])
        #expect(combined.drops == 3)
        #expect(combined.lastDrop?.reason == 9)
        #expect(combined.natAddress == IPAddress(198, 51, 100, 2))
    }

    /// The probe's 16-byte addresses: IPv4 mapped into ::ffff:0:0/96, IPv6 as it is, all
    /// zeros for none; both ways round.
    @Test func probeAddressFields() {
        var mapped = [UInt8](repeating: 0, count: 10) + [0xff, 0xff, 203, 0, 113, 10]
        var raw = tracer_addr()
        withUnsafeMutableBytes(of: &raw) { $0.copyBytes(from: mapped) }
        #expect(NetEventDecoder.address(raw) == IPAddress(203, 0, 113, 10))
        #expect(withUnsafeBytes(of: NetEventDecoder.rawAddress(IPAddress(203, 0, 113, 10))) { Array($0) } == mapped)
        let v6 = IPAddress("2001:db8::2")
        #expect(NetEventDecoder.address(NetEventDecoder.rawAddress(v6)) == v6)
        #expect(NetEventDecoder.address(tracer_addr()) == nil)
        mapped[10] = 0
        withUnsafeMutableBytes(of: &raw) { $0.copyBytes(from: mapped) }
        #expect(NetEventDecoder.address(raw)?.family == .v6, "without the ffff marker it is an IPv6 address")
    }

    @Test func anIPv6FlowKeyAndItsNAT66SourceAreDecoded() {
        var stats = Self.stats([1, 1, 1, 1, 1, 1, 1, 1], nat: IPAddress("2001:db8::2"))
        stats.nat_port = UInt16(40000).bigEndian
        let slot = tracer_flow_slot(key: Self.key(port: 40000, endpoint: IPAddress("fd00:17::2"), remote: IPAddress("2001:db8:ffff::10")), stats: stats)
        let flows = NetEventDecoder.flows(inSlot: [slot])
        #expect(flows.first?.0.endpointAddress == IPAddress("fd00:17::2"))
        #expect(flows.first?.0.tuple.description == "tcp [fd00:17::2]:40000 -> [2001:db8:ffff::10]:80")
        let combined = NetEventDecoder.combine(flows.map { $0.1 })
        #expect(combined.natAddress == IPAddress("2001:db8::2") && combined.natPort == 40000)
    }

    /// A drop event as the BPF program writes it, each field where the header puts it.
    static func drop(version: UInt8, source: [UInt8], destination: [UInt8], flags: tracer_drop_flags...) -> [UInt8] {
        var raw = tracer_drop_event()
        raw.timestamp_ns = 123_456
        raw.location = 0xffffffff81a00140
        raw.reason = 12
        raw.netns = 4026532175
        raw.ifindex = 5
        raw.protocol = version == 6 ? 0x86dd : 0x0800
        raw.ip_version = version
        raw.l4_proto = 6
        // As read_packet leaves them: IPv4 mapped.
        raw.saddr = IPAddress(bytes: source).map(NetEventDecoder.rawAddress) ?? tracer_addr()
        raw.daddr = IPAddress(bytes: destination).map(NetEventDecoder.rawAddress) ?? tracer_addr()
        raw.sport = UInt16(40000).bigEndian
        raw.dport = UInt16(443).bigEndian
        raw.flags = flags.reduce(0) { $0 | $1.rawValue }
        raw.stage = UInt32(TRACER_STAGE_BRIDGE_RX.rawValue)
        raw.flow = key(port: 40000)
        withUnsafeMutableBytes(of: &raw.ifname) { $0.copyBytes(from: Array("br-lab".utf8)) }
        return withUnsafeBytes(of: raw) { Array($0) }
    }

    @Test func aDropOfAFlowInScopeIsDecodedWhole() throws {
        let bytes = Self.drop(version: 4, source: [172, 17, 0, 2], destination: [203, 0, 113, 10],
                              flags: TRACER_DROP_IN_SCOPE, TRACER_DROP_FLOW, TRACER_DROP_HAS_TUPLE)
        let event = try bytes.withUnsafeBytes { try NetEventDecoder.decodeDrop($0) }
        #expect(event.timestamp == 123_456 && event.location == 0xffffffff81a00140 && event.reason == 12)
        #expect(event.device == DeviceKey(netnsInode: 4026532175, ifindex: 5) && event.deviceName == "br-lab")
        #expect(event.source == IPAddress("172.17.0.2") && event.destination == IPAddress("203.0.113.10"))
        #expect(event.sourcePort == 40000 && event.destinationPort == 443, "ports are in network order in the event")
        #expect(event.inScope)
        #expect(event.flow?.endpointPort == 40000)
        #expect(event.stage == .bridgeRX)
    }

    @Test func anIPv6DropKeepsItsAddressesAndNoFlowMeansNoStage() throws {
        let source: [UInt8] = [0x20, 0x01, 0x0d, 0xb8] + Array(repeating: 0, count: 11) + [1]
        let destination: [UInt8] = [0xfd, 0] + Array(repeating: 0, count: 13) + [2]
        let bytes = Self.drop(version: 6, source: source, destination: destination, flags: TRACER_DROP_HAS_TUPLE)
        let event = try bytes.withUnsafeBytes { try NetEventDecoder.decodeDrop($0) }
        #expect(event.source == IPAddress("2001:db8::1") && event.destination == IPAddress("fd00::2"))
        #expect(!event.inScope && event.flow == nil && event.stage == nil, "a stage is only read with a flow")
    }

    @Test func aDropWithoutATupleHasNoAddresses() throws {
        let bytes = Self.drop(version: 4, source: [10, 0, 0, 1], destination: [10, 0, 0, 2])
        let event = try bytes.withUnsafeBytes { try NetEventDecoder.decodeDrop($0) }
        #expect(event.source == nil && event.destination == nil)
    }

    @Test func aShortRecordIsRefused() {
        let bytes = [UInt8](repeating: 0, count: MemoryLayout<tracer_drop_event>.size - 1)
        #expect(throws: (any Error).self) { try bytes.withUnsafeBytes { try NetEventDecoder.decodeDrop($0) } }
    }
}
