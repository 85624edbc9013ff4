/// The resolver's answer for one process.
public enum Attribution: Sendable, Equatable {
    case container(ContainerIdentity)
    case host
    /// A runtime helper (conmon, lxc.monitor, nspawn supervisor) or a path no rule recognises;
    /// the reason names which, with the cgroup.
    case notAContainer(reason: String)
}
