import TracerABI

/// Where on an egress path a packet was seen, in path order: egress, then the reply.
public enum PathStage: Int, Sendable, CaseIterable, Comparable {
    case endpointTX = 0, hostVethRX, bridgeRX, uplinkQueue, uplinkRX, bridgeTX, hostVethTX, endpointRX

    /// The name in JSON and tables.
    public var name: String {
        switch self {
        case .endpointTX: return "endpoint-tx"
        case .hostVethRX: return "host-veth-rx"
        case .bridgeRX: return "bridge-rx"
        case .uplinkQueue: return "uplink-queue"
        case .uplinkRX: return "reply-uplink-rx"
        case .bridgeTX: return "reply-bridge-tx"
        case .hostVethTX: return "reply-host-veth-tx"
        case .endpointRX: return "reply-endpoint-rx"
        }
    }

    public var isReply: Bool { self >= .uplinkRX }

    /// Every stage is on an egress path: before the uplink the endpoint's packets, after it the replies.
    public var direction: PacketDirection { isReply ? .egressReply : .egress }

    public static func < (a: PathStage, b: PathStage) -> Bool { a.rawValue < b.rawValue }
}

/// What a device in scope is to its path.
public enum DeviceRole: UInt32, Sendable {
    case endpoint = 1, hostVeth, bridge, uplink
}

/// A traced flow as the probe keys it, from the endpoint's side: its address and port, and the
/// remote's. For ICMP echo the endpoint port is the identifier and the remote port is 0.
public struct FlowKey: Hashable, Sendable {
    public var endpointAddress: IPAddress
    public var remoteAddress: IPAddress
    public var endpointPort: UInt16
    public var remotePort: UInt16
    public var proto: UInt8

    public init(endpointAddress: IPAddress, remoteAddress: IPAddress, endpointPort: UInt16, remotePort: UInt16, proto: UInt8) {
        self.endpointAddress = endpointAddress
        self.remoteAddress = remoteAddress
        self.endpointPort = endpointPort
        self.remotePort = remotePort
        self.proto = proto
    }

    /// The flow's tuple in its original direction: the endpoint started it (the probe traces
    /// egress flows, and ICMP only for echo).
    public var tuple: FlowTuple {
        let proto = IPProtocol(proto)
        if proto.isICMP {
            return FlowTuple(proto: proto, source: endpointAddress, destination: remoteAddress, transport: .icmpEcho(id: endpointPort))
        }
        return FlowTuple(proto: proto, source: endpointAddress, destination: remoteAddress,
                         sourcePort: endpointPort, destinationPort: remotePort)
    }
}

/// A drop the kernel reported, with what it knew about the packet.
public struct DropEvent: Sendable, Equatable {
    public var timestamp: UInt64
    public var location: UInt64
    public var reason: UInt32
    public var device: DeviceKey
    public var deviceName: String
    /// Ethertype, host byte order.
    public var ethertype: UInt16
    /// 4, 6, or 0 when the packet was not IP.
    public var ipVersion: UInt8
    public var l4Protocol: UInt8
    public var source: IPAddress?
    public var destination: IPAddress?
    /// As the packet carried them: TCP/UDP ports, an ICMP echo's identifier in `sourcePort`, else 0.
    public var sourcePort: UInt16
    public var destinationPort: UInt16
    /// On a device in scope or of a traced flow.
    public var inScope: Bool
    /// The traced flow it belonged to, and the last stage it had reached.
    public var flow: FlowKey?
    public var stage: PathStage?

    /// The packet's tuple, when its addresses were read.
    public var tuple: FlowTuple? {
        guard let source, let destination else { return nil }
        return FlowTuple(proto: IPProtocol(l4Protocol), source: source, destination: destination,
                         sourcePort: sourcePort, destinationPort: destinationPort)
    }
}

