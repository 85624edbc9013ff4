import Glibc

/// Every network namespace on the host, found from processes (/proc/PID/ns/net) and from
/// bind mounts (ip netns, docker, CNI, podman). A namespace's interfaces are read over
/// rtnetlink from inside it, only when asked for, so a lookup of one process stays fast on a
/// host with hundreds of containers. veth pairs are matched across namespaces, wherever the
/// host side lives.
public final class NetnsDirectory {
    public struct Namespace: Sendable {
        public var inode: UInt64
        /// Bind-mount paths naming it, as the host names them.
        public var names: [String]
        /// A path this process enters it by: a name, or /proc/PID/ns/net (under the host root).
        public var path: String
        public var pids: [Int32]
        public var isHost: Bool
    }

    /// What is read from inside a namespace.
    public struct Contents: Sendable {
        public var interfaces: [NetworkInterface] = []
        /// Every IPv4 unicast route, of every table, and the policy rules (empty when unreadable).
        public var routes: [IPv4Route] = []
        public var rules: [IPv4Rule] = []
        /// Every IPv6 unicast route, of every table (empty when unreadable or IPv6 is off).
        public var ipv6Routes: [IPRoute] = []
        /// net.ipv4.ip_forward inside the namespace.
        public var ipForward: Bool?
        /// Why it could not be read, if it could not.
        public var error: String?

        /// The main table's IPv4 default route.
        public var defaultRoute: IPv4Route? { routes.defaultRoute }

        /// The main table's default routes, IPv4 first, each with the interface it leaves by.
        public var defaultRoutes: [DefaultRoute] {
            [routes.defaultRoute, ipv6Routes.defaultRoute].compactMap { $0 }.map { route in
                DefaultRoute(route: route, device: interfaces.first(index: route.outputIndex)?.name)
            }
        }
    }

    /// A veth's other end.
    public struct Peer: Sendable, Equatable {
        public var netnsInode: UInt64
        public var name: String
        public var index: Int32
        /// The bridge the peer is a port of, if any.
        public var bridge: String?
    }

    /// Known namespaces: at first the host's and the named ones (bind mounts, cheap to list);
    /// every process's after `scanProcesses()`.
    public private(set) var namespaces: [Namespace]
    private var contents: [UInt64: Contents] = [:]
    private let procRoot: String
    /// Whether `contents` reads routes, rules and ip_forward too, or the interfaces alone.
    private let readsRouting: Bool
    private var processesScanned = false

    /// Lists the host's and the named namespaces, and with `allProcesses` those of every
    /// process; reads nothing inside them yet. Without `readsRouting`, `contents` holds the
    /// interfaces only (what `tracer pid` shows; two netlink dumps less per namespace).
    /// `hostRoot` is where the host's /proc and bind mounts are read (names default to the
    /// host's bind mounts, `NetnsMounts.names`); `procRoot` overrides its /proc (fixtures).
    public init(hostRoot: HostRoot = .identity, procRoot: String? = nil, names: [UInt64: [String]]? = nil, allProcesses: Bool = true,
                readsRouting: Bool = true) {
        let procRoot = procRoot ?? hostRoot.proc
        let names = names ?? NetnsMounts.names(hostRoot: hostRoot)
        self.procRoot = procRoot
        self.readsRouting = readsRouting
        var byInode: [UInt64: Namespace] = [:]
        var st = stat()
        // pid 1's namespace is the host's; where it cannot be read, ours stands in.
        for host in ["\(procRoot)/1/ns/net", "\(procRoot)/self/ns/net"] where stat(host, &st) == 0 {
            byInode[UInt64(st.st_ino)] = Namespace(inode: UInt64(st.st_ino), names: [], path: host, pids: [], isHost: true)
            break
        }
        for (inode, paths) in names {
            let sorted = paths.sorted()
            byInode[inode, default: Namespace(inode: inode, names: [], path: hostRoot.path(sorted[0]), pids: [], isHost: false)].names = sorted
        }
        namespaces = NetnsDirectory.ordered(byInode)
        if allProcesses { scanProcesses() }
    }

    /// Adds every process's namespace and the pids in each (one stat per process).
    public func scanProcesses() {
        guard !processesScanned else { return }
        processesScanned = true
        var byInode = Dictionary(uniqueKeysWithValues: namespaces.map { ($0.inode, $0) })
        for pid in ProcessTable.pids(procRoot: procRoot) {
            var st = stat()
            guard stat("\(procRoot)/\(pid)/ns/net", &st) == 0 else { continue }
            let inode = UInt64(st.st_ino)
            byInode[inode, default: Namespace(inode: inode, names: [], path: "\(procRoot)/\(pid)/ns/net", pids: [], isHost: false)].pids.append(pid)
        }
        namespaces = NetnsDirectory.ordered(byInode)
    }

    private static func ordered(_ byInode: [UInt64: Namespace]) -> [Namespace] {
        byInode.values.sorted { ($0.isHost ? 0 : 1, $0.inode) < ($1.isHost ? 0 : 1, $1.inode) }
    }

    /// The namespace with this inode, looking at every process if it is not known yet.
    public func namespace(inode: UInt64) -> Namespace? {
        if let known = namespaces.first(where: { $0.inode == inode }) { return known }
        scanProcesses()
        return namespaces.first { $0.inode == inode }
    }

