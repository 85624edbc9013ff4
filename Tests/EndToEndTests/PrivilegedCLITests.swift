import LabSupport
import Foundation
import Glibc
import Testing

/// The built binary doing real tracing. Needs root; skipped loudly otherwise.
@Suite(.requires(TracerBinary.isRoot, "SKIPPED LOUDLY: tracing needs root (CAP_BPF, CAP_PERFMON); run the tests as root"))
struct PrivilegedCLITests {
    @Test func checkPassesAndReportsAttachTypes() throws {
        let result = try TracerBinary.run(["check"])
        #expect(result.status == 0, "\(result.stdout)")
        let lines = result.lines
        #expect(lines.contains { $0.contains("ok") && $0.contains("tp_btf") })
        #expect(lines.contains { $0.contains("ok") && $0.contains("tracepoint sched/sched_process_exec") })
        #expect(lines.contains { $0.contains("kprobe") })

        let json = try TracerBinary.run(["check", "--output", "json"])
        let object = try #require(try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [String: Any])
        #expect(object["ok"] as? Bool == true)
        let items = try #require(object["items"] as? [[String: Any]])
        #expect(items.contains { $0["name"] as? String == "tp_btf" && $0["status"] as? String == "ok" })
    }

    @Test func execStreamsValidJSONLinesWithASummary() throws {
        let marker = "marker-\(getpid())-\(Int.random(in: 0..<1_000_000))"
        let result = try TracerBinary.run(["exec", "--output", "json", "--duration", "3s"], whileRunning: {
            let p = try Process.run(URL(fileURLWithPath: "/bin/echo"), arguments: [marker, "two words"])
            p.waitUntilExit()
        })
        #expect(result.status == 0, "\(result.stderr)")
        let objects = try result.lines.map { try JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] }
        #expect(objects.allSatisfy { $0 != nil })
        let mine = try #require(objects.compactMap { $0 }.first { ($0["args"] as? [String])?.contains(marker) == true })
        #expect(mine["type"] as? String == "exec")
        #expect(mine["args"] as? [String] == ["/bin/echo", marker, "two words"])
        #expect(mine["comm"] as? String == "echo")
        #expect(mine["ppid"] as? Int == Int(getpid()))
        for key in ["time", "pid", "tid", "pcomm", "uid", "filename", "args_truncated", "ret", "cgroup", "namespaces", "pid_in_namespace"] {
            #expect(mine[key] != nil, "missing \(key)")
        }
        let last = try #require(objects.last ?? nil)
        #expect(last["type"] as? String == "summary")
        #expect(last["lost"] as? Int == 0)
    }

    @Test func exitsModeShowsLifetimeAndStatus() throws {
        let result = try TracerBinary.run(["exec", "--exits", "--output", "json", "--duration", "3s", "--ppid", String(getpid())], whileRunning: {
            let p = try Process.run(URL(fileURLWithPath: "/bin/sh"), arguments: ["-c", "sleep 0.1; exit 3"])
            p.waitUntilExit()
        })
        #expect(result.status == 0)
        let exits = result.lines.compactMap { try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] }
            .filter { $0["type"] as? String == "exit" }
        let sh = try #require(exits.first { $0["comm"] as? String == "sh" })
        #expect(sh["exit_code"] as? Int == 3)
        #expect((sh["duration_ns"] as? Int ?? 0) >= 100_000_000)
        for key in ["cpu_ns", "user_ns", "system_ns", "signal", "core_dumped", "max_rss_kb"] {
            #expect(sh[key] != nil, "missing \(key)")
        }
    }

    @Test func sigintStopsCleanlyWithSummary() throws {
        let result = try TracerBinary.run(["exec"], signal: SIGINT, signalAfter: 1.5)
        #expect(result.status == 0)
        #expect(result.lines.first?.hasPrefix("TIME") == true)
        #expect(result.stderr.contains("tracer exec:") && result.stderr.contains("lost"))
    }

    @Test func countStopsByItself() throws {
        let result = try TracerBinary.run(["exec", "--count", "1", "--output", "json"], timeout: 20, whileRunning: {
            for _ in 0..<3 { try Process.run(URL(fileURLWithPath: "/bin/true"), arguments: []).waitUntilExit() }
        })
        #expect(result.status == 0)
        #expect(result.lines.filter { $0.contains("\"type\":\"exec\"") }.count == 1)
    }

    @Test func closedPipeEndsQuietly() throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/bash")
        process.arguments = ["-c", "set -o pipefail; (\(TracerBinary.path) exec 2>/tmp/tracer-pipe-\(getpid()).err | head -1) & pid=$!; sleep 1; /bin/true; wait $pid; echo rc=$?"]
        let out = Pipe()
        process.standardOutput = out
        try process.run()
        process.waitUntilExit()
        let text = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        #expect(text.contains("TIME"))
        #expect(text.contains("rc=0"), "\(text)")
        let errors = (try? String(contentsOfFile: "/tmp/tracer-pipe-\(getpid()).err", encoding: .utf8)) ?? ""
        unlink("/tmp/tracer-pipe-\(getpid()).err")
        #expect(!errors.contains("rror"), "\(errors)")
    }

    @Test func withoutPrivilegesOneLinePointsToCheck() throws {
        let result = try TracerBinary.run(["exec"], prefix: ["/usr/bin/setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", "--inh-caps=-all", "--bounding-set=-all"])
        #expect(result.status == 77, "exit \(result.status): \(result.stderr)")
        let lines = result.stderr.split(separator: "\n")
        #expect(lines.count == 1)
        #expect(result.stderr.contains("CAP_BPF") && result.stderr.contains("tracer check"))
    }
}
