import FoundationEssentials
import Glibc

/// Every network namespace on the host, found from processes (/proc/PID/ns/net) and from
/// bind mounts (ip netns, docker, CNI, podman), with its interfaces read over rtnetlink from
/// inside it. veth pairs are matched across namespaces, wherever the host side lives.
public struct NetnsDirectory: Sendable {
    public struct Namespace: Sendable {
        public var inode: UInt64
        /// Bind-mount paths naming it.
        public var names: [String]
        /// A path to enter it by: a name, or /proc/PID/ns/net.
        public var path: String
        public var pids: [Int32]
        public var interfaces: [NetworkInterface]
        public var defaultRoute: IPv4Route?
        /// net.ipv4.ip_forward inside the namespace.
        public var ipForward: Bool?
        public var isHost: Bool
        /// Why interfaces could not be read, if they could not.
        public var error: String?
        /// The ids this namespace gives other namespaces (by their inode), for veth peers.
        public var peerIDs: [UInt64: Int32] = [:]
    }

    /// A veth's other end.
    public struct Peer: Sendable, Equatable {
        public var netnsInode: UInt64
        public var name: String
        public var index: Int32
        /// The bridge the peer is a port of, if any.
        public var bridge: String?
    }

    public var namespaces: [Namespace]

    public static func scan(procRoot: String = "/proc") -> NetnsDirectory {
        var byInode: [UInt64: Namespace] = [:]
        let hostInode = ProcNamespaces.read(pid: 1, procRoot: procRoot)["net"]
            ?? ProcNamespaces.read(pid: getpid(), procRoot: procRoot)["net"]
        for pid in ProcessTable.pids(procRoot: procRoot) {
            guard let inode = ProcNamespaces.read(pid: pid, procRoot: procRoot)["net"] else { continue }
            if byInode[inode] == nil {
                byInode[inode] = Namespace(inode: inode, names: [], path: "\(procRoot)/\(pid)/ns/net", pids: [],
                                           interfaces: [], isHost: inode == hostInode)
            }
            byInode[inode]?.pids.append(pid)
        }
        for (inode, names) in (try? MountTable.read())?.networkNamespaceNames ?? [:] {
            if byInode[inode] == nil {
                byInode[inode] = Namespace(inode: inode, names: [], path: names[0], pids: [], interfaces: [], isHost: inode == hostInode)
            }
            byInode[inode]?.names = names.sorted()
            byInode[inode]?.path = names.sorted()[0]
        }
        var namespaces = Array(byInode.values).sorted { ($0.isHost ? 0 : 1, $0.inode) < ($1.isHost ? 0 : 1, $1.inode) }
        let paths = namespaces.map { ($0.inode, $0.path) }
        for i in namespaces.indices {
            do {
                let (interfaces, routes, forward, ids) = try RouteNetlink.inNamespace(namespaces[i].path) {
                    let interfaces = try RouteNetlink.interfaces()
                    // Only veths that point into another namespace need the ids.
                    let needsIDs = interfaces.contains { $0.peerNetnsID != nil }
                    let ids = needsIDs ? try RouteNetlink.namespaceIDs(of: paths.map(\.1)) : [:]
                    return (interfaces, try RouteNetlink.ipv4Routes(), SysctlFile.read("net/ipv4/ip_forward"), ids)
                }
                namespaces[i].interfaces = interfaces
                for (inode, path) in paths { if let id = ids[path] { namespaces[i].peerIDs[inode] = id } }
                namespaces[i].defaultRoute = routes.first { $0.destination == "0.0.0.0/0" && $0.table == 254 }
                namespaces[i].ipForward = forward.map { $0 == "1" }
            } catch {
                namespaces[i].error = "\(error)"
            }
        }
        return NetnsDirectory(namespaces: namespaces)
    }

    public func namespace(inode: UInt64) -> Namespace? {
        namespaces.first { $0.inode == inode }
    }

    /// The other end of veth `interface` in namespace `inode`: in the namespace its
    /// IFLA_LINK_NETNSID names (the same one when it has none), the interface whose index is
    /// this one's peer index and whose peer index is this one's.
    public func peer(of interface: NetworkInterface, in inode: UInt64) -> Peer? {
        guard interface.kind == "veth", let peerIndex = interface.peerIndex, let own = namespace(inode: inode) else { return nil }
        let candidates: [Namespace]
        if let id = interface.peerNetnsID {
            candidates = namespaces.filter { own.peerIDs[$0.inode] == id && $0.inode != inode }
        } else {
            candidates = [own]
        }
        for ns in candidates {
            for candidate in ns.interfaces where candidate.kind == "veth" && candidate.index == peerIndex
                && candidate.peerIndex == interface.index && !(ns.inode == inode && candidate.index == interface.index) {
                let bridge = candidate.masterIndex.flatMap { master in ns.interfaces.first { $0.index == master }?.name }
                return Peer(netnsInode: ns.inode, name: candidate.name, index: candidate.index, bridge: bridge)
            }
        }
        return nil
    }
}

/// /proc/sys files, read in the calling thread's network namespace for net.* keys.
enum SysctlFile {
    static func read(_ key: String) -> String? {
        (try? String(contentsOfFile: "/proc/sys/\(key)", encoding: .utf8))?.trimmed
    }
}
