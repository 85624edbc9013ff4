/// The labels the agent's data metrics may carry: a bounded set (fleet.md), never pids, argv or
/// flow tuples. `--labels` keeps a subset of them.
public enum MetricLabel: String, CaseIterable, Sendable, Comparable {
    case container
    case podNamespace = "pod_namespace"
    case pod, runtime, command, reason, direction

    public static func < (lhs: MetricLabel, rhs: MetricLabel) -> Bool {
        allCases.firstIndex(of: lhs)! < allCases.firstIndex(of: rhs)!
    }
}

/// Which of `MetricLabel` the series carry (`--labels`): a label left out merges the series it
/// told apart (their counts add up), as Tetragon's label filter does.
public struct LabelFilter: Sendable, Equatable {
    public var kept: Set<MetricLabel>

    public init(kept: Set<MetricLabel> = Set(MetricLabel.allCases)) {
        self.kept = kept
    }

    public struct UnknownLabel: Error, Equatable, CustomStringConvertible {
        public var name: String
        public var description: String {
            "unknown label '\(name)'; valid labels: \(MetricLabel.allCases.map(\.rawValue).joined(separator: ", "))"
        }
    }

    /// "container,pod,command"; "" keeps none. Spaces around names are ignored.
    public init(parsing text: String) throws(UnknownLabel) {
        var kept: Set<MetricLabel> = []
        for part in text.split(separator: ",") {
            let name = String(part.filter { $0 != " " })
            if name.isEmpty { continue }
            guard let label = MetricLabel(rawValue: name) else { throw UnknownLabel(name: name) }
            kept.insert(label)
        }
        self.kept = kept
    }
}

/// One series' labels, in `MetricLabel` order, with the filter already applied; fixed labels of
/// the agent's own metrics (`session`, `source`, `map`) are never filtered.
public struct SeriesLabels: Hashable, Sendable {
    public private(set) var pairs: [LabelPair]

    public struct LabelPair: Hashable, Sendable {
        public var name: String
        public var value: String
    }

    public init() { pairs = [] }

    /// A label of the agent's own metrics, always kept.
    public static func fixed(_ name: String, _ value: String) -> SeriesLabels {
        var labels = SeriesLabels()
        labels.pairs.append(LabelPair(name: name, value: value))
        return labels
    }

    /// Adds `label` when the filter keeps it.
    public mutating func add(_ label: MetricLabel, _ value: String, filter: LabelFilter) {
        guard filter.kept.contains(label) else { return }
        pairs.append(LabelPair(name: label.rawValue, value: value))
    }

    /// A container's labels (empty values for the host: Prometheus reads an empty label as absent).
    public mutating func add(container identity: ContainerIdentity?, filter: LabelFilter) {
        add(.container, identity.map(Self.containerName) ?? "", filter: filter)
        add(.podNamespace, identity?.pod?.namespace ?? "", filter: filter)
        add(.pod, identity?.pod?.name ?? "", filter: filter)
        add(.runtime, identity?.runtime.rawValue ?? "", filter: filter)
    }

    /// The name a person knows the container by; its short id without one.
    static func containerName(_ identity: ContainerIdentity) -> String {
        if let name = identity.name, !name.isEmpty { return name }
        return String(identity.id.prefix(12))
    }

    /// Kernel bytes (a command name) as label text: invalid UTF-8 becomes U+FFFD, so the
    /// exposition stays valid UTF-8 whatever a process calls itself.
    public static func text(_ bytes: [UInt8]) -> String {
        String(decoding: bytes, as: UTF8.self)
    }

    public var prometheusLabels: [(String, String)] { pairs.map { ($0.name, $0.value) } }
}
