import LabSupport
import Foundation
import Glibc
import Testing

/// The proof of `tracer top` on real podman (runc) containers, each in a network namespace of its own.
/// Nested in `TopTests` so that it never runs beside the tmux test: both need the CPU ranking to themselves.
extension TopTests {
@Suite(.requires(FileManager.default.fileExists(atPath: "/usr/bin/podman"),
                "SKIPPED LOUDLY: needs podman + runc from tools/setup.sh --test"))
struct Containers {
    func snapshot(_ result: TracerBinary.Result) throws -> [String: Any] {
        #expect(result.status == 0, "\(result.stderr)")
        return try #require(try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any])
    }

    /// The container cgroup's own CPU accounting (cgroup2 `cpu.stat` usage_usec, present here in the
    /// unified hierarchy), sampled every 20 ms with CLOCK_BOOTTIME stamps like tracer's.
    final class CgroupCPU: @unchecked Sendable {
        let path: String
        private let lock = NSLock()
        private var samples: [(time: UInt64, usageNanoseconds: UInt64)] = []
        private var running = true
        private var thread: Thread?

        init(cgroup: String) {
            path = "/sys/fs/cgroup/unified\(cgroup)/cpu.stat"
            thread = Thread { [self] in
                while lock.withLock({ running }) {
                    if let usage = read() { lock.withLock { samples.append((Self.now, usage)) } }
                    usleep(20_000)
                }
            }
            thread?.start()
        }

        static var now: UInt64 {
            var ts = timespec()
            clock_gettime(CLOCK_BOOTTIME, &ts)
            return UInt64(ts.tv_sec) * 1_000_000_000 + UInt64(ts.tv_nsec)
        }

        func read() -> UInt64? {
            guard let text = try? String(contentsOfFile: path, encoding: .utf8),
                  let line = text.split(separator: "\n").first(where: { $0.hasPrefix("usage_usec ") }),
                  let usec = UInt64(line.dropFirst("usage_usec ".count)) else { return nil }
            return usec * 1000
        }

        func stop() { lock.withLock { running = false } }

        /// Usage at `time`, interpolated between the samples around it.
        func usage(at time: UInt64) -> Double? {
            lock.withLock {
                guard let after = samples.firstIndex(where: { $0.time >= time }), after > 0 else { return nil }
                let (a, b) = (samples[after - 1], samples[after])
                let f = Double(time - a.time) / Double(max(b.time - a.time, 1))
                return Double(a.usageNanoseconds) + f * (Double(b.usageNanoseconds) - Double(a.usageNanoseconds))
            }
        }
    }

    @Test func aContainerLoopingShortCPUHeavyChildrenIsRankedFirstAndItsCPUMatchesItsCgroup() throws {
        let name = "ttopcpu\(getpid() % 10000)"
        let lab = try ContainerLab.up("podman", name: name, command: "while :; do sh -c 'sha256sum /bin/busybox >/dev/null'; done")
        defer { lab.down() }
        let cgroup = try #require(lab.facts["cgroup"])
        let sampler = CgroupCPU(cgroup: cgroup)
        defer { sampler.stop() }
        #expect(sampler.read() != nil, "no cgroup2 cpu.stat for \(cgroup)")

        // Other work on the host meanwhile: a long CPU burner and a loop of short processes.
        let burner = try Process.run(URL(fileURLWithPath: "/bin/sh"), arguments: ["-c", "while :; do :; done"])
        let chatter = try Process.run(URL(fileURLWithPath: "/bin/sh"), arguments: ["-c", "while :; do /bin/true; sleep 0.01; done"])
        defer {
            for p in [burner, chatter] { kill(p.processIdentifier, SIGKILL); p.waitUntilExit() }
        }
        usleep(500_000)

        let s = try snapshot(try TracerBinary.run(["top", "--once", "--interval", "5s", "--output", "json"] + lab.tracerFlags))
        sampler.stop()
        let rows = try #require(s["rows"] as? [[String: Any]])
        let first = try #require(rows.first)
        let container = try #require(first["container"] as? [String: Any], "first row: \(first)")
        #expect(container["name"] as? String == name)
        #expect(container["id"] as? String == lab.id)
        #expect(first["parent"] as? String == "sh")
        // busybox runs its applets through /proc/self/exe, so the kernel names the command "exe".
        #expect(first["last_args"] as? [String] == ["sh", "-c", "sha256sum /bin/busybox >/dev/null"])

        let end = try #require(s["timestamp_ns"] as? UInt64)
        let interval = try #require(s["interval_ns"] as? UInt64)
        let attributed = rows.filter { ($0["container"] as? [String: Any])?["id"] as? String == lab.id }
            .compactMap { $0["cpu_ns"] as? Int }.reduce(0, +)
        let before = try #require(sampler.usage(at: end - interval))
        let after = try #require(sampler.usage(at: end))
        let accounted = after - before
        #expect(accounted > 0.3e9 * Double(interval) / 1e9, "the container should have been busy: \(accounted) ns")
        let ratio = Double(attributed) / accounted
        print("podman proof: tracer attributes \(attributed) ns to \(name) in \(interval) ns; its cgroup accounted \(Int(accounted)) ns; ratio \(ratio)")
        #expect(abs(ratio - 1) <= 0.10, "attributed \(attributed) ns vs cgroup \(Int(accounted)) ns")
    }

