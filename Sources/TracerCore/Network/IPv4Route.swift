/// One IPv4 unicast route.
public struct IPv4Route: Sendable, Equatable {
    /// 0.0.0.0/0 for the default route.
    public var destination: IPPrefix
    /// RTA_GATEWAY, nil for directly connected routes.
    public var gateway: IPAddress?
    /// RTA_OIF, the output interface's ifindex (nil e.g. for multipath routes).
    public var outputIndex: Int32?
    /// RTA_TABLE (or rtm_table): 254 is the main table.
    public var table: UInt32

    public init(destination: IPPrefix, gateway: IPAddress? = nil, outputIndex: Int32? = nil, table: UInt32 = 254) {
        self.destination = destination
        self.gateway = gateway
        self.outputIndex = outputIndex
        self.table = table
    }

    /// 0.0.0.0/0: the route for everything no longer prefix covers.
    public var isDefault: Bool { destination.length == 0 }
}

extension Array where Element == IPv4Route {
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
