/// How far one flow got along its path, and where it stopped if it did.
public struct FlowOutcome: Sendable {
    public var flow: FlowKey
    public var stats: FlowStats
    public var path: EgressPath
    /// The stages this path has (no bridge stages for a routed veth).
    public var expected: [PathStage]
    /// The furthest stage reached, egress then reply, in path order.
    public var lastStage: PathStage?
    /// The first expected stage not reached; nil when the reply came all the way back.
    public var stoppedBefore: PathStage?

    public init(flow: FlowKey, stats: FlowStats, path: EgressPath) {
        self.flow = flow
        self.stats = stats
        self.path = path
        expected = PathStage.allCases.filter { stage in
            switch stage {
            case .bridgeRX, .bridgeTX: return path.bridge != nil
            case .hostVethRX, .hostVethTX: return path.hostVeth != nil
            default: return true
            }
        }
        lastStage = expected.last { stats.packets(at: $0) > 0 }
        if stats.packets(at: .endpointRX) > 0 {
            stoppedBefore = nil
        } else if let last = lastStage {
            stoppedBefore = expected.first { $0 > last }
        } else {
            stoppedBefore = expected.first
        }
    }

    public var isComplete: Bool { stoppedBefore == nil }

    /// The direction in which the flow stopped: its packets, or the replies once packets had left.
    public var direction: PacketDirection { stoppedBefore?.direction ?? .egress }

    /// The uplink saw the endpoint's private source: nothing masqueraded it.
    public var leftUnmasqueraded: Bool { stats.privateSourceSeen && stats.natAddress == nil }
}
