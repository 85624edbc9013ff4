import LabSupport
import Foundation
import Glibc
import Testing

/// `tracer top` as a user runs it: usage errors, one JSON snapshot, and the interactive view under tmux.
struct TopUsageTests {
    @Test(arguments: [
        (["top", "--by", "container,pod"], "valid keys: container, parent, command"),
        (["top", "--sort", "memory"], "valid keys: cpu, execs, exits, failures, failed-exits, avg-lifetime, max-lifetime"),
        (["top", "--interval", "10ms"], "--interval"),
        (["top", "--limit", "0"], "--limit"),
    ])
    func badKeysAreUsageErrorsListingTheValidOnes(arguments: [String], message: String) throws {
        let result = try TracerBinary.run(arguments)
        #expect(result.status == 64)
        #expect(result.stderr.contains(message), "\(result.stderr)")
        #expect(result.stdout.isEmpty)
    }
}

@Suite(.requires(TracerBinary.isRoot, "SKIPPED LOUDLY: tracing needs root (CAP_BPF, CAP_PERFMON); run the tests as root"),
       .serialized)
struct TopTests {
    /// A shell loop running a CPU-heavy short-lived command under a name of its own; stopped by pid.
    final class ShellLoop {
        let process: Process
        let command: String
        let copy: String

        init(prefix: String) throws {
            command = "\(prefix)\(getpid())"
            copy = FileManager.default.temporaryDirectory.appendingPathComponent(command).path
            try? FileManager.default.removeItem(atPath: copy)
            try Executables.copy("/usr/bin/sha256sum", to: copy)
            process = Process()
            process.executableURL = URL(fileURLWithPath: "/bin/sh")
            process.arguments = ["-c", "while :; do \(copy) /bin/bash >/dev/null; done"]
            try process.run()
        }

        func stop() {
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
            unlink(copy)
        }
    }

