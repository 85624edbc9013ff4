import BPF
import TracerCore

struct CheckCommand: TracerCommand {
    static let name = "check"
    static let spec = CommandSpec(
        name: name,
        abstract: "Say whether tracing works on this host, and if not, exactly why.",
        discussion: """
        Reports kernel, BTF, privileges, lockdown, which attach types really work (it loads and
        attaches a tiny program of each kind), every tracepoint tracer uses, ring buffer support,
        cgroup layout, tracefs and bpffs. Exits 0 when tracing works, 1 otherwise.

        Examples:
          tracer check
          tracer check --output json
        """,
        options: CommonOptions.specs
    )

    let common: CommonOptions

    init(_ arguments: ParsedArguments) throws(UsageError) {
        common = try CommonOptions(arguments)
    }

    func run() throws {
        LibbpfLog.install(verbose: common.verbose)
        let check = TracingCheck.run()
        let sink = RenderingSink(message: printError, render: CheckRender(format: common.output).lines)
        sink.emit(check)
        sink.flush()
        if !check.tracingWorks { throw TracerExit.failure }
    }
}
