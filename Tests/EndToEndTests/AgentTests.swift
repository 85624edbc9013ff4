import BPF
import Foundation
import Glibc
import LabSupport
import Testing

/// `tracer agent` as a DaemonSet runs it: bad input refused in one line; then a real run scraped
/// over loopback while a burst of short-lived processes runs, stopped by SIGTERM.
struct AgentUsageTests {
    @Test(arguments: [
        (["agent", "--metrics-address", "localhost:2113"], "--metrics-address: 'localhost:2113' is not a numeric IPv4 or IPv6 address"),
        (["agent", "--metrics-address", "127.0.0.1:70000"], "--metrics-address: '127.0.0.1:70000' has no port from 0 to 65535"),
        (["agent", "--labels", "container,pid"], "--labels: unknown label 'pid'; valid labels: container, pod_namespace, pod, runtime, command, reason, direction"),
        (["agent", "--series-ttl", "0s"], "--series-ttl"),
        (["agent", "--exits"], "--exits: only with --exec-log"),
    ])
    func badInputIsOneLineAndExit64(arguments: [String], message: String) throws {
        let result = try TracerBinary.run(arguments)
        #expect(result.status == 64)
        #expect(result.stderr.contains(message), "\(result.stderr)")
        #expect(result.stderr.split(separator: "\n").count == 1, "\(result.stderr)")
        #expect(result.stdout.isEmpty)
    }

    /// swift-nio and swift-prometheus cost every command about 0.8 ms of start-up when linked
    /// into `tracer`: only `tracer-agent` links them, and `tracer agent` runs it.
    @Test func theAgentsLibrariesAreInTracerAgentOnly() throws {
        let tracer = try Data(contentsOf: URL(fileURLWithPath: TracerBinary.path))
        let agent = try Data(contentsOf: URL(fileURLWithPath: TracerBinary.agentPath))
        for module in ["7NIOCore", "10Prometheus"] {
            #expect(tracer.range(of: Data(module.utf8)) == nil, "tracer links \(module)")
            #expect(agent.range(of: Data(module.utf8)) != nil, "tracer-agent lacks \(module)")
        }
    }

    /// A `tracer` installed without `tracer-agent` beside it: the command line is still checked
    /// (64), and a valid one says in one line what is missing (1).
    @Test func aTracerWithoutItsAgentSaysWhatIsMissing() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("tracer-alone-\(getpid())").path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try Executables.copy(TracerBinary.path, to: dir + "/tracer")
        let bad = try LabShell.run(["-c", "\"$0\" agent --labels pid 2>&1", dir + "/tracer"])
        #expect(bad.status == 64, "\(bad.output)")
        #expect(bad.output.hasPrefix("tracer agent: --labels: unknown label 'pid'"), "\(bad.output)")
        let missing = try LabShell.run(["-c", "\"$0\" agent --metrics-address 127.0.0.1:0 2>&1", dir + "/tracer"])
        #expect(missing.status == 1)
        #expect(missing.output == "tracer agent: cannot run \(dir)/tracer-agent: No such file or directory (the agent is an executable of its own, built and installed beside tracer)\n",
                "\(missing.output)")
    }

    /// `tracer-agent` run on its own (the unit's or an image's entry) is `tracer agent`.
    @Test func tracerAgentAloneIsTheAgentCommand() throws {
        let bad = try LabShell.run(["-c", "\"$0\" --exits 2>&1", TracerBinary.agentPath])
        #expect(bad.status == 64)
        #expect(bad.output == "tracer agent: --exits: only with --exec-log (see 'tracer agent --help')\n", "\(bad.output)")
        let help = try LabShell.run(["-c", "\"$0\" --help", TracerBinary.agentPath])
        #expect(help.status == 0)
        #expect(help.output.contains("--metrics-address"))
    }
}

@Suite(.requires(TracerBinary.isRoot, "SKIPPED LOUDLY: tracing needs root (CAP_BPF, CAP_PERFMON); run the tests as root"),
       .serialized)
struct AgentTests {
    /// What the closure run beside the agent saw.
    final class Observed {
        var programs: Set<UInt32> = []
        var scraped: HTTPGet?
        var healthy: HTTPGet?
        var second: TracerBinary.Result?
    }

