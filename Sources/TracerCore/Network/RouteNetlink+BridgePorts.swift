extension RouteNetlink {
    /// Every bridge port in the CURRENT thread's network namespace with its STP state
    /// (`bridge link show`). Run it inside `inNamespace(_:_:)` for another namespace.
    public static func bridgePorts() throws -> [BridgePort] {
        var socket = try NetlinkSocket()
        return try socket.dump(type: NL.RTM_GETLINK, family: NL.AF_BRIDGE, headerLength: NL.IFINFOMSG_LEN)
            .compactMap(parseBridgePort)
    }
}
