import Glibc

extension RouteNetlink {
    /// The first of `paths` whose namespace the calling thread's namespace knows by `id`
    /// (what IFLA_LINK_NETNSID refers to), asked over one socket, stopping at the match.
    public static func firstNamespace(in paths: [String], withID id: Int32) throws -> String? {
        var socket = try NetlinkSocket()
        for path in paths {
            let fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY) // as in inNamespace
            guard fd >= 0 else { continue }
            defer { close(fd) }
            if (try? socket.netnsID(ofNamespaceFD: fd)) == id { return path }
        }
        return nil
    }
}