    /// The BPF programs a process holds, from its descriptors' fdinfo.
    static func programIDs(of pid: pid_t) -> Set<UInt32> {
        let directory = "/proc/\(pid)/fdinfo"
        let entries = (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []
        var ids: Set<UInt32> = []
        for entry in entries {
            guard let text = try? String(contentsOfFile: "\(directory)/\(entry)", encoding: .utf8) else { continue }
            for line in text.split(separator: "\n") where line.hasPrefix("prog_id:") {
                if let id = UInt32(line.dropFirst("prog_id:".count).trimmingCharacters(in: .whitespaces)) { ids.insert(id) }
            }
        }
        return ids
    }

    /// The agent started with this exact argument, found by its command line.
    static func pid(withArgument argument: String) -> pid_t? {
        let pids = (try? FileManager.default.contentsOfDirectory(atPath: "/proc"))?.compactMap { pid_t($0) } ?? []
        return pids.first { pid in
            guard let data = FileManager.default.contents(atPath: "/proc/\(pid)/cmdline") else { return false }
            let words = data.split(separator: 0).map { String(decoding: $0, as: UTF8.self) }
            // `tracer agent` has replaced itself with `tracer-agent`, same PID.
            return words.first == "tracer-agent" && words.contains(argument)
        }
    }

    static func waitUntil(_ seconds: Double, _ condition: () -> Bool) -> Bool {
        let deadline = Date().addingTimeInterval(seconds)
        while Date() < deadline {
            if condition() { return true }
            usleep(100_000)
        }
        return condition()
    }

    /// A copy of /bin/true under a command name of this run's own, so its counts are exactly the test's.
    static func trueNamed(_ prefix: String) throws -> (command: String, path: String) {
        let command = "\(prefix)\(getpid())"
        let copy = FileManager.default.temporaryDirectory.appendingPathComponent(command).path
        try? FileManager.default.removeItem(atPath: copy)
        try Executables.copy("/bin/true", to: copy)
        return (command, copy)
    }

    /// The series of a host command's execs.
    static func hostExecs(_ command: String) -> String {
        "tracer_execs_total{container=\"\",pod_namespace=\"\",pod=\"\",runtime=\"\",command=\"\(command)\"}"
    }

    /// Beside the running agent: wait until healthy, note its programs, run the burst, scrape
    /// until every one of `samples` reaches its size.
    static func burst(_ count: Int, of path: String, against address: String, port: Int, until samples: [String], into seen: Observed) throws {
        _ = waitUntil(15) { (try? HTTPGet.get(port: port, path: "/healthz"))?.status == 200 }
        seen.healthy = try HTTPGet.get(port: port, path: "/healthz")
        if let pid = pid(withArgument: address) { seen.programs = programIDs(of: pid) }
        for _ in 0..<count { _ = try ChildProcess.spawn([path]).wait() }
        _ = waitUntil(10) {
            let scrape = try? HTTPGet.get(port: port, path: "/metrics")
            seen.scraped = scrape
            let values = scrape?.samples ?? [:]
            return samples.allSatisfy { (values[$0] ?? 0) >= Double(count) }
        }
    }

    @Test func aBurstOfExecsIsCountedScrapedAndSIGTERMDetachesEverything() throws {
        let port = try HTTPGet.freePort()
        let address = "127.0.0.1:\(port)"
        let (command, copy) = try Self.trueNamed("agente2e")
        defer { unlink(copy) }
        let burst = 60
        let execs = Self.hostExecs(command)
        let exits = execs.replacingOccurrences(of: "execs_total", with: "exits_total")
        let seen = Observed()
        let result = try TracerBinary.run(["agent", "--metrics-address", address, "--interval", "500ms"], timeout: 60,
                                          signal: SIGTERM, signalAfter: 0.2) {
            try Self.burst(burst, of: copy, against: address, port: port, until: [execs, exits], into: seen)
        }
        let programs = seen.programs
        #expect(result.status == 0, "\(result.stderr)")
        #expect(seen.healthy?.body == "ok\n")
        let scrape = try #require(seen.scraped)
        #expect(scrape.status == 200)
        #expect(scrape.headers["content-type"] == "text/plain; version=0.0.4; charset=utf-8")
        #expect(scrape.samples[execs] == Double(burst), "\(scrape.body.split(separator: "\n").filter { $0.contains(command) })")
        #expect(scrape.samples[exits] == Double(burst))
        #expect(scrape.samples[#"tracer_session_up{session="top"}"#] == 1)
        #expect(scrape.samples[#"tracer_session_up{session="drops"}"#] == 1)
        #expect(scrape.samples[#"tracer_lost_events_total{source="top_processes"}"#] == 0)
        // promtool, Prometheus's own checker, accepts the exposition.
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("agent-scrape-\(getpid()).txt").path
        try scrape.body.write(toFile: file, atomically: true, encoding: .utf8)
        defer { unlink(file) }
        let promtool = try LabShell.run(["-c", "/usr/bin/promtool check metrics < \(file)"])
        #expect(promtool.status == 0, "\(promtool.output)")
        // The top and drops probes' programs were held, and none is left after SIGTERM.
        #expect(programs.count >= 4, "programs held: \(programs)")
        let left = programsStillLoaded(Array(programs))
        #expect(left.isEmpty, "programs still loaded after SIGTERM: \(left)")
    }

    /// Beside the running agent: once healthy, send the lab's probe until every one of `samples`
    /// shows in a scrape; then, sending nothing for `quiet` seconds, scrape once more (the
    /// kernel's exact counts are read every interval, delivered drops at once).
    static func probe(_ lab: EgressLab, port: Int, until samples: [String], quiet: Double = 0, into seen: Observed) throws {
        _ = waitUntil(15) { (try? HTTPGet.get(port: port, path: "/healthz"))?.status == 200 }
        _ = waitUntil(10) {
            _ = try? lab.probe()
            seen.scraped = try? HTTPGet.get(port: port, path: "/metrics")
            let values = seen.scraped?.samples ?? [:]
            return samples.allSatisfy { (values[$0] ?? 0) >= 1 }
        }
        guard quiet > 0 else { return }
        usleep(useconds_t(quiet * 1_000_000))
        seen.scraped = try? HTTPGet.get(port: port, path: "/metrics")
    }

    /// The egress lab without a default route in its host namespace: the endpoint's packets die
    /// at ip_error, and the agent counts them by the kernel's reason and their direction.
    @Test func aDropOnTheEgressLabIsCountedByReasonAndDirection() throws {
        let lab = try EgressLab.up(EgressLab.uniqueName("ag"))
        defer { lab.down() }
        try lab.breakIt("no-default-route")
        let port = try HTTPGet.freePort()
        let seen = Observed()
        let drops = #"tracer_drops_total{container="",pod_namespace="",pod="",runtime="",reason="IP_INNOROUTES",direction="egress"}"#
        // The kernel's exact count, read every interval.
        let kernel = #"tracer_kernel_drops_total{reason="IP_INNOROUTES"}"#
        let result = try TracerBinary.run(["agent", "--metrics-address", "127.0.0.1:\(port)", "--interval", "500ms"], timeout: 60,
                                          signal: SIGTERM, signalAfter: 0.6) {
            // Two intervals with no drop: the kernel's count read since holds every drop delivered.
            try Self.probe(lab, port: port, until: [drops, kernel], quiet: 1.2, into: seen)
        }
        #expect(result.status == 0, "\(result.stderr)")
        let scrape = try #require(seen.scraped)
        #expect((scrape.samples[drops] ?? 0) >= 1, "\(scrape.body.split(separator: "\n").filter { $0.hasPrefix("tracer_drops_total") })")
        #expect((scrape.samples[kernel] ?? 0) >= scrape.samples[drops] ?? 1,
                "\(scrape.body.split(separator: "\n").filter { $0.hasPrefix("tracer_drops_total") || $0.hasPrefix("tracer_kernel_drops_total") || $0.hasPrefix("tracer_map") })")
        #expect(scrape.samples[#"tracer_lost_events_total{source="drops_ring_buffer"}"#] ?? 0 == 0)
    }

