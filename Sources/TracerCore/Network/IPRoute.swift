/// The old name, from when only IPv4 routes were read; kept for the code that still says it.
public typealias IPv4Route = IPRoute

/// One unicast route, of either family (the family is the destination's).
public struct IPRoute: Sendable, Equatable {
    /// 0.0.0.0/0 (::/0) for the default route.
    public var destination: IPPrefix
    /// RTA_GATEWAY, nil for directly connected routes.
    public var gateway: IPAddress?
    /// RTA_OIF, the output interface's ifindex (nil e.g. for multipath routes).
    public var outputIndex: Int32?
    /// RTA_TABLE (or rtm_table): 254 is the main table.
    public var table: UInt32
    /// rtm_protocol: who installed the route (2 kernel, 3 boot, 4 static, 9 a router advertisement, ...).
    public var origin: UInt8 = 0

    public init(destination: IPPrefix, gateway: IPAddress? = nil, outputIndex: Int32? = nil, table: UInt32 = 254, origin: UInt8 = 0) {
        self.destination = destination
        self.gateway = gateway
        self.outputIndex = outputIndex
        self.table = table
        self.origin = origin
    }

    /// 0.0.0.0/0: the route for everything no longer prefix covers.
    public var isDefault: Bool { destination.length == 0 }

    /// Learned from a router advertisement (`proto ra`): it expires unless RAs keep coming and are accepted.
    public var isFromRouterAdvertisement: Bool { origin == NL.RTPROT_RA }
}

extension Array where Element == IPRoute {
    /// The main-table route the kernel would pick for `destination` (longest prefix;
    /// policy rules and metrics are not considered).
    func lookup(_ destination: IPAddress) -> IPv4Route? {
        self.filter { $0.table == NL.RT_TABLE_MAIN && $0.destination.contains(destination) }
            .max { $0.destination.length < $1.destination.length }
    }

    /// The main table's default route.
    var defaultRoute: IPv4Route? {
        first { $0.isDefault && $0.table == NL.RT_TABLE_MAIN }
    }
}
