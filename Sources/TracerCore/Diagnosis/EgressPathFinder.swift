/// Finds the egress path of every endpoint on the host: each container with a network
/// namespace of its own, and each named namespace (`ip netns`, bind mounts) that no runtime
/// manages, whose default route (or, without one, its only veth) leads through a veth into
/// another namespace. That namespace is the endpoint's host side, wherever it is.
///
/// A named namespace that is itself the host side of an endpoint (it holds the peer veth that
/// some endpoint's default route leaves by) is a host, not an endpoint, even when it routes
/// out through a veth of its own: the egress lab's tel-X-host, a kind node seen from outside,
/// a runtime lab namespace. So is a namespace whose veth peer is its neighbour's uplink (the
/// lab's "world"): traffic from there towards the host is not egress. Containers are always
/// endpoints (a Docker-in-Docker container is both).
///
/// Needs CAP_SYS_ADMIN to enter the namespaces; without it no namespace's links can be read
/// and nothing is found.
public struct EgressPathFinder {
    public enum SelectionError: Error, CustomStringConvertible, Sendable, Equatable {
        case unknownContainer(String, closest: [String])
        case unknownNamespace(String, closest: [String])
        /// The selected container exists but has no veth leading elsewhere.
        case noEgressPath(String, reason: String)
        /// The selected namespace exists but is no endpoint: nothing routes out of it through a
        /// veth, or its veth is a host side's uplink seen from the far end (the lab's "world").
        /// Checking it as an endpoint would invent fixes (a default route, a MASQUERADE) there.
        case notAnEndpoint(String, reason: String)

        public var description: String {
            switch self {
            case .unknownContainer(let query, let closest):
                return ContainerQueryError.noMatch(query: query, closest: closest).description
            case .unknownNamespace(let query, let closest):
                return NamedNetns.Failure.unknown(query, closest: closest).description
            case .noEgressPath(let name, let reason):
                return "\(name): no egress path to check: \(reason)"
            case .notAnEndpoint(let name, let reason):
                return "\(name) is not an endpoint: \(reason)"
            }
        }
    }

    public let directory: NetnsDirectory
    public let inventory: ContainerInventory

    public init(directory: NetnsDirectory, inventory: ContainerInventory) {
        self.directory = directory
        self.inventory = inventory
    }

    /// Reads every namespace and container on the host, under the resolver's host root.
    public init(resolver: ContainerResolver) {
        self.init(directory: NetnsDirectory(hostRoot: resolver.hostRoot), inventory: ContainerInventory.scan(resolver: resolver))
    }

    /// Every endpoint's path when both lists are empty; else the selected ones: containers by
    /// name or id prefix, namespaces by name ("tel-x-c1" or "/run/netns/tel-x-c1") or inode.
    /// Selecting a namespace that is a host side selects every endpoint behind it.
    public func paths(containers: [String] = [], namespaces: [String] = []) throws(SelectionError) -> [EgressPath] {
        if containers.isEmpty && namespaces.isEmpty { return allPaths() }
        var result: [EgressPath] = []
        for query in containers {
            let matches = inventory.matching(query)
            guard !matches.isEmpty else {
                throw .unknownContainer(query, closest: inventory.closestNames(to: query))
            }
            for container in matches {
                let name = container.identity.name ?? container.identity.shortID
                guard let inode = container.netnsInode, let ns = directory.namespace(inode: inode) else {
                    throw .noEgressPath(name, reason: "its network namespace cannot be read")
                }
                guard !ns.isHost else { throw .noEgressPath(name, reason: "it shares the host's network namespace") }
                guard let link = link(in: ns) else { throw .noEgressPath(name, reason: noLinkReason(ns)) }
                result.append(path(for: link, name: name, container: container.identity))
            }
        }
        for query in namespaces {
            guard let ns = namespace(named: query) else {
                throw .unknownNamespace(query, closest: NamedNetns.closest(to: query, among: directory.namespaces.flatMap { $0.names.map(Self.shortName) }))
            }
            let behind = allPaths().filter { $0.hostNetnsInode == ns.inode }
            if !behind.isEmpty {
                result += behind
                continue
            }
            let name = ns.names.first.map(Self.shortName) ?? "netns:\(ns.inode)"
            guard !ns.isHost, let link = link(in: ns) else {
                throw .notAnEndpoint(name, reason: ns.isHost ? "it is the host's namespace and no endpoint is behind it" : noLinkReason(ns))
            }
            let isContainer = inventory.containers.contains { $0.netnsInode == ns.inode }
            if !isContainer, isUplinkOfPeer(link) {
                let host = directory.namespace(inode: link.peer.netnsInode)
                let hostName = host.flatMap { $0.names.first.map(Self.shortName) } ?? (host?.isHost == true ? "the host" : "netns:\(link.peer.netnsInode)")
                throw .notAnEndpoint(name, reason: "its veth \(link.interface.name) leads to \(link.peer.name) in \(hostName), the device "
                    + "\(hostName)'s default route leaves by: it is upstream of that host side (its uplink's far end), not an endpoint behind it; "
                    + "select an endpoint, or the host side \(hostName) for every endpoint behind it")
            }
            let container = inventory.containers.first { $0.netnsInode == ns.inode }?.identity
            result.append(path(for: link, name: container.map { $0.name ?? $0.shortID } ?? name, container: container))
        }
        var seen = Set<String>()
        return result.filter { seen.insert("\($0.endpoint.netnsInode)/\($0.endpoint.name)").inserted }
    }

