import TracerABI

/// Where on a path a packet was seen: on a device of the path (the probe counts those) or, for
/// an inbound flow, past DNAT or FORWARD in the host side (known from a drop, or from a later
/// stage). Which come first depends on who opened the flow: `path(_:)`.
public enum PathStage: Int, Sendable, CaseIterable {
    case endpointTX = 0, hostVethRX, bridgeRX, uplinkQueue, uplinkRX, bridgeTX, hostVethTX, endpointRX
    /// An inbound packet whose destination DNAT rewrote to the endpoint's (a drop's stage).
    case dnat = 8
    /// An inbound packet through FORWARD: reached once it is queued on the bridge (or host veth).
    case forward = 9

    /// The stages the probe counts packets at, in the order of its counters.
    public static let counted: [PathStage] = [.endpointTX, .hostVethRX, .bridgeRX, .uplinkQueue, .uplinkRX, .bridgeTX, .hostVethTX, .endpointRX]

    /// A flow's stages in the order its packets meet them: the opener's packets, then the replies.
    public static func path(_ flow: FlowDirection) -> [PathStage] {
        switch flow {
        case .egress: return [.endpointTX, .hostVethRX, .bridgeRX, .uplinkQueue, .uplinkRX, .bridgeTX, .hostVethTX, .endpointRX]
        case .inbound: return [.uplinkRX, .dnat, .forward, .bridgeTX, .hostVethTX, .endpointRX, .endpointTX, .hostVethRX, .bridgeRX, .uplinkQueue]
        }
    }

    /// True for a packet leaving the endpoint (towards the uplink).
    public var leavesEndpoint: Bool { self == .endpointTX || self == .hostVethRX || self == .bridgeRX || self == .uplinkQueue }

    /// On a flow opened by `flow`, does a packet here carry the replies?
    public func isReply(in flow: FlowDirection) -> Bool { leavesEndpoint == (flow == .inbound) }

    public func direction(in flow: FlowDirection) -> PacketDirection { PacketDirection(flow: flow, isReply: isReply(in: flow)) }

    /// The name in JSON and tables: the device and way, with "reply-" on the replies' side.
    public func name(in flow: FlowDirection) -> String {
        let base: String
        switch self {
        case .endpointTX: base = "endpoint-tx"
        case .hostVethRX: base = "host-veth-rx"
        case .bridgeRX: base = "bridge-rx"
        case .uplinkQueue: base = "uplink-queue"
        case .uplinkRX: base = "uplink-rx"
        case .bridgeTX: base = "bridge-tx"
        case .hostVethTX: base = "host-veth-tx"
        case .endpointRX: base = "endpoint-rx"
        case .dnat: base = "dnat"
        case .forward: base = "forward"
        }
        return isReply(in: flow) ? "reply-" + base : base
    }

    /// Its position on `flow`'s path (the stages of the other direction's names come after).
    public func order(in flow: FlowDirection) -> Int { Self.path(flow).firstIndex(of: self) ?? Int.max }
}

/// What a device in scope is to its path.
public enum DeviceRole: UInt32, Sendable {
    case endpoint = 1, hostVeth, bridge, uplink
}

/// A traced flow as the probe keys it, from the endpoint's side as the endpoint sees it (after
/// DNAT): its address and port, the remote's, and who opened it. For ICMP echo the endpoint
/// port is the identifier and the remote port is 0.
public struct FlowKey: Hashable, Sendable {
    public var endpointAddress: IPAddress
    public var remoteAddress: IPAddress
    public var endpointPort: UInt16
    public var remotePort: UInt16
    public var proto: UInt8
    public var direction: FlowDirection

    public init(endpointAddress: IPAddress, remoteAddress: IPAddress, endpointPort: UInt16, remotePort: UInt16, proto: UInt8,
                direction: FlowDirection = .egress) {
        self.endpointAddress = endpointAddress
        self.remoteAddress = remoteAddress
        self.endpointPort = endpointPort
        self.remotePort = remotePort
        self.proto = proto
        self.direction = direction
    }

