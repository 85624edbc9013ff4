/// What `ContainersSession` reads: the host's processes, runtimes and network namespaces
/// (`HostContainers`), or recorded ones in tests.
public protocol ContainerSource: AnyObject {
    /// The containers running now, with their processes.
    func inventory() -> ContainerInventory
    /// The interfaces of a network namespace of its own, each veth with its peer wherever that
    /// lives; empty for the host's namespace or one that cannot be read.
    func links(inNamespace inode: UInt64) -> [LinkReport]
}

/// The host's containers as `tracer containers` reads them. Reading another namespace's links
/// needs CAP_SYS_ADMIN; without it they are missing, the containers are still listed.
public final class HostContainers: ContainerSource {
    private let resolver: ContainerResolver
    /// Scanned only when a container has a network namespace to look into; its interfaces and
    /// their peers only: the table shows no routes (three route dumps less per namespace).
    private lazy var netns = NetnsDirectory(hostRoot: resolver.hostRoot, readsRouting: false)

    public init(resolver: ContainerResolver) {
        self.resolver = resolver
    }

    public func inventory() -> ContainerInventory {
        ContainerInventory.scan(resolver: resolver)
    }

    public func links(inNamespace inode: UInt64) -> [LinkReport] {
        guard let ns = netns.namespace(inode: inode), !ns.isHost else { return [] }
        return netns.contents(of: inode).interfaces.map { LinkReport(interface: $0, peer: netns.peer(of: $0, in: inode)) }
    }
}

/// A record of `tracer containers`' output.
public enum ContainersRecord: Sendable {
    /// The listing begins, with how many containers it has (a table prints its header, or says
    /// there are none).
    case started(containers: Int)
    case container(RunningContainer)
}

/// One running container with where its network leads: the host ends of its veths and its addresses.
public struct RunningContainer: Sendable {
    public var container: ContainerInventory.Container
    /// The peers of its veths, wherever they live (usually the host's ends).
    public var hostVeths: [String]
    /// The addresses of its interfaces but lo, with their prefix lengths: IPv4, then IPv6 with the
    /// link-local ones.
    public var addresses: [IPPrefix]

    public init(container: ContainerInventory.Container, links: [LinkReport]) {
        self.container = container
        hostVeths = links.compactMap { $0.peer?.name }
        let interfaces = links.map(\.interface).filter { $0.name != "lo" }
        addresses = interfaces.flatMap(\.ipv4) + interfaces.flatMap(\.ipv6)
    }

    public func addresses(_ family: IPAddress.Family) -> [IPPrefix] { addresses.filter { $0.family == family } }

    public var ipv4: [IPPrefix] { addresses(.v4) }
}

/// `tracer containers`: every running container, sorted by name, with its network.
public struct ContainersSession {
    private let source: ContainerSource

    public init(source: ContainerSource) {
        self.source = source
    }

    public func run(into sink: some RecordSink<ContainersRecord>) {
        let containers = source.inventory().containers
        sink.emit(.started(containers: containers.count))
        for container in containers {
            if sink.isClosed { break }
            sink.emit(.container(RunningContainer(container: container, links: container.netnsInode.map(source.links) ?? [])))
        }
        sink.flush()
    }
}
