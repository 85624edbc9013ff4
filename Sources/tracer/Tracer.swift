import ArgumentParser

@main
struct Tracer: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tracer",
        abstract: "eBPF tracer for container hosts: short-lived processes, container attribution, lost egress.",
        discussion: """
        Tracepoints only: works on locked-down kernels without kprobes or fentry.
        Start with `tracer check` to see whether tracing works on this host.

        Exit codes: 0 success, 1 runtime failure, 3 no such process, 4 unknown container,
        64 usage error, 69 the kernel lacks a needed feature, 77 missing privileges.
        """,
        version: TracerVersion.string,
        subcommands: [CheckCommand.self, ExecCommand.self, TopCommand.self, PidCommand.self, ContainersCommand.self, NetnsCommand.self,
                      DropsCommand.self, EgressCommand.self, DiagnoseCommand.self]
    )
}

enum TracerVersion {
    static let string = "0.1.0"
}