    // MARK: - Discovery

    /// The way out of one namespace: its interface, and that interface's veth peer elsewhere.
    struct Link {
        var namespace: NetnsDirectory.Namespace
        var interface: NetworkInterface
        var peer: NetnsDirectory.Peer
        /// True when the namespace's default route leaves by it; false when it is only the sole veth.
        var carriesDefaultRoute: Bool
    }

    private func allPaths() -> [EgressPath] {
        var links: [UInt64: Link] = [:]
        for ns in directory.namespaces where !ns.isHost {
            if let link = link(in: ns) { links[ns.inode] = link }
        }
        let hosts = Set(links.values.filter(\.carriesDefaultRoute).map(\.peer.netnsInode))
        var result: [EgressPath] = []
        var covered = Set<UInt64>()
        // One endpoint per namespace: a pod's containers share theirs, the first by name stands for them.
        for container in inventory.containers {
            guard let inode = container.netnsInode, !covered.contains(inode), let link = links[inode] else { continue }
            covered.insert(inode)
            result.append(path(for: link, name: container.identity.name ?? container.identity.shortID, container: container.identity))
        }
        for ns in directory.namespaces where !ns.names.isEmpty && !covered.contains(ns.inode) && !hosts.contains(ns.inode) {
            guard let link = links[ns.inode], !isUplinkOfPeer(link) else { continue }
            result.append(path(for: link, name: Self.shortName(ns.names[0]), container: nil))
        }
        return result
    }

    /// The interface the namespace's default route leaves by, else its only veth, when that is
    /// a veth whose peer lives in another namespace.
    func link(in ns: NetnsDirectory.Namespace) -> Link? {
        let contents = directory.contents(of: ns.inode)
        guard contents.error == nil else { return nil }
        if let index = contents.defaultRoute?.outputIndex,
           let device = contents.interfaces.first(where: { $0.index == index }) {
            guard let peer = directory.peer(of: device, in: ns.inode), peer.netnsInode != ns.inode else { return nil }
            return Link(namespace: ns, interface: device, peer: peer, carriesDefaultRoute: true)
        }
        let crossing = contents.interfaces.compactMap { device -> Link? in
            guard let peer = directory.peer(of: device, in: ns.inode), peer.netnsInode != ns.inode else { return nil }
            return Link(namespace: ns, interface: device, peer: peer, carriesDefaultRoute: false)
        }
        return crossing.count == 1 ? crossing[0] : nil
    }

    private func noLinkReason(_ ns: NetnsDirectory.Namespace) -> String {
        let contents = directory.contents(of: ns.inode)
        if let error = contents.error { return "cannot read it: \(error)" }
        return "neither its default route nor a single veth leads into another namespace (host network, macvlan or no network)"
    }

    /// True when the link's peer is the device its host side's default route leaves by.
    private func isUplinkOfPeer(_ link: Link) -> Bool {
        directory.contents(of: link.peer.netnsInode).defaultRoute?.outputIndex == link.peer.index
    }

    private func path(for link: Link, name: String, container: ContainerIdentity?) -> EgressPath {
        let host = directory.contents(of: link.peer.netnsInode)
        let hostNamespace = directory.namespace(inode: link.peer.netnsInode)
        func device(_ index: Int32?) -> EgressPath.Device? {
            guard let index, let found = host.interfaces.first(where: { $0.index == index }) else { return nil }
            return EgressPath.Device(name: found.name, index: found.index)
        }
        let hostVeth = host.interfaces.first { $0.index == link.peer.index }
        let bridge = device(hostVeth?.masterIndex).flatMap { bridge in
            host.interfaces.first { $0.index == bridge.index }?.kind == "bridge" ? bridge : nil
        }
        let endpoint = EgressPath.Endpoint(
            name: name, container: container, netnsInode: link.namespace.inode, netnsPath: link.namespace.path,
            interface: link.interface.name, interfaceIndex: link.interface.index,
            ipv4: link.interface.ipv4, ipv6: link.interface.ipv6, mtu: link.interface.mtu)
        var path = EgressPath(
            endpoint: endpoint, hostNetnsInode: link.peer.netnsInode,
            hostNetnsPath: hostNamespace?.path ?? "", hostIsRoot: hostNamespace?.isHost ?? false,
            hostVeth: EgressPath.Device(name: link.peer.name, index: link.peer.index),
            bridge: bridge, uplink: nil, gateway: nil)
        // The uplink is where the endpoint's packets are routed, policy rules included.
        if case .route(let route, _) = PolicyRouting.egress(of: path, rules: host.rules, routes: host.routes) {
            path.uplink = device(route.outputIndex)
            path.gateway = route.gateway
        }
        return path
    }

    private func namespace(named query: String) -> NetnsDirectory.Namespace? {
        let inode = UInt64(query.hasPrefix("netns:") ? String(query.dropFirst(6)) : query)
        return directory.namespaces.first { ns in
            ns.inode == inode || ns.names.contains { $0 == query || Self.shortName($0) == query }
        } ?? inode.flatMap { directory.namespace(inode: $0) }
    }

    /// "/run/netns/tel-x-c1" -> "tel-x-c1".
    static func shortName(_ mountPath: String) -> String {
        mountPath.split(separator: "/").last.map(String.init) ?? mountPath
    }
}
