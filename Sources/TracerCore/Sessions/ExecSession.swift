/// What `ExecSession` reads: the exec probe, or recorded events in tests.
public protocol ExecEventSource: AnyObject {
    /// Waits up to `timeoutMilliseconds` and returns the events that arrived.
    func poll(timeoutMilliseconds: Int32) throws -> [ProcessEvent]
    /// Events the kernel could not deliver since the start, in all.
    func lostEvents() throws -> UInt64
}

extension ExecProbe: ExecEventSource {}

/// A record of `tracer exec`'s stream.
public enum ExecRecord: Sendable, Equatable {
    /// Tracing has begun (a table prints its header).
    case started(ExecPipeline.Mode)
    case process(ExecOutput)
    /// Events the kernel dropped since the previous report, at a boot-clock time.
    case lost(count: UInt64, at: UInt64)
    case summary(ExecSummary)
}

/// The figures of a run of `tracer exec`, its last record.
public struct ExecSummary: Sendable, Equatable {
    public var durationNanoseconds: UInt64
    public var execs: Int
    public var failedExecs: Int
    public var exits: Int
    public var shown: Int
    public var lost: UInt64
}

/// `tracer exec`: kernel events -> reorder -> attribution -> pipeline -> records, until stopped.
public final class ExecSession {
    public struct Limits: Sendable {
        /// Stop after this many shown records.
        public var count: Int?
        /// Stop at this boot-clock time.
        public var deadline: UInt64?
        public init(count: Int? = nil, deadline: UInt64? = nil) {
            self.count = count
            self.deadline = deadline
        }
    }

    private let source: ExecEventSource
    private let attributor: ExecAttributor
    private let pipeline: ExecPipeline
    private let limits: Limits
    /// How often held events are looked at: they wait for earlier ones from other CPUs (20 ms).
    private let pollMilliseconds: Int32 = 10
    /// With nothing held the session sleeps until the kernel wakes it for a first record
    /// (bpf/exec.bpf.c), or this long: a record whose wake-up raced with our drain waits no more.
    private let idleMilliseconds: Int32 = 1000
    private let lostCheckInterval: UInt64 = 200_000_000

    public init(source: ExecEventSource, attributor: ExecAttributor, pipeline: ExecPipeline, limits: Limits = Limits()) {
        self.source = source
        self.attributor = attributor
        self.pipeline = pipeline
        self.limits = limits
    }

    /// Milliseconds to wait for the kernel: short while events are held, long when idle (a host
    /// with nothing happening costs no CPU), never past the deadline.
    func timeout(holding: Bool, now: UInt64 = BootClock.now) -> Int32 {
        var milliseconds = holding ? pollMilliseconds : idleMilliseconds
        if let deadline = limits.deadline {
            milliseconds = min(milliseconds, Int32(clamping: (deadline &- min(deadline, now)) / 1_000_000 + 1))
        }
        return milliseconds
    }

    /// Runs until `stop` says so, a limit is reached or the sink closes; the summary is the last record.
    public func run(into sink: some RecordSink<ExecRecord>, stop: () -> Bool) throws {
        let started = BootClock.now
        var reorder = ReorderBuffer<ProcessEvent>(timestamp: \.timestamp)
        var shown = 0
        var lostReported: UInt64 = 0
        var lastLostCheck: UInt64 = 0
        var full: Bool { limits.count.map { shown >= $0 } ?? false }

        sink.emit(.started(pipeline.mode))
        sink.flush()

        func emit(_ events: [ProcessEvent]) {
            let now = BootClock.now
            let enriched = events.map { event -> ProcessEvent in
                guard case .exec(var exec) = event else { return event }
                exec.attribution = attributor.attribute(exec.keys, now: now)
                return .exec(exec)
            }
            for output in pipeline.process(enriched) {
                if full { return }
                sink.emit(.process(output))
                shown += 1
            }
        }

        func reportLost(now: UInt64) throws {
            let total = try source.lostEvents()
            guard total > lostReported else { return }
            sink.emit(.lost(count: total - lostReported, at: now))
            lostReported = total
        }

        while !stop() && !sink.isClosed {
            reorder.insert(try source.poll(timeoutMilliseconds: timeout(holding: !reorder.isEmpty)))
            let now = BootClock.now
            emit(reorder.release(now: now))
            if now - lastLostCheck >= lostCheckInterval {
                try reportLost(now: now)
                lastLostCheck = now
            }
            sink.flush()
            if full { break }
            if let deadline = limits.deadline, now >= deadline { break }
        }

        // Flush what the kernel already delivered, then the final count of losses.
        reorder.insert(try source.poll(timeoutMilliseconds: 0))
        emit(reorder.release(now: nil))
        let now = BootClock.now
        try reportLost(now: now)
        sink.emit(.summary(ExecSummary(durationNanoseconds: now - started, execs: pipeline.execCount,
                                       failedExecs: pipeline.failedExecCount, exits: pipeline.exitCount,
                                       shown: shown, lost: lostReported)))
        sink.flush()
    }
}
