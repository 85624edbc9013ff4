import BPF
import Glibc

/// One network interface (link) of a network namespace, with its addresses.
public struct NetworkInterface: Sendable, Equatable {
    /// The ifindex, unique within its network namespace.
    public var index: Int32
    /// IFLA_IFNAME, e.g. "eth0".
    public var name: String
    /// IFLA_LINKINFO -> IFLA_INFO_KIND: "veth", "bridge", "vxlan", ...; nil for physical and loopback devices.
    public var kind: String?
    /// IFLA_MTU.
    public var mtu: UInt32
    /// IFF_UP: administratively up.
    public var isUp: Bool
    /// IFF_LOWER_UP: the driver reports carrier.
    public var hasCarrier: Bool
    /// IFLA_OPERSTATE (RFC 2863): "unknown", "notpresent", "down", "lowerlayerdown", "testing", "dormant", "up".
    public var operState: String
    /// IFLA_MASTER: the ifindex of the bridge (or bond, vrf) this device is a port of.
    public var masterIndex: Int32?
    /// IFLA_LINK: for a veth, the peer's ifindex, in the peer's network namespace (see `peerNetnsID`).
    /// For vlan/macvlan/ipvlan devices this is the lower device. Nil when absent, 0, or equal to `index`
    /// within the same namespace (a peer in another namespace may share this ifindex).
    public var peerIndex: Int32?
    /// IFLA_LINK_NETNSID: the id (in this namespace) of the namespace holding the peer/lower device.
    /// The kernel sends it only when that namespace differs from this one.
    public var peerNetnsID: Int32?
    /// IFLA_ADDRESS formatted as "aa:bb:cc:dd:ee:ff"; nil when the device has no link-layer address.
    public var macAddress: String?
    /// IPv4 addresses with prefix length, e.g. 10.88.0.2/16 (IFA_LOCAL, else IFA_ADDRESS), in kernel order.
    public var ipv4: [IPPrefix]
    /// IPv6 addresses with prefix length, e.g. fe80::1/64, in kernel order.
    public var ipv6: [IPPrefix]
    /// The IFA_F_* flags of each IPv6 address (tentative while DAD runs, dadfailed after a duplicate answered).
    public var ipv6Flags: [IPPrefix: UInt32] = [:]

    public init(
        index: Int32, name: String, kind: String? = nil, mtu: UInt32 = 0,
        isUp: Bool = false, hasCarrier: Bool = false, operState: String = "unknown",
        masterIndex: Int32? = nil, peerIndex: Int32? = nil, peerNetnsID: Int32? = nil,
        macAddress: String? = nil, ipv4: [IPPrefix] = [], ipv6: [IPPrefix] = []
    ) {
        self.index = index
        self.name = name
        self.kind = kind
        self.mtu = mtu
        self.isUp = isUp
        self.hasCarrier = hasCarrier
        self.operState = operState
        self.masterIndex = masterIndex
        self.peerIndex = peerIndex
        self.peerNetnsID = peerNetnsID
        self.macAddress = macAddress
        self.ipv4 = ipv4
        self.ipv6 = ipv6
    }

    /// IPv6 addresses still waiting for duplicate address detection (IFA_F_TENTATIVE, not failed):
    /// the kernel will not use them as a source yet.
    public var tentativeIPv6: [IPPrefix] {
        ipv6.filter { let f = ipv6Flags[$0] ?? 0; return f & NL.IFA_F_TENTATIVE != 0 && f & NL.IFA_F_DADFAILED == 0 }
    }

    /// IPv6 addresses another host on the link already holds (IFA_F_DADFAILED): never usable.
    public var dadFailedIPv6: [IPPrefix] { ipv6.filter { (ipv6Flags[$0] ?? 0) & NL.IFA_F_DADFAILED != 0 } }

    /// IPv6 addresses of global scope: neither link-local (fe80::/10) nor loopback nor multicast.
    /// ULAs (fd00::/8) count: the kernel routes them like any other.
    public var globalIPv6: [IPPrefix] { ipv6.filter { $0.address.isGlobalIPv6 } }
}

/// One neighbour entry: ARP (IPv4) or NDP (IPv6); the name is from when only ARP was read.
public struct IPv4Neighbour: Sendable, Equatable {
    public var index: Int32
    public var address: IPAddress
    /// NUD_* bits (linux/neighbour.h).
    public var state: UInt16
    /// NTF_* bits (ndm_flags).
    public var flags: UInt8
    /// NDA_LLADDR as "aa:bb:cc:dd:ee:ff", when resolved.
    public var linkAddress: String?

    public init(index: Int32, address: IPAddress, state: UInt16, flags: UInt8 = 0, linkAddress: String? = nil) {
        self.index = index
        self.address = address
        self.state = state
        self.flags = flags
        self.linkAddress = linkAddress
    }

    /// The last resolution got no answer (NUD_FAILED).
    public var failed: Bool { state & 0x20 != 0 }

    /// Unanswered so far: FAILED, or INCOMPLETE (solicitations sent, no answer yet).
    public var unanswered: Bool { state & 0x21 != 0 }

