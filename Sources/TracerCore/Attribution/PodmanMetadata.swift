/// Podman's containers, read from containers/storage without the podman API socket.
///
/// Needs read access to the graph root (`/var/lib/containers/storage`, or
/// `~/.local/share/containers/storage` for rootless). Containers CRI-O created in the same storage
/// are left to `CRIOMetadata`.
public struct PodmanMetadata: Sendable {
    let storage: ContainerStorage
    /// containers/storage's rootful graph and run roots on the host (CRI-O's too).
    public static let defaultGraphRoot = "/var/lib/containers/storage"
    public static let defaultRunRoot = "/run/containers/storage"

    public init(graphRoot: String = PodmanMetadata.defaultGraphRoot, runRoot: String? = PodmanMetadata.defaultRunRoot) {
        storage = ContainerStorage(graphRoot: graphRoot, runRoot: runRoot)
    }

    public var graphRoot: String { storage.graphRoot }

    /// Nil when storage does not know `id` or CRI-O owns it.
    public func identity(id: String) -> ContainerIdentity? {
        guard let stored = storage.container(id: id), !(stored.ownerKnown && stored.belongsToCRIO) else { return nil }
        return Self.identity(stored)
    }

    public func all() -> [ContainerIdentity] {
        storage.all().filter { !($0.ownerKnown && $0.belongsToCRIO) }.map(Self.identity)
    }

    static func identity(_ stored: ContainerStorage.StoredContainer) -> ContainerIdentity {
        ContainerIdentity(
            runtime: .podman,
            id: stored.id,
            name: stored.metadata["name"] ?? stored.names.first,
            image: stored.metadata["image-name"] ?? stored.imageID,
            initPID: stored.initPID,
            warning: stored.warnings.isEmpty ? nil : stored.warnings.joined(separator: "; "))
    }
}
