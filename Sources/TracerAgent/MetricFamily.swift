/// A metric the agent exposes: its name per Prometheus conventions (`tracer_` prefix, base units,
/// `_total` on counters), its help line and its type. The README's `tracer agent` table lists them.
public struct MetricFamily: Sendable, Hashable {
    public enum Kind: Sendable, Hashable { case counter, gauge }

    public var name: String
    public var help: String
    public var kind: Kind
    /// A series of this family goes away after `--series-ttl` without activity (the data
    /// metrics); the agent's own health series stay.
    public var expires: Bool

    public init(_ name: String, _ kind: Kind, expires: Bool, help: String) {
        self.name = name
        self.kind = kind
        self.expires = expires
        self.help = help
    }
}

extension MetricFamily {
    // tracer top's counters, by container and command.
    public static let execs = MetricFamily("tracer_execs_total", .counter, expires: true,
        help: "Successful execs, counted exactly in the kernel (as tracer top).")
    public static let execFailures = MetricFamily("tracer_exec_failures_total", .counter, expires: true,
        help: "Failed execs; the command is the file the exec tried to run.")
    public static let exits = MetricFamily("tracer_exits_total", .counter, expires: true,
        help: "Exits of processes started while the agent runs.")
    public static let failedExits = MetricFamily("tracer_failed_exits_total", .counter, expires: true,
        help: "Exits with a non-zero code or by a signal.")
    public static let exitedCPU = MetricFamily("tracer_exited_cpu_seconds_total", .counter, expires: true,
        help: "CPU time of the processes that exited (short-lived processes' cost).")
    public static let exitedLifetime = MetricFamily("tracer_exited_lifetime_seconds_total", .counter, expires: true,
        help: "Lifetimes of the processes that exited, added up (divide by tracer_exits_total for the average).")
    public static let crashLoop = MetricFamily("tracer_crash_loop_failed_exits", .gauge, expires: true,
        help: "Failed exits within the last 60 s of a command in a crash loop (at least 5); absent when none.")
    public static let forkStorm = MetricFamily("tracer_fork_storm", .gauge, expires: false,
        help: "1 while the host execs at least 10 times its usual rate and at least 100/s, else 0.")

    // tracer drops' counters.
    public static let drops = MetricFamily("tracer_drops_total", .counter, expires: true,
        help: "Packet drops by the kernel's reason, direction and container (healthy-host noise left out).")
    public static let kernelDrops = MetricFamily("tracer_kernel_drops_total", .counter, expires: true,
        help: "The kernel's exact drop counts by reason, whatever the ring buffer delivered.")

    // The agent's own health.
    public static let lostEvents = MetricFamily("tracer_lost_events_total", .counter, expires: false,
        help: "Events the kernel could not deliver or count, by source.")
    public static let mapEntries = MetricFamily("tracer_map_entries", .gauge, expires: false,
        help: "Entries in a BPF map, by map.")
    public static let mapCapacity = MetricFamily("tracer_map_capacity", .gauge, expires: false,
        help: "Entries a BPF map can hold, by map.")
    public static let mapOverflow = MetricFamily("tracer_map_overflow_total", .counter, expires: false,
        help: "Events counted outside their map because it was full, by map.")
    public static let attributionFailures = MetricFamily("tracer_attribution_failures_total", .counter, expires: false,
        help: "Execs whose container could not be determined, by source.")
    public static let sessionUp = MetricFamily("tracer_session_up", .gauge, expires: false,
        help: "1 while a session runs, 0 once it failed (its error is on /healthz).")
}
