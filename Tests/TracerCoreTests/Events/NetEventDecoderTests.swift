import Testing
import TracerABI
@testable import TracerCore

/// The network probe's map layouts and the flow counters added up from their copies.
struct NetEventDecoderTests {
    @Test func layoutsMatchTheCHeader() {
        #expect(MemoryLayout<tracer_device_way>.size == 12)
        #expect(MemoryLayout<tracer_device_slot>.size == 4 + 12 * Int(TRACER_DEVICE_SLOT_WAYS))
        #expect(MemoryLayout<tracer_netns_scope>.size == 4)
        #expect(MemoryLayout<tracer_flow_slot>.size == 128)
        #expect(MemoryLayout<tracer_flow_slot>.offset(of: \tracer_flow_slot.stats) == 16)
        #expect(MemoryLayout<tracer_net_config>.size == 40)
        #expect(TRACER_FLOW_SLOTS == 1 << TRACER_FLOW_SLOT_BITS)
    }

    static func key(port: UInt16) -> tracer_flow_key {
        var key = tracer_flow_key()
        key.endpoint_addr = IPAddress(172, 17, 0, 2).ipv4Wire!
        key.remote_addr = IPAddress(203, 0, 113, 10).ipv4Wire!
        key.endpoint_port = port.bigEndian
        key.remote_port = UInt16(80).bigEndian
        key.proto = 6
        return key
    }

    static func stats(_ packets: [UInt64], drops: UInt64 = 0, dropAt: UInt64 = 0, reason: UInt32 = 0, nat: UInt32 = 0) -> tracer_flow_stats {
        var raw = tracer_flow_stats()
        withUnsafeMutableBytes(of: &raw.packets) { counts in
            for (i, count) in packets.enumerated() { counts.storeBytes(of: count, toByteOffset: 8 * i, as: UInt64.self) }
        }
        raw.drops = drops
        raw.last_drop_ns = dropAt
        raw.last_drop_reason = reason
        raw.last_drop_stage = UInt32(TRACER_STAGE_NONE.rawValue)
        raw.nat_addr = nat
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
        let nat = IPAddress(198, 51, 100, 2).ipv4Wire!
        let fromSlot = Self.stats([2, 2, 2, 2, 1, 1, 1, 1], drops: 1, dropAt: 100, reason: 7, nat: nat)
        let fromLRU = Self.stats([1, 1, 1, 0], drops: 2, dropAt: 200, reason: 9)
        let combined = NetEventDecoder.combine([fromSlot, fromLRU])
        #expect(combined.packets == [3, 3, 3, 2, 1, 1, 1, 1])
        #expect(combined.drops == 3)
        #expect(combined.lastDrop?.reason == 9)
        #expect(combined.natAddress == IPAddress(198, 51, 100, 2))
    }
}
