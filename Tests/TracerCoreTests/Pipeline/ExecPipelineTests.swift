import Testing
@testable import TracerCore

struct ExecPipelineTests {
    func exec(pid: UInt32, start: UInt64 = 1, at time: UInt64, comm: String = "sh", args: [String] = ["sh"], ret: Int32 = 0) -> ProcessEvent {
        .exec(ExecEvent(pid: pid, tid: pid, ppid: 1, uid: 0, ret: ret, timestamp: time, startTime: start,
                        comm: Array(comm.utf8), parentComm: [], filename: [], args: args.map { Array($0.utf8) }))
    }

    func exit(pid: UInt32, start: UInt64 = 1, at time: UInt64, status: UInt32 = 0) -> ProcessEvent {
        .exit(ExitEvent(pid: pid, ppid: 1, uid: 0, timestamp: time, startTime: start, cpuNanoseconds: 5,
                        userNanoseconds: 5, systemNanoseconds: 0, maxRSSKilobytes: 1, status: status, comm: []))
    }

    @Test func execModeShowsEveryAcceptedExec() {
        var filter = ExecFilter()
        filter.comm = "curl"
        let pipeline = ExecPipeline(mode: .execs, filter: filter)
        let out = pipeline.process([exec(pid: 1, at: 1, comm: "curl"), exec(pid: 2, at: 2, comm: "wget"), exit(pid: 1, at: 3)])
        #expect(out.count == 1)
        #expect(pipeline.execCount == 2)
        #expect(pipeline.exitCount == 1)
    }

    @Test func exitsModeJoinsByPidAndStartTime() {
        let pipeline = ExecPipeline(mode: .exits, filter: ExecFilter())
        let out = pipeline.process([
            exec(pid: 7, start: 100, at: 110, args: ["first"]),
            exec(pid: 7, start: 100, at: 120, args: ["second"]), // the same process exec'd again
            exit(pid: 7, start: 999, at: 130),                    // a reused pid: not this process
            exit(pid: 7, start: 100, at: 140, status: 256),
        ])
        #expect(out.count == 1)
        guard case .exit(let record)? = out.first else { Issue.record("no exit record"); return }
        #expect(record.exec.args == [Array("second".utf8)])
        #expect(record.exit.exitCode == 1)
        #expect(record.exit.lifetimeNanoseconds == 40)
    }

    @Test func maxLifetimeKeepsOnlyShortProcesses() {
        var filter = ExecFilter()
        filter.maxLifetime = 50
        let pipeline = ExecPipeline(mode: .exits, filter: filter)
        let out = pipeline.process([
            exec(pid: 1, start: 0, at: 1), exec(pid: 2, start: 0, at: 1),
            exit(pid: 1, start: 0, at: 49), exit(pid: 2, start: 0, at: 51),
        ])
        #expect(out.count == 1)
    }

    @Test func argsRegexAndFailedFilter() throws {
        var filter = ExecFilter()
        filter.argsPattern = "--token [0-9]+"
        filter.failedOnly = true
        let pipeline = ExecPipeline(mode: .execs, filter: filter)
        let out = pipeline.process([
            exec(pid: 1, at: 1, args: ["curl", "--token", "123"], ret: -2),
            exec(pid: 2, at: 2, args: ["curl", "--token", "123"]),
            exec(pid: 3, at: 3, args: ["curl", "--token", "abc"], ret: -2),
        ])
        #expect(out.count == 1)
        #expect(throws: (any Error).self) { try ExecFilter.validate(argsPattern: "(unclosed") }
    }

    @Test func reorderBufferReleasesInTimestampOrderAfterTheWindow() {
        var buffer = ReorderBuffer<UInt64>(window: 10) { $0 }
        buffer.insert([30, 10, 25])
        #expect(buffer.release(now: 30) == [10])
        buffer.insert([12, 40])
        #expect(buffer.release(now: 45) == [12, 25, 30])
        #expect(buffer.release(now: nil) == [40])
        #expect(buffer.isEmpty)
    }
}

struct ExecPipelineBoundTests {
    @Test func aFullTableDropsTheOldestProcessesAndKeepsTheNewest() {
        let pipeline = ExecPipeline(mode: .exits, filter: ExecFilter())
        let execs: [ProcessEvent] = (0..<65537).map { i in
            .exec(ExecEvent(pid: UInt32(i), tid: UInt32(i), ppid: 1, uid: 0, ret: 0, timestamp: UInt64(i), startTime: 1,
                            comm: [], parentComm: [], filename: [], args: []))
        }
        _ = pipeline.process(execs)
        func exit(_ pid: UInt32) -> ProcessEvent {
            .exit(ExitEvent(pid: pid, ppid: 1, uid: 0, timestamp: 70000, startTime: 1, cpuNanoseconds: 0, userNanoseconds: 0,
                            systemNanoseconds: 0, maxRSSKilobytes: 0, status: 0, comm: []))
        }
        #expect(pipeline.process([exit(0)]).isEmpty, "the oldest was evicted")
        #expect(pipeline.process([exit(65536)]).count == 1, "the newest is still joined")
    }
}
