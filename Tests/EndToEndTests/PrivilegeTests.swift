import LabSupport
import Foundation
import Glibc
import Testing

/// The built binary with exactly the capabilities setpriv leaves it, as uid 65534 (tracefs here
/// is root's, mode 0700) and as uid 0: what `tracer check` says and what each command does.
@Suite(.requires(TracerBinary.isRoot && FileManager.default.isExecutableFile(atPath: "/usr/bin/setpriv"),
                "SKIPPED LOUDLY: needs root and setpriv (util-linux) to hand the tracer chosen capabilities"))
struct PrivilegeTests {
    /// `setpriv` as uid `uid` with exactly `capabilities` ("bpf", "perfmon", ...) effective.
    static func only(_ capabilities: [String], uid: Int = 65534) -> [String] {
        let caps = (["-all"] + capabilities.map { "+" + $0 }).joined(separator: ",")
        let user = uid == 0 ? [] : ["--reuid=\(uid)", "--regid=\(uid)", "--clear-groups"]
        return ["/usr/bin/setpriv"] + user + ["--inh-caps=\(caps)", "--ambient-caps=\(caps)", "--bounding-set=\(caps)"]
    }

    static var tracefsIsRootOnly: Bool {
        var info = stat()
        return stat("/sys/kernel/tracing", &info) == 0 && info.st_uid == 0 && info.st_mode & 0o007 == 0
    }

    func oneLine(_ result: TracerBinary.Result) -> String {
        let lines = result.stderr.split(separator: "\n")
        return lines.count == 1 ? String(lines[0]) : "\(lines.count) lines: \(result.stderr)"
    }

    /// What `tracer check` used to advise (CAP_BPF + CAP_PERFMON) is not enough for another uid:
    /// check says tracefs is mounted but not readable, and names CAP_DAC_READ_SEARCH, never the kernel.
    @Test(.requires(tracefsIsRootOnly, "SKIPPED LOUDLY: tracefs here is readable by other users; nothing to deny"))
    func bpfAndPerfmonAloneAreRefusedNamingReadSearch() throws {
        let prefix = Self.only(["bpf", "perfmon"])
        let check = try TracerBinary.run(["check"], prefix: prefix)
        #expect(check.status == 1, "\(check.stdout)")
        let tracefs = try #require(check.lines.first { $0.split(separator: " ").dropFirst().first == "tracefs" })
        #expect(tracefs.contains("FAIL") && tracefs.contains("not readable") && tracefs.contains("EACCES"), "\(tracefs)")
        #expect(!check.stdout.contains("tracefs is not mounted"), "\(check.stdout)")
        #expect(!check.stdout.contains("Linux 5.8"), "\(check.stdout)")
        let privileges = try #require(check.lines.first { $0.split(separator: " ").dropFirst().first == "privileges" })
        #expect(privileges.contains("CAP_DAC_READ_SEARCH"), "\(privileges)")
        #expect(check.stdout.contains("sudo setcap cap_bpf,cap_perfmon,cap_dac_read_search+ep"), "\(check.stdout)")

        for arguments in [["exec", "--duration", "1s"], ["top", "--once", "--interval", "200ms"], ["drops", "--duration", "1s"]] {
            let result = try TracerBinary.run(arguments, prefix: prefix)
            #expect(result.status == 77, "\(arguments): exit \(result.status): \(result.stderr)")
            let line = oneLine(result)
            #expect(line.hasPrefix("tracer \(arguments[0]): needs CAP_DAC_READ_SEARCH to read tracefs"), "\(line)")
            #expect(!line.contains("CAP_BPF"), "CAP_BPF is held: \(line)")
            #expect(result.stdout.isEmpty)
        }
    }

