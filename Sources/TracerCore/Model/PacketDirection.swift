/// Which way one packet travels: the flow it belongs to, and whether it goes the way the flow
/// started (conntrack's original direction) or comes back (the reply direction).
public struct PacketDirection: Hashable, Sendable {
    public var flow: FlowDirection
    public var isReply: Bool

    public init(flow: FlowDirection, isReply: Bool) {
        self.flow = flow
        self.isReply = isReply
    }

    /// A packet the endpoint sends on a flow it started.
    public static let egress = PacketDirection(flow: .egress, isReply: false)
    /// The answer to it, on its way back to the endpoint.
    public static let egressReply = PacketDirection(flow: .egress, isReply: true)
    /// A packet from outside opening or continuing a flow towards the endpoint.
    public static let inbound = PacketDirection(flow: .inbound, isReply: false)
    /// The endpoint's answer to it.
    public static let inboundReply = PacketDirection(flow: .inbound, isReply: true)

    /// True when the packet leaves the endpoint (an egress flow's original direction, an
    /// inbound flow's reply).
    public var leavesEndpoint: Bool { (flow == .egress) != isReply }
}
