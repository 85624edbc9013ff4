/// What the published-port checks read on one host side (the namespace holding the bridge,
/// the uplink and the DNAT rules): read once, inside that namespace, then checked by pure
/// functions (`IngressDiagnosis.check`), so hand-built states test them too.
public struct IngressHostState: Sendable {
    public var netnsInode: UInt64
    public var reading: RulesetReading
    public var interfaces: [NetworkInterface]
    public var bridgePorts: [BridgePort]
    /// The host side's IPv4 routes: where replies to a client leave (reverse-path filtering).
    public var routes: [IPv4Route] = []
    /// Keyed by the path below /proc/sys, as `EgressPathState` keys them.
    var sysctls: [String: SysctlFile.Reading]
    /// Sockets that could answer a published port themselves; owners filled in for those on a
    /// published host port.
    public var listeners: [ListeningSocket]
    /// Nil when the table could not be read: `conntrackError` says why.
    public var conntrack: [ConntrackEntry]?
    public var conntrackError: String?
    /// Why the namespace could not be entered.
    public var error: String?

    public init(netnsInode: UInt64, reading: RulesetReading = RulesetReading(ruleset: Ruleset(), unchecked: []),
                interfaces: [NetworkInterface] = [], bridgePorts: [BridgePort] = [], listeners: [ListeningSocket] = [],
                conntrack: [ConntrackEntry]? = [], conntrackError: String? = nil, error: String? = nil) {
        self.netnsInode = netnsInode
        self.reading = reading
        self.interfaces = interfaces
        self.bridgePorts = bridgePorts
        self.sysctls = [:]
        self.listeners = listeners
        self.conntrack = conntrack
        self.conntrackError = conntrackError
        self.error = error
    }

    /// A /proc/sys value, with what it was when it could not be read.
    func sysctl(_ key: String) -> SysctlFile.Reading {
        sysctls[key] ?? .unreadable("/proc/sys/\(key) was not read")
    }

    /// Sets a /proc/sys value ("net/ipv4/conf/br0/route_localnet"), for hand-built states.
    mutating func set(_ key: String, _ value: String) { sysctls[key] = .value(value) }

    /// The sysctls the checks look at for the paths behind this host side.
    static func sysctlKeys(_ paths: [EgressPath]) -> [String] {
        var keys = ["net/ipv4/ip_forward", "net/bridge/bridge-nf-call-iptables"]
        for path in paths {
            if let uplink = path.uplink?.name {
                keys += ["net/ipv4/conf/\(uplink)/forwarding", ReversePathFilter.allKey(), ReversePathFilter.deviceKey(uplink)]
            }
            if let inner = path.bridge?.name ?? path.hostVeth?.name { keys.append("net/ipv4/conf/\(inner)/route_localnet") }
        }
        var seen: Set<String> = []
        return keys.filter { seen.insert($0).inserted }
    }

    /// Reads the host side `paths` share (the first one's namespace): firewall, links, bridge
    /// ports, sysctls and listening sockets (the conntrack table once the ports are known:
    /// `readConntrack`). What cannot be read is recorded, never thrown. Needs CAP_SYS_ADMIN and
    /// CAP_NET_ADMIN.
    public static func read(hostOf paths: [EgressPath]) -> IngressHostState {
        guard let first = paths.first else { return IngressHostState(netnsInode: 0, error: "no path") }
        var state = IngressHostState(netnsInode: first.hostNetnsInode)
        do {
            state = try RouteNetlink.inNamespace(first.hostNetnsPath) {
                var side = IngressHostState(netnsInode: first.hostNetnsInode, reading: RulesetReader.readCurrentNamespace())
                side.interfaces = (try? RouteNetlink.interfaces()) ?? []
                side.bridgePorts = (try? RouteNetlink.bridgePorts()) ?? []
                side.routes = (try? RouteNetlink.ipv4Routes()) ?? []
                for key in sysctlKeys(paths) { side.sysctls[key] = SysctlFile.reading(key) }
                side.listeners = ListeningSocket.readTable()
                return side
            }
        } catch {
            state.error = first.hostNetnsPath.isEmpty ? "the host side's namespace was not found" : "\(error)"
            state.reading = RulesetReading(ruleset: Ruleset(), unchecked: [])
        }
        return state
    }

    /// Reads the conntrack entries to the host ports of `ports`, in the namespace at `netnsPath`.
    /// A full table holds hundreds of thousands of entries: only those of a published port are
    /// parsed, and nothing is read when no port is published here.
    mutating func readConntrack(netnsPath: String, for ports: [PublishedPort]) {
        guard !ports.isEmpty, error == nil else { return }
        let wanted = Dictionary(grouping: ports, by: \.transport).mapValues { $0.map(\.hostPorts) }
        let read = try? RouteNetlink.inNamespace(netnsPath) {
            ConntrackEntry.readTable { transport, port in wanted[transport]?.contains { $0.contains(port) } ?? false }
        }
        conntrack = read?.entries
        conntrackError = read.map(\.why) ?? "could not enter \(netnsPath)"
    }

    /// Names the processes holding the sockets on the host ports of `ports` (the /proc walk is
    /// the costly part, so only those).
    mutating func resolveOwners(for ports: [PublishedPort]) {
        let wanted = listeners.indices.filter { i in ports.contains { $0.hostPorts.contains(listeners[i].port) && $0.transport == listeners[i].transport } }
        guard !wanted.isEmpty else { return }
        let resolved = ListeningSocket.withOwners(wanted.map { listeners[$0] })
        for (i, socket) in zip(wanted, resolved) { listeners[i] = socket }
    }

    /// The host side's own IPv4 addresses, loopback included.
    var localAddresses: [IPAddress] {
        interfaces.flatMap { $0.ipv4.map(\.address) }
    }
}
