import Glibc

extension RouteNetlink {
    /// The ids the calling thread's namespace has for the namespaces at `paths` (by path);
    /// namespaces without an id are left out. These are what IFLA_LINK_NETNSID refers to.
    public static func namespaceIDs(of paths: [String]) throws -> [String: Int32] {
        var socket = try NetlinkSocket()
        var ids: [String: Int32] = [:]
        for path in paths {
            let fd = open(path, O_RDONLY | O_CLOEXEC)
            guard fd >= 0 else { continue }
            defer { close(fd) }
            if let id = try? socket.netnsID(ofNamespaceFD: fd) { ids[path] = id }
        }
        return ids
    }
}
