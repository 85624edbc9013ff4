/// What `NetnsSession` reads: the host's network namespaces and containers (`HostNamespaces`),
/// or recorded ones in tests.
public protocol NamespaceSource: AnyObject {
    /// Every network namespace, the host's first.
    func namespaces() -> [NetnsDirectory.Namespace]
    /// The containers running now.
    func inventory() -> ContainerInventory
    /// Interfaces, routes and ip_forward of a namespace, read from inside it.
    func contents(of inode: UInt64) -> NetnsDirectory.Contents
    /// The other end of a veth, wherever it lives.
    func peer(of interface: NetworkInterface, in inode: UInt64) -> NetnsDirectory.Peer?
}

/// The host's network namespaces as `tracer netns` reads them: found from every process and
/// from bind mounts. Entering them needs CAP_SYS_ADMIN.
public final class HostNamespaces: NamespaceSource {
    private let directory: NetnsDirectory
    private let resolver: ContainerResolver

    /// Reads under the resolver's host root.
    public init(resolver: ContainerResolver) {
        self.resolver = resolver
        directory = NetnsDirectory(hostRoot: resolver.hostRoot)
    }

    public func namespaces() -> [NetnsDirectory.Namespace] { directory.namespaces }
    public func inventory() -> ContainerInventory { ContainerInventory.scan(resolver: resolver) }
    public func contents(of inode: UInt64) -> NetnsDirectory.Contents { directory.contents(of: inode) }
    public func peer(of interface: NetworkInterface, in inode: UInt64) -> NetnsDirectory.Peer? {
        directory.peer(of: interface, in: inode)
    }
}

/// One network namespace as `tracer netns` shows it: who is in it and how its network looks.
public struct NetnsReport: Sendable {
    public var namespace: NetnsDirectory.Namespace
    /// The containers whose network namespace this is.
    public var containers: [ContainerIdentity]
    /// Its interfaces, each veth with its peer.
    public var links: [LinkReport]
    /// The main table's default routes, IPv4 first; a family without one has none here.
    public var defaultRoutes: [DefaultRoute]
    /// net.ipv4.ip_forward inside; nil when it could not be read.
    public var ipForward: Bool?
    /// Why the namespace's interfaces could not be read.
    public var error: String?

    public init(namespace: NetnsDirectory.Namespace, containers: [ContainerIdentity], contents: NetnsDirectory.Contents,
                peer: (NetworkInterface) -> NetnsDirectory.Peer?) {
        self.namespace = namespace
        self.containers = containers
        links = contents.interfaces.map { LinkReport(interface: $0, peer: peer($0)) }
        defaultRoutes = contents.defaultRoutes
        ipForward = contents.ipForward
        error = contents.error
    }
}

/// `tracer netns`: every network namespace, the host's first, with its containers and network.
public struct NetnsSession {
    private let source: NamespaceSource

    public init(source: NamespaceSource) {
        self.source = source
    }

    public func run(into sink: some RecordSink<NetnsReport>) {
        let namespaces = source.namespaces()
        let inventory = source.inventory()
        for ns in namespaces {
            if sink.isClosed { break }
            sink.emit(NetnsReport(namespace: ns, containers: inventory.containers.filter { $0.netnsInode == ns.inode }.map(\.identity),
                                  contents: source.contents(of: ns.inode), peer: { self.source.peer(of: $0, in: ns.inode) }))
        }
        sink.flush()
    }
}
