import Testing
@testable import TracerCore

/// The end of `tracer egress`: which stopped flows become findings, and which are the same one.
struct FlowFindingsTests {
    let path = NetFixture.path
    let path2 = NetFixture.path2

    func evidence(_ flow: (FlowKey, FlowStats), on path: EgressPath, reason: DropReason? = nil, location: String? = nil) -> EgressExplainer.Evidence {
        EgressExplainer.Evidence(outcome: FlowOutcome(flow: flow.0, stats: flow.1, path: path), reason: reason, location: location,
                                 dropDevice: reason == nil ? nil : "br-lab", dropRole: reason == nil ? nil : .bridge)
    }

    func decide(_ flows: [EgressExplainer.Evidence], paths: [EgressPath]? = nil, neighbours: [DeviceKey: DeviceNeighbourStats] = [:],
                findings: [UInt64: [Finding]] = [:], asked: ((EgressPath) -> Void)? = nil) -> [EndpointFinding] {
        FlowFindings.decide(flows: flows, paths: paths ?? [path, path2], neighbours: neighbours) { path in
            asked?(path)
            return findings[path.endpoint.netnsInode] ?? []
        }
    }

    @Test func oneFindingPerEndpointAndCodeTheFirstFlowIsTheExample() {
        let first = evidence(NetFixture.flow(to: "203.0.113.10", upTo: .bridgeRX), on: path, reason: "IP_INADDRERRORS", location: "ip_error")
        let second = evidence(NetFixture.flow(to: "203.0.113.20", upTo: .bridgeRX), on: path, reason: "IP_INADDRERRORS", location: "ip_error")
        let found = decide([first, second])
        #expect(found.count == 1)
        #expect(found.first?.finding.evidence.hasPrefix("icmp 172.17.0.2 -> 203.0.113.10 id 7") == true)
    }

    @Test func anotherEndpointOrAnotherCodeIsAnotherFinding() {
        let web1 = evidence(NetFixture.flow(upTo: .bridgeRX), on: path, reason: "IP_INADDRERRORS", location: "ip_error")
        let c2 = evidence(NetFixture.flow("172.17.0.3", upTo: .bridgeRX), on: path2, reason: "IP_INADDRERRORS", location: "ip_error")
        let rpFilter = evidence(NetFixture.flow(to: "203.0.113.30", upTo: .uplinkQueue), on: path, reason: "IP_RPFILTER", location: "ip_rcv_finish_core")
        let found = decide([web1, c2, rpFilter])
        // Without a static finding IP_INADDRERRORS names no setting (unexplained); IP_RPFILTER names its device's.
        #expect(found.map { [$0.path.endpoint.name, $0.finding.code.rawValue] }
            == [["web1", "unexplained"], ["c2", "unexplained"], ["web1", "rp-filter-drop"]])
        #expect(Set(found.map { FlowFindings.Key(endpointNetns: $0.path.endpoint.netnsInode, direction: .egress, code: $0.finding.code) }).count == 3)
    }

    @Test func theKeyTellsDirectionsApart() {
        let egress = FlowFindings.Key(endpointNetns: 11, direction: .egress, code: .forwardRuleDrop)
        let inbound = FlowFindings.Key(endpointNetns: 11, direction: .inbound, code: .forwardRuleDrop)
        #expect(egress != inbound)
        #expect(egress == FlowFindings.Key(endpointNetns: 11, direction: .egress, code: .forwardRuleDrop))
    }

    @Test func staticChecksAreReadOncePerEndpointThatNeedsThem() {
        let forwardingOff = Finding(code: .ipForwardDisabled, severity: .warning, message: "forwarding off", evidence: "ip_forward = 0")
        var asked: [String] = []
        let flows = [
            evidence(NetFixture.flow(to: "203.0.113.10", upTo: .bridgeRX), on: path, reason: "IP_INADDRERRORS", location: "ip_error"),
            evidence(NetFixture.flow(to: "203.0.113.20", upTo: .bridgeRX), on: path, reason: "IP_INADDRERRORS", location: "ip_error"),
            evidence(NetFixture.flow("172.17.0.3", upTo: .endpointRX), on: path2),
        ]
        let found = decide(flows, findings: [11: [forwardingOff]], asked: { asked.append($0.endpoint.name) })
        #expect(asked == ["web1"], "c2's flow came back: its namespace is not entered")
        #expect(found.map(\.finding.code) == [.ipForwardDisabled])
        #expect(found.first?.finding.severity == .error, "the trace saw packets die of it")
    }

    @Test func anUnansweredARPCountsOnlyForAnEndpointWithoutFlows() {
        let unanswered = DeviceNeighbourStats(arp: NeighbourCounts(requestsSent: 3))
        let answered = DeviceNeighbourStats(arp: NeighbourCounts(requestsSent: 3, repliesReceived: 1))
        let flowing = evidence(NetFixture.flow(upTo: .endpointRX), on: path)
        let found = decide([flowing], neighbours: [path.endpoint.device: unanswered, path2.endpoint.device: unanswered])
        #expect(found.map(\.path.endpoint.name) == ["c2"])
        #expect(found.first?.finding.code == .neighbourFailed)
        #expect(decide([], neighbours: [path2.endpoint.device: answered]).isEmpty)
        // A static finding that explains it wins, as for a flow.
        let bridgeDown = Finding(code: .bridgeDown, severity: .error, message: "br-lab is down", evidence: "DOWN")
        #expect(decide([], neighbours: [path2.endpoint.device: unanswered], findings: [12: [bridgeDown]]).first?.finding.code == .bridgeDown)
    }
}
