import TracerCore

/// `tracer drops`' session as counters: every drop delivered, by reason, direction and
/// container; the kernel's exact counts by reason; what the ring buffer lost.
public final class DropMetricsSink: RecordSink {
    private let metrics: AgentMetrics
    private let now: () -> UInt64
    /// The kernel's counts are totals since the probe loaded: the last total per reason.
    private var kernelTotals: [String: UInt64] = [:]

    public init(metrics: AgentMetrics, now: @escaping () -> UInt64 = { BootClock.now }) {
        self.metrics = metrics
        self.now = now
    }

    public func emit(_ record: NetRecord) {
        let now = now()
        switch record {
        case .drop(let drop):
            var labels = SeriesLabels()
            labels.add(container: drop.container, filter: metrics.filter)
            labels.add(.reason, drop.reason.description, filter: metrics.filter)
            labels.add(.direction, drop.direction.map(DropRender.directionText) ?? "", filter: metrics.filter)
            metrics.add(.drops, labels, 1, now: now)
        case .lost(let count, _):
            metrics.add(.lostEvents, .fixed("source", "drops_ring_buffer"), count, now: now)
        case .counts(let rows):
            var totals: [String: UInt64] = [:]
            for row in rows { totals[row.reason.description, default: 0] += row.count }
            for (reason, total) in totals {
                let previous = kernelTotals[reason] ?? 0
                var labels = SeriesLabels()
                labels.add(.reason, reason, filter: metrics.filter)
                // A total that went down was counted afresh (its counter was deleted): all of it is new.
                metrics.add(.kernelDrops, labels, total >= previous ? total - previous : total, now: now)
            }
            kernelTotals = totals
        case .dropsSummary(let summary):
            metrics.add(.mapOverflow, .fixed("map", "drop_counts"), summary.uncounted, now: now)
        case .notice, .path, .publishedPort, .started, .stages, .findings, .flowsSummary:
            break
        }
    }

    public func flush() {}
    public var isClosed: Bool { false }
}
