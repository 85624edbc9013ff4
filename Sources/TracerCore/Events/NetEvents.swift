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

    public static func < (a: PathStage, b: PathStage) -> Bool { a.rawValue < b.rawValue }
}

/// What a device in scope is to its path.
public enum DeviceRole: UInt32, Sendable {
    case endpoint = 1, hostVeth, bridge, uplink
}

/// A device anywhere on the host: interface indexes repeat across namespaces.
public struct DeviceKey: Hashable, Sendable {
    public var netnsInode: UInt32
    public var ifindex: Int32

    public init(netnsInode: UInt32, ifindex: Int32) {
        self.netnsInode = netnsInode
        self.ifindex = ifindex
    }
}

/// An IPv4 address as it sits in a packet (network byte order in memory).
public struct IPv4Address: Hashable, Sendable, CustomStringConvertible, Comparable {
    /// The four bytes in wire order.
    public var bytes: (UInt8, UInt8, UInt8, UInt8)

    public init(_ a: UInt8, _ b: UInt8, _ c: UInt8, _ d: UInt8) { bytes = (a, b, c, d) }

    /// From a `__u32` read straight out of a packet.
    public init(wire value: UInt32) {
        bytes = (UInt8(truncatingIfNeeded: value), UInt8(truncatingIfNeeded: value >> 8),
                 UInt8(truncatingIfNeeded: value >> 16), UInt8(truncatingIfNeeded: value >> 24))
    }

    /// "10.88.0.2", or the address of an interface's "10.88.0.2/16"; nil for anything else.
    public init?(_ text: String) {
        let address = text.split(separator: "/", maxSplits: 1, omittingEmptySubsequences: false)[0]
        guard let value = IPv4Address.parse(dotted: address) else { return nil }
        self.init(value: value)
    }

    /// From its host-order value.
    public init(value: UInt32) {
        bytes = (UInt8(truncatingIfNeeded: value >> 24), UInt8(truncatingIfNeeded: value >> 16),
                 UInt8(truncatingIfNeeded: value >> 8), UInt8(truncatingIfNeeded: value))
    }

    /// The host-order value of a dotted quad: four octets of one to three decimal digits, each
    /// at most 255. The one parser of IPv4 text (addresses, prefixes, rules and rulesets).
    public static func parse(dotted text: Substring) -> UInt32? {
        let octets = text.split(separator: ".", omittingEmptySubsequences: false)
        guard octets.count == 4 else { return nil }
        var value: UInt32 = 0
        for octet in octets {
            guard (1...3).contains(octet.utf8.count),
                  octet.utf8.allSatisfy({ $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9") }),
                  let n = UInt32(octet), n <= 255 else { return nil }
            value = value << 8 | n
        }
        return value
    }

    /// The value to store in a BPF map next to packet bytes.
    public var wire: UInt32 {
        UInt32(bytes.0) | UInt32(bytes.1) << 8 | UInt32(bytes.2) << 16 | UInt32(bytes.3) << 24
    }

    /// Host order, for arithmetic on prefixes.
    public var value: UInt32 {
        UInt32(bytes.0) << 24 | UInt32(bytes.1) << 16 | UInt32(bytes.2) << 8 | UInt32(bytes.3)
    }

    public var description: String { "\(bytes.0).\(bytes.1).\(bytes.2).\(bytes.3)" }

    public static func == (a: IPv4Address, b: IPv4Address) -> Bool { a.wire == b.wire }
    public func hash(into hasher: inout Hasher) { hasher.combine(wire) }
    public static func < (a: IPv4Address, b: IPv4Address) -> Bool { a.value < b.value }
}

/// IP protocol numbers by name, for tuples.
public enum IPProtocolName {
    public static func of(_ number: UInt8) -> String {
        switch number {
        case 1: return "icmp"
        case 6: return "tcp"
        case 17: return "udp"
        case 58: return "icmpv6"
        case 47: return "gre"
        case 50: return "esp"
        case 132: return "sctp"
        default: return "\(number)"
        }
    }
}

/// An IPv4 flow from the endpoint's side: its address and port, and the remote's.
/// For ICMP echo the endpoint port is the identifier and the remote port is 0.
public struct FlowKey: Hashable, Sendable {
    public var endpointAddress: IPv4Address
    public var remoteAddress: IPv4Address
    public var endpointPort: UInt16
    public var remotePort: UInt16
    public var proto: UInt8

    public init(endpointAddress: IPv4Address, remoteAddress: IPv4Address, endpointPort: UInt16, remotePort: UInt16, proto: UInt8) {
        self.endpointAddress = endpointAddress
        self.remoteAddress = remoteAddress
        self.endpointPort = endpointPort
        self.remotePort = remotePort
        self.proto = proto
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
    public var source: String?
    public var destination: String?
    public var sourcePort: UInt16
    public var destinationPort: UInt16
    /// On a device in scope or of a traced flow.
    public var inScope: Bool
    /// The traced flow it belonged to, and the last stage it had reached.
    public var flow: FlowKey?
    public var stage: PathStage?
}

/// How far one flow got, from the kernel's counters.
public struct FlowStats: Sendable, Equatable {
    public var packets: [UInt64]
    public var drops: UInt64
    public var lastDrop: (timestamp: UInt64, location: UInt64, reason: UInt32, device: DeviceKey, stage: PathStage?)?
    /// The source the uplink saw after SNAT/MASQUERADE.
    public var natAddress: IPv4Address?
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
        var source: String?
        var destination: String?
        if hasTuple {
            source = withUnsafeBytes(of: &raw.saddr) { address(Array($0), version: raw.ip_version) }
            destination = withUnsafeBytes(of: &raw.daddr) { address(Array($0), version: raw.ip_version) }
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
        FlowKey(endpointAddress: IPv4Address(wire: raw.endpoint_addr), remoteAddress: IPv4Address(wire: raw.remote_addr),
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
            natAddress: nat.map { IPv4Address(wire: $0.0) }, natPort: nat.map { $0.1.bigEndian } ?? 0,
            privateSourceSeen: privateSource)
    }

    public static func dropKey(_ raw: tracer_drop_key) -> (location: UInt64, reason: UInt32, device: DeviceKey) {
        (raw.location, raw.reason, DeviceKey(netnsInode: raw.netns, ifindex: raw.ifindex))
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

    /// Text form of an address in a drop record.
    static func address(_ bytes: [UInt8], version: UInt8) -> String? {
        switch version {
        case 4:
            return "\(bytes[0]).\(bytes[1]).\(bytes[2]).\(bytes[3])"
        case 6:
            return IPv6Text.format(bytes)
        default:
            return nil
        }
    }
}

/// RFC 5952 text for an IPv6 address: lowercase hex, the longest run of zero groups as "::".
enum IPv6Text {
    static func format(_ bytes: [UInt8]) -> String {
        guard bytes.count == 16 else { return "" }
        let groups = (0..<8).map { UInt16(bytes[2 * $0]) << 8 | UInt16(bytes[2 * $0 + 1]) }
        var bestStart = -1, bestLength = 0, start = -1
        for i in 0...8 {
            if i < 8 && groups[i] == 0 {
                if start < 0 { start = i }
            } else if start >= 0 {
                if i - start > bestLength && i - start >= 2 { bestStart = start; bestLength = i - start }
                start = -1
            }
        }
        func hex(_ range: Range<Int>) -> String { range.map { String(groups[$0], radix: 16) }.joined(separator: ":") }
        if bestStart < 0 { return hex(0..<8) }
        return hex(0..<bestStart) + "::" + hex((bestStart + bestLength)..<8)
    }
}
