/// A `--container` name or id prefix that selects no container, or (where one container is
/// wanted) several. The one home of the message, whichever command the query was given to.
public enum ContainerQueryError: Error, CustomStringConvertible, Sendable, Equatable {
    /// Nothing running is named so or has an id that starts so; `closest` are the names nearest to it.
    case noMatch(query: String, closest: [String])
    /// The query names more than one container where one is wanted (`tracer pid --container`).
    case ambiguous(query: String, matches: [String])

    public var description: String {
        switch self {
        case .noMatch(let query, let closest):
            return "no running container named or with id prefix '\(query)'"
                + (closest.isEmpty ? " (no containers found)" : "; closest: \(closest.joined(separator: ", "))")
        case .ambiguous(let query, let matches):
            return "'\(query)' matches \(matches.count) containers: " + matches.joined(separator: ", ")
        }
    }
}