    /// The flow's tuple in its original direction, as the endpoint sees it: from the endpoint
    /// on an egress flow, from the remote to the endpoint on an inbound one (after DNAT).
    public var tuple: FlowTuple {
        let proto = IPProtocol(proto)
        let endpointSide = FlowTuple(proto: proto, source: endpointAddress, destination: remoteAddress,
                                     transport: proto.isICMP ? .icmpEcho(id: endpointPort)
                                         : FlowTuple(proto: proto, source: endpointAddress, destination: remoteAddress,
                                                     sourcePort: endpointPort, destinationPort: remotePort).transport)
        return direction == .egress ? endpointSide : endpointSide.reversed
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

    /// Which way the packet went on its traced flow: towards the endpoint when it came from the
    /// flow's remote (the opener of an inbound flow, the answerer of an egress one).
    public var flowDirection: PacketDirection? {
        guard let flow else { return nil }
        let towardsEndpoint: Bool
        if let stage, stage != .dnat, stage != .forward {
            towardsEndpoint = !stage.leavesEndpoint
        } else if let source {
            towardsEndpoint = source == flow.remoteAddress || (source != flow.endpointAddress && destination == flow.endpointAddress)
        } else {
            return nil
        }
        return PacketDirection(flow: flow.direction, isReply: towardsEndpoint == (flow.direction == .egress))
    }

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
    /// Egress: the source the uplink saw after SNAT/MASQUERADE. Inbound: the destination the
    /// client addressed before DNAT (the published address and port).
    public var natAddress: IPAddress?
    public var natPort: UInt16
    /// The uplink saw the endpoint's own (private) source: nothing masqueraded it.
    public var privateSourceSeen: Bool

    /// Packets counted at a device stage; 0 for the stages the probe does not count.
    public func packets(at stage: PathStage) -> UInt64 { stage.rawValue < packets.count ? packets[stage.rawValue] : 0 }

    public static func == (a: FlowStats, b: FlowStats) -> Bool {
        a.packets == b.packets && a.drops == b.drops && a.natAddress == b.natAddress && a.privateSourceSeen == b.privateSourceSeen
    }
}

/// Neighbour discovery of one family on a device: ARP requests and replies, or NDP
/// solicitations and advertisements.
public struct NeighbourCounts: Sendable, Equatable {
    public var requestsSent: UInt64
    public var repliesSent: UInt64
    public var requestsReceived: UInt64
    public var repliesReceived: UInt64

    public init(requestsSent: UInt64 = 0, repliesSent: UInt64 = 0, requestsReceived: UInt64 = 0, repliesReceived: UInt64 = 0) {
        self.requestsSent = requestsSent
        self.repliesSent = repliesSent
        self.requestsReceived = requestsReceived
        self.repliesReceived = repliesReceived
    }

    /// Asked and never answered.
    public var unanswered: Bool { requestsSent > 0 && repliesReceived == 0 }
}

/// Neighbour discovery seen on a device in scope, ARP (IPv4) and NDP (IPv6): a flow shows
/// nothing while a neighbour does not answer.
public struct DeviceNeighbourStats: Sendable, Equatable {
    public var arp = NeighbourCounts()
    public var ndp = NeighbourCounts()

    public init(arp: NeighbourCounts = NeighbourCounts(), ndp: NeighbourCounts = NeighbourCounts()) {
        self.arp = arp
        self.ndp = ndp
    }

    /// The counts of the family a flow's packets are.
    public func counts(_ family: IPAddress.Family) -> NeighbourCounts { family == .v4 ? arp : ndp }
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
        let source = hasTuple ? address(raw.saddr) : nil
        let destination = hasTuple ? address(raw.daddr) : nil
        let stage = stage(raw.stage)
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
        FlowKey(endpointAddress: address(raw.endpoint_addr) ?? .v4(0), remoteAddress: address(raw.remote_addr) ?? .v4(0),
                endpointPort: raw.endpoint_port.bigEndian, remotePort: raw.remote_port.bigEndian, proto: raw.proto,
                direction: raw.inbound != 0 ? .inbound : .egress)
    }

    /// A stage as the probe writes it (enum tracer_net_stage): a counted stage, past DNAT, or none.
    static func stage(_ raw: UInt32) -> PathStage? {
        raw == UInt32(TRACER_STAGE_PAST_DNAT.rawValue) ? .dnat : PathStage.counted.first { $0.rawValue == Int(raw) }
    }

