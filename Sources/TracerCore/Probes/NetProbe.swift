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
    /// Read packet headers with plain loads where the kernel allows them (6.18 does), else with
    /// bpf_probe_read_kernel; false takes the helper path older kernels take, for tests.
    public var directReads = true

    public init() {}
}

/// The loaded and attached network probe (bpf/net.bpf.c): drops through `poll`, flows and
/// exact drop counts from its maps. User space puts devices and endpoint addresses in scope.
public final class NetProbe {
    private let object: BPFObject
    private var ring: RingBuffer?
    private let lostMap: TypedMap<UInt32, UInt64>
    private let uncountedMap: TypedMap<UInt32, UInt64>
    private let deviceSlots: TypedMap<UInt32, tracer_device_slot>
    private let scopedDevices: TypedMap<tracer_device_key, tracer_device_scope>
    private let endpointAddresses: TypedMap<tracer_addr, UInt32>
    private let scopedNamespaces: TypedMap<UInt32, tracer_netns_scope>
    private let flowMap: TypedMap<tracer_flow_key, tracer_flow_stats>
    private let flowSlots: TypedMap<UInt32, tracer_flow_slot>
    private let endpointHints: TypedMap<UInt32, UInt32>
    private let dropCountMap: TypedMap<tracer_drop_key, UInt64>
    private let deviceStatsMap: TypedMap<tracer_device_key, tracer_device_stats>
    private let publishedPorts: TypedMap<tracer_published_key, tracer_published_target>
    private let publishedPortHints: TypedMap<UInt32, UInt32>
    /// The devices put in scope, from which each ifindex's slot is filled.
    private var scopedDeviceValues: [DeviceKey: tracer_device_scope] = [:]
    /// Per host side, the stage of its last device before routing.
    private var routedStages: [UInt32: PathStage] = [:]
    private var pending: [DropEvent] = []
    /// Records the decoder could not read; a broken ABI, never expected.
    public private(set) var undecodable = 0

