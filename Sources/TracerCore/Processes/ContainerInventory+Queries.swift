/// `--container` queries (a name, or an id prefix) against the containers running now.
extension ContainerInventory {
    /// The one container `query` names (`tracer pid --container`).
    public func container(_ query: String) throws(ContainerQueryError) -> Container {
        let matches = matching(query)
        guard matches.count == 1, let match = matches.first else {
            if matches.isEmpty { throw .noMatch(query: query, closest: closestNames(to: query)) }
            throw .ambiguous(query: query, matches: matches.map { $0.identity.name ?? $0.identity.shortID })
        }
        return match
    }

    /// Every container each query names; a query that names none is an error, one that names
    /// several selects them all (an id prefix shared by two containers is a filter for both).
    public func containers(matching queries: [String]) throws(ContainerQueryError) -> [Container] {
        var chosen: [Container] = []
        for query in queries {
            let matches = matching(query)
            if matches.isEmpty { throw .noMatch(query: query, closest: closestNames(to: query)) }
            chosen += matches
        }
        return chosen
    }
}
