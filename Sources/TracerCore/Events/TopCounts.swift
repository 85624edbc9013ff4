/// The kernel's grouping of processes in `tracer top`: where they ran, who started them, what they ran.
public struct TopGroup: Sendable, Hashable {
    /// cgroup v2 id, as in `ProcessKeys`.
    public var cgroupID: UInt64
    /// 0 without a v1 hierarchy.
    public var cgroupV1ID: UInt64
    /// The parent's command when the process exec'd (or forked).
    public var parentComm: [UInt8]
    /// The command; for a failed exec, the last component of the file it tried to run.
    public var comm: [UInt8]

    public init(cgroupID: UInt64, cgroupV1ID: UInt64 = 0, parentComm: [UInt8], comm: [UInt8]) {
        self.cgroupID = cgroupID
        self.cgroupV1ID = cgroupV1ID
        self.parentComm = parentComm
        self.comm = comm
    }
}

/// What the processes of a group did in one interval, counted exactly in the kernel.
public struct TopCounts: Sendable, Equatable {
    public var execs: UInt64 = 0
    public var failedExecs: UInt64 = 0
    public var exits: UInt64 = 0
    /// Exits with a non-zero code or by a signal.
    public var failedExits: UInt64 = 0
    /// Scheduler runtime of the processes that exited.
    public var cpuNanoseconds: UInt64 = 0
    /// Sum of the lifetimes of the processes that exited.
    public var lifetimeNanoseconds: UInt64 = 0
    public var maxLifetimeNanoseconds: UInt64 = 0

    public init(execs: UInt64 = 0, failedExecs: UInt64 = 0, exits: UInt64 = 0, failedExits: UInt64 = 0,
                cpuNanoseconds: UInt64 = 0, lifetimeNanoseconds: UInt64 = 0, maxLifetimeNanoseconds: UInt64 = 0) {
        self.execs = execs
        self.failedExecs = failedExecs
        self.exits = exits
        self.failedExits = failedExits
        self.cpuNanoseconds = cpuNanoseconds
        self.lifetimeNanoseconds = lifetimeNanoseconds
        self.maxLifetimeNanoseconds = maxLifetimeNanoseconds
    }

    public var isEmpty: Bool { execs == 0 && failedExecs == 0 && exits == 0 }

    public var averageLifetimeNanoseconds: UInt64 { exits == 0 ? 0 : lifetimeNanoseconds / exits }

    /// Sums and the larger maximum: two groups merged into one row.
    public mutating func add(_ other: TopCounts) {
        execs += other.execs
        failedExecs += other.failedExecs
        exits += other.exits
        failedExits += other.failedExits
        cpuNanoseconds += other.cpuNanoseconds
        lifetimeNanoseconds += other.lifetimeNanoseconds
        maxLifetimeNanoseconds = max(maxLifetimeNanoseconds, other.maxLifetimeNanoseconds)
    }

    /// This cumulative reading minus an earlier one; the maximum is already per interval.
    func since(_ earlier: TopCounts) -> TopCounts {
        TopCounts(execs: execs &- earlier.execs, failedExecs: failedExecs &- earlier.failedExecs,
                  exits: exits &- earlier.exits, failedExits: failedExits &- earlier.failedExits,
                  cpuNanoseconds: cpuNanoseconds &- earlier.cpuNanoseconds,
                  lifetimeNanoseconds: lifetimeNanoseconds &- earlier.lifetimeNanoseconds,
                  maxLifetimeNanoseconds: maxLifetimeNanoseconds)
    }
}

/// Attribution keys and the last argv of a group, as the kernel captured them.
public struct TopGroupDetail: Sendable, Equatable {
    public var keys: ProcessKeys
    public var args: [[UInt8]]
    public var argsTruncated: Bool

    public init(keys: ProcessKeys, args: [[UInt8]], argsTruncated: Bool = false) {
        self.keys = keys
        self.args = args
        self.argsTruncated = argsTruncated
    }
}

/// What the kernel could not count because one of its maps was full. (A full group map loses
/// nothing: those events are counted in `TopInterval.other`.)
public struct TopLosses: Sendable, Equatable {
    /// new processes the process table had no room for: their exits are not counted.
    public var processes: UInt64 = 0
    /// groups without attribution keys or argv.
    public var details: UInt64 = 0
    /// failed exits missing from the exit-code histogram.
    public var exitCodes: UInt64 = 0

    public init(processes: UInt64 = 0, details: UInt64 = 0, exitCodes: UInt64 = 0) {
        self.processes = processes
        self.details = details
        self.exitCodes = exitCodes
    }

    public var total: UInt64 { processes + details + exitCodes }

    func since(_ earlier: TopLosses) -> TopLosses {
        TopLosses(processes: processes &- earlier.processes,
                  details: details &- earlier.details, exitCodes: exitCodes &- earlier.exitCodes)
    }
}

/// One interval of the top probe: counts of the groups that did something, the statuses of
/// their failed exits, the details of groups that exec'd or first appeared, and what happened
/// in groups the kernel's map had no room for. Every exec, failed exec and exit of the interval
/// is in exactly one of `counts` and `other`: their sum is the host's.
public struct TopInterval: Sendable {
    /// CLOCK_BOOTTIME nanoseconds.
    public var start: UInt64
    public var end: UInt64
    public var counts: [TopGroup: TopCounts]
    /// Wait statuses (code << 8, or signal | 0x80 for a core dump) of failed exits, with their counts.
    public var failedExitStatuses: [TopGroup: [UInt32: UInt64]]
    public var details: [TopGroup: TopGroupDetail]
    /// Processes whose group did not fit in the kernel's map (16384 groups): counted, but with no
    /// container, parent or command.
    public var other: TopCounts
    /// Wait statuses of the failed exits in `other`, with their counts.
    public var otherFailedExitStatuses: [UInt32: UInt64]
    public var lost: TopLosses
    /// Groups in the kernel's counts map at the end of the interval (of `TopProbe.groupCapacity`).
    public var groupEntries: Int?

    public init(start: UInt64, end: UInt64, counts: [TopGroup: TopCounts], failedExitStatuses: [TopGroup: [UInt32: UInt64]] = [:],
                details: [TopGroup: TopGroupDetail] = [:], other: TopCounts = TopCounts(),
                otherFailedExitStatuses: [UInt32: UInt64] = [:], lost: TopLosses = TopLosses(), groupEntries: Int? = nil) {
        self.start = start
        self.end = end
        self.counts = counts
        self.failedExitStatuses = failedExitStatuses
        self.details = details
        self.other = other
        self.otherFailedExitStatuses = otherFailedExitStatuses
        self.lost = lost
        self.groupEntries = groupEntries
    }

    public var nanoseconds: UInt64 { end > start ? end - start : 0 }
}