    public init(options: NetProbeOptions) throws {
        TraceFS.mountIfNeeded()
        if options.directReads, let direct = try? Self.load(options, directReads: true) {
            object = direct
            readsHeadersDirectly = true
        } else {
            // Kernels without plain loads through the pointers of BTF-typed structs reject the
            // direct reads; any other failure fails again here, with its own error.
            object = try Self.load(options, directReads: false)
            readsHeadersDirectly = false
        }
        lostMap = try object.map(NetObject.lostEvents)
        uncountedMap = try object.map(NetObject.uncountedDrops)
        deviceSlots = try object.map(NetObject.deviceSlots)
        scopedDevices = try object.map(NetObject.scopedDevices)
        endpointAddresses = try object.map(NetObject.endpointAddresses)
        scopedNamespaces = try object.map(NetObject.scopedNamespaces)
        flowMap = try object.map(NetObject.flows)
        flowSlots = try object.map(NetObject.flowSlots)
        endpointHints = try object.map(NetObject.endpointHints)
        dropCountMap = try object.map(NetObject.dropCounts)
        deviceStatsMap = try object.map(NetObject.deviceStats)
        publishedPorts = try object.map(NetObject.publishedPorts)
        publishedPortHints = try object.map(NetObject.publishedPortHints)
        let events = try object.map(NetObject.events)
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
    /// the host veth of a routed path): a packet conntrack knows in its namespace has passed it.
    public func scope(device: DeviceKey, role: DeviceRole, endpoint: UInt32, beforeRouting: Bool = false) throws {
        var value = tracer_device_scope()
        value.role = role.rawValue
        value.endpoint = endpoint
        try scopedDevices.update(NetEventDecoder.deviceKey(device), value)
        scopedDeviceValues[device] = value
        try fillSlot(ifindex: device.ifindex)
        if beforeRouting {
            routedStages[device.netnsInode] = role == .bridge ? .bridgeRX : .hostVethRX
            try scope(netnsInode: device.netnsInode)
        }
    }

    /// The array slot of an ifindex: the devices in scope with it in any namespace, or "look in
    /// the hash" when there are more than the slot holds.
    private func fillSlot(ifindex: Int32) throws {
        guard ifindex >= 0, ifindex < TRACER_DEVICE_SLOTS else { return }
        let devices = scopedDeviceValues.filter { $0.key.ifindex == ifindex }.sorted { $0.key.netnsInode < $1.key.netnsInode }
        try deviceSlots.update(UInt32(ifindex), NetEventDecoder.deviceSlot(devices.map { ($0.key.netnsInode, $0.value) }))
    }

    /// Makes an endpoint's own address (of either family) known, so its packets are told apart
    /// from the host's.
    public func scope(endpointAddress: IPAddress, endpoint: UInt32) throws {
        try endpointAddresses.update(NetEventDecoder.rawAddress(endpointAddress), endpoint)
        // The hint is the address's last 32 bits (see may_be_endpoint_addr).
        let low = endpointAddress.bytes.suffix(4).reduce(UInt32(0)) { $0 << 8 | UInt32($1) }
        try endpointHints.update(low & UInt32(TRACER_ENDPOINT_HINTS - 1), 1)
    }

    /// A namespace of a path in scope: endpoint addresses count only inside these.
    public func scope(netnsInode: UInt32) throws {
        var value = tracer_netns_scope()
        value.routed_stage = routedStages[netnsInode].map { UInt32($0.rawValue) } ?? UInt32(TRACER_STAGE_NONE.rawValue)
        try scopedNamespaces.update(netnsInode, value)
    }

    /// A published port of an endpoint in scope: a client's packet to `hostAddress` (nil: any
    /// local address) and `hostPort` is an inbound flow to `endpointAddress`:`endpointPort` from
    /// the uplink on, before DNAT. Both addresses are of one family (DNAT keeps it).
    public func scope(published hostAddress: IPAddress?, hostPort: UInt16, proto: IPProtocol,
                      endpointAddress: IPAddress, endpointPort: UInt16) throws {
        if let hostAddress, hostAddress.family != endpointAddress.family { return }
        var key = tracer_published_key()
        key.addr = hostAddress.map(NetEventDecoder.rawAddress) ?? NetEventDecoder.anyAddress(endpointAddress.family)
        key.port = hostPort.bigEndian
        key.proto = proto.rawValue
        var value = tracer_published_target()
        value.endpoint_addr = NetEventDecoder.rawAddress(endpointAddress)
        value.endpoint_port = endpointPort.bigEndian
        try publishedPorts.update(key, value)
        try publishedPortHints.update(UInt32(hostPort), 1)
    }

    /// Waits up to `timeoutMilliseconds`, or until `stop` fires, and returns the drops that arrived.
    public func poll(timeoutMilliseconds: Int32, stop: StopEvent? = nil) throws -> [DropEvent] {
        try ring?.poll(timeoutMilliseconds: timeoutMilliseconds, stop: stop)
        try ring?.drain()
        defer { pending.removeAll(keepingCapacity: true) }
        return pending
    }

    /// Every flow the kernel follows now, with its stage counters: each CPU's copies, from the
    /// slot table and the LRU hash, added up.
    public func flows() throws -> [FlowKey: FlowStats] {
        var copies: [FlowKey: [tracer_flow_stats]] = [:]
        for index in 0..<UInt32(TRACER_FLOW_SLOTS) {
            guard let slot = try flowSlots.copies(index) else { continue }
            for (flow, stats) in NetEventDecoder.flows(inSlot: slot) { copies[flow, default: []].append(stats) }
        }
        for key in try flowMap.keys() {
            guard let stats = try flowMap.copies(key) else { continue }
            copies[NetEventDecoder.flowKey(key), default: []] += stats
        }
        return copies.mapValues(NetEventDecoder.combine)
    }

    /// Exact drop counts since load, per (location, reason, device).
    public func dropCounts() throws -> [DropCount] {
        var result: [DropCount] = []
        for key in try dropCountMap.keys() {
            guard let count = try dropCountMap.lookup(key) else { continue }
            let decoded = NetEventDecoder.dropKey(key)
            result.append(DropCount(location: decoded.location, reason: decoded.reason, device: decoded.device, count: count))
        }
        return result
    }

    /// ARP and NDP counters of the devices in scope.
    public func neighbourStats() throws -> [DeviceKey: DeviceNeighbourStats] {
        var result: [DeviceKey: DeviceNeighbourStats] = [:]
        for key in try deviceStatsMap.keys() {
            guard let stats = try deviceStatsMap.lookup(key) else { continue }
            result[NetEventDecoder.deviceKey(key)] = NetEventDecoder.neighbourStats(stats)
        }
        return result
    }

    /// Drop records the ring buffer could not take, since load.
    public func lostEvents() throws -> UInt64 {
        try lostMap.sum(0)
    }

    /// Drops that could not get a counter of their own (the count map was full).
    public func uncountedDrops() throws -> UInt64 {
        try uncountedMap.sum(0)
    }

    public var programIDs: [UInt32] { object.programIDs }

    /// The programs read packet headers with plain loads (the kernel allows loads through the
    /// pointers in BTF-typed structs, as 6.18 does), not with bpf_probe_read_kernel.
    public let readsHeadersDirectly: Bool

    private static func load(_ options: NetProbeOptions, directReads: Bool) throws -> BPFObject {
        let object = try BPFObject(name: "net", bytes: EmbeddedBPF.net.bytes)
        var config = tracer_net_config()
        config.all_drops = options.allDrops ? 1 : 0
        config.stages = options.stages ? 1 : 0
        config.direct_reads = directReads ? 1 : 0
        var bitmap: [UInt64] = [0, 0, 0, 0]
        for reason in options.ignoredReasons where reason < 256 {
            bitmap[Int(reason / 64)] |= 1 << UInt64(reason % 64)
        }
        config.ignored_reasons = (bitmap[0], bitmap[1], bitmap[2], bitmap[3])
        try object.setVariable(NetObject.config, to: config)
        try object.setMaxEntries(NetObject.events, UInt32(options.ringBufferSize))
        if !options.stages {
            for program in NetObject.stagePrograms { try object.setAutoload(program, false) }
        }
        try object.load()
        return object
    }

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

extension NetProbeOptions {
    /// `tracer drops`: every drop on the host; healthy-host noise left to the kernel to filter
    /// (neither counted nor reported) unless `showAll`.
    public static func drops(reasons: DropReasons, showAll: Bool) -> NetProbeOptions {
        var options = NetProbeOptions()
        options.allDrops = true
        if !showAll { options.ignoreHealthyHostNoise(reasons) }
        return options
    }

    /// `tracer egress`: the stages of the scope's paths and their drops; with no path in scope,
    /// every drop on the host instead.
    public static func egress(scope: EgressScope, reasons: DropReasons, showAll: Bool) -> NetProbeOptions {
        var options = NetProbeOptions()
        options.stages = !scope.paths.isEmpty
        options.allDrops = scope.paths.isEmpty
        if !showAll { options.ignoreHealthyHostNoise(reasons) }
        return options
    }

    /// Healthy-host noise (`DropReasons.healthyHostNoise`, by this kernel's numbers) is left to
    /// the kernel to filter.
    mutating func ignoreHealthyHostNoise(_ reasons: DropReasons) {
        ignoredReasons = Set(DropReasons.healthyHostNoise.compactMap(reasons.number))
    }
}
