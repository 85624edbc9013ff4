/// One container as runc's state.json describes it.
public struct RuncContainer: Sendable, Equatable {
    public var id: String
    public var initPID: Int32?
    /// Absolute cgroup path as /proc/PID/cgroup shows it, from the spec's cgroupsPath (systemd
    /// `slice:prefix:name` form expanded) or else from `cgroup_paths`.
    public var cgroupPath: String?
    /// The OCI bundle directory from the `bundle=` label.
    public var bundle: String?
    /// Set when state.json was missing or corrupt.
    public var warning: String?

    public init(id: String, initPID: Int32? = nil, cgroupPath: String? = nil, bundle: String? = nil, warning: String? = nil) {
        self.id = id
        self.initPID = initPID
        self.cgroupPath = cgroupPath
        self.bundle = bundle
        self.warning = warning
    }

    /// runc ids are chosen by the caller and usually are the name, so the id is the name too.
    public var identity: ContainerIdentity {
        ContainerIdentity(runtime: .runc, id: id, name: id, initPID: initPID, warning: warning)
    }
}
