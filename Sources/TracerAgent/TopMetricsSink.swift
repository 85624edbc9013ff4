import TracerCore

/// `tracer top`'s session with its snapshots turned into counters: each interval's exact kernel
/// counts added to the series of their container and command (the session groups by those two).
public final class TopMetricsSink: RecordSink {
    private let metrics: AgentMetrics
    private let now: () -> UInt64

    public init(metrics: AgentMetrics, now: @escaping () -> UInt64 = { BootClock.now }) {
        self.metrics = metrics
        self.now = now
    }

    /// The grouping the agent's top session needs: the labels can say nothing about parents.
    public static let groupKeys: [TopGroupKey] = [.container, .command]

    public func emit(_ record: TopRecord) {
        guard case .snapshot(let snapshot) = record else { return }
        let now = now()
        var crashLoops: [SeriesLabels: Double] = [:]
        var unattributed: UInt64 = 0
        for row in snapshot.rows {
            var identity: ContainerIdentity?
            switch row.container {
            case .container(let found): identity = found
            case .notAContainer: unattributed += row.counts.execs + row.counts.failedExecs
            case .host, nil: break
            }
            var labels = SeriesLabels()
            labels.add(container: identity, filter: metrics.filter)
            labels.add(.command, row.isOther ? "(other)" : SeriesLabels.text(row.command ?? []), filter: metrics.filter)
            let counts = row.counts
            metrics.add(.execs, labels, counts.execs, now: now)
            metrics.add(.execFailures, labels, counts.failedExecs, now: now)
            metrics.add(.exits, labels, counts.exits, now: now)
            metrics.add(.failedExits, labels, counts.failedExits, now: now)
            metrics.add(.exitedCPU, labels, seconds: Double(counts.cpuNanoseconds) / 1e9, now: now)
            metrics.add(.exitedLifetime, labels, seconds: Double(counts.lifetimeNanoseconds) / 1e9, now: now)
            if let loop = row.crashLoop { crashLoops[labels, default: 0] += Double(loop.failedExits) }
            if row.isOther {
                metrics.add(.mapOverflow, .fixed("map", "top_groups"), counts.execs + counts.failedExecs + counts.exits, now: now)
            }
        }
        metrics.replace(.crashLoop, with: crashLoops, now: now)
        metrics.set(.forkStorm, SeriesLabels(), snapshot.totals.forkStorm == nil ? 0 : 1, now: now)
        let lost = snapshot.totals.lost
        metrics.add(.lostEvents, .fixed("source", "top_processes"), lost.processes, now: now)
        metrics.add(.lostEvents, .fixed("source", "top_details"), lost.details, now: now)
        metrics.add(.lostEvents, .fixed("source", "top_exit_codes"), lost.exitCodes, now: now)
        metrics.add(.attributionFailures, .fixed("source", "top"), unattributed, now: now)
        if let entries = snapshot.totals.groupEntries {
            metrics.set(.mapEntries, .fixed("map", "top_groups"), Double(entries), now: now)
            metrics.set(.mapCapacity, .fixed("map", "top_groups"), Double(TopProbe.groupCapacity), now: now)
        }
        metrics.expire(now: now)
    }

    public func flush() {}
    public var isClosed: Bool { false }
}