    /// --exec-log: the JSON lines of `tracer exec --output json` on standard output, beside the metrics.
    @Test func execLogWritesTracerExecsJSONLines() throws {
        let port = try HTTPGet.freePort()
        let address = "127.0.0.1:\(port)"
        let (command, copy) = try Self.trueNamed("agentlog")
        defer { unlink(copy) }
        let seen = Observed()
        let execs = Self.hostExecs(command)
        let result = try TracerBinary.run(["agent", "--metrics-address", address, "--interval", "500ms", "--exec-log"], timeout: 60,
                                          signal: SIGTERM, signalAfter: 0.5) {
            try Self.burst(3, of: copy, against: address, port: port, until: [execs], into: seen)
        }
        #expect(result.status == 0, "\(result.stderr)")
        let records = result.lines.compactMap { try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] }
        #expect(records.count == result.lines.count, "every line is JSON: \(result.stdout.prefix(500))")
        let ours = records.filter { $0["type"] as? String == "exec" && $0["comm"] as? String == command }
        #expect(ours.count == 3)
        #expect(ours.allSatisfy { $0["args"] as? [String] == [copy] && $0["ret"] as? Int == 0 })
        #expect(records.last?["type"] as? String == "summary")
        #expect(seen.scraped?.samples[#"tracer_session_up{session="exec"}"#] == 1)
    }

    static func startSecond(port: Int, address: String, into seen: Observed) throws {
        _ = waitUntil(15) { (try? HTTPGet.get(port: port, path: "/healthz"))?.status == 200 }
        seen.second = try TracerBinary.run(["agent", "--metrics-address", address])
    }

    @Test func aPortInUseExitsOneBeforeLoadingAnything() throws {
        let port = try HTTPGet.freePort()
        let address = "127.0.0.1:\(port)"
        let seen = Observed()
        let first = try TracerBinary.run(["agent", "--metrics-address", address], timeout: 60, signal: SIGTERM, signalAfter: 0.1) {
            try Self.startSecond(port: port, address: address, into: seen)
        }
        #expect(first.status == 0, "\(first.stderr)")
        let refused = try #require(seen.second)
        #expect(refused.status == 1)
        #expect(refused.stderr == "tracer agent: cannot listen on \(address): Address already in use\n")
    }
}

