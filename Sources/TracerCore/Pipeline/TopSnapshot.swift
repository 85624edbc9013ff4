/// What `tracer top` rows can be grouped by, in the user's words.
public enum TopGroupKey: String, CaseIterable, Sendable {
    case container, parent, command
}

/// What `tracer top` rows can be sorted by; every order is largest first.
public enum TopSortKey: String, CaseIterable, Sendable {
    case cpu, execs, exits
    /// Failed execs.
    case failures
    /// Exits with a non-zero code or by a signal.
    case failedExits = "failed-exits"
    case averageLifetime = "avg-lifetime"
    case maxLifetime = "max-lifetime"
}

/// How often one exit status was seen.
public struct ExitStatusCount: Sendable, Equatable {
    /// Wait-status layout: code << 8, or the signal number, | 0x80 for a core dump; or `unrecorded`.
    public var status: UInt32
    public var count: UInt64

    /// Failed exits counted in their group whose status the kernel's histogram map had no room
    /// for: they still count towards a crash loop. (No wait status has bits above 16.)
    public static let unrecorded: UInt32 = .max

    public init(status: UInt32, count: UInt64) {
        self.status = status
        self.count = count
    }

    public var isRecorded: Bool { status != ExitStatusCount.unrecorded }
    public var signal: Int32? { isRecorded ? WaitStatus(status).signal : nil }
    public var exitCode: Int32? { isRecorded ? WaitStatus(status).exitCode : nil }
    public var coreDumped: Bool { isRecorded && WaitStatus(status).coreDumped }
}

/// The same command in the same container failing again and again (see `CrashLoopRule`).
public struct CrashLoop: Sendable, Equatable {
    /// Exits with a non-zero code or by a signal within the window.
    public var failedExits: UInt64
    public var windowNanoseconds: UInt64
    /// The exit-status histogram over the window, most frequent first.
    public var statuses: [ExitStatusCount]

    public init(failedExits: UInt64, windowNanoseconds: UInt64, statuses: [ExitStatusCount]) {
        self.failedExits = failedExits
        self.windowNanoseconds = windowNanoseconds
        self.statuses = statuses
    }
}

/// The host execs far more than it usually does (see `ForkStormRule`).
public struct ForkStorm: Sendable, Equatable {
    public var execsPerSecond: Double
    public var usualPerSecond: Double
}

/// One row of `tracer top`: the processes of one container, parent and command (or whichever
/// of those the rows are grouped by; the others are nil); or the "(other)" row.
public struct TopRow: Sendable, Equatable {
    /// nil when rows are not grouped by container, and in the "(other)" row.
    public var container: Attribution?
    public var parent: [UInt8]?
    public var command: [UInt8]?
    public var counts: TopCounts
    /// The argv of the last exec among the row's groups that exec'd in the interval.
    public var lastArgs: [[UInt8]]
    public var argsTruncated: Bool
    /// In the "(other)" row: at least the crash-loop threshold of failed exits within the window
    /// among processes whose command is unknown (a crash loop may hide there).
    public var crashLoop: CrashLoop?
    /// The "(other)" row: the processes whose group the kernel's map had no room for (ever-new
    /// command names fill it). Their container, parent and command are unknown (nil).
    public var isOther: Bool

    public init(container: Attribution?, parent: [UInt8]?, command: [UInt8]?, counts: TopCounts,
                lastArgs: [[UInt8]] = [], argsTruncated: Bool = false, crashLoop: CrashLoop? = nil, isOther: Bool = false) {
        self.container = container
        self.parent = parent
        self.command = command
        self.counts = counts
        self.lastArgs = lastArgs
        self.argsTruncated = argsTruncated
        self.crashLoop = crashLoop
        self.isOther = isOther
    }
}

/// Host-wide figures of one interval.
public struct TopTotals: Sendable, Equatable {
    /// Every group of the interval added up, with "(other)": the host's exact totals (or,
    /// with a filter, its containers' and "(other)").
    public var counts: TopCounts
    public var onlineCPUs: Int
    /// From /proc/stat over the interval, when it could be read.
    public var hostBusyNanoseconds: UInt64?
    public var hostTotalNanoseconds: UInt64?
    /// What the kernel could not count in this interval.
    public var lost: TopLosses
    public var forkStorm: ForkStorm?
    /// Groups in the kernel's counts map (the agent's map fill), when the probe said.
    public var groupEntries: Int?

    public init(counts: TopCounts, onlineCPUs: Int, hostBusyNanoseconds: UInt64? = nil, hostTotalNanoseconds: UInt64? = nil,
                lost: TopLosses = TopLosses(), forkStorm: ForkStorm? = nil, groupEntries: Int? = nil) {
        self.counts = counts
        self.onlineCPUs = onlineCPUs
        self.hostBusyNanoseconds = hostBusyNanoseconds
        self.hostTotalNanoseconds = hostTotalNanoseconds
        self.lost = lost
        self.forkStorm = forkStorm
        self.groupEntries = groupEntries
    }
}

/// One refresh of `tracer top`: totals and rows, sorted as displayed.
public struct TopSnapshot: Sendable, Equatable {
    /// End of the interval, CLOCK_BOOTTIME nanoseconds.
    public var timestamp: UInt64
    public var intervalNanoseconds: UInt64
    public var by: [TopGroupKey]
    public var sort: TopSortKey
    public var totals: TopTotals
    public var rows: [TopRow]

    public init(timestamp: UInt64, intervalNanoseconds: UInt64, by: [TopGroupKey], sort: TopSortKey, totals: TopTotals, rows: [TopRow]) {
        self.timestamp = timestamp
        self.intervalNanoseconds = intervalNanoseconds
        self.by = by
        self.sort = sort
        self.totals = totals
        self.rows = rows
    }

    /// CPU of processes that exited, as a share of everything the online CPUs could do in the interval.
    public var shortLivedShare: Double {
        let capacity = Double(intervalNanoseconds) * Double(max(totals.onlineCPUs, 1))
        return capacity > 0 ? Double(totals.counts.cpuNanoseconds) / capacity : 0
    }

    /// Per second of the interval.
    public func rate(_ count: UInt64) -> Double {
        intervalNanoseconds > 0 ? Double(count) * 1e9 / Double(intervalNanoseconds) : 0
    }
}
