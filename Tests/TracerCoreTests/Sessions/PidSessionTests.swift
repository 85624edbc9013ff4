import Foundation
import Testing
@testable import TracerCore

/// `tracer pid`'s session on a /proc tree written for the test: the real readers, no root.
struct PidSessionTests {
    static func source(_ proc: FakeProc) -> HostProcesses {
        HostProcesses(resolver: Fixture.resolver(), procRoot: proc.path)
    }

    @Test func reportsComeInTheOrderAskedAndMissingPidsAreCounted() throws {
        let proc = try FakeProc.webAndHost()
        let sink = CollectingSink<PidRecord>()
        let outcome = try PidSession(query: .processes([4300, 9999, 4400]), source: Self.source(proc)).run(into: sink)
        #expect(outcome.missing == [9999])
        #expect(sink.records.count == 3)
        guard case .process(let sleeper) = sink.records[0], case .noSuchProcess(9999) = sink.records[1],
              case .process(let bash) = sink.records[2] else { Issue.record("\(sink.records)"); return }
        #expect(sleeper.pid == 4300 && sleeper.container?.name == "web")
        #expect(sleeper.pidInContainer == 7 && sleeper.initPID == 4242)
        #expect(bash.container == nil && bash.pidInContainer == nil)
    }

    @Test func theContainerListingHasEachProcessWithItsPidInside() throws {
        let proc = try FakeProc.webAndHost()
        let sink = CollectingSink<PidRecord>()
        let outcome = try PidSession(query: .container("web"), source: Self.source(proc)).run(into: sink)
        #expect(outcome.missing.isEmpty)
        guard case .containerProcesses(let listing)? = sink.records.first, sink.records.count == 1 else {
            Issue.record("\(sink.records)"); return
        }
        #expect(listing.container.id == Fixture.dockerWeb)
        #expect(listing.processes == [
            ContainerProcess(pid: 4242, pidInContainer: 1, commandLine: ["nginx", "-g", "daemon off;"].map { Array($0.utf8) }),
            ContainerProcess(pid: 4300, pidInContainer: 7, commandLine: ["sleep", "25"].map { Array($0.utf8) }),
        ])
    }

    @Test func aContainerNobodyRunsIsATypedError() throws {
        let proc = try FakeProc.webAndHost()
        let sink = CollectingSink<PidRecord>()
        #expect(throws: ContainerQueryError.noMatch(query: "db", closest: ["web"])) {
            try PidSession(query: .container("db"), source: Self.source(proc)).run(into: sink)
        }
        #expect(sink.records.isEmpty)
    }

    static let web = ContainerIdentity(runtime: .docker, id: "3f2a1b0c9d8e", name: "web\u{1B}[2J")
    static let listing = ContainerProcesses(container: web, processes: [
        ContainerProcess(pid: 4242, pidInContainer: 1, commandLine: [Array("nginx".utf8)]),
        ContainerProcess(pid: 43001, pidInContainer: 7, commandLine: [Array("sleep".utf8), Array("25".utf8)]),
    ])

    @Test func theListingsTableAndJSON() throws {
        let table = PidRender(format: .table).lines(.containerProcesses(Self.listing))
        #expect(table == [.output("CONTAINER web\\x1b[2J (docker 3f2a1b0c9d8e)"), .output("PID     CPID    COMMAND"),
                          .output("4242    1       nginx"), .output("43001   7       sleep 25")])
        let json = PidRender(format: .json).lines(.containerProcesses(Self.listing))
        #expect(json.count == 2)
        guard case .output(let bytes)? = json.last else { Issue.record("no line"); return }
        let object = try #require(try JSONSerialization.jsonObject(with: Data(bytes)) as? [String: Any])
        #expect(object["type"] as? String == "container_process")
        #expect(object["pid"] as? Int == 43001 && object["pid_in_container"] as? Int == 7)
        #expect(object["cmdline"] as? [String] == ["sleep", "25"])
        #expect((object["container"] as? [String: Any])?["name"] as? String == "web\u{1B}[2J")
    }

    @Test func aMissingPidIsAMessageAndReportsAreSeparatedInTheTable() throws {
        let proc = try FakeProc.webAndHost()
        let sink = CollectingSink<PidRecord>()
        _ = try PidSession(query: .processes([4242, 9999, 4400]), source: Self.source(proc)).run(into: sink)
        let render = PidRender(format: .table, clock: BootClock(realtimeOffset: 0))
        let lines = sink.records.map(render.lines)
        #expect(lines[1] == [.message("tracer pid: no such process: 9999")])
        #expect(lines[0].first == .output("pid:              4242  (in its namespaces: 1)"))
        #expect(lines[2].first == .output(""), "a blank line before every pid's report but the first")
        #expect(!lines[0].contains(.output("")))
        let json = PidRender(format: .json, clock: BootClock(realtimeOffset: 0))
        #expect(sink.records.map(json.lines).map(\.count) == [1, 1, 1])
        #expect(json.lines(sink.records[1]) == [.message("tracer pid: no such process: 9999")])
    }
}
