import Foundation
import Glibc
import LabSupport
import Testing

/// Every signal that ends a tracing command runs the same teardown (StopSignal): the egress lab's
/// nftables trace table is removed from the namespace it was added to, `tracer exec` prints its
/// summary, `tracer top` gives the terminal back. The exit status is the command's own for SIGINT,
/// SIGTERM and SIGPIPE, 128 + the signal's number for the others.
@Suite(.serialized, .requires(TracerBinary.isRoot, "SKIPPED LOUDLY: tracing needs root (CAP_BPF, CAP_PERFMON); run the tests as root"))
struct SignalTests {
    struct Stop: CustomStringConvertible, Sendable {
        var signal: Int32
        var name: String
        /// The status when the command itself would exit with `own`.
        func status(own: Int32) -> Int32 { [SIGINT, SIGTERM, SIGPIPE].contains(signal) ? own : 128 + signal }
        var description: String { name }
    }

    static let stops: [Stop] = [
        Stop(signal: SIGHUP, name: "HUP"), Stop(signal: SIGINT, name: "INT"), Stop(signal: SIGTERM, name: "TERM"),
        Stop(signal: SIGQUIT, name: "QUIT"), Stop(signal: SIGUSR1, name: "USR1"), Stop(signal: SIGUSR2, name: "USR2"),
        Stop(signal: SIGALRM, name: "ALRM"), Stop(signal: SIGPIPE, name: "PIPE"),
    ]

    /// Our parent may ignore some of these (a shell without job control ignores SIGINT and SIGQUIT
    /// in background jobs): the tracer must stop on them all the same. Not SIGHUP: an ignored
    /// SIGHUP is `nohup`, which the tracer honours (`nohupKeepsTheTracerRunning`).
    static let ignoringEveryStopSignal = ["/bin/sh", "-c", "trap '' INT QUIT USR1 USR2 ALRM PIPE TERM; exec \"$0\" \"$@\""]

    static var egressLabUsable: Bool {
        FileManager.default.isExecutableFile(atPath: "/usr/sbin/iptables-nft") && FileManager.default.isExecutableFile(atPath: "/usr/bin/ping")
    }

    @Test(.requires(egressLabUsable, "SKIPPED LOUDLY: the egress lab needs iproute2, iptables-nft, ping and busybox (tools/setup.sh --test)"),
          arguments: stops)
    func egressRemovesItsTraceTableOnEverySignal(_ stop: Stop) throws {
        let lab = try EgressLab.up(EgressLab.uniqueName("s\(stop.signal)"))
        defer { lab.down() }
        // A firewall drop makes egress add its trace table in the lab's host side.
        try lab.breakIt("forward-rule-drop")
        var tablesWhileRunning: [String] = []
        let result = try TracerBinary.run(["egress", "--netns", lab.endpointNetns, "--output", "json"],
                                          prefix: Self.ignoringEveryStopSignal, timeout: 60,
                                          signal: stop.signal, signalAfter: 0.1, whileRunning: {
            for _ in 0..<20 where tablesWhileRunning.isEmpty {
                _ = try lab.probe()
                tablesWhileRunning = try lab.traceTables()
            }
        })
        #expect(tablesWhileRunning.count == 1, "the trace table was never added: \(tablesWhileRunning)")
        #expect(try lab.traceTables().isEmpty, "left behind after SIG\(stop.name)")
        // The flow the firewall stopped is still reported: exit 2 where the command's own status stands.
        #expect(result.status == stop.status(own: 2), "SIG\(stop.name): exit \(result.status): \(result.stderr)")
        let last = result.lines.last ?? ""
        #expect(last.hasPrefix("{\"type\":\"summary\""), "\(last)")
        #expect(result.stdout.contains("\"code\":\"forward-rule-drop\""), "\(result.stdout)")
    }

