/// The shells `tracer completions` writes a script for.
enum Shell: String, CaseIterable, ArgumentValue {
    case bash, zsh, fish
}

struct CompletionsCommand: TracerCommand {
    static let name = "completions"
    static let spec = CommandSpec(
        name: name,
        abstract: "Print a completion script for bash, zsh or fish: subcommands, options and their values.",
        discussion: """
        The script completes the subcommands, their options, the values of options that take
        one of a few words (--output, top's --by and --sort), directories, and the names of
        the running containers for --container (asked of tracer when completing).

        Install:
          bash  tracer completions bash > /etc/bash_completion.d/tracer
          zsh   tracer completions zsh > "${fpath[1]}/_tracer"
          fish  tracer completions fish > ~/.config/fish/completions/tracer.fish
        """,
        arguments: (name: "shell", help: "One of \(Shell.allCases.map(\.rawValue).joined(separator: ", "))."),
        argumentValues: .oneOf(Shell.self),
        options: []
    )

    let shell: Shell

    init(_ arguments: ParsedArguments) throws(UsageError) {
        let shells = Shell.allCases.map(\.rawValue).joined(separator: ", ")
        guard let name = arguments.positionals.first else { throw UsageError("which shell? give one of \(shells)") }
        guard let shell = Shell(argument: name) else { throw UsageError("unknown shell '\(name)'; valid shells: \(shells)") }
        if let extra = arguments.positionals.dropFirst().first { throw UsageError("one shell at a time, got also '\(extra)'") }
        self.shell = shell
    }

    func run() throws {
        let script = CompletionScript(commands: Tracer.commands.map { $0.spec })
        switch shell {
        case .bash: print(script.bash, terminator: "")
        case .zsh: print(script.zsh, terminator: "")
        case .fish: print(script.fish, terminator: "")
        }
    }
}