    /// The set `tracer check` now names works: check passes, the tracing commands run.
    @Test func theCapabilitiesCheckNamesAreEnough() throws {
        let prefix = Self.only(["bpf", "perfmon", "dac_read_search"])
        let check = try TracerBinary.run(["check"], prefix: prefix)
        #expect(check.status == 0, "\(check.stdout)")
        #expect(check.lines.first == "tracer check: tracing works here")
        #expect(check.lines.contains { $0.contains("warn") && $0.contains("egress") && $0.contains("CAP_SYS_ADMIN") && $0.contains("CAP_NET_ADMIN") })
        let exec = try TracerBinary.run(["exec", "--output", "json", "--duration", "2s"], prefix: prefix, whileRunning: {
            try Process.run(URL(fileURLWithPath: "/bin/true"), arguments: []).waitUntilExit()
        })
        #expect(exec.status == 0, "\(exec.stderr)")
        #expect(exec.lines.contains { $0.contains("\"filename\":\"/bin/true\"") }, "\(exec.stdout)")
        let top = try TracerBinary.run(["top", "--once", "--interval", "300ms", "--output", "json"], prefix: prefix)
        #expect(top.status == 0, "\(top.stderr)")
        #expect(top.stdout.hasPrefix("{\"type\":\"snapshot\""))
        let drops = try TracerBinary.run(["drops", "--duration", "1s", "--output", "json"], prefix: prefix)
        #expect(drops.status == 0, "\(drops.stderr)")
        // What it does without CAP_SYS_ADMIN and CAP_SYSLOG is said, not hidden.
        #expect(drops.stderr.contains("note: without CAP_SYS_ADMIN"), "\(drops.stderr)")
        // Entering namespaces and the firewall need more: refused before any work, naming both.
        for command in ["egress", "diagnose"] {
            let result = try TracerBinary.run([command], prefix: prefix)
            #expect(result.status == 77, "\(command): \(result.stderr)")
            let line = oneLine(result)
            #expect(line.contains("CAP_SYS_ADMIN to enter network namespaces") && line.contains("CAP_NET_ADMIN"), "\(line)")
        }
    }

    /// uid 0 owns tracefs: CAP_BPF and CAP_PERFMON are all exec needs.
    @Test func rootNeedsOnlyBPFAndPerfmon() throws {
        let prefix = Self.only(["bpf", "perfmon"], uid: 0)
        let check = try TracerBinary.run(["check"], prefix: prefix)
        #expect(check.status == 0, "\(check.stdout)")
        let exec = try TracerBinary.run(["exec", "--duration", "1s"], prefix: prefix)
        #expect(exec.status == 0, "\(exec.stderr)")
    }

    /// No capabilities at all: 77 from every command that traces or enters namespaces, each naming what it lacks.
    @Test(arguments: [65534, 0])
    func noCapabilitiesIs77Everywhere(uid: Int) throws {
        let prefix = Self.only([], uid: uid)
        let cases: [([String], String)] = [
            (["exec"], "CAP_BPF and CAP_PERFMON"), (["top"], "CAP_BPF and CAP_PERFMON"),
            (["drops"], "CAP_BPF and CAP_PERFMON"), (["egress"], "CAP_BPF and CAP_PERFMON"),
            (["diagnose"], "CAP_SYS_ADMIN"), (["netns"], "CAP_SYS_ADMIN"),
        ]
        for (arguments, named) in cases {
            let result = try TracerBinary.run(arguments, prefix: prefix)
            #expect(result.status == 77, "uid \(uid) \(arguments): exit \(result.status): \(result.stderr)")
            let line = oneLine(result)
            #expect(line.hasPrefix("tracer \(arguments[0]): needs ") && line.contains(named) && line.contains("tracer check"), "\(line)")
            if uid != 0 && arguments[0] != "diagnose" && arguments[0] != "netns" {
                #expect(line.contains("CAP_DAC_READ_SEARCH"), "\(line)")
            }
        }
        let check = try TracerBinary.run(["check"], prefix: prefix)
        #expect(check.status == 1)
        #expect(!check.stdout.contains("Linux 5.8"), "a permission is never blamed on the kernel: \(check.stdout)")
    }
}