    @Test(arguments: stops)
    func execPrintsItsSummaryOnEverySignal(_ stop: Stop) throws {
        let result = try TracerBinary.run(["exec"], prefix: Self.ignoringEveryStopSignal, signal: stop.signal, signalAfter: 1.5)
        #expect(result.status == stop.status(own: 0), "SIG\(stop.name): exit \(result.status): \(result.stderr)")
        #expect(result.lines.first?.hasPrefix("TIME") == true)
        let summary = result.stderr.split(separator: "\n").last.map(String.init) ?? ""
        #expect(summary.hasPrefix("tracer exec: ") && summary.contains(" execs, ") && summary.contains(" lost in "), "\(result.stderr)")
    }

    /// Under nohup (SIGHUP ignored by the parent) a hang-up does not stop the tracer; SIGTERM still does.
    @Test func nohupKeepsTheTracerRunning() throws {
        let pidFile = FileManager.default.temporaryDirectory.appendingPathComponent("tracer-nohup-\(getpid()).pid").path
        defer { unlink(pidFile) }
        let nohup = ["/bin/sh", "-c", "trap '' HUP; echo $$ > \(pidFile); exec \"$0\" \"$@\""]
        var alive = false
        let result = try TracerBinary.run(["exec"], prefix: nohup, signal: SIGTERM, signalAfter: 0.5, whileRunning: {
            let text = String(decoding: FileManager.default.contents(atPath: pidFile) ?? Data(), as: UTF8.self)
            guard let pid = Int32(text.trimmingCharacters(in: .whitespacesAndNewlines)) else { return }
            kill(pid, SIGHUP)
            usleep(1_000_000)
            alive = kill(pid, 0) == 0
        })
        #expect(alive, "a hang-up under nohup stopped the tracer")
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stderr.contains("tracer exec: "), "the summary after SIGTERM: \(result.stderr)")
    }

    /// The interactive view under tmux: after each signal the shell's screen, cursor and modes are back.
    @Test(.requires(FileManager.default.fileExists(atPath: "/usr/bin/tmux"), "SKIPPED LOUDLY: needs tmux (tools/setup.sh --test)"))
    func topRestoresTheTerminalOnEverySignal() throws {
        let tmux = TopTests.Tmux()
        defer { tmux.kill() }
        let pidFile = FileManager.default.temporaryDirectory.appendingPathComponent("tracer-top-signal-\(getpid()).pid").path
        defer { unlink(pidFile) }
        try tmux.run(["new-session", "-d", "-s", "top", "-x", "100", "-y", "24", "env PS1='$ ' TERM=xterm sh"])
        for stop in Self.stops {
            unlink(pidFile)
            let top = "clear; sh -c 'echo $$ > \(pidFile); exec \(TracerBinary.path) top --interval 1s'; echo EXITED:$?"
            try tmux.run(["send-keys", "-t", "top", top, "Enter"])
            try tmux.wait { $0.first?.hasPrefix("tracer top") == true }
            #expect(try tmux.state() == "1 0", "SIG\(stop.name): the view is up (alternate screen, cursor hidden)")
            let pid = try #require(Int32(String(decoding: FileManager.default.contents(atPath: pidFile) ?? Data(), as: UTF8.self)
                .trimmingCharacters(in: .whitespacesAndNewlines)))
            kill(pid, stop.signal)
            let expected = "EXITED:\(stop.status(own: 0))"
            let screen = try tmux.wait { $0.contains { $0.hasSuffix(expected) } }
            #expect(screen.contains { $0.hasSuffix(expected) }, "SIG\(stop.name): \(screen)")
            #expect(try tmux.state() == "0 1", "SIG\(stop.name): normal screen, cursor shown")
            try tmux.run(["send-keys", "-t", "top", "clear; stty -a | tr ' ;' '\\n\\n' | grep -x -e icanon -e echo | tr '\\n' ' '; echo MODES", "Enter"])
            let modes = try tmux.wait { $0.contains { $0.hasSuffix("icanon echo MODES") } }
            #expect(modes.contains { $0.hasSuffix("icanon echo MODES") }, "SIG\(stop.name): terminal modes restored: \(modes)")
        }
    }
}
