/// The verdict on one cgroup path, before any metadata is read.
public enum CgroupClassification: Sendable, Equatable {
    case container(CgroupMatch)
    /// A runtime's own process that sits next to a container but is not it:
    /// conmon, crio-conmon, lxc.monitor, the nspawn supervisor.
    case runtimeHelper(runtime: ContainerRuntime, what: String)
    /// The root cgroup, or a path made only of systemd units (slices, services, scopes).
    case host
    /// Anything else; carries the path (or `parent/leaf`) for display.
    case unrecognised(String)
}
