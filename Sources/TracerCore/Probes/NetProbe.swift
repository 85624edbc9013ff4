import BPF
import BPFPrograms
import TracerABI

/// What the network probe should report, set before it is loaded.
public struct NetProbeOptions: Sendable, Equatable {
    /// Drops anywhere on the host (`tracer drops`), not only those of the paths in scope.
    public var allDrops = false
    /// Follow flows through the stages of the devices in scope (`tracer egress`).
    public var stages = false
    /// Drop reasons (numbers on the running kernel) neither counted nor reported: healthy-host noise.
    public var ignoredReasons: Set<UInt32> = []
    public var ringBufferSize: Int = 1 << 20

    public init() {}
}

/// The loaded and attached network probe (bpf/net.bpf.c): drops through `poll`, flows and
/// exact drop counts from its maps. User space puts devices and endpoint addresses in scope.
public final class NetProbe {
    private let object: BPFObject
    private var ring: RingBuffer?
    private let lostMap: BPFMap
    private let uncountedMap: BPFMap
    private let scopedDevices: BPFMap
    private let endpointAddresses: BPFMap
    private let scopedNamespaces: BPFMap
    private let flowMap: BPFMap
    private let dropCountMap: BPFMap
    private let deviceStatsMap: BPFMap
    private var pending: [DropEvent] = []
    /// Records the decoder could not read; a broken ABI, never expected.
    public private(set) var undecodable = 0

    public init(options: NetProbeOptions) throws {
        TraceFS.mountIfNeeded()
        object = try BPFObject(name: "net", bytes: EmbeddedBPF.net.bytes)
        var config = tracer_net_config()
        config.all_drops = options.allDrops ? 1 : 0
        config.stages = options.stages ? 1 : 0
        var bitmap: [UInt64] = [0, 0, 0, 0]
        for reason in options.ignoredReasons where reason < 256 {
            bitmap[Int(reason / 64)] |= 1 << UInt64(reason % 64)
        }
        config.ignored_reasons = (bitmap[0], bitmap[1], bitmap[2], bitmap[3])
        try object.setReadOnly("net_config", to: config)
        try object.setMaxEntries(map: "events", UInt32(options.ringBufferSize))
        if !options.stages {
            for program in ["handle_receive", "handle_queue"] {
                try object.setAutoload(program: program, false)
            }
        }
        try object.load()
        lostMap = try object.map("lost_events")
        uncountedMap = try object.map("uncounted_drops")
        scopedDevices = try object.map("scoped_devices")
        endpointAddresses = try object.map("endpoint_addrs")
        scopedNamespaces = try object.map("scoped_netns")
        flowMap = try object.map("flows")
        dropCountMap = try object.map("drop_counts")
        deviceStatsMap = try object.map("device_stats")
        let events = try object.map("events")
        try object.attachAll()
        ring = try RingBuffer(map: events) { [unowned self] bytes in
            do {
                pending.append(try NetEventDecoder.decodeDrop(bytes))
            } catch {
                undecodable += 1
            }
        }
    }

    /// Puts a device in scope: its packets count towards the stages of path `endpoint`.
    /// `beforeRouting`: the last device packets cross before routing and NAT (the bridge, or
    /// the host veth of a routed path), where each packet's flow is remembered to follow it past NAT.
    public func scope(device: DeviceKey, role: DeviceRole, endpoint: UInt32, beforeRouting: Bool = false) throws {
        var value = tracer_device_scope()
        value.role = role.rawValue
        value.endpoint = endpoint
        value.flags = beforeRouting ? UInt32(TRACER_SCOPE_REMEMBER.rawValue) : 0
        try scopedDevices.update(key: NetEventDecoder.deviceKeyBytes(device), value: withUnsafeBytes(of: value) { Array($0) })
    }

    /// Makes an endpoint's own address known, so its packets are told apart from the host's.
    public func scope(endpointAddress: IPv4Address, endpoint: UInt32) throws {
        try endpointAddresses.update(key: endpointAddress.wire.bpfBytes, value: endpoint.bpfBytes)
    }

    /// A namespace of a path in scope: endpoint addresses count only inside these.
    public func scope(netnsInode: UInt32) throws {
        try scopedNamespaces.update(key: netnsInode.bpfBytes, value: [1])
    }

    /// Waits up to `timeoutMilliseconds` and returns the drops that arrived.
    public func poll(timeoutMilliseconds: Int32) throws -> [DropEvent] {
        try ring?.poll(timeoutMilliseconds: timeoutMilliseconds)
        try ring?.drain()
        defer { pending.removeAll(keepingCapacity: true) }
        return pending
    }

    /// Every flow the kernel follows now, with its stage counters.
    public func flows() throws -> [FlowKey: FlowStats] {
        var result: [FlowKey: FlowStats] = [:]
        for key in try flowMap.keys() {
            guard let value = try flowMap.lookup(key: key), let (flow, stats) = NetEventDecoder.decodeFlow(key: key, value: value) else {
                continue
            }
            result[flow] = stats
        }
        return result
    }

    /// Exact drop counts since load, per (location, reason, device).
    public func dropCounts() throws -> [DropCount] {
        var result: [DropCount] = []
        for key in try dropCountMap.keys() {
            guard let decoded = NetEventDecoder.decodeDropKey(key), let value = try dropCountMap.lookup(key: key) else { continue }
            let count = value.withUnsafeBytes { $0.loadUnaligned(as: UInt64.self) }
            result.append(DropCount(location: decoded.location, reason: decoded.reason, device: decoded.device, count: count))
        }
        return result
    }

    /// ARP counters of the devices in scope.
    public func arpStats() throws -> [DeviceKey: DeviceARPStats] {
        var result: [DeviceKey: DeviceARPStats] = [:]
        for key in try deviceStatsMap.keys() {
            guard let device = NetEventDecoder.decodeDeviceKey(key), let value = try deviceStatsMap.lookup(key: key),
                  let stats = NetEventDecoder.decodeARP(value) else { continue }
            result[device] = stats
        }
        return result
    }

    /// Drop records the ring buffer could not take, since load.
    public func lostEvents() throws -> UInt64 {
        try lostMap.sum(key: UInt32(0).bpfBytes)
    }

    /// Drops that could not get a counter of their own (the count map was full).
    public func uncountedDrops() throws -> UInt64 {
        try uncountedMap.sum(key: UInt32(0).bpfBytes)
    }

    public var programIDs: [UInt32] { object.programIDs }

    public func close() {
        ring?.close()
        ring = nil
        object.close()
    }

    deinit { close() }
}

/// One exact drop counter from the kernel.
public struct DropCount: Sendable, Equatable {
    public var location: UInt64
    public var reason: UInt32
    public var device: DeviceKey
    public var count: UInt64
}
