import Foundation
import Testing
@testable import TracerCore

struct TopTableTests {
    let clock = BootClock(realtimeOffset: 0)
    static let web = ContainerIdentity(runtime: .podman, id: String(repeating: "ab", count: 32), name: "web-frontend-production")

    func snapshot(crash: Bool = true, storm: Bool = false) -> TopSnapshot {
        let loop = CrashLoop(failedExits: 12, windowNanoseconds: 60_000_000_000,
                             statuses: [ExitStatusCount(status: 1 << 8, count: 10), ExitStatusCount(status: 9, count: 2)])
        let rows = [
            TopRow(container: .container(Self.web), parent: Array("sh".utf8), command: Array("sha256sum".utf8),
                   counts: TopCounts(execs: 200, exits: 198, cpuNanoseconds: 1_700_000_000, lifetimeNanoseconds: 1_980_000_000,
                                     maxLifetimeNanoseconds: 31_000_000),
                   lastArgs: [Array("sha256sum".utf8), Array("/bin/busybox".utf8), Array("a very long argument that cannot fit".utf8)]),
            TopRow(container: .host, parent: Array("bash\u{1B}[31m".utf8), command: Array("crash\nme".utf8),
                   counts: TopCounts(execs: 12, failedExecs: 2, exits: 12, failedExits: 12, cpuNanoseconds: 20_000_000,
                                     lifetimeNanoseconds: 12_000_000, maxLifetimeNanoseconds: 2_000_000),
                   lastArgs: [Array("crash\nme".utf8), [0xFF]], argsTruncated: true, crashLoop: crash ? loop : nil),
        ]
        let totals = TopTotals(counts: TopCounts(execs: 212, failedExecs: 2, exits: 210, failedExits: 12, cpuNanoseconds: 1_720_000_000),
                               onlineCPUs: 2, hostBusyNanoseconds: 3_000_000_000, hostTotalNanoseconds: 4_000_000_000,
                               lost: TopLosses(processes: 2, details: 1), forkStorm: storm ? ForkStorm(execsPerSecond: 2000, usualPerSecond: 12) : nil)
        return TopSnapshot(timestamp: 5_000_000_000, intervalNanoseconds: 2_000_000_000, by: TopGroupKey.allCases, sort: .cpu,
                           totals: totals, rows: rows)
    }