    @Test func aContainerWhoseProcessKeepsExitingWithOneIsACrashLoop() throws {
        let name = "ttopcrash\(getpid() % 10000)"
        let lab = try ContainerLab.up("podman", name: name,
                                      command: "while :; do /bin/sh -c 'echo starting; exit 1'; sleep 0.2; done")
        defer { lab.down() }
        let s = try snapshot(try TracerBinary.run(["top", "--once", "--interval", "4s", "--output", "json"] + lab.tracerFlags))
        let rows = try #require(s["rows"] as? [[String: Any]])
        let ours = rows.filter { ($0["container"] as? [String: Any])?["id"] as? String == lab.id }
        let crasher = try #require(ours.first { $0["crash_loop"] is [String: Any] }, "no crash loop among \(ours)")
        let loop = try #require(crasher["crash_loop"] as? [String: Any])
        #expect((loop["failed_exits"] as? Int ?? 0) >= 5)
        let codes = try #require(loop["exit_codes"] as? [[String: Any]])
        #expect(codes.count == 1)
        #expect(codes.first?["code"] as? Int == 1)
        #expect(codes.first?["count"] as? Int == loop["failed_exits"] as? Int)
        #expect(crasher["command"] as? String == "sh")
        #expect(crasher["last_args"] as? [String] == ["/bin/sh", "-c", "echo starting; exit 1"])
        // The sleeps between restarts exit 0: not a crash loop. (busybox runs applets it finds itself
        // through /proc/self/exe, so the kernel calls those "exe"; a path makes it a plain exec of sh.)
        let sleeps = try #require(ours.first { $0["last_args"] as? [String] == ["sleep", "0.2"] })
        #expect(sleeps["crash_loop"] is NSNull)

        // --container shows this container's rows only; --host none of them.
        let filtered = try snapshot(try TracerBinary.run(["top", "--once", "--interval", "2s", "--output", "json",
                                                          "--container", name] + lab.tracerFlags))
        let filteredRows = try #require(filtered["rows"] as? [[String: Any]])
        #expect(!filteredRows.isEmpty)
        #expect(filteredRows.allSatisfy { ($0["container"] as? [String: Any])?["id"] as? String == lab.id }, "\(filteredRows)")
        let hostOnly = try snapshot(try TracerBinary.run(["top", "--once", "--interval", "2s", "--output", "json", "--host"] + lab.tracerFlags))
        let hostRows = try #require(hostOnly["rows"] as? [[String: Any]])
        #expect(!hostRows.contains { ($0["container"] as? [String: Any])?["id"] as? String == lab.id }, "\(hostRows)")
        #expect(try TracerBinary.run(["top", "--once", "--container", "no-such-\(name)"] + lab.tracerFlags).status == 4)

        // The table flags it too.
        let table = try TracerBinary.run(["top", "--once", "--interval", "3s"] + lab.tracerFlags)
        #expect(table.lines.contains { $0.hasPrefix("CRASH LOOP: \(name) > ") && $0.contains("exit 1 x") }, "\(table.stdout)")
        #expect(table.lines.contains { $0.hasPrefix("!") && $0.contains(name.prefix(9) + "…") }, "\(table.stdout)")
    }
}
}