/// How far one flow got, from the kernel's counters.
public struct FlowStats: Sendable, Equatable {
    public var packets: [UInt64]
    public var drops: UInt64
    public var lastDrop: (timestamp: UInt64, location: UInt64, reason: UInt32, device: DeviceKey, stage: PathStage?)?
    /// The source the uplink saw after SNAT/MASQUERADE.
    public var natAddress: IPAddress?
    public var natPort: UInt16
    /// The uplink saw the endpoint's own (private) source: nothing masqueraded it.
    public var privateSourceSeen: Bool

    public func packets(at stage: PathStage) -> UInt64 { packets[stage.rawValue] }

    /// The furthest stage any packet of the flow reached in `direction`.
    public func lastStage(reply: Bool) -> PathStage? {
        PathStage.allCases.filter { $0.isReply == reply && packets[$0.rawValue] > 0 }.max()
    }

    public static func == (a: FlowStats, b: FlowStats) -> Bool {
        a.packets == b.packets && a.drops == b.drops && a.natAddress == b.natAddress && a.privateSourceSeen == b.privateSourceSeen
    }
}

/// ARP seen on a device in scope: a flow shows nothing while a neighbour does not answer.
public struct DeviceARPStats: Sendable, Equatable {
    public var requestsSent: UInt64
    public var repliesSent: UInt64
    public var requestsReceived: UInt64
    public var repliesReceived: UInt64
}

/// The only code that knows the byte layout of bpf/include/tracer/net_event.h.
public enum NetEventDecoder {
    public struct TooShort: Error, CustomStringConvertible {
        public var size: Int
        public var description: String { "drop record truncated at \(size) bytes" }
    }

    public static func decodeDrop(_ bytes: UnsafeRawBufferPointer) throws -> DropEvent {
        guard bytes.count >= MemoryLayout<tracer_drop_event>.size else { throw TooShort(size: bytes.count) }
        var raw = bytes.loadUnaligned(as: tracer_drop_event.self)
        let flags = raw.flags
        let hasTuple = flags & UInt32(TRACER_DROP_HAS_TUPLE.rawValue) != 0
        let hasFlow = flags & UInt32(TRACER_DROP_FLOW.rawValue) != 0
        var source: IPAddress?
        var destination: IPAddress?
        if hasTuple {
            source = withUnsafeBytes(of: &raw.saddr) { address($0, version: raw.ip_version) }
            destination = withUnsafeBytes(of: &raw.daddr) { address($0, version: raw.ip_version) }
        }
        let stage = raw.stage == UInt32(TRACER_STAGE_NONE.rawValue) ? nil : PathStage(rawValue: Int(raw.stage))
        return DropEvent(
            timestamp: raw.timestamp_ns, location: raw.location, reason: raw.reason,
            device: DeviceKey(netnsInode: raw.netns, ifindex: raw.ifindex),
            deviceName: String(decoding: ProcessEventDecoder.cString(&raw.ifname), as: UTF8.self), ethertype: raw.protocol, ipVersion: raw.ip_version,
            l4Protocol: raw.l4_proto, source: source, destination: destination,
            sourcePort: raw.sport.bigEndian, destinationPort: raw.dport.bigEndian,
            inScope: flags & UInt32(TRACER_DROP_IN_SCOPE.rawValue) != 0,
            flow: hasFlow ? flowKey(raw.flow) : nil, stage: hasFlow ? stage : nil)
    }

    public static func flowKey(_ raw: tracer_flow_key) -> FlowKey {
        FlowKey(endpointAddress: IPAddress(ipv4Wire: raw.endpoint_addr), remoteAddress: IPAddress(ipv4Wire: raw.remote_addr),
                endpointPort: raw.endpoint_port.bigEndian, remotePort: raw.remote_port.bigEndian, proto: raw.proto)
    }

    /// The flows in one slot of the per-CPU flow table (`flow_slots`), given every CPU's copy:
    /// each copy whose slot a flow has taken (a protocol is set), with that CPU's counters.
    public static func flows(inSlot copies: [tracer_flow_slot]) -> [(FlowKey, tracer_flow_stats)] {
        copies.filter { $0.key.proto != 0 }.map { (flowKey($0.key), $0.stats) }
    }

