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
    /// How long a poll waits for drops: the longest a stop request or a deadline waits too.
    private let pollMilliseconds: Int32 = 100

    init(source: NetEventSource, describer: DropDescriber, scope: EgressScope, filter: DropFilter) {
        self.source = source
        self.describer = describer
        self.scope = scope
        self.filter = filter
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
            show(try source.poll(timeoutMilliseconds: pollMilliseconds), into: sink)
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
        show(try source.poll(timeoutMilliseconds: 0), into: sink)
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
