/// Turns the kernel's per-group counts of one interval into the rows of `tracer top`: attributes
/// each group to its container, merges groups by the chosen keys, flags crash loops and fork
/// storms, and sorts. Keeps what outlives an interval: group details, failure history, the usual rate.
public final class TopAggregator {
    public let by: [TopGroupKey]
    public let sort: TopSortKey
    public let crashRule: CrashLoopRule
    public private(set) var stormRule: ForkStormRule
    /// Which groups become rows and totals (`--container`, `--host`); the fork-storm rule still
    /// judges the whole host's exec rate, since that is what the usual rate is learnt from.
    public var only: TopFilter = .everything
    private let attribute: (ProcessKeys) -> Attribution
    private var details: [TopGroup: TopGroupDetail] = [:]
    private var failures: [CrashKey: CrashLoopRule.History] = [:]

    /// The identity a crash loop is judged on: the container (or the host) and the command; or
    /// the processes of "(other)", whose container and command are unknown.
    struct CrashKey: Hashable {
        var container: ProcessOwner
        var command: [UInt8]
        var other = false

        static let other = CrashKey(container: .host, command: [], other: true)
    }

    private struct RowKey: Hashable {
        /// Nil when rows are not grouped by container.
        var container: ProcessOwner?
        var parent: [UInt8]?
        var command: [UInt8]?
        var other = false
    }

    /// `attribute` names the container of a group's cgroup keys (normally `ExecAttributor.attribute`).
    public init(by: [TopGroupKey] = TopGroupKey.allCases, sort: TopSortKey = .cpu, crashRule: CrashLoopRule = CrashLoopRule(),
                stormRule: ForkStormRule = ForkStormRule(), attribute: @escaping (ProcessKeys) -> Attribution) {
        self.by = by
        self.sort = sort
        self.crashRule = crashRule
        self.stormRule = stormRule
        self.attribute = attribute
    }

    /// The usual exec rate starts from the host's fork rate since boot.
    public func seedUsualRate(forksSinceBoot: UInt64, uptimeNanoseconds: UInt64) {
        stormRule.seed(forksSinceBoot: forksSinceBoot, uptimeNanoseconds: uptimeNanoseconds)
    }

    /// One snapshot. `host` is /proc/stat at the start and the end of the interval, when read.
    public func snapshot(_ interval: TopInterval, host: (start: HostCPUStat, end: HostCPUStat)? = nil,
                         onlineCPUs: Int = HostCPUStat.onlineCPUs) -> TopSnapshot {
        details.merge(interval.details) { _, new in new }
        // Groups are few and their cgroups repeat: attribute each cgroup once per interval.
        var containers: [TopGroup: (key: ProcessOwner, attribution: Attribution)] = [:]
        for group in interval.counts.keys {
            containers[group] = container(of: group)
        }

        // Crash loops are judged per container and command, whatever the rows are grouped by.
        var statusesByCrashKey: [CrashKey: [UInt32: UInt64]] = [:]
        for (group, statuses) in interval.failedExitStatuses {
            let key = CrashKey(container: containers[group]?.key ?? container(of: group).key, command: group.comm)
            statusesByCrashKey[key, default: [:]].merge(statuses, uniquingKeysWith: +)
        }
        // Failed exits whose status the histogram map had no room for (it fills with the groups)
        // still count: a full map must not hide a crash loop. (Only when the kernel says so: the
        // count and the status are two updates, and a read may fall between them.)
        for (group, counts) in interval.counts where counts.failedExits > 0 && interval.lost.exitCodes > 0 {
            let recorded = interval.failedExitStatuses[group]?.values.reduce(0, +) ?? 0
            guard counts.failedExits > recorded else { continue }
            let key = CrashKey(container: containers[group]!.key, command: group.comm)
            statusesByCrashKey[key, default: [:]][ExitStatusCount.unrecorded, default: 0] += counts.failedExits - recorded
        }
        if !interval.otherFailedExitStatuses.isEmpty { statusesByCrashKey[.other] = interval.otherFailedExitStatuses }
        let cutoff = interval.end > crashRule.windowNanoseconds ? interval.end - crashRule.windowNanoseconds : 0
        for key in Set(failures.keys).union(statusesByCrashKey.keys) {
            failures[key, default: CrashLoopRule.History()].record(end: interval.end, statuses: statusesByCrashKey[key] ?? [:], keepingAfter: cutoff)
            if failures[key]?.intervals.isEmpty == true { failures[key] = nil }
        }

        var rows: [RowKey: TopRow] = [:]
        var crashKeysByRow: [RowKey: Set<CrashKey>] = [:]
        var busiestExecs: [RowKey: UInt64] = [:]
        var total = TopCounts()
        var hostExecs: UInt64 = 0
        for (group, counts) in interval.counts {
            hostExecs += counts.execs
            let container = containers[group]!
            guard only.admits(container.key) else { continue }
            total.add(counts)
            let key = RowKey(container: by.contains(.container) ? container.key : nil,
                             parent: by.contains(.parent) ? group.parentComm : nil,
                             command: by.contains(.command) ? group.comm : nil)
            var row = rows[key] ?? TopRow(container: by.contains(.container) ? container.attribution : nil,
                                          parent: key.parent, command: key.command, counts: TopCounts())
            row.counts.add(counts)
            // The argv shown is that of the busiest exec'ing group: the one a person would go after.
            if let detail = details[group], counts.execs > 0 || row.lastArgs.isEmpty,
               counts.execs >= busiestExecs[key, default: 0] {
                row.lastArgs = detail.args
                row.argsTruncated = detail.argsTruncated
                busiestExecs[key] = counts.execs
            }
            rows[key] = row
            crashKeysByRow[key, default: []].insert(CrashKey(container: container.key, command: group.comm))
        }
        for (key, crashKeys) in crashKeysByRow {
            var statuses: [UInt32: UInt64] = [:]
            for crashKey in crashKeys {
                guard let history = failures[crashKey], crashRule.crashLoop(history.statuses) != nil else { continue }
                statuses.merge(history.statuses, uniquingKeysWith: +)
            }
            rows[key]?.crashLoop = crashRule.crashLoop(statuses)
        }

        // The processes whose group the kernel had no room for: one row, in the totals whatever
        // the filter (they may be the selected containers'), so the table adds up.
        if !interval.other.isEmpty {
            hostExecs += interval.other.execs
            total.add(interval.other)
            var row = TopRow(container: nil, parent: nil, command: nil, counts: interval.other, isOther: true)
            if let history = failures[.other] { row.crashLoop = crashRule.crashLoop(history.statuses) }
            rows[RowKey(other: true)] = row
        }

        let seconds = Double(interval.nanoseconds) / 1e9
        let storm = seconds > 0 ? stormRule.evaluate(execsPerSecond: Double(hostExecs) / seconds) : nil
        var totals = TopTotals(counts: total, onlineCPUs: onlineCPUs, lost: interval.lost, forkStorm: storm,
                                groupEntries: interval.groupEntries)
        if let host, host.end.totalNanoseconds >= host.start.totalNanoseconds {
            totals.hostBusyNanoseconds = host.end.busyNanoseconds &- host.start.busyNanoseconds
            totals.hostTotalNanoseconds = host.end.totalNanoseconds - host.start.totalNanoseconds
        }
        return TopSnapshot(timestamp: interval.end, intervalNanoseconds: interval.nanoseconds, by: by, sort: sort,
                           totals: totals, rows: TopAggregator.sorted(Array(rows.values), by: sort))
    }

