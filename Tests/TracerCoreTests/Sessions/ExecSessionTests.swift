import Testing
@testable import TracerCore

/// `tracer exec`'s session without the kernel: recorded events in, records out.
struct ExecSessionTests {
    /// Hands out one batch of events per poll, and a running count of losses.
    final class RecordedSource: ExecEventSource {
        var batches: [[ProcessEvent]]
        var lost: [UInt64]
        private(set) var polls = 0

        init(_ batches: [[ProcessEvent]], lost: [UInt64] = []) {
            self.batches = batches
            self.lost = lost
        }

        func poll(timeoutMilliseconds: Int32) throws -> [ProcessEvent] {
            polls += 1
            return batches.isEmpty ? [] : batches.removeFirst()
        }

        func lostEvents() throws -> UInt64 { lost.isEmpty ? 0 : (lost.count > 1 ? lost.removeFirst() : lost[0]) }
    }

    static func exec(_ pid: UInt32, at time: UInt64, ret: Int32 = 0) -> ProcessEvent {
        .exec(ExecEvent(pid: pid, tid: pid, ppid: 1, uid: 0, ret: ret, timestamp: time, startTime: time,
                        comm: Array("sh".utf8), parentComm: [], filename: [], args: [Array("sh".utf8)]))
    }

    static func session(_ source: RecordedSource, mode: ExecPipeline.Mode = .execs, limits: ExecSession.Limits = .init()) -> ExecSession {
        ExecSession(source: source, attributor: ExecAttributor(resolver: Fixture.resolver()),
                    pipeline: ExecPipeline(mode: mode, filter: ExecFilter()), limits: limits)
    }

    static func pids(_ records: [ExecRecord]) -> [UInt32] {
        records.compactMap { if case .process(.exec(let e)) = $0 { return e.pid } else { return nil } }
    }

    @Test func eventsLeaveInTimestampOrderBetweenStartAndSummary() throws {
        // Two CPUs' events arrive out of order; the summary is the last record (a failed exec is
        // counted apart from the execs).
        let source = RecordedSource([[Self.exec(2, at: 20), Self.exec(1, at: 10)], [Self.exec(3, at: 30, ret: -2)]])
        let sink = CollectingSink<ExecRecord>()
        var rounds = 0
        try Self.session(source).run(into: sink, stop: { rounds += 1; return rounds > 3 })
        #expect(sink.records.first == .started(.execs))
        #expect(Self.pids(sink.records) == [1, 2, 3])
        guard case .summary(let summary)? = sink.records.last else { Issue.record("no summary"); return }
        #expect(summary.execs == 2 && summary.failedExecs == 1 && summary.shown == 3 && summary.lost == 0)
    }

    @Test func lossesAreReportedAsTheyGrowAndInTheSummary() throws {
        let source = RecordedSource([[Self.exec(1, at: 10)]], lost: [5, 7])
        let sink = CollectingSink<ExecRecord>()
        var rounds = 0
        try Self.session(source).run(into: sink, stop: { rounds += 1; return rounds > 1 })
        let lost = sink.records.compactMap { if case .lost(let n, _) = $0 { return n } else { return nil } }
        #expect(lost.reduce(0, +) == 7, "every loss is reported, none twice")
        guard case .summary(let summary)? = sink.records.last else { Issue.record("no summary"); return }
        #expect(summary.lost == 7)
    }

    @Test func theCountLimitStopsTheSession() throws {
        let source = RecordedSource([[Self.exec(1, at: 10), Self.exec(2, at: 11), Self.exec(3, at: 12)]])
        let sink = CollectingSink<ExecRecord>()
        try Self.session(source, limits: .init(count: 2)).run(into: sink, stop: { false })
        #expect(Self.pids(sink.records) == [1, 2])
        guard case .summary(let summary)? = sink.records.last else { Issue.record("no summary"); return }
        #expect(summary.shown == 2 && summary.execs == 3)
    }

    @Test func aClosedSinkEndsTheSession() throws {
        let source = RecordedSource(Array(repeating: [], count: 1000))
        let sink = CollectingSink<ExecRecord>(capacity: 1)
        try Self.session(source).run(into: sink, stop: { false })
        #expect(source.polls < 5, "the session noticed nobody reads any more")
    }

    @Test func theRendererGivesTheTableAndTheJSONForms() {
        let summary = ExecSummary(durationNanoseconds: 1_500_000_000, execs: 3, failedExecs: 1, exits: 0, shown: 2, lost: 4)
        let table = ExecRender(format: .table, mode: .execs, colour: false)
        #expect(table.lines(.summary(summary)) == [.message("tracer exec: 3 execs, 1 failed, 0 exits, 2 shown, 4 lost in 1.50s")])
        guard case .output(let header)? = table.lines(.started(.execs)).first else { Issue.record("no header"); return }
        #expect(String(decoding: header, as: UTF8.self).hasPrefix("TIME"))
        let json = ExecRender(format: .json, mode: .execs, colour: false)
        #expect(json.lines(.started(.execs)) == [])
        #expect(json.lines(.summary(summary)) == [.output(#"{"type":"summary","duration_ns":1500000000,"execs":3,"failed_execs":1,"exits":0,"shown":2,"lost":4}"#)])
    }
}

extension ExecSessionTests {
    /// Idle, the session waits long for the kernel's wake-up; holding events, briefly; never past its deadline.
    @Test func theWaitIsLongWhenIdleAndShortWhenHolding() {
        let idle = Self.session(RecordedSource([]))
        #expect(idle.timeout(holding: false) == 1000)
        #expect(idle.timeout(holding: true) == 10)
        let ending = Self.session(RecordedSource([]), limits: .init(deadline: 5_300_000_000))
        #expect(ending.timeout(holding: false, now: 5_000_000_000) == 301)
        #expect(ending.timeout(holding: false, now: 6_000_000_000) == 1)
    }
}
