/// Why the kernel dropped a packet (enum skb_drop_reason): its number on the running kernel
/// and its name. The numbers change between kernels, so only names are compared and only
/// `DropReasons` (read from the kernel) turns one into the other.
public struct DropReason: Hashable, Sendable, CustomStringConvertible {
    /// The running kernel's number; nil for a reason known by name only.
    public var code: UInt32?
    public var name: Name

    public init(code: UInt32?, name: Name) {
        self.code = code
        self.name = name
    }

    public var description: String { name.rawValue }

    /// A reason's name as the kernel spells it ("NETFILTER_DROP"), without SKB_DROP_REASON_.
    public struct Name: RawRepresentable, Hashable, Sendable, CustomStringConvertible, ExpressibleByStringLiteral {
        public var rawValue: String

        public init(rawValue: String) { self.rawValue = rawValue }
        public init(_ rawValue: String) { self.rawValue = rawValue }
        public init(stringLiteral rawValue: String) { self.rawValue = rawValue }

        public var description: String { rawValue }
    }
}

/// Reasons in tests and fixtures, by name alone: `reason: "IP_RPFILTER"`.
extension DropReason: ExpressibleByStringLiteral {
    public init(stringLiteral name: String) { self.init(code: nil, name: Name(name)) }
}

/// The names tracer reasons about. A kernel that lacks one simply never reports it.
extension DropReason.Name {
    public static let notSpecified: Self = "NOT_SPECIFIED"
    public static let netfilterDrop: Self = "NETFILTER_DROP"
    public static let ipInAddrErrors: Self = "IP_INADDRERRORS"
    public static let ipInNoRoutes: Self = "IP_INNOROUTES"
    public static let ipOutNoRoutes: Self = "IP_OUTNOROUTES"
    public static let packetTooBig: Self = "PKT_TOO_BIG"
    public static let fragmentTooFar: Self = "FRAG_TOO_FAR"
    public static let ipFragmentTooFar: Self = "IP_FRAG_TOO_FAR"
    public static let ipRPFilter: Self = "IP_RPFILTER"
    public static let ipInvalidSource: Self = "IP_INVALID_SOURCE"
    public static let ipLocalSource: Self = "IP_LOCAL_SOURCE"
    public static let ipLocalnet: Self = "IP_LOCALNET"
    public static let ipInvalidDestination: Self = "IP_INVALID_DEST"
    public static let neighbourFailed: Self = "NEIGH_FAILED"
    public static let neighbourQueueFull: Self = "NEIGH_QUEUEFULL"
    public static let neighbourCreateFailed: Self = "NEIGH_CREATEFAIL"
    public static let neighbourDead: Self = "NEIGH_DEAD"
    public static let qdiscDrop: Self = "QDISC_DROP"
    public static let qdiscOverlimit: Self = "QDISC_OVERLIMIT"
    public static let qdiscCongested: Self = "QDISC_CONGESTED"
    public static let deviceReady: Self = "DEV_READY"
    public static let tcEgress: Self = "TC_EGRESS"
    public static let tcIngress: Self = "TC_INGRESS"
    public static let cpuBacklog: Self = "CPU_BACKLOG"
    public static let bridgeIngressSTPState: Self = "BRIDGE_INGRESS_STP_STATE"
    public static let bpfCgroupEgress: Self = "BPF_CGROUP_EGRESS"
    public static let bpfCgroupIngress: Self = "BPF_CGROUP_INGRESS"
    public static let securityHook: Self = "SECURITY_HOOK"
    public static let ipv6NDiscNSOtherHost: Self = "IPV6_NDISC_NS_OTHERHOST"

    /// A neighbour (ARP, NDP) failure of any kind: NEIGH_FAILED, NEIGH_QUEUEFULL, ... and those
    /// later kernels add.
    public var isNeighbour: Bool { rawValue.hasPrefix("NEIGH_") }

    /// Dropped by a tc filter (TC_INGRESS, TC_EGRESS).
    public var isTrafficControl: Bool { self == .tcIngress || self == .tcEgress }
}
