/// Names the container of each exec from the cgroup keys the kernel captured at exec time,
/// so processes that are already gone are attributed too. Results are remembered per cgroup:
/// cgroup ids are not reused within a boot.
public final class ExecAttributor {
    private struct CgroupKey: Hashable {
        var v2: UInt64
        var v1: UInt64
    }

    private let resolver: ContainerResolver
    private var known: [CgroupKey: (attribution: Attribution, at: UInt64)] = [:]
    /// A cgroup that was not (yet) a known container is asked again after this long: a runtime
    /// may write its metadata just after the first exec (runc execs its init in the container's
    /// cgroup before it writes state.json), and a short-lived container may be gone by a later ask.
    private let retryAfter: UInt64 = 200_000_000

    public init(resolver: ContainerResolver) {
        self.resolver = resolver
    }

    public func attribute(_ keys: ProcessKeys, now: UInt64) -> Attribution {
        let key = CgroupKey(v2: keys.cgroupID, v1: keys.cgroupV1ID)
        if let hit = known[key] {
            if case .container = hit.attribution { return hit.attribution }
            if case .host = hit.attribution { return hit.attribution }
            if now &- hit.at < retryAfter { return hit.attribution }
        }
        let attribution = resolve(keys)
        if known.count > 65536 { known.removeAll(keepingCapacity: true) }
        known[key] = (attribution, now)
        return attribution
    }

    /// The v2 leaf when the process has its own v2 cgroup; on v1 and hybrid hosts, where runtimes
    /// may leave it at the v2 root, the v1 leaf.
    private func resolve(_ keys: ProcessKeys) -> Attribution {
        if keys.cgroupID > 1 && !keys.cgroupName.isEmpty {
            let v2 = resolver.resolve(leaf: keys.cgroupName, parent: keys.cgroupParent)
            if case .container = v2 { return v2 }
            if keys.cgroupV1ID == 0 || keys.cgroupV1Name.isEmpty { return v2 }
        }
        if keys.cgroupV1ID != 0 && !keys.cgroupV1Name.isEmpty && keys.cgroupV1Name != "/" {
            return resolver.resolve(leaf: keys.cgroupV1Name, parent: keys.cgroupV1Parent)
        }
        return .host
    }
}
