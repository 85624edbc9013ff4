import BPF
import Foundation
import Testing
@testable import TracerCore

/// `tracer top`'s session without the kernel: recorded intervals in, records out. The decisions
/// (crash loop, fork storm, "(other)") are TopAggregator's and TopRules'; these tests show the
/// session passes them through and keeps to --count, --once, --limit and a stop.
struct TopSessionTests {
    /// Hands out one recorded interval per read; an empty one once they run out.
    final class RecordedIntervals: TopCountsSource {
        var intervals: [TopInterval]
        private(set) var reads = 0

        init(_ intervals: [TopInterval]) {
            self.intervals = intervals
        }

        func read() throws -> TopInterval {
            reads += 1
            if !intervals.isEmpty { return intervals.removeFirst() }
            return TopInterval(start: 0, end: TopSessionTests.second, counts: [:])
        }
    }

    static let second: UInt64 = 1_000_000_000
    static let web = ContainerIdentity(runtime: .podman, id: String(repeating: "ab", count: 32), name: "web")

    static func group(_ cgroup: UInt64, _ parent: String, _ command: String) -> TopGroup {
        TopGroup(cgroupID: cgroup, parentComm: Array(parent.utf8), comm: Array(command.utf8))
    }

    static func aggregator() -> TopAggregator {
        TopAggregator { keys in keys.cgroupID == 100 ? .container(web) : .host }
    }

    /// One second ending at `end` seconds: `execs` of each command, in the web container (cgroup 100).
    static func interval(ending end: UInt64, _ commands: [String: UInt64], failedExits: [String: UInt64] = [:],
                         other: TopCounts = TopCounts()) -> TopInterval {
        var counts: [TopGroup: TopCounts] = [:]
        var statuses: [TopGroup: [UInt32: UInt64]] = [:]
        for (command, execs) in commands {
            let failed = failedExits[command] ?? 0
            counts[group(100, "sh", command)] = TopCounts(execs: execs, exits: execs, failedExits: failed, cpuNanoseconds: execs * 1_000_000)
            if failed > 0 { statuses[group(100, "sh", command)] = [1 << 8: failed] }
        }
        return TopInterval(start: (end - 1) * second, end: end * second, counts: counts, failedExitStatuses: statuses, other: other)
    }

    /// 1 ms intervals, so a run takes a few milliseconds of real time.
    static func session(_ source: RecordedIntervals, limits: TopSession.Limits = .init(), snapshotWhenStopped: Bool = true,
                        hostCPU: @escaping () -> HostCPUStat? = { nil }) -> TopSession {
        TopSession(source: source, aggregator: aggregator(), intervalNanoseconds: 1_000_000, limits: limits,
                   snapshotWhenStopped: snapshotWhenStopped, hostCPU: hostCPU)
    }

    static func snapshots(_ records: [TopRecord]) -> [TopSnapshot] {
        records.compactMap { if case .snapshot(let s) = $0 { return s } else { return nil } }
    }

    @Test func theCountStopsAfterThatManySnapshots() throws {
        let source = RecordedIntervals([Self.interval(ending: 10, ["curl": 3]), Self.interval(ending: 11, ["wget": 4]),
                                        Self.interval(ending: 12, ["git": 5])])
        let sink = CollectingSink<TopRecord>()
        try Self.session(source, limits: .init(count: 2)).run(into: sink, stop: { false })
        #expect(sink.records.first == .started(intervalNanoseconds: 1_000_000))
        let snapshots = Self.snapshots(sink.records)
        #expect(snapshots.map { $0.rows.map { String(decoding: $0.command ?? [], as: UTF8.self) } } == [["curl"], ["wget"]])
        #expect(snapshots.map(\.totals.counts.execs) == [3, 4])
        #expect(source.reads == 2, "no read after the count")
    }

