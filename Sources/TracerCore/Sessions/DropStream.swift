import BPF

/// The part `DropsSession` and `EgressSession` share: drops from the source -> described ->
/// filtered -> records as they come, losses reported as they grow, and the kernel's counters
/// named and filtered as the drops were.
final class DropStream {
    let source: NetEventSource
    let describer: DropDescriber
    let scope: EgressScope
    private(set) var filter: DropFilter
    /// Drops shown so far.
    private(set) var shown = 0
    /// Drop records the kernel could not deliver, as reported so far.
    private(set) var lost: UInt64 = 0
    /// Called with every drop shown.
    var onDrop: (DropRecord) -> Void = { _ in }
    /// How long a poll waits for drops when nothing else ends it: the longest a stop request waits.
    private let pollMilliseconds: Int32 = 100
    /// Ends a poll as soon as a stop is asked: polls then wait until the next interval instead
    /// (an idle host wakes the reader once per interval, not ten times a second).
    private let stopEvent: StopEvent?

    init(source: NetEventSource, describer: DropDescriber, scope: EgressScope, filter: DropFilter, stop: StopEvent? = nil) {
        self.source = source
        self.describer = describer
        self.scope = scope
        self.filter = filter
        stopEvent = stop
    }

    /// Milliseconds the next poll may wait: until the next interval's tick or the deadline, and
    /// without a stop event at most `pollMilliseconds`, so `stop` is looked at soon.
    func timeout(now: UInt64, nextTick: UInt64, deadline: UInt64?) -> Int32 {
        func until(_ time: UInt64) -> Int32 { Int32(clamping: (time &- min(time, now)) / 1_000_000 + 1) }
        var milliseconds = until(nextTick)
        if let deadline { milliseconds = min(milliseconds, until(deadline)) }
        return stopEvent == nil ? min(milliseconds, pollMilliseconds) : milliseconds
    }

    /// Polls until `stop` says so, the deadline passes or the sink closes; every `interval`
    /// reports losses and runs `tick`; `onPoll` runs after every poll.
    func run(into sink: some RecordSink<NetRecord>, stop: () -> Bool, deadline: UInt64?, interval: UInt64,
             onPoll: () -> Void = {}, tick: () throws -> Void) throws {
        // The first drop would otherwise read /proc/kallsyms in the middle of the traffic traced.
        describer.loadSymbols()
        sink.emit(.started)
        sink.flush()
        var lastTick = BootClock.now
        while !stop() && !sink.isClosed {
            let waitFor = timeout(now: BootClock.now, nextTick: lastTick + interval, deadline: deadline)
            show(try source.poll(timeoutMilliseconds: waitFor, stop: stopEvent), into: sink)
            onPoll()
            let now = BootClock.now
            if now - lastTick >= interval {
                try reportLost(into: sink, at: now)
                try tick()
                lastTick = now
            }
            sink.flush()
            if let deadline, now >= deadline { break }
        }
        // What the kernel already delivered, then the final count of losses.
        show(try source.poll(timeoutMilliseconds: 0, stop: nil), into: sink)
        try reportLost(into: sink, at: BootClock.now)
        sink.flush()
    }

    private func show(_ events: [DropEvent], into sink: some RecordSink<NetRecord>) {
        for event in events {
            let record = describer.describe(event)
            guard filter.admit(record) else { continue }
            shown += 1
            onDrop(record)
            sink.emit(.drop(record))
        }
    }

    private func reportLost(into sink: some RecordSink<NetRecord>, at now: UInt64) throws {
        let total = try source.lostEvents()
        guard total > lost else { return }
        sink.emit(.lost(count: total - lost, at: now))
        lost = total
    }

    /// The kernel's exact counts, as the drops shown so far filter and name them.
    func countRows() throws -> [DropCountRow] {
        filter.rows(try source.dropCounts(), describer: describer, scope: scope)
    }
}
