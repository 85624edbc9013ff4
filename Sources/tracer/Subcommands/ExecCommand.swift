import ArgumentParser
import BPF
import TracerCore

struct ExecCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "exec",
        abstract: "List every exec on the host, with full arguments, parent, lifetime, CPU and exit status.",
        discussion: """
        argv is read from the new process's memory at sched_process_exec, so even processes
        that live for microseconds show their full arguments. Failed execs (execve and
        execveat) are shown with their errno. Events the kernel could not deliver are counted
        and reported inline (LOST lines, `lost` records) and in the final summary.

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
        """
    )

    @OptionGroup var common: CommonOptions
    @OptionGroup var runtimes: RuntimeOptions

    @Flag(help: "Print one joined record per process when it exits, with DURATION, CPU and EXIT.")
    var exits = false

    @Option(help: "Only processes that lived less than this (e.g. 500ms, 2s); implies --exits.")
    var maxLifetime: DurationArgument?

    @Option(help: "Only this process id (applied in the kernel).")
    var pid: UInt32?

    @Option(help: "Only children of this process id (applied in the kernel).")
    var ppid: UInt32?

    @Option(help: "Only this user id (applied in the kernel).")
    var uid: UInt32?

    @Option(help: "Only this command name (the kernel's comm, exact).")
    var comm: String?

    @Option(name: .customLong("args"), help: "Only execs whose arguments, joined by spaces, match this regular expression.")
    var argsPattern: String?

    @Flag(help: "Only failed execs.")
    var failed = false

    @Option(help: ArgumentHelp("Only this container (name, or id prefix); repeatable. Applied in the kernel by cgroup where it can.", valueName: "name|id"))
    var container: [String] = []

    @Flag(help: "Only processes on the host, in no container.")
    var host = false

    @Option(help: "argv bytes captured per exec (at most 32768).")
    var argsSize: Int = 4096

    @Option(help: "Ring buffer size in bytes: a power of two, at least 4096.")
    var ringBufferSize: Int = 4 << 20

    @Option(help: "Stop after this long (e.g. 10s, 1m).")
    var duration: DurationArgument?

    @Option(help: "Stop after this many lines.")
    var count: Int?

    func validate() throws {
        if let pid, pid == 0 { throw ValidationError("--pid: 0 is not a process id") }
        if let ppid, ppid == 0 { throw ValidationError("--ppid: 0 is not a process id") }
        if argsSize < 0 || argsSize > ExecProbeOptions.maxArgsSize {
            throw ValidationError("--args-size: \(argsSize) is outside 0...\(ExecProbeOptions.maxArgsSize)")
        }
        if ringBufferSize < 4096 || ringBufferSize & (ringBufferSize - 1) != 0 || ringBufferSize > 1 << 30 {
            throw ValidationError("--ring-buffer-size: \(ringBufferSize) is not a power of two between 4096 and 1073741824")
        }
        if let count, count <= 0 { throw ValidationError("--count: must be at least 1") }
        if let argsPattern {
            do { try ExecFilter.validate(argsPattern: argsPattern) } catch {
                throw ValidationError("--args: invalid regular expression '\(argsPattern)'")
            }
        }
        if host && !container.isEmpty { throw ValidationError("--host and --container exclude each other") }
        if let comm, comm.utf8.count > 15 {
            throw ValidationError("--comm: '\(comm)' is longer than the kernel's 15-byte command name")
        }
    }

    func run() throws {
        StopSignal.install()
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

        let session = ExecSession(probe: probe, attributor: ExecAttributor(resolver: resolver),
                                  pipeline: ExecPipeline(mode: mode, filter: filter),
                                  format: common.output, limit: count,
                                  deadline: duration.map { BootClock.now + $0.nanoseconds })
        do {
            try session.run(stop: { StopSignal.isRequested })
        } catch {
            throw fail(error, command: "exec")
        }
    }
}