    /// One flow's counters from all their copies (every CPU's, in the slot table and the LRU
    /// hash): counts summed, the latest drop, the NAT source any copy saw.
    public static func combine(_ copies: [tracer_flow_stats]) -> FlowStats {
        var packets = [UInt64](repeating: 0, count: PathStage.allCases.count)
        var drops: UInt64 = 0
        var latestDrop: tracer_flow_stats?
        var nat: (UInt32, UInt16)?
        var privateSource = false
        for var raw in copies {
            withUnsafeBytes(of: &raw.packets) { counts in
                for (i, count) in counts.bindMemory(to: UInt64.self).enumerated() where i < packets.count { packets[i] += count }
            }
            drops += raw.drops
            if raw.drops > 0 && raw.last_drop_ns >= (latestDrop?.last_drop_ns ?? 0) { latestDrop = raw }
            if raw.nat_addr != 0 { nat = (raw.nat_addr, raw.nat_port) }
            privateSource = privateSource || raw.private_source_seen != 0
        }
        let lastDrop = latestDrop.map { raw in (
            timestamp: raw.last_drop_ns, location: raw.last_drop_location, reason: raw.last_drop_reason,
            device: DeviceKey(netnsInode: raw.last_drop_netns, ifindex: raw.last_drop_ifindex),
            stage: PathStage(rawValue: Int(raw.last_drop_stage))) }
        return FlowStats(
            packets: packets, drops: drops, lastDrop: lastDrop,
            natAddress: nat.map { IPAddress(ipv4Wire: $0.0) }, natPort: nat.map { $0.1.bigEndian } ?? 0,
            privateSourceSeen: privateSource)
    }

    public static func dropKey(_ raw: tracer_drop_key) -> (location: UInt64, reason: UInt32, device: DeviceKey) {
        (raw.location, raw.reason, DeviceKey(netnsInode: raw.netns, ifindex: raw.ifindex))
    }

    /// The array slot of an ifindex (see net_event.h): the devices with it, by namespace, or
    /// "look in the hash" when there are more than a slot holds.
    static func deviceSlot(_ devices: [(netns: UInt32, scope: tracer_device_scope)]) -> tracer_device_slot {
        var slot = tracer_device_slot()
        guard devices.count <= Int(TRACER_DEVICE_SLOT_WAYS) else {
            slot.count = TRACER_DEVICE_SLOT_SHARED
            return slot
        }
        slot.count = UInt32(devices.count)
        withUnsafeMutableBytes(of: &slot.devices) { raw in
            let ways = raw.bindMemory(to: tracer_device_way.self)
            for (i, device) in devices.enumerated() { ways[i] = tracer_device_way(netns: device.netns, scope: device.scope) }
        }
        return slot
    }

    public static func deviceKey(_ device: DeviceKey) -> tracer_device_key {
        var raw = tracer_device_key()
        raw.netns = device.netnsInode
        raw.ifindex = device.ifindex
        return raw
    }

    public static func deviceKey(_ raw: tracer_device_key) -> DeviceKey {
        DeviceKey(netnsInode: raw.netns, ifindex: raw.ifindex)
    }

    public static func arpStats(_ raw: tracer_device_stats) -> DeviceARPStats {
        DeviceARPStats(requestsSent: raw.arp_requests_tx, repliesSent: raw.arp_replies_tx,
                       requestsReceived: raw.arp_requests_rx, repliesReceived: raw.arp_replies_rx)
    }

    /// The address in a drop record: the first 4 bytes for IPv4, all 16 for IPv6.
    static func address(_ bytes: UnsafeRawBufferPointer, version: UInt8) -> IPAddress? {
        switch version {
        case 4: return IPAddress(bytes: bytes.prefix(4))
        case 6: return IPAddress(bytes: bytes.prefix(16))
        default: return nil
        }
    }
}
