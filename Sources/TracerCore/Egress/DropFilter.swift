/// Which drops `tracer drops` and `tracer egress` show, and which of the kernel's counters
/// follow them: healthy-host noise is left out unless asked for (the kernel filters it by
/// reason; multicast nobody listens to is told apart here), and `--container` keeps one
/// container's drops. A counter shows what the records under it showed: one whose records were
/// all noise is left out, and with `--container` only counters with that container's drops
/// are kept, each with the containers seen in its records.
public struct DropFilter: Sendable {
    /// What the kernel counts drops by: the drop_counts map's key.
    public struct CountKey: Hashable, Sendable {
        public var location: UInt64
        public var reason: UInt32
        public var device: DeviceKey

        public init(location: UInt64, reason: UInt32, device: DeviceKey) {
            self.location = location
            self.reason = reason
            self.device = device
        }

        public init(_ event: DropEvent) { self.init(location: event.location, reason: event.reason, device: event.device) }
        public init(_ count: DropCount) { self.init(location: count.location, reason: count.reason, device: count.device) }
    }

    /// Show the healthy-host noise too (`--all`).
    public let showAll: Bool
    /// Only drops of these containers (ids), when set.
    public let containerIDs: Set<String>?
    private var noiseKeys: Set<CountKey> = []
    private var shownKeys: Set<CountKey> = []
    private var containersByKey: [CountKey: Set<String>] = [:]
    /// Device names as the drop records gave them (a counter has only the ifindex).
    private var deviceNames: [DeviceKey: String] = [:]

    public init(showAll: Bool = false, containerIDs: Set<String>? = nil) {
        self.showAll = showAll
        self.containerIDs = containerIDs
    }

    /// Whether to show this drop; notes what it tells about its counter either way.
    public mutating func admit(_ record: DropRecord) -> Bool {
        let event = record.event
        if !event.deviceName.isEmpty { deviceNames[event.device] = event.deviceName }
        let key = CountKey(event)
        if !showAll && DropDescriber.isHealthyNoise(record) {
            noiseKeys.insert(key)
            return false
        }
        shownKeys.insert(key)
        if let containerIDs, !containerIDs.contains(record.container?.id ?? "") { return false }
        if let name = record.container.map({ $0.name ?? $0.shortID }) ?? record.endpoint {
            containersByKey[key, default: []].insert(name)
        }
        return true
    }

    /// The counters to show, named, largest first (ties by reason name).
    public func rows(_ counts: [DropCount], describer: DropDescriber, scope: EgressScope) -> [DropCountRow] {
        counts.compactMap { count -> DropCountRow? in
            let key = CountKey(count)
            if !showAll && noiseKeys.contains(key) && !shownKeys.contains(key) { return nil }
            let containers = containersByKey[key].map { $0.sorted() } ?? []
            if let containerIDs, !containerIDs.isEmpty, containers.isEmpty { return nil }
            return DropCountRow(
                containers: containers, reason: describer.reasons.reason(count.reason),
                location: describer.locationName(count.location), device: deviceName(count.device, scope: scope),
                netns: describer.netnsName(UInt64(count.device.netnsInode)), count: count.count)
        }.sorted { ($0.count, $0.reason.name.rawValue) > ($1.count, $1.reason.name.rawValue) }
    }

    /// As a drop record named it, else as the scope knows it, else "if<index>" ("-" for none).
    private func deviceName(_ device: DeviceKey, scope: EgressScope) -> String {
        deviceNames[device] ?? scope.deviceName(device) ?? (device.ifindex == 0 ? "-" : "if\(device.ifindex)")
    }
}
