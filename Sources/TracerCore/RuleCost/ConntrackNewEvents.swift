import Glibc

/// Counts the new connections conntrack confirms in one network namespace while it listens, from
/// conntrack's netlink events (NFNLGRP_CONNTRACK_NEW: one IPCTNL_MSG_CT_NEW per connection whose
/// first packet passed every hook), the way `conntrack -E -e NEW` sees them. The per-CPU `insert`
/// statistic of /proc/net/stat/nf_conntrack stays 0 on recent kernels (6.18 here). Events the
/// kernel could not queue (ENOBUFS, at high rates) are counted as lost: the rate is then at least
/// what was counted. Needs CAP_NET_ADMIN; the kernel only sends events to a listener when
/// net.netfilter.nf_conntrack_events is not 0 (2, the default, sends them once one listens).
final class ConntrackNewEvents {
    // <linux/netfilter/nfnetlink.h>, <linux/netfilter/nfnetlink_conntrack.h>
    static let NFNLGRP_CONNTRACK_NEW: UInt32 = 1
    static let newMessage: UInt16 = 1 << 8 | 0 // NFNL_SUBSYS_CTNETLINK << 8 | IPCTNL_MSG_CT_NEW

    private var socket: NetlinkSocket

    /// Subscribes from inside the namespace at `netnsPath`; the socket stays in it.
    static func listen(netnsPath: String) throws -> ConntrackNewEvents {
        try RouteNetlink.inNamespace(netnsPath) { try ConntrackNewEvents() }
    }

    /// Subscribes in the calling thread's namespace.
    private init() throws(NetlinkError) {
        socket = try NetlinkSocket(protocol: NL.NETLINK_NETFILTER)
        socket.receiveBuffer(bytes: 8 << 20)
        try socket.join(group: Self.NFNLGRP_CONNTRACK_NEW)
    }

    /// Counts until `deadline` (boot clock) or until `stop` says so.
    func count(until deadline: UInt64, stop: () -> Bool) -> (connections: UInt64, lost: UInt64) {
        var connections: UInt64 = 0
        var lost: UInt64 = 0
        while !stop() {
            let now = BootClock.now
            guard now < deadline else { break }
            guard socket.waitReadable(timeoutMilliseconds: Int32(min(100, (deadline - now) / 1_000_000 + 1))) else { continue }
            do {
                let datagram = try socket.receiveDatagram()
                connections += UInt64((try? parseMessages(datagram))?.filter { $0.type == Self.newMessage }.count ?? 0)
            } catch NetlinkError.receive(ENOBUFS) {
                lost += 1
            } catch {
                break
            }
        }
        return (connections, lost)
    }
}

/// New connections per second in a namespace, counted from conntrack's events over an interval.
public struct ConnectionRate: Sendable, Equatable {
    public var connections: UInt64
    public var seconds: Double
    /// The kernel could not queue some events (ENOBUFS, counted per overflow, not per event):
    /// the rate is a lower bound.
    public var lostEvents: UInt64

    public init(connections: UInt64, seconds: Double, lostEvents: UInt64 = 0) {
        self.connections = connections
        self.seconds = seconds
        self.lostEvents = lostEvents
    }

    public var perSecond: Double { seconds > 0 ? Double(connections) / seconds : 0 }
}
