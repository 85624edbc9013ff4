import Glibc
import TracerCore

/// The command line of both executables: `tracer` (Sources/tracer) and `tracer-agent`
/// (Sources/tracer-agent, which adds the agent's metrics side).
public enum Tracer {
    static let abstract = "eBPF tracer for container hosts: short-lived processes, container attribution, lost egress."
    static let discussion = """
        Tracepoints only: works on locked-down kernels without kprobes or fentry.
        Start with `tracer check` to see whether tracing works on this host.

        Exit codes: 0 success, 1 runtime failure, 2 a problem found at error severity,
        3 no such process, 4 unknown container, 5 unknown network namespace (or one that is
        no endpoint), 6 a port not published (`tracer ingress --port`), 64 usage error,
        69 the kernel lacks a needed feature, 77 missing privileges (the message names each
        missing capability; `tracer check` lists them).
        A tracing command stopped by SIGINT, SIGTERM or SIGPIPE exits with its own status;
        by SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2 or SIGALRM with 128 + the signal's number. Each
        of these signals runs the same teardown first: BPF detached, nftables trace tables
        removed, terminal restored, summary printed.
        """

    static var commands: [any TracerCommand.Type] { [
        CheckCommand.self, ExecCommand.self, TopCommand.self, PidCommand.self, ContainersCommand.self, NetnsCommand.self,
        DropsCommand.self, EgressCommand.self, IngressCommand.self, DiagnoseCommand.self, RulesCommand.self, AgentCommand.self,
        CompletionsCommand.self,
    ] }

    public static func main() {
        let status = run(Array(CommandLine.arguments.dropFirst()))
        exit(status)
    }

    /// `tracer-agent ARGUMENTS`: `tracer agent ARGUMENTS` with `makeHost` as its metrics side.
    public static func agentMain(makeHost: @escaping (AgentHostOptions) throws -> any AgentHost) -> Never {
        AgentCommand.makeHost = makeHost
        exit(run(["agent"] + CommandLine.arguments.dropFirst()))
    }

    /// Runs one command line; returns the exit status.
    static func run(_ arguments: [String]) -> Int32 {
        var root: String { Help.root(commands.map { $0.spec }, abstract: abstract, discussion: discussion) }
        guard let first = arguments.first else {
            print(root)
            return 0
        }
        switch first {
        case "-h", "--help":
            print(root)
            return 0
        case "--version":
            if let extra = arguments.dropFirst().first {
                printError("tracer: --version takes no arguments, got '\(extra)'")
                return TracerExit.usage.rawValue
            }
            print(TracerVersion.string)
            return 0
        case "help":
            guard let name = arguments.dropFirst().first else { print(root); return 0 }
            guard let command = command(named: name) else { return unknown(name) }
            print(Help.command(command.spec))
            return 0
        default:
            break
        }
        // An option before any subcommand: name it as an option, not as a subcommand.
        if first.utf8.first == UInt8(ascii: "-") {
            printError("tracer: unknown option '\(first)'; options before a subcommand: --help, --version; subcommands: \(commands.map { $0.name }.joined(separator: ", "))")
            return TracerExit.usage.rawValue
        }
        guard let command = command(named: first) else { return unknown(first) }
        let name = command.spec.name
        // A metadata file that is a FIFO, a device or too large is skipped with one line naming it.
        RefusedFiles.tell { printError("tracer \(name): warning: \($0)") }
        do {
            let parsed = try ParsedArguments(Array(arguments.dropFirst()), spec: command.spec)
            if parsed.wantsHelp {
                print(Help.command(command.spec))
                return 0
            }
            try command.init(parsed).run()
            return StopSignal.exitStatus ?? 0
        } catch let error as UsageError {
            printError("tracer \(name): \(error.message) (see 'tracer \(name) --help')")
            return TracerExit.usage.rawValue
        } catch let exit as ExitCode {
            return StopSignal.exitStatus ?? exit.rawValue
        } catch {
            let code = fail(error, command: name)
            return StopSignal.exitStatus ?? code.rawValue
        }
    }

    private static func command(named name: String) -> (any TracerCommand.Type)? {
        commands.first { $0.name == name }
    }

    private static func unknown(_ name: String) -> Int32 {
        printError("tracer: unknown subcommand '\(name)'; subcommands: \(commands.map { $0.name }.joined(separator: ", "))")
        return TracerExit.usage.rawValue
    }
}

enum TracerVersion {
    static let string = "0.1.0"
}
