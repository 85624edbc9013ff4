/// What the checks look at, read once from inside the two namespaces of a path: links,
/// routes, bridge ports and the sysctls of the devices on the path. The checks are pure
/// functions of this, so they are tested on hand-built states too.
public struct EgressPathState: Sendable {
    /// One namespace's view.
    public struct Side: Sendable {
        public var interfaces: [NetworkInterface] = []
        public var routes: [IPv4Route] = []
        /// Policy routing rules; empty when they could not be read (then the main table decides).
        public var rules: [IPv4Rule] = []
        public var bridgePorts: [BridgePort] = []
        /// ARP entries (the host side only; empty when unreadable).
        public var neighbours: [IPv4Neighbour] = []
        /// Keyed by the /proc/sys path below /proc/sys ("net/ipv4/ip_forward").
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

        func interface(index: Int32?) -> NetworkInterface? {
            guard let index else { return nil }
            return interfaces.first { $0.index == index }
        }
    }

    public var endpoint: Side
    public var host: Side
    /// The uplink's other end when it is a veth: its carrier comes from there.
    public var uplinkPeer: NetnsDirectory.Peer?
    /// A path to enter the namespace holding `uplinkPeer` by.
    public var uplinkPeerNamespace: String?
    /// Whether `uplinkPeer` is administratively up.
    public var uplinkPeerUp: Bool?

    public init(endpoint: Side, host: Side, uplinkPeer: NetnsDirectory.Peer? = nil, uplinkPeerNamespace: String? = nil) {
        self.endpoint = endpoint
        self.host = host
        self.uplinkPeer = uplinkPeer
        self.uplinkPeerNamespace = uplinkPeerNamespace
    }

    /// The sysctls read on the host side: global forwarding, and forwarding and rp_filter of
    /// the devices packets enter by (the bridge or routed veth for egress, the uplink for
    /// replies), conntrack and br_netfilter.
    static func hostSysctlKeys(ingress: String?, uplink: String?) -> [String] {
        var keys = ["net/ipv4/ip_forward", "net/ipv4/conf/all/rp_filter",
                    "net/netfilter/nf_conntrack_count", "net/netfilter/nf_conntrack_max",
                    "net/bridge/bridge-nf-call-iptables"]
        for device in [ingress, uplink].compactMap({ $0 }) {
            keys += ["net/ipv4/conf/\(device)/forwarding", "net/ipv4/conf/\(device)/rp_filter"]
        }
        return keys
    }

    /// Reads both sides of `path` (CAP_SYS_ADMIN to enter them). What cannot be read is
    /// recorded as an error on its side, never thrown: the checks turn it into `unchecked`.
    public static func read(_ path: EgressPath, directory: NetnsDirectory) -> EgressPathState {
        var endpoint = Side()
        do {
            endpoint = try RouteNetlink.inNamespace(path.endpoint.netnsPath) {
                Side(interfaces: try RouteNetlink.interfaces(), routes: try RouteNetlink.ipv4Routes())
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
                let uplink = EgressChecks.uplink(of: path, in: side)?.device.name
                for key in hostSysctlKeys(ingress: path.bridge?.name ?? path.hostVeth?.name, uplink: uplink) {
                    side.sysctls[key] = SysctlFile.reading(key)
                }
                return side
            }
        } catch {
            host.error = path.hostNetnsPath.isEmpty ? "the host side's namespace was not found" : "\(error)"
        }
        var state = EgressPathState(endpoint: endpoint, host: host)
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
