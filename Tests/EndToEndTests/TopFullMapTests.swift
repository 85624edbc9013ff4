import Foundation
import Glibc
import LabSupport
import Testing

/// `tracer top` when ever-new command names fill the kernel's group map (16384 groups): 30,000
/// distinct names, exec'd as fast as the machine goes, must not blind it (issue 11, part 5).
/// Nested in `TopTests` (serialized): its storm of execs takes both cores, which the container
/// test's CPU ranking needs to itself.
extension TopTests {
@Suite struct FullMap {
    static let names = 30_000
    /// The last names run /bin/false: failed exits of processes whose group cannot fit.
    static let failing = 300

    /// A number in a JSON object (JSONSerialization gives NSNumber).
    func int(_ object: [String: Any], _ key: String) -> Int { (object[key] as? NSNumber)?.intValue ?? -1 }

    @Test func thirtyThousandCommandNamesCannotBlindTheHostTotals() throws {
        let dir = try #require(mkdtemp(strdup(FileManager.default.temporaryDirectory.appendingPathComponent("tracer-names.XXXXXX").path))
            .map { String(cString: $0) })
        defer { try? FileManager.default.removeItem(atPath: dir) }
        // The spawner is named exec_names: the parent of every name below.
        let spawner = dir + "/exec_names"
        let source = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("tools/testprogs/exec_names.c").path
        #expect(try ChildProcess.spawn(["/usr/bin/cc", "-O1", "-o", spawner, source]).wait().status == 0)
        for i in 0..<Self.names {
            let target = i >= Self.names - Self.failing ? "/bin/false" : "/bin/true"
            #expect(symlink(target, "\(dir)/n\(i)") == 0)
        }

        // perf counts every task rename (each exec renames its task, and so do prctl and writes to
        // /proc/PID/comm) over a window enclosing top's: an upper bound of the host's execs.
        // Not sched_process_exec: a BPF program returning 0 there (as top's does) hides the event from perf.
        let perfOutput = dir + "/perf.csv"
        let perf = try ChildProcess.spawn(["/usr/bin/perf", "stat", "-a", "-x", ",", "-e", "task:task_rename", "-o", perfOutput])
        usleep(500_000)

        // What top seeds its usual exec rate with: the host's forks since boot over the uptime.
        let stat = try String(contentsOfFile: "/proc/stat", encoding: .utf8)
        let forks = try #require(stat.split(separator: "\n").first { $0.hasPrefix("processes ") }.flatMap { Double($0.dropFirst(10)) })
        let uptime = try #require(Double(try String(contentsOfFile: "/proc/uptime", encoding: .utf8).split(separator: " ")[0]))
        var usual = forks / uptime

        let output = dir + "/top.json"
        FileManager.default.createFile(atPath: output, contents: nil)
        let top = Process()
        top.executableURL = URL(fileURLWithPath: TracerBinary.path)
        top.arguments = ["top", "--interval", "1s", "--output", "json"]
        top.standardOutput = try FileHandle(forWritingTo: URL(fileURLWithPath: output))
        let errors = Pipe()
        top.standardError = errors
        try top.run()
        // Its first snapshot: the probe is attached and counting.
        var started = false
        for _ in 0..<300 where !started {
            usleep(100_000)
            started = (try? String(contentsOfFile: output, encoding: .utf8))?.contains("\n") == true
        }
        #expect(started, "no snapshot from tracer top in 30 s")

        let storm = try ChildProcess.spawn([spawner, dir, "n", String(Self.names), "3"], outputFile: dir + "/storm.out")
        let stormStatus = storm.wait().status
        let stormOutput = (try? String(contentsOfFile: dir + "/storm.out", encoding: .utf8)) ?? ""
        #expect(stormStatus == 0 && stormOutput.contains("nonzero=\(Self.failing) "), "\(stormOutput)")
        usleep(1_500_000) // the interval holding the last execs closes
        kill(top.processIdentifier, SIGINT)
        top.waitUntilExit()
        kill(perf.pid, SIGINT)
        perf.wait()
        #expect(top.terminationStatus == 0)
        let stderr = String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        #expect(stderr.isEmpty, "\(stderr)")