    @Test func onceIsOneSnapshotAndTheRowLimitKeepsTheFirstRows() throws {
        let source = RecordedIntervals([Self.interval(ending: 10, ["a": 1, "b": 30, "c": 20])])
        let sink = CollectingSink<TopRecord>()
        try Self.session(source, limits: .init(count: 1, rows: 2)).run(into: sink, stop: { false })
        let snapshots = Self.snapshots(sink.records)
        #expect(snapshots.count == 1)
        #expect(snapshots[0].rows.map { $0.command.map { String(decoding: $0, as: UTF8.self) } } == ["b", "c"])
        #expect(snapshots[0].totals.counts.execs == 51, "the totals keep the rows cut from the view")
    }

    @Test func crashLoopsForkStormsAndTheOtherRowPassThrough() throws {
        let other = TopCounts(execs: 7, exits: 7)
        let source = RecordedIntervals([
            Self.interval(ending: 10, ["false": 3], failedExits: ["false": 3]),
            Self.interval(ending: 11, ["false": 2000], failedExits: ["false": 2], other: other),
        ])
        // The host forked 10 times a second since boot: 2007 execs in a second is a storm.
        var stats = [HostCPUStat(busyNanoseconds: 5 * Self.second, totalNanoseconds: 20 * Self.second, forks: 10 * BootClock.now / Self.second),
                     HostCPUStat(busyNanoseconds: 6 * Self.second, totalNanoseconds: 22 * Self.second, forks: 0),
                     HostCPUStat(busyNanoseconds: 8 * Self.second, totalNanoseconds: 24 * Self.second, forks: 0)]
        let sink = CollectingSink<TopRecord>()
        try Self.session(source, limits: .init(count: 2), hostCPU: { stats.isEmpty ? nil : stats.removeFirst() })
            .run(into: sink, stop: { false })
        let snapshots = Self.snapshots(sink.records)
        try #require(snapshots.count == 2)
        #expect(snapshots[0].rows.allSatisfy { $0.crashLoop == nil }, "3 failed exits are no crash loop yet")
        #expect(snapshots[0].totals.forkStorm == nil)
        #expect(snapshots[0].totals.hostBusyNanoseconds == Self.second && snapshots[0].totals.hostTotalNanoseconds == 2 * Self.second,
                "each snapshot has the host's CPU between its two readings")
        let crash = try #require(snapshots[1].rows.first { $0.command == Array("false".utf8) }?.crashLoop)
        #expect(crash.failedExits == 5)
        #expect(snapshots[1].totals.forkStorm?.execsPerSecond == 2007)
        #expect(snapshots[1].rows.contains { $0.isOther && $0.counts.execs == 7 })
        #expect(snapshots[1].totals.hostBusyNanoseconds == 2 * Self.second)
    }

    @Test func aStopBetweenSnapshotsGivesTheIntervalSoFarToAStreamOnly() throws {
        let slow = { (source: RecordedIntervals, partial: Bool) in
            TopSession(source: source, aggregator: Self.aggregator(), intervalNanoseconds: 3600 * Self.second,
                       snapshotWhenStopped: partial, hostCPU: { nil })
        }
        let stream = RecordedIntervals([Self.interval(ending: 10, ["curl": 3])])
        let streamed = CollectingSink<TopRecord>()
        var checks = 0
        try slow(stream, true).run(into: streamed, stop: { checks += 1; return checks > 2 }, idle: { _ in })
        #expect(Self.snapshots(streamed.records).map(\.totals.counts.execs) == [3])

        let screen = RecordedIntervals([Self.interval(ending: 10, ["curl": 3])])
        let drawn = CollectingSink<TopRecord>()
        checks = 0
        try slow(screen, false).run(into: drawn, stop: { checks += 1; return checks > 2 }, idle: { _ in })
        #expect(drawn.records == [.started(intervalNanoseconds: 3600 * Self.second)])
        #expect(screen.reads == 0)
    }

    @Test func theWaitBetweenSnapshotsIsShortEnoughToSeeAStop() throws {
        var waits: [Int32] = []
        let source = RecordedIntervals([])
        let session = TopSession(source: source, aggregator: Self.aggregator(), intervalNanoseconds: 3600 * Self.second,
                                 snapshotWhenStopped: false, hostCPU: { nil })
        try session.run(into: CollectingSink<TopRecord>(), stop: { waits.count >= 3 }, idle: { waits.append($0) })
        #expect(waits == [100, 100, 100])
    }

    @Test func withAStopEventTheSessionSleepsTheWholeIntervalAndWakesForTheStop() throws {
        // The agent's top session: one wait per interval (here an hour), ended by the stop itself.
        var waits: [Int32] = []
        let hour = TopSession(source: RecordedIntervals([]), aggregator: Self.aggregator(), intervalNanoseconds: 3600 * Self.second,
                              snapshotWhenStopped: false, hostCPU: { nil })
        try hour.run(into: CollectingSink<TopRecord>(), stop: { waits.count >= 1 }, idle: { waits.append($0) }, longestIdle: .max)
        #expect(waits.count == 1 && waits[0] > 3_599_000, "one wait for the whole interval, not 100 ms naps: \(waits)")

        let stop = try StopEvent()
        let source = RecordedIntervals([])
        let session = TopSession(source: source, aggregator: Self.aggregator(), intervalNanoseconds: 3600 * Self.second,
                                 snapshotWhenStopped: false, hostCPU: { nil })
        let firing = Thread { usleep(200_000); stop.fire() }
        let started = BootClock.now
        firing.start()
        try session.run(into: CollectingSink<TopRecord>(), stop: stop)
        let took = BootClock.now - started
        #expect(took >= 150_000_000 && took < 2 * Self.second, "ended by the stop, at once: \(took) ns")
        #expect(source.reads == 0)
    }

    @Test func aClosedSinkEndsTheSession() throws {
        let source = RecordedIntervals([])
        let sink = CollectingSink<TopRecord>(capacity: 1)
        try Self.session(source).run(into: sink, stop: { false })
        #expect(sink.records == [.started(intervalNanoseconds: 1_000_000)])
        #expect(source.reads == 0, "nobody reads: no snapshot is taken")
    }

    @Test func theRendererGivesTheStreamAndTheScreen() throws {
        let snapshot = TopAggregator { _ in .host }.snapshot(Self.interval(ending: 10, ["curl": 3]), onlineCPUs: 2)
        let table = TopRender(format: .table, clock: BootClock(realtimeOffset: 0), width: 120)
        #expect(table.lines(.started(intervalNanoseconds: Self.second)).isEmpty)
        let first = table.lines(.snapshot(snapshot))
        let second = table.lines(.snapshot(snapshot))
        #expect(second == [.output("")] + first, "a blank line between snapshots")
        guard case .output(let header)? = first.first else { Issue.record("no header"); return }
        #expect(String(decoding: header, as: UTF8.self).hasPrefix("tracer top  "))

        let json = TopRender(format: .json, clock: BootClock(realtimeOffset: 0))
        let lines = json.lines(.snapshot(snapshot))
        guard lines.count == 1, case .output(let bytes) = lines[0] else { Issue.record("\(lines)"); return }
        let object = try #require(try JSONSerialization.jsonObject(with: Data(bytes)) as? [String: Any])
        #expect(object["type"] as? String == "snapshot" && (object["rows"] as? [Any])?.count == 1)

        #expect(table.screen(.started(intervalNanoseconds: 2 * Self.second), width: 80, height: 24)
            == ["tracer top: first snapshot in 2.00s (q quits)"])
        #expect(table.screen(.started(intervalNanoseconds: 2 * Self.second), width: 20, height: 24) == ["tracer top: first s…"])
        #expect(table.screen(.snapshot(snapshot), width: 60, height: 5).count == 5)
        #expect(TopRender.streamWidth(columns: "132") == 132 && TopRender.streamWidth(columns: nil) == 200
            && TopRender.streamWidth(columns: "wide") == 200)
    }
}