    /// The flows in one slot of the per-CPU flow table (`flow_slots`), given every CPU's copy:
    /// each copy whose slot a flow has taken (a protocol is set), with that CPU's counters.
    public static func flows(inSlot copies: [tracer_flow_slot]) -> [(FlowKey, tracer_flow_stats)] {
        copies.filter { $0.key.proto != 0 }.map { (flowKey($0.key), $0.stats) }
    }

    /// One flow's counters from all their copies (every CPU's, in the slot table and the LRU
    /// hash): counts summed, the latest drop, the NAT source any copy saw.
    public static func combine(_ copies: [tracer_flow_stats]) -> FlowStats {
        var packets = [UInt64](repeating: 0, count: PathStage.counted.count)
        var drops: UInt64 = 0
        var latestDrop: tracer_flow_stats?
        var nat: (IPAddress, UInt16)?
        var privateSource = false
        for var raw in copies {
            withUnsafeBytes(of: &raw.packets) { counts in
                for (i, count) in counts.bindMemory(to: UInt64.self).enumerated() where i < packets.count { packets[i] += count }
            }
            drops += raw.drops
            if raw.drops > 0 && raw.last_drop_ns >= (latestDrop?.last_drop_ns ?? 0) { latestDrop = raw }
            if let address = address(raw.nat_addr) { nat = (address, raw.nat_port) }
            privateSource = privateSource || raw.private_source_seen != 0
        }
        let lastDrop = latestDrop.map { raw in (
            timestamp: raw.last_drop_ns, location: raw.last_drop_location, reason: raw.last_drop_reason,
            device: DeviceKey(netnsInode: raw.last_drop_netns, ifindex: raw.last_drop_ifindex),
            stage: stage(raw.last_drop_stage)) }
        return FlowStats(
            packets: packets, drops: drops, lastDrop: lastDrop,
            natAddress: nat.map(\.0), natPort: nat.map { $0.1.bigEndian } ?? 0,
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

    public static func neighbourStats(_ raw: tracer_device_stats) -> DeviceNeighbourStats {
        DeviceNeighbourStats(
            arp: NeighbourCounts(requestsSent: raw.arp_requests_tx, repliesSent: raw.arp_replies_tx,
                                 requestsReceived: raw.arp_requests_rx, repliesReceived: raw.arp_replies_rx),
            ndp: NeighbourCounts(requestsSent: raw.ndp_solicits_tx, repliesSent: raw.ndp_adverts_tx,
                                 requestsReceived: raw.ndp_solicits_rx, repliesReceived: raw.ndp_adverts_rx))
    }

    /// An address as the probe holds it (struct tracer_addr: IPv6, or IPv4 mapped into
    /// ::ffff:0:0/96); nil for all zeros, the probe's "none".
    public static func address(_ raw: tracer_addr) -> IPAddress? {
        var raw = raw
        let bytes = withUnsafeBytes(of: &raw) { Array($0) }
        if bytes.allSatisfy({ $0 == 0 }) { return nil }
        if bytes.prefix(10).allSatisfy({ $0 == 0 }) && bytes[10] == 0xff && bytes[11] == 0xff {
            return IPAddress(bytes: bytes.suffix(4))
        }
        return IPAddress(bytes: bytes)
    }

    /// An address as the probe holds it: IPv4 mapped into ::ffff:0:0/96, IPv6 as it is.
    public static func rawAddress(_ address: IPAddress) -> tracer_addr {
        var bytes = address.bytes
        if bytes.count == 4 { bytes = [UInt8](repeating: 0, count: 10) + [0xff, 0xff] + bytes }
        var raw = tracer_addr()
        withUnsafeMutableBytes(of: &raw) { $0.copyBytes(from: bytes) }
        return raw
    }

    /// The family's unspecified address as the probe holds it (0.0.0.0 mapped, or ::): a
    /// published port's "any local address".
    static func anyAddress(_ family: IPAddress.Family) -> tracer_addr {
        family == .v4 ? rawAddress(.v4(0)) : tracer_addr()
    }
}
