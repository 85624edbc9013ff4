/// Ids and names come from cgroup names the kernel captured; before one is joined onto a metadata
/// root it must be a single plain path component, so ".." or "a/b" cannot walk out of the root.
enum PathComponent {
    static func isPlain(_ s: String) -> Bool {
        !s.isEmpty && s != "." && s != ".." && !s.contains("/") && !s.contains("\0")
    }
}
