import BPF
import Glibc

/// What `TopSession` reads: the top probe, or recorded intervals in tests.
public protocol TopCountsSource: AnyObject {
    /// Closes the current interval and returns what happened in it.
    func read() throws -> TopInterval
}

extension TopProbe: TopCountsSource {}

/// A record of `tracer top`'s stream.
public enum TopRecord: Sendable, Equatable {
    /// Counting has begun; the first snapshot comes one interval later (a screen says so).
    case started(intervalNanoseconds: UInt64)
    /// One interval: totals (with what was lost, a fork storm) and rows (crash loops, "(other)").
    case snapshot(TopSnapshot)
}

/// `tracer top`: every interval, kernel counters -> aggregation -> a snapshot, until stopped.
public final class TopSession {
    public struct Limits: Sendable {
        /// Stop after this many snapshots (1 for --once).
        public var count: Int?
        /// At most this many rows in a snapshot, the first in its order (--limit).
        public var rows: Int?

        public init(count: Int? = nil, rows: Int? = nil) {
            self.count = count
            self.rows = rows
        }
    }

    private let source: TopCountsSource
    private let aggregator: TopAggregator
    private let intervalNanoseconds: UInt64
    private let limits: Limits
    private let snapshotWhenStopped: Bool
    private let hostCPU: () -> HostCPUStat?

    /// `snapshotWhenStopped`: stopped between two snapshots, the session gives one more of the
    /// interval so far (a stream keeps what was counted; a screen about to close has no use for
    /// it). `hostCPU` reads /proc/stat, for the host's busy share and the usual exec rate.
    public init(source: TopCountsSource, aggregator: TopAggregator, intervalNanoseconds: UInt64, limits: Limits = Limits(),
                snapshotWhenStopped: Bool = true, hostCPU: @escaping () -> HostCPUStat? = { try? HostCPUStat.read() }) {
        self.source = source
        self.aggregator = aggregator
        self.intervalNanoseconds = intervalNanoseconds
        self.limits = limits
        self.snapshotWhenStopped = snapshotWhenStopped
        self.hostCPU = hostCPU
    }

    /// Runs until `stop` fires, the count is reached or the sink closes, asleep between snapshots
    /// (woken by the stop itself: a host with nothing happening costs one wake-up per interval).
    public func run(into sink: some RecordSink<TopRecord>, stop: StopEvent) throws {
        try run(into: sink, stop: { stop.isFired }, idle: { stop.wait(timeoutMilliseconds: $0) }, longestIdle: .max)
    }

    /// Runs until `stop` says so, the count is reached or the sink closes. Between snapshots it
    /// calls `idle` with how long it may wait, in milliseconds (at most `longestIdle`, so a stop
    /// is seen soon): a sleep, or the interactive screen reading keys.
    public func run(into sink: some RecordSink<TopRecord>, stop: () -> Bool,
                    idle: (Int32) -> Void = TopSession.sleep(milliseconds:), longestIdle: Int32 = 100) throws {
        var hostStart = hostCPU()
        if let hostStart { aggregator.seedUsualRate(forksSinceBoot: hostStart.forks, uptimeNanoseconds: BootClock.now) }
        var deadline = BootClock.now + intervalNanoseconds
        var shown = 0

        func takeSnapshot() throws {
            let interval = try source.read()
            let hostEnd = hostCPU()
            var snapshot = aggregator.snapshot(interval, host: hostStart.flatMap { start in hostEnd.map { (start, $0) } })
            hostStart = hostEnd
            if let rows = limits.rows { snapshot.rows = Array(snapshot.rows.prefix(rows)) }
            shown += 1
            sink.emit(.snapshot(snapshot))
            sink.flush()
        }

        sink.emit(.started(intervalNanoseconds: intervalNanoseconds))
        sink.flush()
        while !stop() && !sink.isClosed {
            let now = BootClock.now
            if now >= deadline {
                try takeSnapshot()
                if let count = limits.count, shown >= count { return }
                deadline += intervalNanoseconds
                if deadline <= now { deadline = now + intervalNanoseconds } // we fell behind: skip, never burst
                continue
            }
            idle(Int32(min((deadline - now) / 1_000_000 + 1, UInt64(longestIdle))))
        }
        if snapshotWhenStopped && !sink.isClosed && limits.count.map({ shown < $0 }) ?? true { try takeSnapshot() }
    }

    public static func sleep(milliseconds: Int32) {
        usleep(useconds_t(max(0, milliseconds)) * 1000)
    }
}
