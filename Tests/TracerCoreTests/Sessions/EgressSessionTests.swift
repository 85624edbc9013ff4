import Testing
@testable import TracerCore

/// `tracer egress`'s session without the kernel or a firewall: recorded drops and flows, a
/// recorded firewall watch, fixed static findings.
struct EgressSessionTests {
    /// What the firewall would say, recorded; and what the session asked of it.
    final class RecordedWatch: FirewallWatch {
        var removedStaleTables: [String] = []
        var notes: [String] = []
        var verdicts: [IPAddress: NetfilterWatch.Verdict] = [:]
        private(set) var seen: [(DropReason, EgressPath?)] = []
        private(set) var polls = 0
        private(set) var finished = false
        private(set) var stopped = false

        func sawDrop(reason: DropReason, path: EgressPath?) { seen.append((reason, path)) }
        func poll() { polls += 1 }
        func finish() { finished = true }
        func stop() { stopped = true }
        func verdict(for flow: FlowKey, path: EgressPath, replyDropped: Bool) -> NetfilterWatch.Verdict? { verdicts[flow.endpointAddress] }
    }

    let forwardingOff = Finding(code: .ipForwardDisabled, severity: .error, message: "IPv4 forwarding is off in lab-host",
                                evidence: "net.ipv4.ip_forward = 0", fix: "ip -n lab-host sysctl", netnsInode: 22)

    func run(_ source: RecordedNetSource, paths: [EgressPath] = [NetFixture.path], watch: FirewallWatch? = nil,
             findings: [Finding] = [], options: EgressSession.Options = .init(), rounds: Int = 2,
             checked: ((EgressPath) -> Void)? = nil) throws -> (records: [NetRecord], summary: FlowsSummary) {
        let scope = EgressScope(paths: paths)
        let sink = CollectingSink<NetRecord>()
        var round = 0
        let session = EgressSession(source: source, describer: NetFixture.describer(scope), scope: scope, watch: watch,
                                    checks: { checked?($0); return findings }, options: options)
        let summary = try session.run(into: sink, stop: { round += 1; return round > rounds })
        return (sink.records, summary)
    }

