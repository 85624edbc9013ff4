/// A record of the network sessions' stream (`tracer drops`, `tracer egress`, `tracer ingress`):
/// one enum for all, which `NetRender` renders.
public enum NetRecord: Sendable {
    /// Something the person running the command should know, on standard error.
    case notice(NetNotice)
    /// An endpoint's path, traced from now on.
    case path(EgressPath)
    /// A published port whose inbound flows are traced from now on, with its static findings.
    case publishedPort(PublishedPortReport)
    /// Tracing has begun (a table prints the drops' header).
    case started
    case drop(DropRecord)
    /// Drop records the kernel could not deliver since the previous report, at a boot-clock time.
    case lost(count: UInt64, at: UInt64)
    /// The kernel's exact counters, largest first.
    case counts([DropCountRow])
    /// Every traced flow now, with how far it got and what the trace saw of its last drop.
    case stages([EgressExplainer.Evidence])
    /// What the flows that stopped say is wrong, one per (endpoint, direction, code).
    case findings([EndpointFinding])
    case dropsSummary(DropsSummary)
    case flowsSummary(FlowsSummary)
}

/// What a network session has to say beside its records.
public enum NetNotice: Sendable, Equatable {
    /// No container was found: the drops shown are the host's.
    case noContainers
    /// No endpoint has a path to trace: only host drops are traced.
    case noEndpoints
    /// No port of the selection is published: nothing inbound to trace.
    case noPublishedPorts
    /// A trace table that a killed run left behind was removed.
    case removedStaleTraceTable(String)
    /// The firewall could not be watched there, and why.
    case couldNotWatch(String)
}

/// The figures of a run of `tracer drops`, its last record.
public struct DropsSummary: Sendable, Equatable {
    public var durationNanoseconds: UInt64
    /// Drops shown.
    public var drops: Int
    public var lost: UInt64
    /// Drops the kernel could not count (its count map was full).
    public var uncounted: UInt64
}

/// The figures of a run that traces flows (`tracer egress`), its last record.
public struct FlowsSummary: Sendable, Equatable {
    public var durationNanoseconds: UInt64
    public var endpoints: Int
    public var flows: Int
    /// Flows that did not get their reply all the way back.
    public var stopped: Int
    /// Drops shown.
    public var drops: Int
    public var lost: UInt64
    public var findings: Int
    /// Findings at error severity: a flow stopped (exit status 2).
    public var errors: Int
}
