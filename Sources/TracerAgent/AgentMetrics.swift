import Prometheus
import Synchronization
import TracerCore

/// The agent's metrics: every session's sink writes here, the HTTP endpoint reads the exposition.
/// The series live in swift-prometheus's registry (which writes the text format and escapes label
/// values); this type adds the label filter and removes the data series idle for the TTL, so a
/// host that keeps starting new containers keeps a bounded set of series. Thread-safe: each
/// session runs on its own thread.
public final class AgentMetrics: Sendable {
    public let filter: LabelFilter
    public let ttlNanoseconds: UInt64
    private let registry = PrometheusCollectorRegistry()
    private let series = Mutex<[SeriesKey: Series]>([:])

    struct SeriesKey: Hashable {
        var family: String
        var labels: SeriesLabels
    }

    private struct Series {
        var metric: Metric
        var expires: Bool
        var lastActive: UInt64
    }

    private enum Metric {
        case counter(Counter)
        case gauge(Gauge)
    }

    public init(filter: LabelFilter = LabelFilter(), ttlNanoseconds: UInt64 = 300_000_000_000) {
        self.filter = filter
        self.ttlNanoseconds = ttlNanoseconds
    }

    /// Adds to a counter; a series that gets nothing new keeps its age (the TTL counts from its
    /// last increase), but exists from its first mention so a scrape sees it at 0.
    public func add(_ family: MetricFamily, _ labels: SeriesLabels, _ amount: UInt64, now: UInt64) {
        update(family, labels, now: now, active: amount > 0) { metric in
            if case .counter(let counter) = metric, amount > 0 { counter.increment(by: Int64(clamping: amount)) }
        }
    }

    /// Adds seconds to a counter.
    public func add(_ family: MetricFamily, _ labels: SeriesLabels, seconds: Double, now: UInt64) {
        update(family, labels, now: now, active: seconds > 0) { metric in
            if case .counter(let counter) = metric, seconds > 0 { counter.increment(by: seconds) }
        }
    }

    public func set(_ family: MetricFamily, _ labels: SeriesLabels, _ value: Double, now: UInt64) {
        update(family, labels, now: now, active: true) { metric in
            if case .gauge(let gauge) = metric { gauge.set(value) }
        }
    }

    /// Sets a gauge family to exactly these series: the others are removed (a crash loop that ended).
    public func replace(_ family: MetricFamily, with values: [SeriesLabels: Double], now: UInt64) {
        series.withLock { table in
            for key in table.keys where key.family == family.name && values[key.labels] == nil { remove(key, from: &table) }
        }
        for (labels, value) in values { set(family, labels, value, now: now) }
    }

    /// Removes the data series idle for the TTL; returns how many.
    @discardableResult
    public func expire(now: UInt64) -> Int {
        series.withLock { table in
            let idle = table.filter { $0.value.expires && now &- $0.value.lastActive >= ttlNanoseconds }.map(\.key)
            for key in idle { remove(key, from: &table) }
            return idle.count
        }
    }

    /// The series now, across families.
    public var seriesCount: Int { series.withLock { $0.count } }

    /// The text exposition format 0.0.4 (`GET /metrics`).
    public func exposition() -> [UInt8] {
        registry.emitToBuffer()
    }

    private func update(_ family: MetricFamily, _ labels: SeriesLabels, now: UInt64, active: Bool, _ change: (Metric) -> Void) {
        let key = SeriesKey(family: family.name, labels: labels)
        let metric = series.withLock { table -> Metric in
            if var existing = table[key] {
                if active { existing.lastActive = now }
                table[key] = existing
                return existing.metric
            }
            let metric: Metric
            switch family.kind {
            case .counter: metric = .counter(registry.makeCounter(name: family.name, labels: labels.prometheusLabels, help: family.help))
            case .gauge: metric = .gauge(registry.makeGauge(name: family.name, labels: labels.prometheusLabels, help: family.help))
            }
            table[key] = Series(metric: metric, expires: family.expires, lastActive: now)
            return metric
        }
        change(metric)
    }

    /// Under the table's lock, so a series made again at once gets a new metric, not the one going away.
    private func remove(_ key: SeriesKey, from table: inout [SeriesKey: Series]) {
        guard let removed = table.removeValue(forKey: key) else { return }
        switch removed.metric {
        case .counter(let counter): registry.unregisterCounter(counter)
        case .gauge(let gauge): registry.unregisterGauge(gauge)
        }
    }
}