    /// Whose a group is (the host, or a container by full id) and its attribution.
    private func container(of group: TopGroup) -> (key: ProcessOwner, attribution: Attribution) {
        let attribution: Attribution
        if let detail = details[group] {
            attribution = attribute(detail.keys)
        } else if group.cgroupID <= 1 && group.cgroupV1ID == 0 {
            attribution = .host
        } else {
            attribution = .notAContainer(reason: "no attribution keys for cgroup \(group.cgroupID): the details map was full")
        }
        switch attribution {
        case .container(let identity): return (.container(id: identity.id), attribution)
        case .host, .notAContainer: return (.host, attribution)
        }
    }

    /// Largest first by the sort key, then by CPU, execs and names so the order is stable.
    public static func sorted(_ rows: [TopRow], by sort: TopSortKey) -> [TopRow] {
        func value(_ row: TopRow) -> UInt64 {
            switch sort {
            case .cpu: return row.counts.cpuNanoseconds
            case .execs: return row.counts.execs
            case .exits: return row.counts.exits
            case .failures: return row.counts.failedExecs
            case .failedExits: return row.counts.failedExits
            case .averageLifetime: return row.counts.averageLifetimeNanoseconds
            case .maxLifetime: return row.counts.maxLifetimeNanoseconds
            }
        }
        return rows.sorted { a, b in
            let (va, vb) = (value(a), value(b))
            if va != vb { return va > vb }
            if a.counts.cpuNanoseconds != b.counts.cpuNanoseconds { return a.counts.cpuNanoseconds > b.counts.cpuNanoseconds }
            if a.counts.execs != b.counts.execs { return a.counts.execs > b.counts.execs }
            let names = { (r: TopRow) in [r.command ?? [], r.parent ?? [], Array((r.container.map(ContainerJSON.column) ?? "").utf8)] }
            return names(a).lexicographicallyPrecedes(names(b)) { $0.lexicographicallyPrecedes($1) }
        }
    }
}

/// The groups `tracer top` shows: all, the host's only, or those of some containers (by full id).
public enum TopFilter: Sendable, Equatable {
    case everything
    case host
    case containers(Set<String>)

    func admits(_ owner: ProcessOwner) -> Bool {
        switch (self, owner) {
        case (.everything, _): return true
        case (.host, .host): return true
        case (.containers(let ids), .container(let id)): return ids.contains(id)
        default: return false
        }
    }
}
