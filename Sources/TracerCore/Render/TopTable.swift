/// The screen of `tracer top`: header lines with host totals, then one line per row. Every line
/// fits the given width: columns are dropped from the least useful up, names and arguments are
/// cut with an ellipsis, and below the narrowest layout each line is cut at the width.
public struct TopTable {
    public let clock: BootClock

    public init(clock: BootClock) {
        self.clock = clock
    }

    enum Column: CaseIterable {
        case mark, container, parent, command, execs, exits, failures, cpuSeconds, cpuPercent, lifetime, maxLifetime, args

        var title: String {
            switch self {
            case .mark: return " "
            case .container: return "CONTAINER"
            case .parent: return "PARENT"
            case .command: return "COMMAND"
            case .execs: return "EXEC/s"
            case .exits: return "EXIT/s"
            case .failures: return "FAIL"
            case .cpuSeconds: return "CPU/s"
            case .cpuPercent: return "%CPU"
            case .lifetime: return "LIFE"
            case .maxLifetime: return "MAX"
            case .args: return "ARGS"
            }
        }

        /// Fixed width; ARGS takes what is left, at least this much.
        var width: Int {
            switch self {
            case .mark: return 1
            case .container, .command: return 10
            case .parent: return 8
            case .execs, .exits, .lifetime, .maxLifetime: return 6
            case .failures: return 4
            case .cpuSeconds, .cpuPercent: return 5
            case .args: return 14
            }
        }

        /// Columns with the lowest value go first when the terminal is too narrow.
        var keep: Int {
            switch self {
            case .command, .mark: return 100
            case .cpuPercent: return 90
            case .container: return 80
            case .parent: return 70
            case .execs: return 60
            case .args: return 50
            case .lifetime: return 45
            case .failures: return 40
            case .maxLifetime: return 20
            case .exits: return 15
            case .cpuSeconds: return 10
            }
        }

        var rightAligned: Bool {
            switch self {
            case .mark, .container, .parent, .command, .args: return false
            default: return true
            }
        }
    }

    /// The columns that fit `width` for rows grouped `by`.
    static func columns(width: Int, by: [TopGroupKey]) -> [Column] {
        var columns = Column.allCases.filter { column in
            switch column {
            case .container: return by.contains(.container)
            case .parent: return by.contains(.parent)
            case .command: return by.contains(.command)
            default: return true
            }
        }
        func needed(_ columns: [Column]) -> Int { columns.reduce(0) { $0 + $1.width } + columns.count - 1 }
        while needed(columns) > width, let drop = columns.filter({ $0.keep < 100 }).min(by: { $0.keep < $1.keep }) {
            columns.removeAll { $0 == drop }
        }
        return columns
    }

    /// The whole screen: at most `height` lines (nil: every row), none wider than `width`.
    public func frame(_ snapshot: TopSnapshot, width: Int, height: Int? = nil) -> [String] {
        let width = max(width, 1)
        var lines = header(snapshot)
        let columns = TopTable.columns(width: width, by: snapshot.by)
        let argsWidth = columns.contains(.args)
            ? max(Column.args.width, width - columns.filter { $0 != .args }.reduce(0) { $0 + $1.width + 1 })
            : 0
        lines.append("")
        lines.append(line(columns.map { ($0, $0.title) }, argsWidth: argsWidth))
        var rows = snapshot.rows
        if let height { rows = Array(rows.prefix(max(0, height - lines.count))) }
        // "(other)" stands in the first name column shown; its other name columns stay empty.
        let otherLabel = columns.first { [.container, .parent, .command].contains($0) }
        for row in rows {
            lines.append(line(columns.map { column in
                guard row.isOther else { return (column, cell(column, row, snapshot)) }
                return (column, otherCell(column, row, snapshot, label: column == otherLabel))
            }, argsWidth: argsWidth))
        }
        if snapshot.rows.isEmpty { lines.append("(no process exited or exec'd in this interval)") }
        if let height { lines = Array(lines.prefix(height)) }
        return lines.map { TopTable.fit($0, width) }
    }

    func header(_ s: TopSnapshot) -> [String] {
        let t = s.totals
        var lines = [
            "tracer top  " + Formatting.clock(clock.wallClock(s.timestamp)).prefix(8)
                + "  interval " + Formatting.duration(s.intervalNanoseconds)
                + "  by " + s.by.map(\.rawValue).joined(separator: ",") + "  sort " + s.sort.rawValue,
        ]
        var cpu = "short-lived " + TopTable.percent(s.shortLivedShare) + "% of \(t.onlineCPUs) CPUs ("
            + TopTable.decimal(Double(t.counts.cpuNanoseconds) / Double(max(s.intervalNanoseconds, 1))) + " s/s)"
        if let busy = t.hostBusyNanoseconds, let total = t.hostTotalNanoseconds, total > 0 {
            cpu += "  host busy " + TopTable.percent(Double(busy) / Double(total)) + "%"
        }
        lines.append(cpu)
        lines.append("execs " + TopTable.rate(s.rate(t.counts.execs)) + "/s  exits " + TopTable.rate(s.rate(t.counts.exits))
            + "/s  failed execs \(t.counts.failedExecs)  failed exits \(t.counts.failedExits)  lost \(t.lost.total)")
        if let storm = t.forkStorm {
            lines.append("FORK STORM: " + TopTable.rate(storm.execsPerSecond) + " execs/s, usually "
                + TopTable.rate(storm.usualPerSecond) + "/s")
        }
        if let other = s.rows.first(where: \.isOther) {
            lines.append("MAP FULL: \(other.counts.execs) execs, \(other.counts.exits) exits in (other): "
                + "their groups did not fit in the kernel's map")
        }
        for row in s.rows where row.crashLoop != nil {
            if row.isOther {
                lines.append("FAILED EXITS IN (other): " + TopTable.crashText(row.crashLoop!)
                    + ": a crash loop may hide there, its command is unknown")
            } else {
                lines.append("CRASH LOOP: " + name(row) + ": " + TopTable.crashText(row.crashLoop!))
            }
        }
        return lines
    }

