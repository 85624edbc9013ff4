import Testing
@testable import TracerCore

struct ExecTableTests {
    let clock = BootClock(realtimeOffset: 0)

    func exec(args: [String], ret: Int32 = 0) -> ExecEvent {
        ExecEvent(pid: 42, tid: 42, ppid: 1, uid: 0, ret: ret, timestamp: 1_000_000_000, startTime: 999_000_000,
                  comm: Array("echo".utf8), parentComm: Array("bash\n".utf8), filename: Array("/bin/echo".utf8),
                  args: args.map { Array($0.utf8) })
    }

    @Test func argumentsKeepTheirBoundaries() {
        #expect(ExecTable.arguments([Array("echo".utf8), Array("a b".utf8), [], Array("it's".utf8)], truncated: false)
            == "echo 'a b' '' 'it'\\''s'")
        #expect(ExecTable.arguments([Array("x".utf8)], truncated: true) == "x ...[truncated]")
    }

    @Test func execLineHasEveryColumnAndEscapesNames() {
        let table = ExecTable(mode: .execs, clock: clock, colour: false)
        let line = table.line(.exec(exec(args: ["echo", "hi\nthere"])))
        #expect(line.hasSuffix("0   echo hi\\nthere"))
        #expect(line.contains(" 42 ") && line.contains(" 1 "))
        #expect(line.contains("bash\\n"))
        #expect(!line.contains("\n"))
    }

    @Test func failedExecShowsErrnoName() {
        let table = ExecTable(mode: .execs, clock: clock, colour: false)
        #expect(table.line(.exec(exec(args: ["nope"], ret: -2))).contains("ENOENT nope"))
    }

    @Test func exitLineShowsDurationCPUAndSignal() {
        let table = ExecTable(mode: .exits, clock: clock, colour: false)
        let exit = ExitEvent(pid: 42, ppid: 1, uid: 0, timestamp: 1_250_000_000, startTime: 1_000_000_000,
                             cpuNanoseconds: 12_300_000, userNanoseconds: 12_000_000, systemNanoseconds: 300_000,
                             maxRSSKilobytes: 1000, status: 9, comm: Array("echo".utf8))
        let line = table.line(.exit(ProcessRecord(exec: exec(args: ["echo"]), exit: exit)))
        #expect(line.contains("250.0ms"))
        #expect(line.contains("12.3ms"))
        #expect(line.contains("SIGKILL"))
    }

    @Test func durationsReadNaturally() {
        #expect(Formatting.duration(850_000) == "850us")
        #expect(Formatting.duration(12_340_000) == "12.3ms")
        #expect(Formatting.duration(4_500_000_000) == "4.50s")
        #expect(Formatting.duration(192_000_000_000) == "3m12s")
        #expect(Formatting.rfc3339(1_700_000_000_123_456_789) == "2023-11-14T22:13:20.123456789Z")
    }
}
