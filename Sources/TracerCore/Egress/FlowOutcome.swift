/// How far one flow got along its path, and where it stopped if it did.
public struct FlowOutcome: Sendable {
    public var flow: FlowKey
    public var stats: FlowStats
    public var path: EgressPath
    /// The stages this flow's path has, in the order its packets meet them (no bridge stages
    /// for a routed veth; DNAT only on an inbound flow to a published port).
    public var expected: [PathStage]
    /// The furthest stage reached, in path order.
    public var lastStage: PathStage?
    /// The first expected stage not reached; nil when the reply came all the way back.
    public var stoppedBefore: PathStage?

    public init(flow: FlowKey, stats: FlowStats, path: EgressPath) {
        self.flow = flow
        self.stats = stats
        self.path = path
        let published = flow.direction == .inbound && stats.natAddress != nil
        let expected = PathStage.path(flow.direction).filter { stage in
            switch stage {
            case .bridgeRX, .bridgeTX: return path.bridge != nil
            case .hostVethRX, .hostVethTX: return path.hostVeth != nil
            case .dnat: return published || stats.lastDrop?.stage == .dnat
            default: return true
            }
        }
        self.expected = expected
        // A stage the probe does not count (DNAT, FORWARD) was passed when a later one was
        // reached, or, for DNAT, when a packet was dropped past it.
        var reached = expected.map { stats.packets(at: $0) > 0 }
        for (i, stage) in expected.enumerated() where !PathStage.counted.contains(stage) {
            reached[i] = reached[(i + 1)...].contains(true) || (stage == .dnat && stats.lastDrop?.stage == .dnat)
        }
        lastStage = expected.indices.last { reached[$0] }.map { expected[$0] }
        if reached.last == true {
            stoppedBefore = nil
        } else if let last = expected.indices.last(where: { reached[$0] }) {
            stoppedBefore = expected[last + 1]
        } else {
            stoppedBefore = expected.first
        }
    }

    public var isComplete: Bool { stoppedBefore == nil }

    /// Who opened the flow.
    public var flowDirection: FlowDirection { flow.direction }

    /// The direction in which the flow stopped: the opener's packets, or the replies once the
    /// packets had arrived.
    public var direction: PacketDirection {
        stoppedBefore?.direction(in: flow.direction) ?? PacketDirection(flow: flow.direction, isReply: false)
    }

    /// A stage's name on this flow's path.
    public func name(_ stage: PathStage) -> String { stage.name(in: flow.direction) }

    /// The egress flow's packets left the uplink with the endpoint's own (private) source: nothing masqueraded them.
    public var leftUnmasqueraded: Bool { flow.direction == .egress && stats.privateSourceSeen && stats.natAddress == nil }

    /// The address and port the client addressed, before DNAT: an inbound flow to a published port.
    public var published: (address: IPAddress, port: UInt16)? {
        guard flow.direction == .inbound, let address = stats.natAddress else { return nil }
        return (address, stats.natPort)
    }

    /// The tuple as the flow's opener sent it: the endpoint's on an egress flow; on an inbound
    /// one the client's, to the published address and port it addressed (before DNAT).
    public var sent: FlowTuple {
        guard let published else { return flow.tuple }
        var sent = flow.tuple
        sent.destination = published.address
        if case .ports(let source, _) = sent.transport { sent.transport = .ports(source: source, destination: published.port) }
        return sent
    }

    /// Where DNAT sent an inbound flow to a published port: the endpoint's address and port.
    public var translatedTo: (address: IPAddress, port: UInt16)? {
        published == nil ? nil : (flow.endpointAddress, flow.endpointPort)
    }

    /// The flow as its opener sent it, then where DNAT sent it:
    /// "tcp 203.0.113.254:53658 -> 198.51.100.2:1222 dnat 172.17.0.2:22".
    public var text: String {
        guard let translatedTo else { return "\(sent)" }
        let target = IPProtocol(flow.proto).hasPorts ? FlowTuple.endpoint(translatedTo.address, translatedTo.port) : "\(translatedTo.address)"
        return "\(sent) dnat \(target)"
    }
}
