import Foundation
import Glibc
import Testing

/// The built binary: help, usage errors and their exit codes. No privileges needed.
struct CLITests {
    /// Foundation would cost every command about 1.5 ms of start-up (see FileSystem): one import
    /// anywhere in the tracer's modules brings it back.
    @Test func theTracerLinksNoFoundation() throws {
        let binary = try Data(contentsOf: URL(fileURLWithPath: TracerBinary.path))
        #expect(binary.count > 1_000_000)
        #expect(binary.range(of: Data("20FoundationEssentials".utf8)) == nil)
        #expect(binary.range(of: Data("10Foundation".utf8)) == nil)
    }

    @Test func helpListsEverySubcommandWithExamples() throws {
        let result = try TracerBinary.run(["--help"])
        #expect(result.status == 0)
        #expect(result.stdout.contains("check"))
        #expect(result.stdout.contains("exec"))
        let exec = try TracerBinary.run(["exec", "--help"])
        #expect(exec.status == 0)
        #expect(exec.stdout.contains("Examples:"))
        #expect(exec.stdout.contains("--max-lifetime"))
        let check = try TracerBinary.run(["check", "--help"])
        #expect(check.stdout.contains("Examples:"))
        let words = result.stdout.split(whereSeparator: \.isWhitespace).joined(separator: " ")
        #expect(words.contains("5 unknown network namespace (or one that is no endpoint), 6 a port not published (`tracer ingress --port`), 64 usage error"),
                "\(result.stdout)")
    }

    /// The exit codes a script of `tracer ingress` tells apart are in its help, with the options.
    @Test func ingressHelpNamesItsExitCodesAndOptions() throws {
        let root = try TracerBinary.run(["--help"])
        #expect(root.stdout.contains("\n  ingress "))
        let help = try TracerBinary.run(["ingress", "--help"])
        #expect(help.status == 0 && help.stderr.isEmpty, "\(help.stderr)")
        #expect(help.stdout.contains("USAGE: tracer ingress [options]"))
        #expect(help.stdout.contains("Examples:\n  tracer ingress --duration 10s"))
        let paragraph = help.stdout.components(separatedBy: "Exit codes:").dropFirst().first?.components(separatedBy: "\n\n").first ?? ""
        let codes = paragraph.split(whereSeparator: \.isWhitespace).joined(separator: " ")
        for code in ["0 no flow stopped", "2 a flow stopped", "4 unknown container", "5 unknown network namespace",
                     "6 the port is not published", "77 missing privileges"] {
            #expect(codes.contains(code), "\(code) in: \(codes)")
        }
        for option in ["--container <name|id>", "--netns <name>", "--port <port[/proto]>", "--duration <duration>",
                       "--interval <interval>", "--all", "--no-nft-trace", "-o, --output <format>"] {
            #expect(help.stdout.contains("\n  \(option) "), "\(option)")
        }
        let viaHelp = try TracerBinary.run(["help", "ingress"])
        #expect(viaHelp.status == 0 && viaHelp.stdout == help.stdout)
    }

    @Test func optionsTakeTheirValueInlineOrNextAndHelpWorksEverywhere() throws {
        let inline = try TracerBinary.run(["pid", "1", "--output=json"])
        let separate = try TracerBinary.run(["pid", "-o", "json", "--", "1"])
        #expect(inline.status == 0 && separate.status == 0, "\(inline.stderr) \(separate.stderr)")
        #expect(inline.stdout.hasPrefix("{\"") && separate.stdout.hasPrefix("{\""))
        let viaHelp = try TracerBinary.run(["help", "pid"])
        let viaFlag = try TracerBinary.run(["pid", "--help"])
        #expect(viaHelp.status == 0 && viaHelp.stdout == viaFlag.stdout)
        #expect(viaFlag.stdout.contains("USAGE: tracer pid"))
        #expect(viaFlag.stdout.contains("--podman-root <dir>"))
        let bare = try TracerBinary.run([])
        #expect(bare.status == 0 && bare.stdout.contains("SUBCOMMANDS:"))
    }

    @Test func versionPrints() throws {
        let result = try TracerBinary.run(["--version"])
        #expect(result.status == 0)
        #expect(result.stdout.first?.isNumber == true)
    }

    @Test(arguments: [
        (["frobnicate"], "frobnicate"),
        (["exec", "--bogus"], "--bogus"),
        (["exec", "--args", "(unclosed"], "--args"),
        (["exec", "--max-lifetime", "soon"], "--max-lifetime"),
        (["exec", "--duration", "-5s"], "--duration"),
        (["exec", "--pid", "abc"], "--pid"),
        (["exec", "--pid", "0"], "--pid"),
        (["exec", "--args-size", "99999"], "--args-size"),
        (["exec", "--ring-buffer-size", "5000"], "--ring-buffer-size"),
        (["exec", "--count", "0"], "--count"),
        (["exec", "--comm", "a-command-name-too-long"], "--comm"),
        (["check", "--output", "yaml"], "--output"),
        (["exec", "--failed=yes"], "--failed"),
        (["exec", "--comm", "sh", "--comm", "curl"], "--comm"),
        (["exec", "--pid"], "--pid"),
        (["containers", "extra"], "extra"),
        (["pid", "12", "-x"], "-x"),
        (["pid", "1\u{1B}[2J"], "'1\\x1b[2J' is not a number"),
        // An empty --container would match every container.
        (["exec", "--container", ""], "--container: an empty name or id prefix would match every container"),
        (["top", "--container="], "--container: an empty name"),
        (["drops", "--container", ""], "--container: an empty name"),
        (["egress", "--container", ""], "--container: an empty name"),
        (["diagnose", "--container", ""], "--container: an empty name"),
        (["pid", "--container", ""], "--container: an empty name"),
        (["ingress", "--container", ""], "--container: an empty name"),
        // Below 64 bytes of argv nothing useful is left (0 used to print the file name as the argv).
        (["exec", "--args-size", "0"], "--args-size: 0 is outside 64...32768"),
        (["exec", "--args-size", "63"], "--args-size: 63 is outside 64...32768"),
        // One floor for every --interval.
        (["drops", "--interval", "1ns"], "--interval: at least 100ms"),
        (["egress", "--interval", "99ms"], "--interval: at least 100ms"),
        (["top", "--interval", "1ns"], "--interval: at least 100ms"),
        (["ingress", "--interval", "99ms"], "--interval: at least 100ms"),
        (["ingress", "--interval", "often"], "--interval: 'often' is not a duration such as 500ms, 2s, 1.5m or 1h"),
        // A published host port: 1 to 65535, then at most one transport of the three DNAT knows.
        (["ingress", "--port", "0"], "--port: '0' is not a port from 1 to 65535"),
        (["ingress", "--port", "65536"], "--port: '65536' is not a port from 1 to 65535"),
        (["ingress", "--port", "abc"], "--port: 'abc' is not a port from 1 to 65535"),
        (["ingress", "--port", "22/icmp"], "--port: '22/icmp' is not a port from 1 to 65535, optionally with /tcp, /udp or /sctp"),
        (["ingress", "--port", "22/tcp/x"], "--port: '22/tcp/x' is not a port"),
        (["ingress", "--port", "22/"], "--port: '22/' is not a port"),
        (["ingress", "--port", "/tcp"], "--port: '/tcp' is not a port"),
        (["ingress", "--port"], "--port needs a value"),
        (["ingress", "--duration", "soon"], "--duration: 'soon' is not a duration"),
        (["ingress", "--duration", "0s"], "--duration: '0s' must be positive"),
        (["ingress", "--bogus"], "tracer ingress: unknown option '--bogus'"),
        (["ingress", "8080"], "tracer ingress: unexpected argument '8080'"),
        // Numbers of the right kind say what is wrong with them.
        (["exec", "--count", "99999999999999999999"], "--count: '99999999999999999999' is out of range"),
        (["exec", "--pid", "99999999999"], "--pid: '99999999999' is out of range"),
        (["exec", "--duration", "0"], "--duration: '0' must be positive"),
        (["drops", "--duration", "0s"], "--duration: '0s' must be positive"),
        (["exec", "--max-lifetime", "0.1ns"], "--max-lifetime: '0.1ns' is shorter than a nanosecond"),
        (["exec", "--duration", "1e30s"], "--duration: '1e30s' is out of range"),
        // A host root must be a directory with the host's proc/ in it.
        (["pid", "--host-root", "/nonexistent/tracer-root", "1"], "tracer pid: --host-root: /nonexistent/tracer-root is not a directory"),
        (["agent", "--host-root", "/etc/hostname"], "tracer agent: --host-root: /etc/hostname is not a directory"),
        (["containers", "--host-root", "/usr"], "tracer containers: --host-root: /usr has no proc/ under it"),
        // Before the subcommand: an option is named as one; --version takes nothing.
        (["--bogus"], "unknown option '--bogus'"),
        (["-x", "exec"], "unknown option '-x'"),
        (["--version", "extra"], "--version takes no arguments, got 'extra'"),
    ])
    func badInputIsAUsageErrorNamingTheFlag(arguments: [String], flag: String) throws {
        let result = try TracerBinary.run(arguments)
        #expect(result.status == 64, "exit \(result.status) for \(arguments)")
        let first = result.stderr.split(separator: "\n").first.map(String.init) ?? ""
        #expect(first.contains(flag), "first line: \(first)")
        #expect(result.stderr.split(separator: "\n").count == 1, "one line: \(result.stderr)")
        #expect(result.stdout.isEmpty)
    }

    /// HOST_ROOT is read when --host-root is absent, and refused as the flag is; the flag wins.
    @Test func hostRootFromTheEnvironmentIsCheckedAndTheFlagWins() throws {
        let bad = try TracerBinary.run(["netns"], prefix: ["/usr/bin/env", "HOST_ROOT=/nonexistent/tracer-root"])
        #expect(bad.status == 64, "\(bad.stderr)")
        #expect(bad.stderr.hasPrefix("tracer netns: HOST_ROOT: /nonexistent/tracer-root is not a directory"), "\(bad.stderr)")
        #expect(bad.stderr.split(separator: "\n").count == 1, "one line: \(bad.stderr)")
        #expect(bad.stdout.isEmpty)
        let flagWins = try TracerBinary.run(["pid", "--host-root", "/", String(getpid())], prefix: ["/usr/bin/env", "HOST_ROOT=/nonexistent/tracer-root"])
        #expect(flagWins.status == 0, "\(flagWins.stderr)")
        #expect(flagWins.stdout.contains(String(getpid())))
    }
}