    /// "web1 sh -> false" style, for the lines under the header.
    func name(_ row: TopRow) -> String {
        if row.isOther { return "(other)" }
        var parts: [String] = []
        if let container = row.container { parts.append(ContainerJSON.column(container)) }
        if let parent = row.parent { parts.append(ByteText.escaped(parent)) }
        if let command = row.command { parts.append(ByteText.escaped(command)) }
        return parts.joined(separator: " > ")
    }

    static func crashText(_ loop: CrashLoop) -> String {
        "\(loop.failedExits) failed exits in " + Formatting.duration(loop.windowNanoseconds) + " ("
            + loop.statuses.map { statusText($0) + " x\($0.count)" }.joined(separator: ", ") + ")"
    }

    static func statusText(_ s: ExitStatusCount) -> String {
        if !s.isRecorded { return "status not recorded" }
        if let signal = s.signal { return Formatting.signalName(signal) + (s.coreDumped ? "(core)" : "") }
        return "exit \(s.exitCode ?? 0)"
    }

    private func cell(_ column: Column, _ row: TopRow, _ s: TopSnapshot) -> String {
        let c = row.counts
        switch column {
        case .mark: return row.crashLoop == nil ? " " : "!"
        case .container: return row.container.map(ContainerJSON.column) ?? "-"
        case .parent: return ByteText.escaped(row.parent ?? [])
        case .command: return ByteText.escaped(row.command ?? [])
        case .execs: return TopTable.rate(s.rate(c.execs))
        case .exits: return TopTable.rate(s.rate(c.exits))
        case .failures: return String(c.failedExecs)
        case .cpuSeconds: return TopTable.decimal(Double(c.cpuNanoseconds) / Double(max(s.intervalNanoseconds, 1)))
        case .cpuPercent: return TopTable.percent(Double(c.cpuNanoseconds) / Double(max(s.intervalNanoseconds, 1)))
        case .lifetime: return c.exits == 0 ? "-" : TopTable.duration(c.averageLifetimeNanoseconds)
        case .maxLifetime: return c.exits == 0 ? "-" : TopTable.duration(c.maxLifetimeNanoseconds)
        case .args: return row.lastArgs.isEmpty ? "" : ExecTable.arguments(row.lastArgs, truncated: row.argsTruncated)
        }
    }

    /// A cell of the "(other)" row: counts as in any row, no names, and what it is instead of argv.
    private func otherCell(_ column: Column, _ row: TopRow, _ s: TopSnapshot, label: Bool) -> String {
        switch column {
        case .mark: return row.crashLoop == nil ? " " : "?"
        case .container, .parent, .command: return label ? "(other)" : ""
        case .args: return "groups the kernel's map had no room for"
        default: return cell(column, row, s)
        }
    }

    private func line(_ cells: [(Column, String)], argsWidth: Int) -> String {
        var out = ""
        for (i, (column, text)) in cells.enumerated() {
            let width = column == .args ? argsWidth : column.width
            let cut = TopTable.fit(text, width)
            let pad = String(repeating: " ", count: max(0, width - cut.count))
            if i > 0 { out += " " }
            if column == .args { out += cut } else { out += column.rightAligned ? pad + cut : cut + pad }
        }
        return out
    }

    /// `text` in at most `width` characters; a cut text ends with an ellipsis.
    public static func fit(_ text: String, _ width: Int) -> String {
        guard text.count > width else { return text }
        guard width > 0 else { return "" }
        return String(text.prefix(width - 1)) + "…"
    }

    /// "0.85", "12.3", "1234", "12k": at most 5 characters for rates below 100000/s.
    static func rate(_ value: Double) -> String {
        switch value {
        case ..<10: return String(format2: value)
        case ..<100: return Formatting.oneDecimal(value)
        case ..<10_000: return String(Int(value.rounded()))
        default: return String(Int((value / 1000).rounded())) + "k"
        }
    }

    /// At most 6 characters: "850us", "5.4ms", "135ms", "4.50s", "45.2s", "3m12s", "125m".
    static func duration(_ ns: UInt64) -> String {
        switch ns {
        case ..<1_000_000: return "\(ns / 1000)us"
        case ..<10_000_000: return Formatting.oneDecimal(Double(ns) / 1e6) + "ms"
        case ..<1_000_000_000: return "\(Int((Double(ns) / 1e6).rounded()))ms"
        case ..<10_000_000_000: return String(format2: Double(ns) / 1e9) + "s"
        case ..<60_000_000_000: return Formatting.oneDecimal(Double(ns) / 1e9) + "s"
        case ..<6_000_000_000_000: return "\(ns / 60_000_000_000)m\((ns / 1_000_000_000) % 60)s"
        default: return "\(ns / 60_000_000_000)m"
        }
    }

    static func decimal(_ value: Double) -> String { String(format2: value) }

    /// A share as a percentage with one decimal: 0.4153 -> "41.5".
    static func percent(_ share: Double) -> String { Formatting.oneDecimal(share * 100) }
}
