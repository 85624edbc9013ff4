/// Reads Docker's per-container state, `<root>/containers/<id>/config.v2.json`, without the daemon.
///
/// Needs read access to the Docker root (root only by default). Works on any kernel.
public struct DockerMetadata: Sendable {
    public let root: String
    /// Docker's default data root on the host.
    public static let defaultRoot = "/var/lib/docker"

    public init(root: String = defaultRoot) {
        self.root = root
    }

    /// Nil when Docker has no directory for `id`; an identity with `warning` when config.v2.json
    /// is missing or corrupt.
    public func identity(id: String) -> ContainerIdentity? {
        switch read(id: id) {
        case nil: return nil
        case .object(let json)?: return Self.identity(json, directoryID: id)
        case .missing?: return ContainerIdentity(runtime: .docker, id: id, warning: "\(configPath(id)): missing")
        case .corrupt(let why)?: return ContainerIdentity(runtime: .docker, id: id, warning: why)
        }
    }

    /// Every container Docker keeps state for, running or not, sorted by id.
    public func all() -> [ContainerIdentity] {
        containerIDs().compactMap(identity(id:))
    }

    func containerIDs() -> [String] {
        let names = FileSystem.entries(FileSystem.join(root, "containers")) ?? []
        return names.filter(PathComponent.isPlain).sorted()
    }

    func configPath(_ id: String) -> String {
        FileSystem.join(root, "containers", id, "config.v2.json")
    }

    /// Nil when the container directory does not exist: Docker does not know this id.
    func read(id: String) -> MetadataFile? {
        guard PathComponent.isPlain(id) else { return nil }
        guard FileSystem.isDirectory(FileSystem.join(root, "containers", id)) else { return nil }
        return MetadataFile.read(configPath(id))
    }

    static func identity(_ json: JSONObject, directoryID: String) -> ContainerIdentity {
        let labels = json.stringMap("Config", "Labels")
        let dockerName = json.string("Name").map { $0.hasPrefix("/") ? String($0.dropFirst()) : $0 }
        // cri-dockerd containers carry kubelet's labels; report them the way CRI runtimes do.
        let kubeName = dockerName.flatMap(KubernetesContainerName.init)
        var pod: PodIdentity?
        if let podName = labels["io.kubernetes.pod.name"] ?? kubeName?.pod {
            pod = PodIdentity(
                namespace: labels["io.kubernetes.pod.namespace"] ?? kubeName?.namespace,
                name: podName,
                uid: labels["io.kubernetes.pod.uid"] ?? kubeName?.uid)
        }
        let running = json.bool("State", "Running") ?? false
        let pid = json.int("State", "Pid").flatMap { Int32(exactly: $0) }
        var identity = ContainerIdentity(
            runtime: .docker,
            id: json.string("ID") ?? directoryID,
            name: labels["io.kubernetes.container.name"] ?? kubeName?.container ?? dockerName,
            image: json.string("Config", "Image") ?? json.string("Image"),
            pod: pod,
            initPID: running ? pid.flatMap { $0 > 0 ? $0 : nil } : nil)
        identity.netnsPath = json.string("NetworkSettings", "SandboxKey")
        return identity
    }
}
