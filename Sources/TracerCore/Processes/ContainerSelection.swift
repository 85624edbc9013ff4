/// What `--container` selects for a tracing command: the containers' ids (for the check in user
/// space) and their cgroup v2 ids (for the filter in the kernel).
public struct ContainerSelection: Sendable {
    public var ids: Set<String>
    /// Nil when some container has no v2 cgroup of its own: then only user space can filter.
    public var cgroupIDs: Set<UInt64>?

    /// Selects from `inventory`; `unifiedMount` is where cgroup v2 is mounted (nil: not at all),
    /// `cgroupID` names the id of a cgroup directory (`CgroupDirectory.id`).
    public init(_ queries: [String], in inventory: ContainerInventory, unifiedMount: String?,
                cgroupID: (String) -> UInt64? = CgroupDirectory.id(of:)) throws(ContainerQueryError) {
        let chosen = try inventory.containers(matching: queries)
        var cgroupIDs: Set<UInt64>? = []
        for container in chosen {
            guard let unifiedMount, let path = container.cgroup.unified, path != "/",
                  let id = cgroupID(unifiedMount + path) else {
                cgroupIDs = nil
                break
            }
            cgroupIDs?.insert(id)
        }
        ids = Set(chosen.map(\.identity.id))
        self.cgroupIDs = cgroupIDs
    }

    /// Scans the host's containers and reads where the host mounts cgroup v2, under the resolver's host root.
    public static func select(_ queries: [String], resolver: ContainerResolver) throws(ContainerQueryError) -> ContainerSelection {
        let inventory = ContainerInventory.scan(resolver: resolver)
        let unified = (try? MountTable.host(resolver.hostRoot, types: ["cgroup2"]))?.mounts.first.map { resolver.hostRoot.path($0.mountPoint) }
        return try ContainerSelection(queries, in: inventory, unifiedMount: unified)
    }
}
