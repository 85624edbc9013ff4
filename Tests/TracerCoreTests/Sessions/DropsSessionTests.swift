import BPF
import Testing
@testable import TracerCore

/// `tracer drops`'s session without the kernel: recorded drops and counters in, records out.
struct DropsSessionTests {
    let scope = EgressScope(paths: [NetFixture.path])

    func run(_ source: RecordedNetSource, _ options: DropsSession.Options = .init(), rounds: Int = 3,
             sink: CollectingSink<NetRecord> = CollectingSink()) throws -> [NetRecord] {
        var round = 0
        try DropsSession(source: source, describer: NetFixture.describer(scope), scope: scope, options: options)
            .run(into: sink, stop: { round += 1; return round > rounds })
        return sink.records
    }

    /// Multicast nobody listens to, on the uplink: healthy-host noise.
    static let noise = NetFixture.drop(reason: 2, at: NetFixture.finishOutput, on: NetFixture.uplink, name: "uplink0",
                                       from: "198.51.100.2", to: "224.0.0.22")

    @Test func dropsAreNamedAndAttributedBetweenTheHeaderAndTheCounts() throws {
        let source = RecordedNetSource([[NetFixture.drop(at: NetFixture.finishOutput)], [Self.noise]])
        source.counts = [DropCount(location: NetFixture.finishOutput, reason: 6, device: NetFixture.bridge, count: 9)]
        source.uncounted = 2
        let records = try run(source)
        guard case .started? = records.first else { Issue.record("no header first: \(records)"); return }
        let drop = try #require(records.drops.first)
        #expect(records.drops.count == 1, "the multicast noise is left out")
        #expect(drop.reason.name == .ipInAddrErrors)
        #expect(drop.location == "ip_finish_output2", "the location as counts and evidence spell it")
        #expect(drop.container?.name == "web1" && drop.endpoint == "web1" && drop.direction == .egress)
        #expect(records.countRounds.count == 1, "counts once, at the end, without --interval")
        let row = try #require(records.countRounds.first?.first)
        #expect(row == DropCountRow(containers: ["web1"], reason: NetFixture.reasons.reason(6), location: "ip_finish_output2",
                                    device: "br-lab", netns: "netns:22", count: 9))
        guard case .dropsSummary(let summary)? = records.last else { Issue.record("no summary last"); return }
        #expect(summary.drops == 1 && summary.lost == 0 && summary.uncounted == 2)
    }

    @Test func aCounterWhoseDropsWereAllNoiseIsLeftOutUnlessAll() throws {
        let noiseKey = DropCount(location: NetFixture.finishOutput, reason: 2, device: NetFixture.uplink, count: 40)
        // A counter no record was seen for (the ring buffer lost them) stays: the counts are exact.
        let unseen = DropCount(location: NetFixture.ipError, reason: 7, device: DeviceKey(netns: 22, ifindex: 9), count: 1)
        let source = RecordedNetSource([[Self.noise]])
        source.counts = [noiseKey, unseen]
        let rows = try #require(try run(source).countRounds.last)
        #expect(rows.map(\.count) == [1])
        #expect(rows.first?.device == "if9", "an ifindex neither a record nor the scope names")

        let all = RecordedNetSource([[Self.noise]])
        all.counts = [noiseKey, unseen]
        let records = try run(all, .init(showAll: true))
        #expect(records.drops.count == 1)
        let allRows = try #require(records.countRounds.last)
        #expect(allRows.map(\.count) == [40, 1], "largest first")
        #expect(allRows.first?.device == "uplink0" && allRows.first?.location == "ip_finish_output2")
    }

    @Test func aContainerFilterKeepsThatContainersDropsAndCounters() throws {
        let count = DropCount(location: NetFixture.ipError, reason: 6, device: NetFixture.bridge, count: 3)
        let other = RecordedNetSource([[NetFixture.drop()]])
        other.counts = [count]
        let none = try run(other, .init(containerIDs: ["0000aaaa"]))
        #expect(none.drops.isEmpty)
        #expect(none.countRounds.last == [], "no counter holds that container's drops")

        let mine = RecordedNetSource([[NetFixture.drop()]])
        mine.counts = [count]
        let records = try run(mine, .init(containerIDs: [NetFixture.web1.id]))
        #expect(records.drops.count == 1)
        #expect(records.countRounds.last?.map(\.containers) == [["web1"]])
    }

    @Test func withAStopEventAPollWaitsUntilTheNextIntervalElseATenthOfASecond() throws {
        let second: UInt64 = 1_000_000_000
        let woken = RecordedNetSource()
        _ = try run(woken, .init(countInterval: 5 * second, stop: try StopEvent()), rounds: 1)
        let first = try #require(woken.waits.first)
        #expect(first.stoppable && first.milliseconds > 4900 && first.milliseconds <= 5001,
                "the agent's drops session sleeps until a drop, a stop or the next count: \(first)")
        #expect(woken.waits.last.map { $0.milliseconds == 0 && !$0.stoppable } == true, "the last poll only takes what is there")

        let polled = RecordedNetSource()
        _ = try run(polled, .init(countInterval: 5 * second), rounds: 1)
        #expect(polled.waits.first.map { $0.milliseconds == 100 && !$0.stoppable } == true, "without one, stop is looked at every 100 ms")
        let deadline = RecordedNetSource()
        _ = try run(deadline, .init(deadline: BootClock.now + second / 50, stop: try StopEvent()), rounds: 1)
        #expect(deadline.waits.first.map { $0.milliseconds <= 21 } == true, "never past the deadline")
    }

    @Test func countsAndLossesAtEveryIntervalWhenAsked() throws {
        let source = RecordedNetSource([[NetFixture.drop()]])
        source.lost = [0, 2, 5]
        source.counts = [DropCount(location: NetFixture.ipError, reason: 6, device: NetFixture.bridge, count: 1)]
        let records = try run(source, .init(countInterval: 1), rounds: 3)
        #expect(records.countRounds.count == 4, "three rounds, then the end")
        #expect(records.lostCounts == [2, 3], "every loss reported once, as it grows")
        guard case .dropsSummary(let summary)? = records.last else { Issue.record("no summary last"); return }
        #expect(summary.lost == 5)
    }

    @Test func noContainersIsSaidFirst() throws {
        let records = try run(RecordedNetSource(), .init(noContainers: true), rounds: 1)
        #expect(records.notices == [.noContainers])
        guard case .notice? = records.first else { Issue.record("the notice comes first"); return }
    }

    @Test func aClosedSinkEndsTheSession() throws {
        let source = RecordedNetSource(Array(repeating: [], count: 1000))
        _ = try run(source, rounds: .max, sink: CollectingSink(capacity: 1))
        #expect(source.polls < 5, "the session noticed nobody reads any more")
    }

    @Test func theDeadlineEndsTheSession() throws {
        let source = RecordedNetSource(Array(repeating: [], count: 1000))
        _ = try run(source, .init(deadline: BootClock.now), rounds: .max)
        #expect(source.polls == 2, "one round, then the final poll")
    }
}

/// What each network command asks of the probe before it loads.
struct NetProbeOptionsTests {
    let reasons = DropReasons(names: [2: "NOT_SPECIFIED", 3: "NO_SOCKET", 4: "QUEUE_PURGE", 6: "IP_INADDRERRORS"])

    @Test func dropsTraceTheWholeHostWithoutTheNoise() {
        let options = NetProbeOptions.drops(reasons: reasons, showAll: false)
        #expect(options.allDrops && !options.stages)
        #expect(options.ignoredReasons == [3, 4], "NO_SOCKET and QUEUE_PURGE by this kernel's numbers")
        #expect(NetProbeOptions.drops(reasons: reasons, showAll: true).ignoredReasons.isEmpty)
    }

    @Test func egressTracesStagesOfItsPathsElseHostDrops() {
        let traced = NetProbeOptions.egress(scope: EgressScope(paths: [NetFixture.path]), reasons: reasons, showAll: false)
        #expect(traced.stages && !traced.allDrops && traced.ignoredReasons == [3, 4])
        let none = NetProbeOptions.egress(scope: EgressScope(paths: []), reasons: reasons, showAll: true)
        #expect(!none.stages && none.allDrops && none.ignoredReasons.isEmpty)
    }
}