    /// Interfaces, routes and ip_forward of a namespace, read once from inside it.
    public func contents(of inode: UInt64) -> Contents {
        if let known = contents[inode] { return known }
        var result = Contents()
        guard let ns = namespace(inode: inode) else {
            result.error = "no such network namespace"
            return result
        }
        do {
            let readsRouting = readsRouting
            result = try RouteNetlink.inNamespace(ns.path) {
                guard readsRouting else { return Contents(interfaces: try RouteNetlink.interfaces()) }
                // A kernel booted with ipv6.disable=1 refuses the IPv6 dump: no IPv6 routes, the rest stands.
                return Contents(interfaces: try RouteNetlink.interfaces(), routes: try RouteNetlink.ipv4Routes(),
                                rules: (try? RouteNetlink.ipv4Rules()) ?? [], ipv6Routes: (try? RouteNetlink.ipv6Routes()) ?? [],
                                ipForward: SysctlFile.read("net/ipv4/ip_forward").map { $0 == "1" })
            }
        } catch {
            result.error = "\(error)"
        }
        contents[inode] = result
        return result
    }

    /// `contents(of:)` with the routes of both families, even in a directory that reads interfaces
    /// only: `tracer pid` shows the default routes of its process's namespace, not of the
    /// namespaces its veths lead to (two route dumps here, none there).
    public func contentsWithRoutes(of inode: UInt64) -> Contents {
        var known = contents(of: inode)
        guard !readsRouting, known.error == nil, routesRead.insert(inode).inserted, let ns = namespace(inode: inode) else { return known }
        do {
            (known.routes, known.ipv6Routes) = try RouteNetlink.inNamespace(ns.path) {
                (try RouteNetlink.ipv4Routes(), (try? RouteNetlink.ipv6Routes()) ?? [])
            }
        } catch {
            known.error = "\(error)"
        }
        contents[inode] = known
        return known
    }

    /// Namespaces whose routes `contentsWithRoutes` has read into a directory that reads interfaces only.
    private var routesRead: Set<UInt64> = []

    /// Tells where the host side of a veth probably is (the namespace of a container's runtime
    /// shim), to be asked first: on a host with a hundred named namespaces each one asked costs.
    public func hintHostSide(inode: UInt64, path: String) {
        know(inode: inode, path: path)
        hostSideHints.insert(inode)
    }

    /// Adds namespace `inode`, entered by `path` (a process's /proc/PID/ns/net), unless known:
    /// a caller that has the path spares a look at every process.
    public func know(inode: UInt64, path: String) {
        if !namespaces.contains(where: { $0.inode == inode }) {
            namespaces.append(Namespace(inode: inode, names: [], path: path, pids: [], isHost: false))
        }
    }

    private var hostSideHints: Set<UInt64> = []

    /// The namespace that namespace `inode` calls `id` (IFLA_LINK_NETNSID), asked from inside
    /// it with RTM_GETNSID. Candidates are tried hinted first, then busiest first (the host side
    /// of a veth usually lives with the daemons), stopping at the first match.
    private func namespace(called id: Int32, from inode: UInt64) -> UInt64? {
        let key = PeerKey(from: inode, id: id)
        if let known = peerNamespaces[key] { return known }
        guard let ns = namespace(inode: inode) else { return nil }
        var tried: Set<UInt64> = [inode]
        var result: UInt64?
        // The hinted and named namespaces first; every process's only when the peer is not among them.
        for pass in 0..<2 {
            if pass == 1 { scanProcesses() }
            let candidates = namespaces.filter { !tried.contains($0.inode) }
                .sorted { (hostSideHints.contains($0.inode) ? 1 : 0, $0.isHost ? 1 : 0, $0.pids.count)
                    > (hostSideHints.contains($1.inode) ? 1 : 0, $1.isHost ? 1 : 0, $1.pids.count) }
            tried.formUnion(candidates.map(\.inode))
            let path = try? RouteNetlink.inNamespace(ns.path) { try RouteNetlink.firstNamespace(in: candidates.map(\.path), withID: id) }
            if let path = path ?? nil, let found = candidates.first(where: { $0.path == path }) {
                result = found.inode
                break
            }
        }
        peerNamespaces[key] = result
        return result
    }

    private struct PeerKey: Hashable {
        var from: UInt64
        var id: Int32
    }

    private var peerNamespaces: [PeerKey: UInt64?] = [:]

    /// The other end of veth `interface` in namespace `inode`: in the namespace its
    /// IFLA_LINK_NETNSID names (the same one when it has none), the interface whose index is
    /// this one's peer index and whose peer index is this one's.
    public func peer(of interface: NetworkInterface, in inode: UInt64) -> Peer? {
        guard interface.kind == "veth", let peerIndex = interface.peerIndex else { return nil }
        let target: UInt64
        if let id = interface.peerNetnsID {
            guard let found = namespace(called: id, from: inode) else { return nil }
            target = found
        } else {
            target = inode
        }
        let interfaces = contents(of: target).interfaces
        guard let candidate = interfaces.first(where: {
            $0.kind == "veth" && $0.index == peerIndex && $0.peerIndex == interface.index
        }) else { return nil }
        let bridge = candidate.masterIndex.flatMap { master in interfaces.first { $0.index == master }?.name }
        return Peer(netnsInode: target, name: candidate.name, index: candidate.index, bridge: bridge)
    }
}

/// /proc/sys files, read in the calling thread's network namespace for net.* keys.
enum SysctlFile {
    static func read(_ key: String) -> String? {
        (try? FileSystem.readText("/proc/sys/\(key)", kind: .kernelSetting))?.trimmed
    }
}