    /// The NUD state as `ip neigh` prints it, for evidence.
    public var stateName: String {
        let names: [(UInt16, String)] = [(0x01, "INCOMPLETE"), (0x02, "REACHABLE"), (0x04, "STALE"), (0x08, "DELAY"), (0x10, "PROBE"),
                                          (0x20, "FAILED"), (0x40, "NOARP"), (0x80, "PERMANENT")]
        return names.filter { state & $0.0 != 0 }.map(\.1).joined(separator: ",")
    }

    /// A proxy entry (NTF_PROXY): the host answers for this address (`ip -6 neigh add proxy`).
    public var isProxy: Bool { flags & NL.NTF_PROXY != 0 }

    /// An IPv6 neighbour that said it is a router (NTF_ROUTER, the R flag of its advertisement).
    public var isRouter: Bool { flags & 0x80 != 0 }
}

/// An IPv4 policy routing rule (`ip rule`): which packets it selects and what it does with them.
public struct IPv4Rule: Sendable, Equatable {
    public enum Action: Sendable, Equatable {
        case lookup(table: UInt32)
        case goto(priority: UInt32)
        case nop
        case blackhole, unreachable, prohibit
        case other(UInt8)
    }

    public var priority: UInt32
    public var action: Action
    /// Selectors; nil matches everything.
    public var source: IPPrefix?
    public var destination: IPPrefix?
    public var inInterface: String?
    public var outInterface: String?
    public var fwmark: UInt32?
    public var fwmask: UInt32?
    /// `not`: the rule applies to the packets the selectors do not match.
    public var inverted = false
    /// `suppress_prefixlength N`: a route found with a prefix this short or shorter is ignored.
    public var suppressPrefixLength: Int?
    /// Selectors tracer does not model (uid range, ports, protocol, l3mdev): never assumed to match.
    public var otherSelectors: [String] = []

    public init(priority: UInt32, action: Action, source: IPPrefix? = nil, destination: IPPrefix? = nil,
                inInterface: String? = nil, outInterface: String? = nil, fwmark: UInt32? = nil, fwmask: UInt32? = nil,
                inverted: Bool = false, suppressPrefixLength: Int? = nil, otherSelectors: [String] = []) {
        self.priority = priority
        self.action = action
        self.source = source
        self.destination = destination
        self.inInterface = inInterface
        self.outInterface = outInterface
        self.fwmark = fwmark
        self.fwmask = fwmask
        self.inverted = inverted
        self.suppressPrefixLength = suppressPrefixLength
        self.otherSelectors = otherSelectors
    }

    /// As `ip rule` prints it: "100: from 172.17.0.0/16 lookup 100".
    public var description: String {
        var words = ["\(priority):"]
        if inverted { words.append("not") }
        words.append("from \(source.map { "\($0)" } ?? "all")")
        if let destination { words.append("to \(destination)") }
        if let fwmark { words.append("fwmark 0x\(String(fwmark, radix: 16))" + (fwmask.map { "/0x\(String($0, radix: 16))" } ?? "")) }
        if let inInterface { words.append("iif \(inInterface)") }
        if let outInterface { words.append("oif \(outInterface)") }
        words += otherSelectors
        switch action {
        case .lookup(let table): words.append("lookup \(RoutingTables.name(table))")
        case .goto(let target): words.append("goto \(target)")
        case .nop: words.append("nop")
        case .blackhole: words.append("blackhole")
        case .unreachable: words.append("unreachable")
        case .prohibit: words.append("prohibit")
        case .other(let code): words.append("action \(code)")
        }
        if let suppressPrefixLength { words.append("suppress_prefixlength \(suppressPrefixLength)") }
        return words.joined(separator: " ")
    }
}

/// The routing tables' reserved ids, named as iproute2 names them.
public enum RoutingTables {
    public static func name(_ table: UInt32) -> String {
        switch table {
        case 253: return "default"
        case 254: return "main"
        case 255: return "local"
        default: return String(table)
        }
    }
}

/// Errors from the rtnetlink reader. Associated values are errno values.
public enum NetlinkError: Error, CustomStringConvertible, Sendable, Equatable {
    /// socket(2) or setsockopt(2) failed.
    case socket(Int32)
    /// send(2) failed.
    case send(Int32)
    /// recv(2) failed, timed out (EAGAIN), or the reply was malformed (EBADMSG) or truncated (EMSGSIZE).
    case receive(Int32)
    /// The kernel answered with NLMSG_ERROR carrying this (positive) errno.
    case kernel(Int32)
    /// Could not open or enter the network namespace at `path`.
    case namespace(path: String, errno: Int32)

    public var description: String {
        switch self {
        case .socket(let e): return "netlink socket: \(Errno(e))"
        case .send(let e): return "netlink send: \(Errno(e))"
        case .receive(let e): return "netlink receive: \(Errno(e))"
        case .kernel(let e): return "netlink kernel error: \(Errno(e))"
        case .namespace(let path, let e): return "network namespace \(path): \(Errno(e))"
        }
    }
}

extension [NetworkInterface] {
    /// The interface with this ifindex (a route's output device, a bridge port's master).
    func first(index: Int32?) -> NetworkInterface? {
        guard let index else { return nil }
        return first { $0.index == index }
    }
}
