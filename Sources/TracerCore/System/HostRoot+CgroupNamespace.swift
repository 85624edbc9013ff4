import Glibc

extension HostRoot {
    /// CLONE_NEWCGROUP from <sched.h>.
    static let cloneNewCgroup: Int32 = 0x0200_0000

    /// Moves the calling thread, and the threads it starts afterwards, into the host's cgroup
    /// namespace (pid 1's under the root, else kthreadd's: pid 2 is the kernel's and always in the
    /// initial namespaces, where an init keeps its own links unreadable), so that /proc/PID/cgroup gives every process's
    /// path as the host does. A container's own cgroup namespace (Kubernetes and podman on cgroup
    /// v2) shows them relative to the container's cgroup (`/../libpod-ID`): containers are still
    /// named by their leaf, but the path shown, runc's lookup by path and the cgroup ids of
    /// `--container` filters need the host's. It changes only how paths read, not which cgroup
    /// the process is in.
    ///
    /// Needs CAP_SYS_ADMIN; false, with nothing changed, where it cannot (or on the host itself,
    /// where there is nothing to join).
    @discardableResult
    public func joinHostCgroupNamespace() -> Bool {
        guard !isIdentity, let setns = setnsFunction() else { return false }
        for pid in [1, 2] {
            let target = open(path("/proc/\(pid)/ns/cgroup"), O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY)
            guard target >= 0 else { continue }
            defer { close(target) }
            if setns(target, Self.cloneNewCgroup) == 0 { return true }
        }
        return false
    }
}
