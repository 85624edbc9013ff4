import TracerCore

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
