/// What the checks look at, read once from inside the two namespaces of a path: links,
/// routes, bridge ports and the sysctls of the devices on the path. The checks are pure
/// functions of this, so they are tested on hand-built states too.
public struct EgressPathState: Sendable {
    /// One namespace's view.
    public struct Side: Sendable {
        public var interfaces: [NetworkInterface] = []
        public var routes: [IPv4Route] = []
        /// IPv6 routes of every table (`ip -6 route`); empty when unread or none.
        public var ipv6Routes: [IPRoute] = []
        /// Policy routing rules; empty when they could not be read (then the main table decides).
        public var rules: [IPv4Rule] = []
        /// IPv6 policy routing rules (`ip -6 rule`, the host side only), as `rules`.
        public var ipv6Rules: [IPv4Rule] = []
        public var bridgePorts: [BridgePort] = []
        /// ARP entries (the host side only; empty when unreadable).
        public var neighbours: [IPv4Neighbour] = []
        /// NDP entries (the host side only; empty when unreadable): where an IPv6 gateway can be found.
        public var ipv6Neighbours: [IPv4Neighbour] = []
        /// NDP proxy entries (the host side only): addresses it answers solicitations for.
        public var ipv6ProxyNeighbours: [IPv4Neighbour] = []
        /// Keyed by the /proc/sys path below /proc/sys ("net/ipv4/ip_forward"); on the endpoint
        /// side only its interface's IPv6 settings.
        var sysctls: [String: SysctlFile.Reading] = [:]
        /// Why the namespace could not be entered or its links read.
        public var error: String?
        /// Why the bridge ports could not be read, when the rest could.
        public var bridgePortsError: String?

        public init(interfaces: [NetworkInterface] = [], routes: [IPv4Route] = [], rules: [IPv4Rule] = [],
                    bridgePorts: [BridgePort] = [], error: String? = nil) {
            self.interfaces = interfaces
            self.routes = routes
            self.rules = rules
            self.bridgePorts = bridgePorts
            self.error = error
        }

        func interface(_ name: String?) -> NetworkInterface? {
            guard let name else { return nil }
            return interfaces.first { $0.name == name }
        }

        func interface(index: Int32?) -> NetworkInterface? { interfaces.first(index: index) }
    }

    public var endpoint: Side
    public var host: Side
    /// The uplink's other end when it is a veth: its carrier comes from there.
    public var uplinkPeer: NetnsDirectory.Peer?
    /// A path to enter the namespace holding `uplinkPeer` by.
    public var uplinkPeerNamespace: String?
    /// Whether `uplinkPeer` is administratively up.
    public var uplinkPeerUp: Bool?
    /// NetworkManager managing the path's bridge (root namespace only: it manages no other).
    public var networkManager: NetworkManagerState?

    public init(endpoint: Side, host: Side, uplinkPeer: NetnsDirectory.Peer? = nil, uplinkPeerNamespace: String? = nil) {
        self.endpoint = endpoint
        self.host = host
        self.uplinkPeer = uplinkPeer
        self.uplinkPeerNamespace = uplinkPeerNamespace
    }

    /// The sysctls read on the host side: global forwarding, and forwarding and rp_filter of
    /// the devices packets enter by (the bridge or routed veth for egress, the uplink for
    /// replies), conntrack and br_netfilter.
    static func hostSysctlKeys(ingress: String?, uplink: String?, veth: String? = nil) -> [String] {
        var keys = ["net/ipv4/ip_forward", "net/ipv4/conf/all/rp_filter", "net/ipv6/conf/all/proxy_ndp",
                    "net/netfilter/nf_conntrack_count", "net/netfilter/nf_conntrack_max",
                    "net/bridge/bridge-nf-call-iptables"]
        for device in [ingress, uplink].compactMap({ $0 }) {
            keys += ["net/ipv4/conf/\(device)/forwarding", "net/ipv4/conf/\(device)/rp_filter"]
        }
        return keys + ipv6SysctlKeys(devices: [veth, ingress, uplink], uplink: uplink)
    }

