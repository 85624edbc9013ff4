/// Whose processes a group holds: the host's (or those of no container tracer knows), or one
/// container's, by full id.
enum ProcessOwner: Hashable {
    case host
    case container(id: String)
}