/// A real Prometheus server (Debian's `prometheus`) on loopback scrapes the agent every second;
/// its query API then holds the burst's exact count under the series' own labels.
@Suite(.serialized, .requires(geteuid() == 0 && access("/usr/bin/prometheus", X_OK) == 0,
                              Comment(rawValue: "SKIPPED LOUDLY: needs root and Debian's prometheus (tools/setup.sh --test)")))
struct AgentPrometheusTests {
    @Test func aPrometheusServerScrapesTheBurstAndAnswersItsQuery() throws {
        let port = try HTTPGet.freePort()
        let address = "127.0.0.1:\(port)"
        let (command, copy) = try AgentTests.trueNamed("agentprom")
        defer { unlink(copy) }
        let burst = 25
        let seen = AgentTests.Observed()
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("tracer-prometheus-\(getpid())").path
        try FileManager.default.createDirectory(atPath: "\(dir)/data", withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try """
            global:
              scrape_interval: 1s
            scrape_configs:
              - job_name: tracer
                static_configs:
                  - targets: ["\(address)"]
            """.write(toFile: "\(dir)/prometheus.yml", atomically: true, encoding: .utf8)
        let prometheusPort = try HTTPGet.freePort()
        var answer = ""
        let result = try TracerBinary.run(["agent", "--metrics-address", address, "--interval", "500ms"], timeout: 90,
                                          signal: SIGTERM, signalAfter: 0.2) {
            try AgentTests.burst(burst, of: copy, against: address, port: port, until: [AgentTests.hostExecs(command)], into: seen)
            let server = try ChildProcess.spawn(["/usr/bin/prometheus", "--config.file=\(dir)/prometheus.yml", "--storage.tsdb.path=\(dir)/data",
                                                 "--web.listen-address=127.0.0.1:\(prometheusPort)"], outputFile: "\(dir)/prometheus.log")
            defer {
                kill(server.pid, SIGTERM)
                _ = server.wait()
            }
            let query = "/api/v1/query?query=tracer_execs_total%7Bcommand%3D%22\(command)%22%7D"
            _ = AgentTests.waitUntil(30) {
                answer = (try? HTTPGet.get(port: prometheusPort, path: query))?.body ?? ""
                return answer.contains("\"\(burst)\"")
            }
        }
        #expect(result.status == 0, "\(result.stderr)")
        // {"status":"success","data":{"resultType":"vector","result":[{"metric":{...},"value":[<time>,"25"]}]}}
        let object = try #require(try JSONSerialization.jsonObject(with: Data(answer.utf8)) as? [String: Any], "\(answer)")
        let results = try #require((object["data"] as? [String: Any])?["result"] as? [[String: Any]], "\(answer)")
        #expect(results.count == 1, "\(answer)")
        let metric = try #require(results.first?["metric"] as? [String: String])
        #expect(metric["__name__"] == "tracer_execs_total" && metric["command"] == command && metric["job"] == "tracer")
        #expect((results.first?["value"] as? [Any])?.last as? String == String(burst), "\(answer)")
    }
}
