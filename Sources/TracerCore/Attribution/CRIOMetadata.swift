/// CRI-O's containers, read from the containers/storage layout it shares with podman, without the
/// CRI socket. Kubernetes fields come from the bundle's annotations first (what CRI-O passed to the
/// runtime), then containers.json metadata, then the `k8s_` name.
///
/// Needs read access to the graph root (`/var/lib/containers/storage`).
public struct CRIOMetadata: Sendable {
    let storage: ContainerStorage

    public init(graphRoot: String = PodmanMetadata.defaultGraphRoot, runRoot: String? = PodmanMetadata.defaultRunRoot) {
        storage = ContainerStorage(graphRoot: graphRoot, runRoot: runRoot)
    }

    public var graphRoot: String { storage.graphRoot }

    /// Nil when storage does not know `id` or it is clearly podman's.
    public func identity(id: String) -> ContainerIdentity? {
        guard let stored = storage.container(id: id), !stored.ownerKnown || stored.belongsToCRIO else { return nil }
        return Self.identity(stored)
    }

    /// Containers (and pod sandboxes) CRI-O owns.
    public func all() -> [ContainerIdentity] {
        storage.all().filter { $0.ownerKnown && $0.belongsToCRIO }.map(Self.identity)
    }

    static func identity(_ stored: ContainerStorage.StoredContainer) -> ContainerIdentity {
        let annotations = stored.annotations
        let metadata = stored.metadata
        let kubeName = (stored.names + [annotations["io.kubernetes.cri-o.Name"]].compactMap { $0 })
            .lazy.compactMap(KubernetesContainerName.init).first
        let sandbox = annotations["io.kubernetes.cri-o.ContainerType"] == "sandbox" || kubeName?.container == "POD"
        let podName = annotations["io.kubernetes.pod.name"] ?? metadata["pod-name"] ?? kubeName?.pod
        let podNamespace = annotations["io.kubernetes.pod.namespace"] ?? metadata["namespace"] ?? kubeName?.namespace
        let podUID = annotations["io.kubernetes.pod.uid"] ?? metadata["uid"] ?? kubeName?.uid
        let pod = (podName ?? podNamespace ?? podUID) == nil
            ? nil : PodIdentity(namespace: podNamespace, name: podName, uid: podUID)
        let name = sandbox
            ? "POD"
            : annotations["io.kubernetes.container.name"] ?? metadata["metadata-name"] ?? kubeName?.container
        return ContainerIdentity(
            runtime: .crio,
            id: stored.id,
            name: name ?? stored.names.first,
            image: annotations["io.kubernetes.cri-o.ImageName"] ?? metadata["image-name"] ?? stored.imageID,
            pod: pod,
            initPID: stored.initPID,
            warning: stored.warnings.isEmpty ? nil : stored.warnings.joined(separator: "; "))
    }
}
