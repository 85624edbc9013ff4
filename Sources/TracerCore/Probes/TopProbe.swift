import BPF
import BPFPrograms
import TracerABI

/// The loaded and attached top probe (bpf/top.bpf.c): exact counters of execs, exits, CPU and
/// lifetime by (cgroup, parent command, command), read and diffed once per interval; what the
/// group map has no room for is counted apart ("(other)"), so the host's totals stay exact.
///
/// Needs CAP_BPF and CAP_PERFMON (or CAP_SYS_ADMIN), BTF, the sched and syscalls tracepoints
/// and BTF tracepoints (`tp_btf`, Linux 5.5).
public final class TopProbe {
    private let object: BPFObject
    private let countsMap: TypedMap<tracer_top_key, tracer_top_counts>
    private let detailsMap: TypedMap<tracer_top_key, tracer_top_detail>
    private let exitCodesMap: TypedMap<tracer_top_exit_key, UInt64>
    private let otherMap: TypedMap<UInt32, tracer_top_other>
    private let lostMap: TypedMap<UInt32, UInt64>
    /// The interval the kernel is counting maxima for; it advances at every `read`.
    private var interval: UInt64 = 0
    private var intervalStart: UInt64
    private var previousCounts: [TopGroup: TopCounts] = [:]
    private var previousStatuses: [TopGroup: [UInt32: UInt64]] = [:]
    private var previousOther = TopCounts()
    private var previousOtherStatuses: [UInt32: UInt64] = [:]
    private var previousLost = TopLosses()
    /// Groups whose keys were read once; their argv is read again only when they exec.
    private var knownDetails: Set<TopGroup> = []
    /// When each group last changed, to find the idle ones when the kernel's maps fill up.
    private var lastActive: [TopGroup: UInt64] = [:]
    private let eviction: Eviction

    /// The kernel's group maps hold 16384 entries; a long-running top on a busy host with ever-new
    /// commands or containers would fill them and count every new group as lost. Past `above`
    /// groups, those idle for `idleNanoseconds` are deleted from the maps (and from our diffs):
    /// they come back from zero if they run again. An event that lands between the last read of
    /// an idle group and its deletion is lost with it.
    /// Entries of the kernel's group maps (`max_entries` in bpf/top.bpf.c).
    public static let groupCapacity = 16384

    public struct Eviction: Sendable {
        public var above: Int
        public var idleNanoseconds: UInt64
        public init(above: Int = 12288, idleNanoseconds: UInt64 = 60_000_000_000) {
            self.above = above
            self.idleNanoseconds = idleNanoseconds
        }
    }

    public init(eviction: Eviction = Eviction()) throws {
        self.eviction = eviction
        TraceFS.mountIfNeeded()
        object = try BPFObject(name: "top", bytes: EmbeddedBPF.top.bytes)
        try object.load()
        countsMap = try object.map(TopObject.counts)
        detailsMap = try object.map(TopObject.details)
        exitCodesMap = try object.map(TopObject.exitCodes)
        otherMap = try object.map(TopObject.other)
        lostMap = try object.map(TopObject.lost)
        try object.attachAll()
        intervalStart = BootClock.now
    }

    /// Closes the current interval and returns what happened in it.
    public func read() throws -> TopInterval {
        let closed = interval
        let end = BootClock.now
        // From here on the kernel records maxima in the other slot, leaving this interval's alone.
        // (An exit that read the interval number just before this write may still land in the old
        // slot after we read it: its lifetime is then missing from one maximum, never from a sum.)
        interval += 1
        try object.setVariable(TopObject.interval, to: interval)

        var counts: [TopGroup: TopCounts] = [:]
        var cumulative: [TopGroup: TopCounts] = [:]
        cumulative.reserveCapacity(previousCounts.count)
        for key in try countsMap.keys() {
            guard let copies = try countsMap.copies(key) else { continue }
            let group = TopMapDecoder.group(key)
            let total = TopMapDecoder.counts(copies, interval: closed)
            cumulative[group] = total
            let delta = total.since(previousCounts[group] ?? TopCounts())
            if !delta.isEmpty {
                counts[group] = delta
                lastActive[group] = end
            }
        }
        previousCounts = cumulative

        var statuses: [TopGroup: [UInt32: UInt64]] = [:]
        var cumulativeStatuses: [TopGroup: [UInt32: UInt64]] = [:]
        for key in try exitCodesMap.keys() {
            let (group, status) = TopMapDecoder.exitKey(key)
            let total = try exitCodesMap.sum(key)
            cumulativeStatuses[group, default: [:]][status] = total
            let delta = total &- (previousStatuses[group]?[status] ?? 0)
            if delta > 0 { statuses[group, default: [:]][status] = delta }
        }
        previousStatuses = cumulativeStatuses

        var details: [TopGroup: TopGroupDetail] = [:]
        for (group, delta) in counts where delta.execs > 0 || !knownDetails.contains(group) {
            guard let detail = try detailsMap.lookup(TopMapDecoder.key(group)) else { continue }
            details[group] = TopMapDecoder.detail(detail)
            knownDetails.insert(group)
        }

        // The groups the map had no room for: an array, so every event not in a group is here.
        var other = TopCounts()
        var otherStatuses: [UInt32: UInt64] = [:]
        if let copies = try otherMap.copies(0) {
            let total = TopMapDecoder.other(copies, interval: closed)
            other = total.counts.since(previousOther)
            for (status, count) in total.failedExitStatuses where count > previousOtherStatuses[status, default: 0] {
                otherStatuses[status] = count - previousOtherStatuses[status, default: 0]
            }
            previousOther = total.counts
            previousOtherStatuses = total.failedExitStatuses
        }

        let lost = try losses()
        defer {
            previousLost = lost
            intervalStart = end
        }
        if previousCounts.count > eviction.above { try evictIdle(now: end) }
        return TopInterval(start: intervalStart, end: end, counts: counts, failedExitStatuses: statuses,
                           details: details, other: other, otherFailedExitStatuses: otherStatuses, lost: lost.since(previousLost),
                           groupEntries: previousCounts.count)
    }

    /// Deletes the groups idle for `eviction.idleNanoseconds` from the kernel's maps and our state.
    private func evictIdle(now: UInt64) throws {
        let idle = Set(previousCounts.keys.filter { group in
            now &- (lastActive[group] ?? intervalStart) >= eviction.idleNanoseconds
        })
        guard !idle.isEmpty else { return }
        for group in idle {
            let key = TopMapDecoder.key(group)
            try countsMap.delete(key)
            try detailsMap.delete(key)
            previousCounts[group] = nil
            previousStatuses[group] = nil
            knownDetails.remove(group)
            lastActive[group] = nil
        }
        for key in try exitCodesMap.keys() where idle.contains(TopMapDecoder.exitKey(key).group) {
            try exitCodesMap.delete(key)
        }
    }

    private func losses() throws -> TopLosses {
        func count(_ kind: tracer_top_loss) throws -> UInt64 { try lostMap.sum(UInt32(kind.rawValue)) }
        return TopLosses(processes: try count(TRACER_TOP_LOST_PROCESSES),
                         details: try count(TRACER_TOP_LOST_DETAILS), exitCodes: try count(TRACER_TOP_LOST_EXIT_CODES))
    }

    public var programIDs: [UInt32] { object.programIDs }

    /// Detaches every program and frees the maps.
    public func close() {
        object.close()
    }

    deinit { close() }
}