    @Test func pathsThenDropsThenStagesFindingsAndTheSummary() throws {
        let source = RecordedNetSource([[NetFixture.drop()]])
        let stopped = NetFixture.flow(upTo: .bridgeRX, drop: (6, NetFixture.ipError, NetFixture.bridge))
        let complete = NetFixture.flow(to: "203.0.113.20", upTo: .endpointRX)
        source.flowTable = [stopped.0: stopped.1, complete.0: complete.1]
        var checkedPaths = 0
        let (records, summary) = try run(source, findings: [forwardingOff], checked: { _ in checkedPaths += 1 })

        guard case .path(let path)? = records.first else { Issue.record("the path first: \(records)"); return }
        #expect(path == NetFixture.path)
        guard case .started? = records.dropFirst().first else { Issue.record("then the drops' header"); return }
        #expect(records.drops.count == 1)
        let stages = try #require(records.stageRounds.last)
        #expect(records.stageRounds.count == 1, "stages once, at the end, without --interval")
        #expect(stages.map(\.outcome.flow.remoteAddress) == ["203.0.113.10", "203.0.113.20"])
        #expect(stages[0].reason?.name == .ipInAddrErrors && stages[0].location == "ip_error")
        #expect(stages[0].dropDevice == "br-lab" && stages[0].dropRole == .bridge)
        // The static finding the evidence points at explains the stopped flow.
        let finding = try #require(records.findings.first)
        #expect(records.findings.count == 1)
        #expect(finding.finding.code == .ipForwardDisabled && finding.finding.severity == .error && finding.path == NetFixture.path)
        #expect(finding.finding.evidence.hasPrefix("icmp 172.17.0.2 -> 203.0.113.10 id 7: 3 packets reached bridge-rx, none uplink-queue"))
        #expect(checkedPaths == 1)
        guard case .flowsSummary(let last)? = records.last else { Issue.record("the summary last"); return }
        #expect(last == summary)
        #expect(summary.endpoints == 1 && summary.flows == 2 && summary.stopped == 1 && summary.drops == 1
            && summary.findings == 1 && summary.errors == 1)
    }

    @Test func everyFlowCompleteIsNoErrorAndNoCheckIsRead() throws {
        let source = RecordedNetSource()
        let complete = NetFixture.flow(upTo: .endpointRX)
        source.flowTable = [complete.0: complete.1]
        var checkedPaths = 0
        let (records, summary) = try run(source, findings: [forwardingOff], checked: { _ in checkedPaths += 1 })
        #expect(records.findings.isEmpty && summary.errors == 0 && summary.stopped == 0)
        #expect(checkedPaths == 0, "no namespace is entered when nothing needs explaining")
    }

    @Test func theFirewallNamesTheRuleThatDropped() throws {
        let watch = RecordedWatch()
        watch.removedStaleTables = ["inet tracer_trace_1_2"]
        watch.notes = ["nftables trace in /run/netns/lab-host: busy"]
        let accept = RuleFix(kind: .insertAccept, command: "nft insert rule inet probe pre position 2 ip daddr 203.0.113.10 meta l4proto icmp accept",
                             evidence: "an accept for icmp to 203.0.113.10 only")
        watch.verdicts = ["172.17.0.2": .init(text: "inet probe pre handle 2: ip saddr 172.17.0.0/16 drop", nftRule: "inet probe pre handle 2",
                                              fix: accept)]
        let source = RecordedNetSource([[NetFixture.drop(reason: 5, at: NetFixture.nfHookSlow)]])
        let stopped = NetFixture.flow(upTo: .bridgeRX, drop: (5, NetFixture.nfHookSlow, NetFixture.bridge))
        source.flowTable = [stopped.0: stopped.1]
        let (records, summary) = try run(source, watch: watch)

        #expect(watch.seen.count == 1 && watch.seen.first?.0.name == .netfilterDrop && watch.seen.first?.1 == NetFixture.path)
        #expect(watch.polls >= 2 && watch.finished && watch.stopped)
        #expect(records.notices == [.removedStaleTraceTable("inet tracer_trace_1_2"), .couldNotWatch("nftables trace in /run/netns/lab-host: busy")])
        let finding = try #require(records.findings.first?.finding)
        #expect(finding.code == .netfilterDrop)
        #expect(finding.message.contains("(seen dropping: inet probe pre handle 2: ip saddr 172.17.0.0/16 drop)"))
        // The watch's narrowest fix, passed through the evidence; never the rule's deletion.
        #expect(finding.fix == "nsenter --net=/run/netns/lab-host " + accept.command)
        #expect(records.stageRounds.last?.first?.netfilterRule == "inet probe pre handle 2")
        #expect(summary.errors == 1)
    }

    @Test func aDropLocationIsSpelledTheSameInTheRecordTheCountsAndTheEvidence() throws {
        let scope = EgressScope(paths: [NetFixture.path])
        let source = RecordedNetSource([[NetFixture.drop(at: NetFixture.finishOutput)]])
        let stopped = NetFixture.flow(upTo: .bridgeRX, drop: (6, NetFixture.finishOutput, NetFixture.bridge))
        source.flowTable = [stopped.0: stopped.1]
        source.counts = [DropCount(location: NetFixture.finishOutput, reason: 6, device: NetFixture.bridge, count: 3)]
        let (records, _) = try run(source)
        var round = 0
        let drops = CollectingSink<NetRecord>()
        try DropsSession(source: {
            let again = RecordedNetSource([[NetFixture.drop(at: NetFixture.finishOutput)]])
            again.counts = source.counts
            return again
        }(), describer: NetFixture.describer(scope), scope: scope).run(into: drops, stop: { round += 1; return round > 1 })

        let spellings = [records.drops.first?.location, records.stageRounds.last?.first?.location,
                         drops.records.drops.first?.location, drops.records.countRounds.last?.first?.location]
        #expect(spellings == Array(repeating: "ip_finish_output2", count: 4))
        #expect(records.findings.first?.finding.evidence.contains("at ip_finish_output2 on br-lab") == true)
    }

    @Test func stagesAtEveryIntervalWhenAsked() throws {
        let source = RecordedNetSource()
        let flow = NetFixture.flow(upTo: .uplinkQueue)
        source.flowTable = [flow.0: flow.1]
        let (records, _) = try run(source, options: .init(stageInterval: 1), rounds: 2)
        #expect(records.stageRounds.count == 3, "two rounds, then the end")
    }

    @Test func withoutEndpointsOnlyHostDropsAreTraced() throws {
        let source = RecordedNetSource([[NetFixture.drop()]])
        let (records, summary) = try run(source, paths: [])
        #expect(records.notices == [.noEndpoints])
        #expect(records.drops.count == 1 && records.drops.first?.endpoint == nil)
        #expect(records.stageRounds.count == 1 && records.stageRounds.last?.isEmpty == true)
        #expect(summary.endpoints == 0 && summary.flows == 0 && summary.errors == 0)
    }

    @Test func anUnansweredARPWithoutAnyFlowIsAFinding() throws {
        let source = RecordedNetSource()
        source.neighbours = [NetFixture.path.endpoint.device: DeviceNeighbourStats(arp: NeighbourCounts(requestsSent: 4))]
        let (records, summary) = try run(source)
        let finding = try #require(records.findings.first?.finding)
        #expect(finding.code == .neighbourFailed)
        #expect(finding.evidence.hasPrefix("eth0 sent 4 ARP requests and got no reply"))
        #expect(summary.errors == 1 && summary.flows == 0)
    }
}
