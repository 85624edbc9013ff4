/// A crash-restart loop: the same command in the same container exits with a non-zero code or
/// by a signal at least `threshold` times within `window` (default: 5 times in 60 s). A snapshot
/// shorter than the window counts what it saw, so `--once --interval 5s` needs 5 failures in 5 s.
public struct CrashLoopRule: Sendable {
    public var threshold: UInt64
    public var windowNanoseconds: UInt64

    public init(threshold: UInt64 = 5, windowNanoseconds: UInt64 = 60_000_000_000) {
        self.threshold = threshold
        self.windowNanoseconds = windowNanoseconds
    }

    /// The failures of one container and command over past intervals.
    struct History {
        var intervals: [(end: UInt64, statuses: [UInt32: UInt64])] = []

        mutating func record(end: UInt64, statuses: [UInt32: UInt64], keepingAfter cutoff: UInt64) {
            if !statuses.isEmpty { intervals.append((end, statuses)) }
            intervals.removeAll { $0.end <= cutoff }
        }

        var statuses: [UInt32: UInt64] {
            intervals.reduce(into: [:]) { total, interval in total.merge(interval.statuses, uniquingKeysWith: +) }
        }
    }

    func crashLoop(_ statuses: [UInt32: UInt64]) -> CrashLoop? {
        let failures = statuses.values.reduce(0, +)
        guard failures >= threshold else { return nil }
        // Most frequent first, then by status (written out: the one-line ternary took the type
        // checker 0.6 s of every build).
        let histogram: [ExitStatusCount] = statuses.map { ExitStatusCount(status: $0.key, count: $0.value) }
            .sorted { (a: ExitStatusCount, b: ExitStatusCount) -> Bool in
                if a.count != b.count { return a.count > b.count }
                return a.status < b.status
            }
        return CrashLoop(failedExits: failures, windowNanoseconds: windowNanoseconds, statuses: histogram)
    }
}

/// A fork storm: the host's exec rate in an interval is at least `factor` times its usual rate and
/// at least `minimumPerSecond` (default: 10x and 100 execs/s). The usual rate starts as the host's
/// average fork rate since boot (/proc/stat `processes` over the uptime) and then follows the calm
/// intervals (a moving average, weight `smoothing`); intervals flagged as a storm do not move it.
public struct ForkStormRule: Sendable {
    public var factor: Double
    public var minimumPerSecond: Double
    public var smoothing: Double
    public private(set) var usualPerSecond: Double?

    public init(factor: Double = 10, minimumPerSecond: Double = 100, smoothing: Double = 0.2, usualPerSecond: Double? = nil) {
        self.factor = factor
        self.minimumPerSecond = minimumPerSecond
        self.smoothing = smoothing
        self.usualPerSecond = usualPerSecond
    }

    /// Seeds the usual rate from the forks since boot, unless it is already known.
    public mutating func seed(forksSinceBoot: UInt64, uptimeNanoseconds: UInt64) {
        guard usualPerSecond == nil, uptimeNanoseconds > 0 else { return }
        usualPerSecond = Double(forksSinceBoot) * 1e9 / Double(uptimeNanoseconds)
    }

    /// Judges one interval and learns from it when it was calm.
    public mutating func evaluate(execsPerSecond rate: Double) -> ForkStorm? {
        let usual = usualPerSecond ?? rate
        if rate >= minimumPerSecond && rate >= factor * usual {
            return ForkStorm(execsPerSecond: rate, usualPerSecond: usual)
        }
        usualPerSecond = usualPerSecond.map { $0 + smoothing * (rate - $0) } ?? rate
        return nil
    }
}
