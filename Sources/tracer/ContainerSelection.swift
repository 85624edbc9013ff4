import TracerCore

extension ContainerSelection {
    /// The containers `queries` name, for `tracer drops`, which selects by hand until it too is
    /// a session; a query that names none is a `ContainerQueryError`, exit 4 like everywhere.
    static func containers(_ queries: [String], in inventory: ContainerInventory, command: String) throws -> [ContainerInventory.Container] {
        try inventory.containers(matching: queries)
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