    /// IPv6: global forwarding and NDP proxying, disable_ipv6 of each device of the path, and
    /// the uplink's accept_ra (forwarding on makes it ignore RAs unless it is 2) and proxy_ndp.
    static func ipv6SysctlKeys(devices: [String?], uplink: String?) -> [String] {
        var keys = ["net/ipv6/conf/all/forwarding"]
        var seen: Set<String> = []
        for device in devices.compactMap({ $0 }) where seen.insert(device).inserted {
            keys.append("net/ipv6/conf/\(device)/disable_ipv6")
        }
        if let uplink { keys += ["net/ipv6/conf/\(uplink)/accept_ra", "net/ipv6/conf/\(uplink)/proxy_ndp"] }
        return keys
    }

    /// Reads both sides of `path` (CAP_SYS_ADMIN to enter them). What cannot be read is
    /// recorded as an error on its side, never thrown: the checks turn it into `unchecked`.
    public static func read(_ path: EgressPath, directory: NetnsDirectory) -> EgressPathState {
        var endpoint = Side()
        do {
            endpoint = try RouteNetlink.inNamespace(path.endpoint.netnsPath) {
                var side = Side(interfaces: try RouteNetlink.interfaces(), routes: try RouteNetlink.ipv4Routes())
                side.ipv6Routes = (try? RouteNetlink.ipv6Routes()) ?? []
                for key in ipv6SysctlKeys(devices: [path.endpoint.interface], uplink: nil).dropFirst() {
                    side.sysctls[key] = SysctlFile.reading(key)
                }
                return side
            }
        } catch {
            endpoint.error = "\(error)"
        }
        var host = Side()
        do {
            host = try RouteNetlink.inNamespace(path.hostNetnsPath) {
                var side = Side(interfaces: try RouteNetlink.interfaces(), routes: try RouteNetlink.ipv4Routes(),
                                rules: (try? RouteNetlink.ipv4Rules()) ?? [])
                do { side.bridgePorts = try RouteNetlink.bridgePorts() } catch { side.bridgePortsError = "\(error)" }
                side.neighbours = (try? RouteNetlink.ipv4Neighbours()) ?? []
                side.ipv6Routes = (try? RouteNetlink.ipv6Routes()) ?? []
                side.ipv6Rules = (try? RouteNetlink.ipv6Rules()) ?? []
                side.ipv6Neighbours = (try? RouteNetlink.ipv6Neighbours()) ?? []
                side.ipv6ProxyNeighbours = (try? RouteNetlink.ipv6ProxyNeighbours()) ?? []
                let uplink = EgressChecks.uplink(of: path, in: side)?.device.name
                let uplink6 = EgressChecks.ipv6Uplink(in: side)?.name
                for key in hostSysctlKeys(ingress: path.bridge?.name ?? path.hostVeth?.name, uplink: uplink, veth: path.hostVeth?.name)
                    + (uplink6 == nil || uplink6 == uplink ? [] : ipv6SysctlKeys(devices: [uplink6], uplink: uplink6).dropFirst()) {
                    side.sysctls[key] = SysctlFile.reading(key)
                }
                return side
            }
        } catch {
            host.error = path.hostNetnsPath.isEmpty ? "the host side's namespace was not found" : "\(error)"
        }
        var state = EgressPathState(endpoint: endpoint, host: host)
        if path.hostIsRoot, let bridge = path.bridge {
            state.networkManager = NetworkManagerState.managing(device: bridge.name, index: bridge.index)
        }
        if let uplink = EgressChecks.uplink(of: path, in: host)?.device, uplink.kind == "veth",
           let peer = directory.peer(of: uplink, in: path.hostNetnsInode) {
            state.uplinkPeer = peer
            let ns = directory.namespace(inode: peer.netnsInode)
            state.uplinkPeerNamespace = ns?.path
            if let path = ns?.path {
                state.uplinkPeerUp = try? RouteNetlink.inNamespace(path) {
                    try RouteNetlink.interfaces().first { $0.index == peer.index }?.isUp
                } ?? nil
            }
        }
        return state
    }
}
