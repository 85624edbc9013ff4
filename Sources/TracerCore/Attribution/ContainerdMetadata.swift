/// Reads containerd's runtime v2 task state, `<stateRoot>/<namespace>/<id>/{config.json,init.pid}`,
/// without the daemon. (Names and images also sit in containerd's bolt DB, but containerd holds an
/// exclusive lock on it while running; the OCI spec's annotations carry what CRI and nerdctl set.)
///
/// Only running tasks have a directory here. Needs read access to /run/containerd (root).
public struct ContainerdMetadata: Sendable {
    /// Docker's namespace; its tasks are also in Docker's own store, so callers usually skip it.
    public static let dockerNamespace = "moby"
    /// Kubernetes' namespace, searched first when an id comes without one.
    public static let kubernetesNamespace = "k8s.io"

    public let stateRoot: String
    /// containerd's default task state on the host.
    public static let defaultStateRoot = "/run/containerd/io.containerd.runtime.v2.task"

    public init(stateRoot: String = defaultStateRoot) {
        self.stateRoot = stateRoot
    }

    public func namespaces() -> [String] {
        let names = FileSystem.entries(stateRoot) ?? []
        return names.filter { PathComponent.isPlain($0) && FileSystem.isDirectory(taskPath($0)) }.sorted()
    }

    public func taskExists(namespace: String, id: String) -> Bool {
        PathComponent.isPlain(namespace) && PathComponent.isPlain(id) && FileSystem.isDirectory(taskPath(namespace, id))
    }

    /// The namespace holding task `id`: k8s.io first, then others, `moby` last. An id of 12 or more
    /// hex characters that matches no task exactly may match one task by prefix, because a leaf
    /// name captured by the kernel can be truncated.
    public func namespace(ofID id: String) -> String? {
        resolveID(id)?.namespace
    }

    /// Identity for a task in a known namespace; nil when no such task directory exists.
    public func identity(namespace: String, id: String) -> ContainerIdentity? {
        guard taskExists(namespace: namespace, id: id) else { return nil }
        let runtime: ContainerRuntime = namespace == Self.dockerNamespace ? .docker : .containerd
        let directory = taskPath(namespace, id)
        let initPID = MetadataFile.readPID(FileSystem.join(directory, "init.pid"))
        switch MetadataFile.read(FileSystem.join(directory, "config.json")) {
        case .object(let json):
            var identity = Self.identity(OCISpec(json), runtime: runtime, id: id)
            identity.initPID = initPID
            // ctr has no names apart from ids: the id is what the user typed and sees.
            if identity.name == nil && runtime == .containerd && identity.pod == nil { identity.name = id }
            return identity
        case .missing:
            return ContainerIdentity(runtime: runtime, id: id, initPID: initPID,
                                     warning: "\(directory)/config.json: missing")
        case .corrupt(let why):
            return ContainerIdentity(runtime: runtime, id: id, initPID: initPID, warning: why)
        }
    }

    /// Identity for `id` in whichever namespace holds it (see `namespace(ofID:)`).
    public func identity(id: String) -> ContainerIdentity? {
        guard let (namespace, fullID) = resolveID(id) else { return nil }
        return identity(namespace: namespace, id: fullID)
    }

    /// Every running task, Docker's included; check `namespace` to skip `moby`.
    public func all() -> [ContainerdTask] {
        namespaces().flatMap { namespace in
            taskIDs(namespace).compactMap { id in
                identity(namespace: namespace, id: id).map { ContainerdTask(namespace: namespace, identity: $0) }
            }
        }
    }

    func resolveID(_ id: String) -> (namespace: String, id: String)? {
        guard PathComponent.isPlain(id) else { return nil }
        let ordered = namespaces().sorted { rank($0) < rank($1) }
        if let namespace = ordered.first(where: { taskExists(namespace: $0, id: id) }) {
            return (namespace, id)
        }
        guard id.count >= 12, id.count < 64, id.allSatisfy(\.isHexDigit) else { return nil }
        let candidates = ordered.flatMap { namespace in
            taskIDs(namespace).filter { $0.hasPrefix(id) }.map { (namespace, $0) }
        }
        return candidates.count == 1 ? candidates[0] : nil
    }

    func rank(_ namespace: String) -> Int {
        switch namespace {
        case Self.kubernetesNamespace: 0
        case Self.dockerNamespace: 2
        default: 1
        }
    }

    func taskIDs(_ namespace: String) -> [String] {
        let names = FileSystem.entries(taskPath(namespace)) ?? []
        return names.filter { PathComponent.isPlain($0) && FileSystem.isDirectory(taskPath(namespace, $0)) }.sorted()
    }

    func taskPath(_ parts: String...) -> String {
        parts.reduce(stateRoot) { FileSystem.join($0, $1) }
    }

    /// CRI sets io.kubernetes.cri.* (sandbox-uid since containerd 1.6.11/1.7); nerdctl sets nerdctl/name.
    static func identity(_ spec: OCISpec, runtime: ContainerRuntime, id: String) -> ContainerIdentity {
        let annotations = spec.annotations
        let sandbox = annotations["io.kubernetes.cri.container-type"] == "sandbox"
        let podName = annotations["io.kubernetes.cri.sandbox-name"]
        let podNamespace = annotations["io.kubernetes.cri.sandbox-namespace"]
        let podUID = annotations["io.kubernetes.cri.sandbox-uid"]
        let pod = (podName ?? podNamespace ?? podUID) == nil
            ? nil : PodIdentity(namespace: podNamespace, name: podName, uid: podUID)
        let name = sandbox
            ? "POD"
            : annotations["io.kubernetes.cri.container-name"] ?? annotations["nerdctl/name"]
        return ContainerIdentity(
            runtime: runtime, id: id, name: name, image: annotations["io.kubernetes.cri.image-name"], pod: pod)
    }
}