    @Test func onceJSONRanksACPUHeavyShellLoopFirst() throws {
        let loop = try ShellLoop(prefix: "e2esha")
        defer { loop.stop() }
        let result = try TracerBinary.run(["top", "--once", "--interval", "2s", "--output", "json"])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.lines.count == 1)
        let snapshot = try #require(try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any])
        #expect(snapshot["type"] as? String == "snapshot")
        let interval = try #require(snapshot["interval_ns"] as? Int)
        // The measured interval: never short, and late by at most what a loaded machine adds.
        #expect(interval >= 1_990_000_000 && interval < 3_000_000_000, "interval \(interval) ns")
        let totals = try #require(snapshot["totals"] as? [String: Any])
        #expect(totals["lost"] as? Int == 0)
        let rows = try #require(snapshot["rows"] as? [[String: Any]])
        let first = try #require(rows.first)
        #expect(first["command"] as? String == loop.command, "rows: \(rows.prefix(3))")
        #expect(first["parent"] as? String == "sh")
        #expect(first["container"] is NSNull)
        #expect((first["execs"] as? Int ?? 0) > 10)
        #expect(first["last_args"] as? [String] == [loop.copy, "/bin/bash"])
        let cpu = rows.compactMap { $0["cpu_ns"] as? Int }
        #expect(cpu == cpu.sorted(by: >), "rows sorted by CPU")
        #expect((totals["cpu_ns"] as? Int ?? 0) >= cpu.reduce(0, +))
    }

    /// A tmux server of our own (its own socket), so the user's sessions are never touched.
    struct Tmux {
        let socket = "tracer-e2e-\(getpid())"

        /// Output goes through a file: the server that the first command starts would keep a pipe open.
        @discardableResult
        func run(_ arguments: [String]) throws -> String {
            let (_, output) = try ContainerLab.shell(["-c", "exec /usr/bin/tmux -L \"$0\" \"$@\"", socket] + arguments)
            return output
        }

        func screen() throws -> [String] {
            try run(["capture-pane", "-p", "-t", "top"]).split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        }

        func state() throws -> String {
            try run(["display-message", "-p", "-t", "top", "#{alternate_on} #{cursor_flag}"]).trimmingCharacters(in: .whitespacesAndNewlines)
        }

        /// Polls the screen until `done` holds or 15 s pass; returns the last screen.
        @discardableResult
        func wait(until done: ([String]) -> Bool) throws -> [String] {
            var lines: [String] = []
            for _ in 0..<150 {
                lines = try screen()
                if done(lines) { break }
                usleep(100_000)
            }
            return lines
        }

        func kill() { _ = try? run(["kill-server"]) }
    }

    /// The shell printed the exit status: a line ending in it (after the resizes, tmux may join the
    /// shell's wrapped lines with the next, so the line need not be only that).
    func exited(_ screen: [String]) -> Bool { screen.contains { $0.hasSuffix("EXITED:0") } }

    @Test(.requires(FileManager.default.fileExists(atPath: "/usr/bin/tmux"), "SKIPPED LOUDLY: needs tmux (tools/setup.sh --test)"))
    func interactiveViewFollowsResizesAndRestoresTheTerminal() throws {
        let loop = try ShellLoop(prefix: "tmx") // short enough for the 10-column COMMAND
        defer { loop.stop() }
        let tmux = Tmux()
        defer { tmux.kill() }
        let pidFile = FileManager.default.temporaryDirectory.appendingPathComponent("tracer-top-\(getpid()).pid").path
        defer { unlink(pidFile) }
        try tmux.run(["new-session", "-d", "-s", "top", "-x", "80", "-y", "24", "env PS1='$ ' TERM=xterm sh"])
        let top = "sh -c 'echo $$ > \(pidFile); exec \(TracerBinary.path) top --interval 1s'; echo EXITED:$?"

        // q: the header, the rows, 80 columns; then the shell's own screen back, cursor shown, modes restored.
        try tmux.run(["send-keys", "-t", "top", top, "Enter"])
        var screen = try tmux.wait { $0.contains { $0.contains(loop.command) } }
        #expect(screen.first?.hasPrefix("tracer top") == true, "\(screen)")
        #expect(screen.contains { $0.contains("COMMAND") && $0.contains("%CPU") && $0.contains("ARGS") })
        #expect(screen.contains { $0.contains("sh") && $0.contains(loop.command) })
        #expect(screen.allSatisfy { $0.count <= 80 })
        #expect(try tmux.state() == "1 0", "alternate screen on, cursor hidden")

        // Narrower than 40 columns: it degrades and keeps running; wider again: the columns come back.
        try tmux.run(["resize-window", "-t", "top", "-x", "30", "-y", "12"])
        screen = try tmux.wait { $0.contains { $0.contains("%CPU") && !$0.contains("PARENT") } }
        #expect(screen.allSatisfy { $0.count <= 30 }, "\(screen)")
        #expect(screen.contains { $0.contains("%CPU") })
        try tmux.run(["resize-window", "-t", "top", "-x", "120", "-y", "30"])
        screen = try tmux.wait { $0.contains { $0.contains("PARENT") && $0.contains("CPU/s") } }
        #expect(screen.contains { $0.contains("PARENT") && $0.contains("EXIT/s") && $0.contains("CPU/s") }, "\(screen)")

        try tmux.run(["send-keys", "-t", "top", "q"])
        screen = try tmux.wait(until: exited)
        #expect(exited(screen), "\(screen)")
        #expect(!screen.contains { $0.hasPrefix("tracer top") }, "the view is gone with the alternate screen")
        #expect(try tmux.state() == "0 1", "normal screen, cursor shown")
        try tmux.run(["send-keys", "-t", "top", "clear; stty -a | tr ' ;' '\\n\\n' | grep -x -e icanon -e echo | tr '\\n' ' '; echo MODES", "Enter"])
        screen = try tmux.wait { $0.contains { $0.hasSuffix("icanon echo MODES") } }
        #expect(screen.contains { $0.hasSuffix("icanon echo MODES") }, "\(screen)")

        // Ctrl-C, then SIGTERM to the tracer itself: the same clean exit.
        try tmux.run(["send-keys", "-t", "top", "clear; " + top, "Enter"])
        try tmux.wait { $0.first?.hasPrefix("tracer top") == true }
        try tmux.run(["send-keys", "-t", "top", "C-c"])
        screen = try tmux.wait(until: exited)
        #expect(exited(screen), "\(screen)")
        #expect(try tmux.state() == "0 1")

        try tmux.run(["send-keys", "-t", "top", "clear; " + top, "Enter"])
        try tmux.wait { $0.first?.hasPrefix("tracer top") == true }
        let pid = try #require(Int32(String(decoding: FileManager.default.contents(atPath: pidFile) ?? Data(), as: UTF8.self)
            .trimmingCharacters(in: .whitespacesAndNewlines)))
        kill(pid, SIGTERM)
        screen = try tmux.wait(until: exited)
        #expect(exited(screen), "\(screen)")
        #expect(try tmux.state() == "0 1")

        // Ctrl-Z: the shell's screen and cursor back while it is stopped; fg: the view again; q ends it.
        // (Run alone: a stopped job would let the shell go on to the `echo` of the lines above.)
        func waitForState(_ wanted: String) throws -> String {
            var state = try tmux.state()
            for _ in 0..<150 where state != wanted {
                usleep(100_000)
                state = try tmux.state()
            }
            return state
        }
        try tmux.run(["send-keys", "-t", "top", "clear; \(TracerBinary.path) top --interval 1s", "Enter"])
        try tmux.wait { $0.first?.hasPrefix("tracer top") == true }
        try tmux.run(["send-keys", "-t", "top", "C-z"])
        #expect(try waitForState("0 1") == "0 1", "normal screen, cursor shown while stopped")
        screen = try tmux.wait { $0.contains { $0.contains("Stopped") } }
        #expect(screen.contains { $0.contains("Stopped") }, "\(screen)")
        try tmux.run(["send-keys", "-t", "top", "fg", "Enter"])
        screen = try tmux.wait { $0.first?.hasPrefix("tracer top") == true }
        #expect(screen.first?.hasPrefix("tracer top") == true, "\(screen)")
        #expect(try waitForState("1 0") == "1 0", "alternate screen again after fg")
        try tmux.run(["send-keys", "-t", "top", "q"])
        #expect(try waitForState("0 1") == "0 1", "normal screen after q")
    }
}
