/// The devices and addresses of the egress paths being traced, and the way back from what
/// the kernel reports (a netns inode, an ifindex, an address) to the path and its endpoint.
public struct EgressScope: Sendable {
    public let paths: [EgressPath]
    private var roles: [DeviceKey: (path: Int, role: DeviceRole)] = [:]
    /// The last device before routing of each path: the bridge, else the host veth.
    private var beforeRouting: Set<DeviceKey> = []
    private var deviceNames: [DeviceKey: String] = [:]
    private var byAddress: [IPAddress: Int] = [:]
    /// Addresses repeat across host sides (every lab, every nested Docker uses 172.17.0.2):
    /// on a host-side device an address is looked up with that side's namespace.
    private var byHostAddress: [HostAddress: Int] = [:]
    private var ambiguous: Set<IPAddress> = []

    private struct HostAddress: Hashable {
        var hostNetns: UInt64
        var address: IPAddress
    }
    private var byEndpointNetns: [UInt64: Int] = [:]

    /// Published ports leading to endpoints in scope: their inbound flows are known on the uplink.
    public let published: [PublishedPortReport]

    public init(paths: [EgressPath], published: [PublishedPortReport] = []) {
        self.paths = paths
        self.published = published.filter { $0.path != nil }
        for (i, path) in paths.enumerated() {
            add(path.endpoint.device, path.endpoint.interface, i, .endpoint)
            if let veth = path.hostVeth { add(path.hostDevice(veth), veth.name, i, .hostVeth) }
            if let bridge = path.bridge { add(path.hostDevice(bridge), bridge.name, i, .bridge) }
            if let uplink = path.uplink { add(path.hostDevice(uplink), uplink.name, i, .uplink) }
            if let last = path.bridge ?? path.hostVeth { beforeRouting.insert(path.hostDevice(last)) }
            for address in path.endpoint.addresses.map(\.address) {
                if byAddress[address] == nil { byAddress[address] = i } else { ambiguous.insert(address) }
                let key = HostAddress(hostNetns: path.hostNetnsInode, address: address)
                if byHostAddress[key] == nil { byHostAddress[key] = i }
            }
            if byEndpointNetns[path.endpoint.netnsInode] == nil { byEndpointNetns[path.endpoint.netnsInode] = i }
        }
    }

    private mutating func add(_ key: DeviceKey, _ name: String, _ path: Int, _ role: DeviceRole) {
        deviceNames[key] = name
        // A bridge and an uplink serve every endpoint behind them; the first path keeps them.
        if roles[key] == nil { roles[key] = (path, role) }
    }

    /// Puts every device and endpoint address in the probe's scope.
    public func apply(to probe: NetProbe) throws {
        for (device, entry) in roles {
            try probe.scope(device: device, role: entry.role, endpoint: UInt32(entry.path), beforeRouting: beforeRouting.contains(device))
        }
        for (address, path) in byAddress {
            try probe.scope(endpointAddress: address, endpoint: UInt32(path))
        }
        for path in paths {
            try probe.scope(netnsInode: UInt32(truncatingIfNeeded: path.endpoint.netnsInode))
            try probe.scope(netnsInode: UInt32(truncatingIfNeeded: path.hostNetnsInode))
        }
        for report in published {
            for (host, target) in Self.publishedPairs(report.port) {
                try probe.scope(published: host.address, hostPort: host.port, proto: report.port.transport.ipProtocol,
                                endpointAddress: target.address, endpointPort: target.port)
            }
        }
    }

    /// The most host ports of one published range put in the probe's map (ranges of thousands
    /// are rare and would fill it).
    static let publishedRangeLimit = 1024

    /// Each host port of a published port with the endpoint address and port it leads to; the
    /// host address nil for every local address (a network match counts as any address too).
    static func publishedPairs(_ port: PublishedPort) -> [(host: (address: IPAddress?, port: UInt16), target: (address: IPAddress, port: UInt16))] {
        // DNAT keeps the family: a client addresses the host in the container address's.
        guard let target = port.containerAddress else { return [] }
        let address: IPAddress?
        switch port.hostAddress {
        case .address(let a): address = a
        case .unspecified(let family?) where family != target.family: return []
        default: address = nil
        }
        if let address, address.family != target.family { return [] }
        return (0..<min(port.hostPorts.count, publishedRangeLimit)).map { offset in
            let hostPort = port.hostPorts.first + UInt16(offset)
            // A DNAT without a port keeps it; a range maps onto a range of the same length.
            let targetPort = port.containerPorts.map { $0.isSingle ? $0.first : $0.first + UInt16(offset) } ?? hostPort
            return ((address, hostPort), (target, targetPort))
        }
    }

    public var addresses: [IPAddress] { byAddress.keys.sorted() }

    /// The path whose endpoint has this address: on the host side `hostNetns` if given,
    /// else only when no other endpoint has it too.
    public func path(address: IPAddress, hostNetns: UInt64? = nil) -> EgressPath? {
        if let hostNetns, let index = byHostAddress[HostAddress(hostNetns: hostNetns, address: address)] { return paths[index] }
        if ambiguous.contains(address) { return nil }
        return byAddress[address].map { paths[$0] }
    }

    /// The path a drop belongs to: the endpoint namespace it happened in, else its flow's or
    /// its packet's address seen from the namespace of the device that dropped it.
    public func path(of drop: DropEvent) -> EgressPath? {
        let netns = UInt64(drop.device.netnsInode)
        if let index = byEndpointNetns[netns] { return paths[index] }
        for address in [drop.flow?.endpointAddress, drop.source, drop.destination].compactMap({ $0 }) {
            if let path = path(address: address, hostNetns: netns) { return path }
        }
        return nil
    }

    /// The flows of endpoints in scope, each with how far it got along its path; by endpoint,
    /// then remote address and ports, then protocol.
    public func outcomes(of flows: [FlowKey: FlowStats]) -> [FlowOutcome] {
        flows.compactMap { flow, stats in
            path(address: flow.endpointAddress).map { FlowOutcome(flow: flow, stats: stats, path: $0) }
        }.sorted {
            ($0.path.endpoint.name, $0.flow.remoteAddress, $0.flow.endpointPort, $0.flow.remotePort, $0.flow.proto)
                < ($1.path.endpoint.name, $1.flow.remoteAddress, $1.flow.endpointPort, $1.flow.remotePort, $1.flow.proto)
        }
    }

    /// The name of a device in scope.
    public func deviceName(_ key: DeviceKey) -> String? { deviceNames[key] }

    /// The role of a device in scope.
    public func role(_ key: DeviceKey) -> DeviceRole? { roles[key]?.role }
}
