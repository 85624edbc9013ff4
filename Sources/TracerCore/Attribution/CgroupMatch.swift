/// What a cgroup path alone says about the container a process runs in.
public struct CgroupMatch: Sendable, Equatable {
    public var runtime: ContainerRuntime
    /// The full id as it appears in the cgroup name; for LXC, nspawn and ctr ids that are
    /// not hex it is the container's name. A leaf captured by the kernel may be truncated.
    public var containerID: String
    /// Kubernetes pod UID with dashes (kubelet's systemd driver writes "_"), or the libpod pod
    /// id for a podman pod (then `kubernetes` is false).
    public var podUID: String?
    /// "guaranteed", "burstable" or "besteffort"; nil when the path does not show it
    /// (for example a cgroupfs `pod<uid>` parent seen without its ancestors).
    public var qosClass: String?
    /// Set only for the ctr layout `/<namespace>/<id>`.
    public var containerdNamespace: String?
    /// True when a pod UID was found or the runtime prefix is a CRI one (cri-containerd, crio).
    public var kubernetes: Bool

    public init(
        runtime: ContainerRuntime,
        containerID: String,
        podUID: String? = nil,
        qosClass: String? = nil,
        containerdNamespace: String? = nil,
        kubernetes: Bool = false
    ) {
        self.runtime = runtime
        self.containerID = containerID
        self.podUID = podUID
        self.qosClass = qosClass
        self.containerdNamespace = containerdNamespace
        self.kubernetes = kubernetes
    }
}