    @Test func eightyColumnsShowEveryKeyColumnAndTheHeader() {
        let lines = TopTable(clock: clock).frame(snapshot(storm: true), width: 80, height: 24)
        #expect(lines.allSatisfy { $0.count <= 80 })
        #expect(lines[0].hasPrefix("tracer top"))
        #expect(lines[1].contains("short-lived 43.0% of 2 CPUs (0.86 s/s)"))
        #expect(lines[1].contains("host busy 75.0%"))
        #expect(lines[2].contains("execs 106/s") && lines[2].contains("lost 3"))
        #expect(lines.contains { $0.hasPrefix("FORK STORM: 2000 execs/s, usually 12.0/s") })
        #expect(lines.contains { $0.hasPrefix("CRASH LOOP: - > bash\\x1b[31m > crash\\nme: 12 failed exits in 1m0s (exit 1 x10,") })
        let header = try! #require(lines.first { $0.contains("COMMAND") })
        for title in ["CONTAINER", "PARENT", "COMMAND", "EXEC/s", "FAIL", "%CPU", "LIFE", "MAX", "ARGS"] { #expect(header.contains(title), "\(title) in \(header)") }
        let web = try! #require(lines.first { $0.contains("sha256sum") })
        // Names cut honestly, CPU as % of one core, lifetimes, and the argv cut with an ellipsis.
        #expect(web.contains("web-front…"))
        #expect(web.contains("85.0"))
        #expect(web.contains("10ms") && web.contains("31ms"))
        #expect(web.hasSuffix("…") && web.contains("sha256sum /bin"))
        // A wider terminal gives the arguments the room.
        let wide = TopTable(clock: clock).frame(snapshot(), width: 120)
        #expect(wide.contains { $0.contains("EXIT/s") && $0.contains("CPU/s") })
        #expect(wide.contains { $0.count == 120 && $0.hasSuffix("…") && $0.contains("sha256sum /bin/busybox 'a very") })
        // Control characters never reach the terminal.
        #expect(lines.allSatisfy { !$0.unicodeScalars.contains { $0.value < 0x20 } })
        let crasher = try! #require(lines.first { $0.hasPrefix("!") })
        #expect(crasher.contains("crash\\nme"))
    }

    @Test func thirtyColumnsAndLessDegradeWithoutOverflowing() {
        for width in [30, 12, 1] {
            let lines = TopTable(clock: clock).frame(snapshot(), width: width, height: 10)
            #expect(lines.count <= 10)
            #expect(lines.allSatisfy { $0.count <= width }, "\(width): \(lines)")
        }
        let lines = TopTable(clock: clock).frame(snapshot(), width: 30, height: 40)
        let header = try! #require(lines.first { $0.contains("COMMAND") })
        #expect(header.contains("%CPU"))
        #expect(!header.contains("MAX"))
        #expect(lines.contains { $0.contains("sha256sum") && $0.contains("85.0") })
        #expect(TopTable.columns(width: 30, by: TopGroupKey.allCases).contains(.command))
    }

    @Test func heightLimitsTheRowsAndWideStreamsKeepTheArguments() {
        let short = TopTable(clock: clock).frame(snapshot(crash: false), width: 80, height: 6)
        #expect(short.count == 6)
        let wide = TopTable(clock: clock).frame(snapshot(crash: false), width: 200)
        #expect(wide.contains { $0.hasSuffix("sha256sum /bin/busybox 'a very long argument that cannot fit'") })
        #expect(wide.contains { $0.hasSuffix("crash\\nme \\xff ...[truncated]") })
    }

    /// A full group map: the (other) row, named in the first name column shown, its reason in
    /// ARGS, a header line saying so, and its failures over the window as a possible crash loop.
    func snapshotWithOther() -> TopSnapshot {
        var s = snapshot(crash: false)
        let loop = CrashLoop(failedExits: 7, windowNanoseconds: 60_000_000_000,
                             statuses: [ExitStatusCount(status: 1 << 8, count: 6), ExitStatusCount(status: ExitStatusCount.unrecorded, count: 1)])
        s.rows.insert(TopRow(container: nil, parent: nil, command: nil,
                             counts: TopCounts(execs: 2400, exits: 2398, failedExits: 7, cpuNanoseconds: 1_000_000_000,
                                               lifetimeNanoseconds: 2_398_000_000, maxLifetimeNanoseconds: 5_000_000),
                             crashLoop: loop, isOther: true), at: 0)
        return s
    }

    @Test func otherRowIsNamedAndExplained() throws {
        for by in [TopGroupKey.allCases, [.command], [.parent, .container]] {
            var s = snapshotWithOther()
            s.by = by
            let lines = TopTable(clock: clock).frame(s, width: 120)
            let row = try #require(lines.first { $0.contains("(other)") && $0.contains("map had no room") }, "\(by): \(lines)")
            #expect(row.hasPrefix("? (other) "), "\(by): \(row)")
            #expect(row.contains("1200"))
            #expect(lines.contains("MAP FULL: 2400 execs, 2398 exits in (other): their groups did not fit in the kernel's map"))
            #expect(lines.contains { $0.hasPrefix("FAILED EXITS IN (other): 7 failed exits in 1m0s (exit 1 x6, status not recorded x1)") })
            #expect(!lines.contains { $0.hasPrefix("CRASH LOOP: (other)") })
        }
    }

    @Test func otherRowInJSONHasNullNamesAndSaysSo() throws {
        let bytes = TopJSON(clock: clock).line(snapshotWithOther())
        let object = try #require(try JSONSerialization.jsonObject(with: Data(bytes)) as? [String: Any])
        let rows = try #require(object["rows"] as? [[String: Any]])
        #expect(rows.map { $0["other"] as? Bool } == [true, false, false])
        let other = rows[0]
        #expect(other["container"] is NSNull && other["parent"] is NSNull && other["command"] is NSNull)
        #expect(other["execs"] as? Int == 2400)
        let codes = try #require((other["crash_loop"] as? [String: Any])?["exit_codes"] as? [[String: Any]])
        #expect(codes.map { $0["recorded"] as? Bool } == [true, false])
        #expect(codes[1]["code"] is NSNull && codes[1]["signal"] is NSNull && codes[1]["count"] as? Int == 1)
        let totals = try #require(object["totals"] as? [String: Any])
        #expect((totals["lost_by_map"] as? [String: Any])?.keys.sorted() == ["details", "exit_codes", "processes"])
    }

    @Test func fitCutsWithAnEllipsis() {
        #expect(TopTable.fit("abcdef", 6) == "abcdef")
        #expect(TopTable.fit("abcdefg", 6) == "abcde…")
        #expect(TopTable.fit("abc", 0) == "")
        #expect(TopTable.duration(850_000) == "850us")
        #expect(TopTable.duration(135_400_000) == "135ms")
        #expect(TopTable.duration(192_000_000_000) == "3m12s")
        #expect(TopTable.rate(12_345) == "12k")
    }

    @Test func jsonSnapshotHasTheDocumentedShape() throws {
        let bytes = TopJSON(clock: clock).line(snapshot())
        let object = try #require(try JSONSerialization.jsonObject(with: Data(bytes)) as? [String: Any])
        #expect(object["type"] as? String == "snapshot")
        #expect(object["interval_ns"] as? Int == 2_000_000_000)
        #expect(object["timestamp_ns"] as? Int == 5_000_000_000)
        #expect(object["by"] as? [String] == ["container", "parent", "command"])
        let totals = try #require(object["totals"] as? [String: Any])
        #expect(totals["execs"] as? Int == 212)
        #expect(totals["cpu_ns"] as? Int == 1_720_000_000)
        #expect(totals["lost"] as? Int == 3)
        #expect(abs((totals["short_lived_cpu_share"] as? Double ?? 0) - 0.43) < 1e-9)
        #expect(totals["fork_storm"] is NSNull)
        let rows = try #require(object["rows"] as? [[String: Any]])
        #expect(rows.count == 2)
        let first = rows[0]
        for field in ["container", "parent", "command", "execs", "exits", "failures", "cpu_ns", "avg_lifetime_ns",
                      "max_lifetime_ns", "crash_loop", "last_args"] {
            #expect(first[field] != nil, "row field \(field)")
        }
        #expect((first["container"] as? [String: Any])?["name"] as? String == "web-frontend-production")
        #expect(first["avg_lifetime_ns"] as? Int == 10_000_000)
        #expect(first["last_args"] as? [String] == ["sha256sum", "/bin/busybox", "a very long argument that cannot fit"])
        #expect(first["crash_loop"] is NSNull)
        let second = rows[1]
        #expect(second["container"] is NSNull)
        #expect(second["command"] as? String == "crash\nme")
        #expect(second["last_args"] as? [String] == ["crash\nme", "\\xff"])
        let loop = try #require(second["crash_loop"] as? [String: Any])
        #expect(loop["failed_exits"] as? Int == 12)
        let codes = try #require(loop["exit_codes"] as? [[String: Any]])
        #expect(codes.first?["code"] as? Int == 1 && codes.first?["count"] as? Int == 10)
        #expect(codes.last?["signal"] as? String == "SIGKILL" && codes.last?["code"] is NSNull)
    }
}
