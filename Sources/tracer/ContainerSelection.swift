import TracerCore

/// Turns `--container` arguments into container ids (for the user-space check) and cgroup v2 ids
/// (for the kernel filter), or fails with the closest names.
struct ContainerSelection {
    var ids: Set<String>
    /// Nil when some container has no v2 cgroup of its own: then only user space can filter.
    var cgroupIDs: Set<UInt64>?

    static func select(_ queries: [String], resolver: ContainerResolver, command: String) throws -> ContainerSelection {
        let chosen = try containers(queries, in: ContainerInventory.scan(resolver: resolver), command: command)
        let unified = (try? MountTable.read(types: ["cgroup2"]))?.mounts.first?.mountPoint
        var cgroupIDs: Set<UInt64>? = []
        for container in chosen {
            guard let unified, let path = container.cgroup.unified, path != "/",
                  let id = CgroupDirectory.id(of: unified + path) else {
                cgroupIDs = nil
                break
            }
            cgroupIDs?.insert(id)
        }
        return ContainerSelection(ids: Set(chosen.map(\.identity.id)), cgroupIDs: cgroupIDs)
    }

    /// The containers named (or id-prefixed) by `queries`; for one that matches none, prints the
    /// closest names and exits with `unknownContainer`.
    static func containers(_ queries: [String], in inventory: ContainerInventory, command: String) throws -> [ContainerInventory.Container] {
        var chosen: [ContainerInventory.Container] = []
        for query in queries {
            let matches = inventory.matching(query)
            if matches.isEmpty {
                let closest = inventory.closestNames(to: query)
                printError("tracer \(command): no running container named or with id prefix '\(query)'"
                    + (closest.isEmpty ? " (no containers found)" : "; closest: \(closest.joined(separator: ", "))"))
                throw TracerExit.unknownContainer
            }
            chosen += matches
        }
        return chosen
    }
}

extension ParsedArguments {
    /// The `--container` values. An empty one is refused: as an id prefix it would match every
    /// container, the opposite of what a filter is for.
    func containerQueries() throws(UsageError) -> [String] {
        let queries = strings("container")
        if queries.contains(where: \.isEmpty) {
            throw UsageError("--container: an empty name or id prefix would match every container; give a name or an id prefix")
        }
        return queries
    }
}