        let lines = try String(contentsOfFile: output, encoding: .utf8).split(separator: "\n")
        var ours = (execs: 0, exits: 0, failedExits: 0, rows: 0)
        var other = (execs: 0, exits: 0, failedExits: 0, rows: 0)
        var hostExecs = 0
        var storms = 0
        var expectedStorms = 0
        var rates: [Int] = []
        var otherCrashLoop: [String: Any]?
        for line in lines {
            let snapshot = try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
            let totals = try #require(snapshot["totals"] as? [String: Any])
            let rows = try #require(snapshot["rows"] as? [[String: Any]])
            hostExecs += int(totals, "execs")
            // The fork-storm rule (README: 10x the usual rate and 100/s; calm intervals move the
            // usual rate, weight 0.2) on the exact totals: flagged when it must be, and only then.
            let rate = Double(int(totals, "execs")) * 1e9 / Double(max(int(snapshot, "interval_ns"), 1))
            rates.append(Int(rate))
            let threshold = max(100, 10 * usual)
            let flagged = !(totals["fork_storm"] is NSNull)
            if flagged { storms += 1 }
            if rate >= threshold { expectedStorms += 1 }
            if abs(rate - threshold) > 0.05 * threshold {
                #expect(flagged == (rate >= threshold), "\(Int(rate)) execs/s against a usual \(Int(usual))/s")
            }
            if !flagged { usual += 0.2 * (rate - usual) }
            // Rows and (other) add up to the totals, field by field.
            for field in ["execs", "exits", "failures", "failed_exits", "cpu_ns"] {
                #expect(rows.reduce(0) { $0 + int($1, field) } == int(totals, field), "\(field) in \(line.prefix(300))")
            }
            let otherRows = rows.filter { $0["other"] as? Bool == true }
            #expect(otherRows.count <= 1)
            for row in rows {
                if row["other"] as? Bool == true {
                    #expect(row["container"] is NSNull && row["parent"] is NSNull && row["command"] is NSNull)
                    other.execs += int(row, "execs"); other.exits += int(row, "exits")
                    other.failedExits += int(row, "failed_exits"); other.rows += 1
                    if let loop = row["crash_loop"] as? [String: Any] { otherCrashLoop = loop }
                } else if row["parent"] as? String == "exec_names", (row["command"] as? String)?.hasPrefix("n") == true {
                    ours.execs += int(row, "execs"); ours.exits += int(row, "exits")
                    ours.failedExits += int(row, "failed_exits"); ours.rows += 1
                }
            }
        }

        // The names that found room in the map have rows; the rest are in (other), none lost.
        #expect(other.rows > 0, "no (other) row in \(lines.count) snapshots")
        #expect(ours.execs <= Self.names && ours.rows <= 16384)
        #expect(ours.execs + other.execs >= Self.names, "ours \(ours.execs) + other \(other.execs)")
        #expect(ours.exits + other.exits >= Self.names, "ours \(ours.exits) + other \(other.exits)")
        #expect(ours.failedExits + other.failedExits >= Self.failing)
        // Nothing counted twice: the host's execs are no more than the kernel's renames.
        do {
            let csv = try String(contentsOfFile: perfOutput, encoding: .utf8)
            let count = try #require(csv.split(separator: "\n").first { $0.contains("task_rename") }
                .flatMap { Int($0.split(separator: ",").first ?? "") }, "\(csv)")
            #expect(hostExecs >= Self.names && hostExecs <= count, "top \(hostExecs), perf \(count): \(csv)")
        }
        // A host that forked 10 times less than this storm since boot sees it flagged. (A busy build
        // machine may fork more than a tenth of it as a rule: then it is not a storm, by the rule.)
        if forks / uptime * 10 < Double(rates.max() ?? 0) * 0.9 {
            #expect(storms > 0, "the fork storm was not flagged: \(rates) execs/s, usual since boot \(Int(forks / uptime))/s")
        }
        #expect(storms >= expectedStorms - 1, "\(rates)")
        // The failing names could not be grouped: their failures are still seen, with their status.
        let loop = try #require(otherCrashLoop, "(other) shows no failed exits")
        let codes = try #require(loop["exit_codes"] as? [[String: Any]])
        #expect(codes.contains { int($0, "code") == 1 && int($0, "count") >= 5 }, "\(codes)")
    }
}
}
