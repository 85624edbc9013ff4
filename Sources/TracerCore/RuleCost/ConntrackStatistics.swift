/// The conntrack counters of one network namespace, /proc/net/stat/nf_conntrack: a header naming
/// the columns, then one row of hexadecimal counters per CPU. `insert` counts the connections
/// conntrack confirmed, that is the new connections whose first packet walked the nat chains.
public struct ConntrackStatistics: Sendable, Equatable {
    /// Connections confirmed, summed over the CPUs.
    public var inserts: UInt64
    /// Entries in the table now (the same on every row).
    public var entries: UInt64

    /// Nil when the text has no header naming `insert`.
    public static func parse(_ text: String) -> ConntrackStatistics? {
        var lines = text.split(separator: "\n").map { $0.split(whereSeparator: { $0 == " " || $0 == "\t" }) }
        guard !lines.isEmpty else { return nil }
        let header = lines.removeFirst().map(String.init)
        guard let insert = header.firstIndex(of: "insert") else { return nil }
        let entries = header.firstIndex(of: "entries")
        var statistics = ConntrackStatistics(inserts: 0, entries: 0)
        for (i, row) in lines.enumerated() where row.count == header.count {
            guard let inserted = UInt64(row[insert], radix: 16) else { return nil }
            statistics.inserts &+= inserted
            if i == 0, let entries, let value = UInt64(row[entries], radix: 16) { statistics.entries = value }
        }
        return statistics
    }

    /// The calling thread's namespace's (inside `RouteNetlink.inNamespace`); nil without conntrack.
    static func readCurrentNamespace() -> ConntrackStatistics? {
        (try? FileSystem.readText("/proc/thread-self/net/stat/nf_conntrack", kind: .kernelTable)).flatMap(parse)
    }
}

/// New connections per second over an interval, from two readings of the insert counter.
public struct ConnectionRate: Sendable, Equatable {
    public var perSecond: Double
    public var seconds: Double
    /// The inserts counted over the interval.
    public var inserts: UInt64

    public init(before: ConntrackStatistics, after: ConntrackStatistics, seconds: Double) {
        inserts = after.inserts >= before.inserts ? after.inserts - before.inserts : 0
        self.seconds = seconds
        perSecond = seconds > 0 ? Double(inserts) / seconds : 0
    }
}
