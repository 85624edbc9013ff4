import BPF
import TracerCore

struct ExecCommand: TracerCommand {
    static let name = "exec"
    static let spec = CommandSpec(
        name: name,
        abstract: "List every exec on the host, with full arguments, parent, lifetime, CPU and exit status.",
        discussion: """
        argv is read from the new process's memory at sched_process_exec, so even processes
        that live for microseconds show their full arguments. Failed execs (execve and
        execveat) are shown with their errno. Events the kernel could not deliver are counted
        and reported inline (LOST lines, `lost` records) and in the final summary.

        Privileges: root, or CAP_BPF and CAP_PERFMON, plus CAP_DAC_READ_SEARCH for any uid but 0
        (tracefs is root's only); without them exit 77 naming what is missing.

        Examples:
          tracer exec                              every exec, as it happens
          tracer exec --exits                      one line per process when it exits: DURATION, CPU, EXIT
          tracer exec --max-lifetime 500ms         only processes that lived less than 500 ms
          tracer exec --failed                     only failed execs
          tracer exec --ppid 1234 --comm curl      children of 1234 named curl
          tracer exec --args 'wget|curl' -o json   JSON lines for execs whose arguments match
          tracer exec --duration 10s --count 100   stop after 10 s or 100 lines
          tracer exec --container web              only processes of the container named web
          tracer exec --host                       only processes outside containers
        """,
        options: [
            .flag("exits", help: "Print one joined record per process when it exits, with DURATION, CPU and EXIT."),
            .option("max-lifetime", value: "duration", help: "Only processes that lived less than this (e.g. 500ms, 2s); implies --exits."),
            .option("pid", help: "Only this process id (applied in the kernel)."),
            .option("ppid", help: "Only children of this process id (applied in the kernel)."),
            .option("uid", help: "Only this user id (applied in the kernel)."),
            .option("comm", help: "Only this command name (the kernel's comm, exact)."),
            .option("args", value: "regex", help: "Only execs whose arguments, joined by spaces, match this regular expression."),
            .flag("failed", help: "Only failed execs."),
            .option("container", value: "name|id", help: "Only this container (name, or id prefix). Applied in the kernel by cgroup where it can.", repeatable: true, values: .containerName),
            .flag("host", help: "Only processes on the host, in no container."),
            .option("args-size", value: "bytes", help: "argv bytes captured per exec, 64 to 32768 (default 4096); a longer argv is cut and marked ...[truncated]."),
            .option("ring-buffer-size", value: "bytes", help: "Ring buffer size in bytes: a power of two, at least 4096 (default 4 MiB)."),
            .option("duration", help: "Stop after this long (e.g. 10s, 1m)."),
            .option("count", help: "Stop after this many lines."),
        ] + CommonOptions.specs + RuntimeOptions.specs
    )

    let common: CommonOptions
    let runtimes: RuntimeOptions
    let exits: Bool
    let maxLifetime: DurationArgument?
    let pid: UInt32?
    let ppid: UInt32?
    let uid: UInt32?
    let comm: String?
    let argsPattern: String?
    let failed: Bool
    let container: [String]
    let host: Bool
    let argsSize: Int
    let ringBufferSize: Int
    let duration: DurationArgument?
    let count: Int?

    init(_ arguments: ParsedArguments) throws(UsageError) {
        common = try CommonOptions(arguments)
        runtimes = try RuntimeOptions(arguments)
        exits = arguments.flag("exits")
        maxLifetime = try arguments.value("max-lifetime")
        pid = try arguments.value("pid")
        ppid = try arguments.value("ppid")
        uid = try arguments.value("uid")
        comm = try arguments.value("comm")
        argsPattern = try arguments.value("args")
        failed = arguments.flag("failed")
        container = try arguments.containerQueries()
        host = arguments.flag("host")
        argsSize = try arguments.value("args-size") ?? 4096
        ringBufferSize = try arguments.value("ring-buffer-size") ?? 4 << 20
        duration = try arguments.value("duration")
        count = try arguments.value("count")
        try validate()
    }

    private func validate() throws(UsageError) {
        if let pid, pid == 0 { throw UsageError("--pid: 0 is not a process id") }
        if let ppid, ppid == 0 { throw UsageError("--ppid: 0 is not a process id") }
        if argsSize < ExecProbeOptions.minArgsSize || argsSize > ExecProbeOptions.maxArgsSize {
            throw UsageError("--args-size: \(argsSize) is outside \(ExecProbeOptions.minArgsSize)...\(ExecProbeOptions.maxArgsSize) (fewer than \(ExecProbeOptions.minArgsSize) bytes would not hold a command's path)")
        }
        if ringBufferSize < 4096 || ringBufferSize & (ringBufferSize - 1) != 0 || ringBufferSize > 1 << 30 {
            throw UsageError("--ring-buffer-size: \(ringBufferSize) is not a power of two between 4096 and 1073741824")
        }
        if let count, count <= 0 { throw UsageError("--count: must be at least 1") }
        if let argsPattern {
            do { try ExecFilter.validate(argsPattern: argsPattern) } catch {
                throw UsageError("--args: invalid regular expression '\(argsPattern)'")
            }
        }
        if host && !container.isEmpty { throw UsageError("--host and --container exclude each other") }
        if let comm, comm.utf8.count > 15 {
            throw UsageError("--comm: '\(comm)' is longer than the kernel's 15-byte command name")
        }
    }

    func run() throws {
        StopSignal.install()
        try Privileges.require(.exec)
        LibbpfLog.install(verbose: common.verbose)
        let mode: ExecPipeline.Mode = exits || maxLifetime != nil ? .exits : .execs

        var options = ExecProbeOptions()
        options.argsSize = argsSize
        options.pid = pid
        options.ppid = ppid
        options.uid = uid
        options.reportExits = mode == .exits
        options.ringBufferSize = ringBufferSize

        let resolver = runtimes.resolver
        var filter = ExecFilter()
        filter.hostOnly = host
        if !container.isEmpty {
            let selection = try ContainerSelection.select(container, resolver: resolver)
            filter.containerIDs = selection.ids
            options.cgroupIDs = selection.cgroupIDs
        }
        filter.comm = comm
        filter.argsPattern = argsPattern
        filter.failedOnly = failed
        filter.maxLifetime = maxLifetime?.nanoseconds

        let probe: ExecProbe
        do {
            probe = try ExecProbe(options: options)
        } catch {
            throw fail(error, command: "exec")
        }
        defer { probe.close() }

        let session = ExecSession(source: probe, attributor: ExecAttributor(resolver: resolver),
                                  pipeline: ExecPipeline(mode: mode, filter: filter),
                                  limits: .init(count: count, deadline: duration.map { BootClock.now + $0.nanoseconds }))
        let render = ExecRender(format: common.output, mode: mode, colour: OutputSink.isTerminal)
        do {
            try session.run(into: RenderingSink(message: printError, render: render.lines), stop: { StopSignal.isRequested })
        } catch {
            throw fail(error, command: "exec")
        }
    }
}
