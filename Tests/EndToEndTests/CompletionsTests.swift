import LabSupport
import Foundation
import Glibc
import Testing
import TracerCore

/// `tracer completions`: the scripts run in the real shells. No privileges needed but for the
/// container names.
struct CompletionsTests {
    /// The script for `shell`, written to a file of its own; removed by the caller.
    func script(_ shell: String) throws -> String {
        let result = try TracerBinary.run(["completions", shell])
        #expect(result.status == 0, "\(result.stderr)")
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("tracer-completions-\(getpid())-\(UUID().uuidString).\(shell)").path
        try result.stdout.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    func quoted(_ word: String) -> String { "'" + word.replacingOccurrences(of: "'", with: "'\\''") + "'" }

    /// COMPREPLY after bash's completion function ran on `words` (the last one is being completed).
    func bashComplete(_ script: String, _ words: [String]) throws -> [String] {
        let line = ([TracerBinary.path] + words).map(quoted).joined(separator: " ")
        let program = """
            . \(quoted(script))
            COMP_WORDS=(\(line)); COMP_CWORD=$(( ${#COMP_WORDS[@]} - 1 )); COMPREPLY=()
            _tracer
            printf '%s\\n' "${COMPREPLY[@]}"
            """
        let (status, output) = try LabShell.run(["-c", program])
        #expect(status == 0, "\(output)")
        return output.split(separator: "\n").map(String.init)
    }

    @Test func withoutAShellOrWithAnUnknownOneIsAUsageErrorNamingTheShells() throws {
        let none = try TracerBinary.run(["completions"])
        #expect(none.status == 64)
        #expect(none.stderr.contains("bash, zsh, fish"), "\(none.stderr)")
        let unknown = try TracerBinary.run(["completions", "tcsh"])
        #expect(unknown.status == 64)
        #expect(unknown.stderr.contains("'tcsh'") && unknown.stderr.contains("bash, zsh, fish"), "\(unknown.stderr)")
        #expect(unknown.stdout.isEmpty)
        let two = try TracerBinary.run(["completions", "bash", "zsh"])
        #expect(two.status == 64)
    }

    @Test func bashCompletesSubcommandsOptionsAndTheirValues() throws {
        let path = try script("bash")
        defer { unlink(path) }
        let sortKeys = TopSortKey.allCases.map(\.rawValue)
        let cases: [([String], [String])] = [
            (["ex"], ["exec"]),
            (["top", "--so"], ["--sort"]),
            (["top", "--sort", ""], sortKeys),
            (["top", "--sort", "=", "exe"], ["execs"]),            // --sort=exe, as bash splits it
            (["top", "--by", "container,"], ["container,parent", "container,command"]),
            (["exec", "-o", ""], OutputFormat.allCases.map(\.rawValue)),
            (["exec", "--output", "j"], ["json"]),
            (["exec", "--max-l"], ["--max-lifetime"]),
            (["exec", "--pid", ""], []),                             // a number: nothing to offer
            (["completions", ""], ["bash", "zsh", "fish"]),
            (["help", "di"], ["diagnose"]),
            (["--ver"], ["--version"]),
            (["top", "--sort", "cpu", "--on"], ["--once"]),
            (["ing"], ["ingress"]),
            (["ingress", "--por"], ["--port"]),
            (["ingress", "--no"], ["--no-nft-trace"]),
            (["ingress", "--port", ""], []),                         // a port: nothing to offer
            (["ingress", "--port", "8080/tcp", "--dur"], ["--duration"]),
            (["ingress", "-o", ""], OutputFormat.allCases.map(\.rawValue)),
        ]
        for (words, expected) in cases {
            let reply = try bashComplete(path, words)
            #expect(reply == expected, "tracer \(words.joined(separator: " "))<TAB> gave \(reply)")
        }
        // A directory option completes directories only.
        let directories = try bashComplete(path, ["pid", "--docker-root", "/pro"])
        #expect(directories == ["/proc"])
    }

    /// Every subcommand of `tracer --help` and every long option of each `tracer NAME --help` is
    /// in each script, under its own subcommand; the hidden one is in none.
    @Test func everySubcommandAndLongOptionIsInEveryScript() throws {
        let root = try TracerBinary.run(["--help"])
        let commands = root.stdout.components(separatedBy: "SUBCOMMANDS:")[1].components(separatedBy: "OPTIONS:")[0]
            .split(separator: "\n").filter { $0.hasPrefix("  ") && !$0.hasPrefix("   ") }   // not the help's wrapped lines
            .compactMap { $0.split(separator: " ").first.map(String.init) }
        #expect(commands.contains("completions") && commands.contains("top") && commands.contains("ingress") && commands.count >= 11, "\(commands)")
        let scripts = try ["bash", "zsh", "fish"].map { try TracerBinary.run(["completions", $0]).stdout }
        let (bash, zsh, fish) = (scripts[0], scripts[1], scripts[2])
        for command in commands {
            let help = try TracerBinary.run([command, "--help"]).stdout
            let options = help.components(separatedBy: "OPTIONS:")[1].split(separator: "\n").compactMap { line -> String? in
                // An option's row starts with it; its help's wrapped lines are indented further.
                guard line.hasPrefix("  -"), let range = line.range(of: "--") else { return nil }
                return String(line[range.lowerBound...].prefix { $0 != " " && $0 != "," })
            }
            #expect(options.contains("--help"))
            let bashBlock = bash.components(separatedBy: "\n    '\(command)')\n")[1].components(separatedBy: "\n        ;;")[0]
            let zshBlock = zsh.components(separatedBy: "\n    (\(command))\n")[1].components(separatedBy: "\n      ;;")[0]
            let fishLines = fish.split(separator: "\n").filter { $0.contains("'__tracer_using \(command)'") }.joined(separator: "\n")
            #expect(bash.contains("'\(command)'") && zsh.contains("'\(command):") && fish.contains("-a '\(command)'"))
            for option in options {
                #expect(bashBlock.contains("'\(option)'"), "bash: tracer \(command) \(option)")
                #expect(["'[", "='[", "=}", "}"].contains { zshBlock.contains(option + $0) }, "zsh: tracer \(command) \(option)")
                #expect(fishLines.contains("-l '\(option.dropFirst(2))'"), "fish: tracer \(command) \(option)")
            }
        }
        for script in scripts {
            #expect(!script.contains("'--completion-names'") && !script.contains("-l 'completion-names'"))
        }
    }

    @Test(.requires(FileManager.default.isExecutableFile(atPath: "/usr/bin/zsh"), "SKIPPED LOUDLY: needs zsh (tools/setup.sh --test)"))
    func zshParsesTheScriptAndRegistersIt() throws {
        let path = try script("zsh")
        defer { unlink(path) }
        let dump = path + ".zcompdump"
        defer { unlink(dump) }
        let (status, output) = try LabShell.run(["-c", """
            zsh -n \(quoted(path)) || exit 1
            zsh -f -c 'autoload -U compinit; compinit -u -d \(dump); source \(path); print -r -- $_comps[tracer]'
            """])
        #expect(status == 0, "\(output)")
        #expect(output.split(separator: "\n").last == "_tracer", "\(output)")
    }

    /// fish completes a command line itself (`complete -C`), so its script is run, not only parsed.
    @Test(.requires(FileManager.default.isExecutableFile(atPath: "/usr/bin/fish"), "SKIPPED LOUDLY: needs fish (tools/setup.sh --test)"))
    func fishParsesTheScriptAndCompletes() throws {
        let path = try script("fish")
        defer { unlink(path) }
        func complete(_ line: String) throws -> [String] {
            let (status, output) = try LabShell.run(["-c", "fish --no-execute \(quoted(path)) && fish --no-config -c \(quoted("source \(quoted(path)); complete -C \(quoted(line))"))"])
            #expect(status == 0, "\(output)")
            return output.split(separator: "\n").map { String($0.prefix { $0 != "\t" }) }
        }
        #expect(try complete("tracer ex") == ["exec"])
        #expect(try complete("tracer top --sort f") == ["failed-exits", "failures"])
        #expect(Set(try complete("tracer exec -o ")) == ["table", "json"])
        #expect(Set(try complete("tracer top --by container,")) == ["container,parent", "container,command"])
        #expect(try complete("tracer completions z") == ["zsh"])
        #expect(try complete("tracer ingress --no") == ["--no-nft-trace"])
        #expect(Set(try complete("tracer ingress --port 8080 -o ")) == ["table", "json"])
    }

    /// `--container` completes the running containers' names, from the runtime roots on the line.
    @Test(.requires(TracerBinary.isRoot && FileManager.default.fileExists(atPath: "/usr/bin/podman"),
                    "SKIPPED LOUDLY: needs root and podman from tools/setup.sh --test"))
    func containerOptionCompletesTheRunningContainersNames() throws {
        let name = "tcompl\(getpid() % 10000)"
        let lab = try ContainerLab.up("podman", name: name)
        defer { lab.down() }
        let path = try script("bash")
        defer { unlink(path) }
        let names = try bashComplete(path, ["exec"] + lab.tracerFlags + ["--container", String(name.prefix(4))])
        #expect(names.contains(name), "\(names)")
        #expect(names.allSatisfy { $0.hasPrefix("tcom") })
        let hidden = try TracerBinary.run(["containers", "--completion-names"] + lab.tracerFlags)
        #expect(hidden.status == 0 && hidden.lines.contains(name), "\(hidden.stdout)")
    }

    /// `--netns` completes the named network namespaces.
    @Test(.requires(TracerBinary.isRoot && FileManager.default.isExecutableFile(atPath: "/usr/sbin/ip"),
                    "SKIPPED LOUDLY: needs root and iproute2 from tools/setup.sh --test"))
    func netnsOptionCompletesTheNamedNamespaces() throws {
        let name = "tcomplns\(getpid() % 10000)"
        #expect(try LabShell.run(["-c", "ip netns add \(name)"]).status == 0)
        defer { _ = try? LabShell.run(["-c", "ip netns delete \(name)"]) }
        let path = try script("bash")
        defer { unlink(path) }
        for command in ["egress", "ingress", "diagnose"] {
            #expect(try bashComplete(path, [command, "--netns", "tcomplns"]) == [name], "\(command)")
        }
    }
}
