import BPF
import Glibc

/// Reads links, addresses and IPv4 routes over rtnetlink.
///
/// Every query runs in the network namespace of the *calling thread*. Use
/// `inNamespace(_:_:)` to run queries in another namespace.
public enum RouteNetlink {
    /// Links with their addresses in the CURRENT thread's network namespace, in kernel (ifindex) order.
    public static func interfaces() throws -> [NetworkInterface] {
        var socket = try NetlinkSocket()
        let links = try socket.dump(type: NL.RTM_GETLINK, family: NL.AF_UNSPEC, headerLength: NL.IFINFOMSG_LEN)
            .compactMap(parseLink)
        // AF_UNSPEC dumps both AF_INET and AF_INET6 addresses.
        let addresses = try socket.dump(type: NL.RTM_GETADDR, family: NL.AF_UNSPEC, headerLength: NL.IFADDRMSG_LEN)
            .compactMap(parseAddress)
        return attachAddresses(addresses, to: links)
    }

    /// IPv4 unicast routes of every routing table (main is table 254) in the current thread's
    /// network namespace. Local, broadcast, multicast and blackhole entries are left out.
    public static func ipv4Routes() throws -> [IPv4Route] {
        var socket = try NetlinkSocket()
        return try socket.dump(type: NL.RTM_GETROUTE, family: NL.AF_INET, headerLength: NL.RTMSG_LEN)
            .compactMap(parseIPv4Route)
    }

    /// IPv6 unicast routes of every table in the current thread's network namespace (`ip -6 route`).
    public static func ipv6Routes() throws -> [IPRoute] {
        var socket = try NetlinkSocket()
        return try socket.dump(type: NL.RTM_GETROUTE, family: NL.AF_INET6, headerLength: NL.RTMSG_LEN)
            .compactMap { parseRoute($0, family: NL.AF_INET6) }
    }

    /// IPv4 neighbour (ARP) entries of the current network namespace.
    public static func ipv4Neighbours() throws -> [IPv4Neighbour] {
        var socket = try NetlinkSocket()
        return try socket.dump(type: NL.RTM_GETNEIGH, family: NL.AF_INET, headerLength: NL.NDMSG_LEN)
            .compactMap(parseIPv4Neighbour)
    }

    /// IPv6 neighbour (NDP) entries of the current network namespace, with their router flag.
    public static func ipv6Neighbours() throws -> [IPv4Neighbour] {
        var socket = try NetlinkSocket()
        return try socket.dump(type: NL.RTM_GETNEIGH, family: NL.AF_INET6, headerLength: NL.NDMSG_LEN)
            .compactMap { parseNeighbour($0, family: NL.AF_INET6) }
    }

    /// The IPv6 proxy entries (`ip -6 neigh show proxy`) of the current network namespace: the
    /// addresses the host answers neighbour solicitations for on another's behalf (with proxy_ndp).
    public static func ipv6ProxyNeighbours() throws -> [IPv4Neighbour] {
        var socket = try NetlinkSocket()
        // ndm_flags (byte 10 of ndmsg) NTF_PROXY asks for the proxy table.
        return try socket.dump(type: NL.RTM_GETNEIGH, family: NL.AF_INET6, headerLength: NL.NDMSG_LEN, flags: (10, NL.NTF_PROXY))
            .compactMap { parseNeighbour($0, family: NL.AF_INET6) }.filter(\.isProxy)
    }

    /// IPv4 policy routing rules of the current network namespace, by priority.
    public static func ipv4Rules() throws -> [IPv4Rule] { try rules(family: NL.AF_INET) }

    /// IPv6 policy routing rules of the current network namespace (`ip -6 rule`), by priority.
    public static func ipv6Rules() throws -> [IPv4Rule] { try rules(family: NL.AF_INET6) }

    private static func rules(family: UInt8) throws -> [IPv4Rule] {
        var socket = try NetlinkSocket()
        return try socket.dump(type: NL.RTM_GETRULE, family: family, headerLength: NL.FIB_RULE_HDR_LEN)
            .compactMap { parseRule($0, family: family) }.sorted { $0.priority < $1.priority }
    }

    /// Runs `body` with the calling thread switched into the network namespace at `path`
    /// (e.g. /proc/PID/ns/net or /run/netns/NAME), switching back afterwards even when `body` throws.
    ///
    /// `body` must be synchronous: the switch is per thread. Needs CAP_SYS_ADMIN.
    /// Throws `NetlinkError.namespace` if the namespace cannot be entered; in that case `body`
    /// does not run and the thread stays where it was. If switching back fails the process
    /// traps, since continuing on a thread stuck in a foreign namespace would be silently wrong.
    public static func inNamespace<T>(_ path: String, _ body: () throws -> T) throws -> T {
        let selfPath = "/proc/thread-self/ns/net"
        let original = open(selfPath, O_RDONLY | O_CLOEXEC)
        guard original >= 0 else { throw NetlinkError.namespace(path: selfPath, errno: errno) }
        defer { close(original) }

        // Never blocks: a FIFO swapped in for a namespace file opens at once and setns refuses it.
        let target = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY)
        guard target >= 0 else { throw NetlinkError.namespace(path: path, errno: errno) }
        defer { close(target) }

        guard let setns = setnsFunction() else { throw NetlinkError.namespace(path: path, errno: ENOSYS) }
        guard setns(target, NL.CLONE_NEWNET) == 0 else {
            throw NetlinkError.namespace(path: path, errno: errno)
        }
        defer {
            if setns(original, NL.CLONE_NEWNET) != 0 {
                fatalError("RouteNetlink.inNamespace: cannot return to the original network namespace: \(Errno(errno))")
            }
        }
        return try body()
    }

    /// Interfaces of the network namespace at `path`.
    public static func interfaces(inNamespace path: String) throws -> [NetworkInterface] {
        try inNamespace(path) { try interfaces() }
    }

    /// IPv4 routes of the network namespace at `path`.
    public static func ipv4Routes(inNamespace path: String) throws -> [IPv4Route] {
        try inNamespace(path) { try ipv4Routes() }
    }
}

typealias SetnsFunction = @convention(c) (Int32, Int32) -> Int32

/// setns(2) from libc. Glibc's Swift module does not export it (it is _GNU_SOURCE-only
/// in <sched.h>), so it is looked up dynamically; glibc has had it since 2.14.
func setnsFunction() -> SetnsFunction? {
    // RTLD_DEFAULT is ((void *) 0) in <dlfcn.h>.
    guard let symbol = dlsym(nil, "setns") else { return nil }
    return unsafeBitCast(symbol, to: SetnsFunction.self)
}
