/// A container as a user would name it: runtime, id, name, image and pod.
public struct ContainerIdentity: Sendable, Equatable, Codable {
    public var runtime: ContainerRuntime
    public var id: String
    /// The runtime's name for it; for a Kubernetes container, the container name within its pod
    /// ("POD" for the sandbox/pause container, as kubelet calls it).
    public var name: String?
    public var image: String?
    public var pod: PodIdentity?
    /// Host PID of the container's first process, when the runtime recorded one.
    public var initPID: Int32?
    /// Set when metadata was missing, corrupt or unreadable; the other fields are then partial.
    public var warning: String?
    /// The bind mount naming its network namespace where the runtime keeps it outside /run/netns
    /// (docker's SandboxKey), so `tracer pid` can name the namespace without walking every mount.
    public var netnsPath: String?

    public init(
        runtime: ContainerRuntime,
        id: String,
        name: String? = nil,
        image: String? = nil,
        pod: PodIdentity? = nil,
        initPID: Int32? = nil,
        warning: String? = nil
    ) {
        self.runtime = runtime
        self.id = id
        self.name = name
        self.image = image
        self.pod = pod
        self.initPID = initPID
        self.warning = warning
    }

    /// The 12-character form `docker ps` shows for hex ids; names (LXC, nspawn, ctr, runc) are kept whole.
    public var shortID: String {
        guard id.count > 12, id.allSatisfy(\.isHexDigit) else { return id }
        return String(id.prefix(12))
    }
}
