import TracerCore

/// Runs `tracer drops` and `tracer egress`: drops from the kernel -> described -> filtered ->
/// rendered as they come; flows and exact counts read from the probe's maps; at the end,
/// each stopped flow explained against the static checks of its path.
final class NetSession {
    let probe: NetProbe
    let scope: EgressScope
    let describer: DropDescriber
    let format: OutputFormat
    let deadline: UInt64?
    /// Show the healthy-host noise too.
    let showAll: Bool
    /// Only drops of these containers (ids), when set.
    let containerIDs: Set<String>?
    let clock = BootClock()
    let sink = OutputSink()
    /// Drop records the kernel could not deliver, as reported so far.
    private(set) var lost: UInt64 = 0
    private var containersByCountKey: [CountKey: Set<String>] = [:]
    /// Counters whose records were all healthy-host noise are left out of the counts too.
    private var noiseKeys: Set<CountKey> = []
    private var shownKeys: Set<CountKey> = []
    /// Device names as the drop records gave them (a count alone has only the ifindex).
    private var deviceNames: [DeviceKey: String] = [:]
    private(set) var shownDrops = 0

    init(probe: NetProbe, scope: EgressScope, describer: DropDescriber, format: OutputFormat, deadline: UInt64?,
         showAll: Bool, containerIDs: Set<String>?) {
        self.probe = probe
        self.scope = scope
        self.describer = describer
        self.format = format
        self.deadline = deadline
        self.showAll = showAll
        self.containerIDs = containerIDs
    }

    /// Polls until stopped or the deadline; `tick` runs about every `interval`.
    /// Called with every drop shown.
    var onDrop: (DropRecord) -> Void = { _ in }

    func run(stop: () -> Bool, interval: UInt64, onPoll: () -> Void = {}, tick: () throws -> Void) throws {
        // The first drop would otherwise read /proc/kallsyms in the middle of the traffic traced.
        describer.loadSymbols()
        if format == .table {
            sink.line(DropRender.header)
            sink.flush()
        }
        var lastTick = BootClock.now
        while !stop() && !sink.closed {
            for event in try probe.poll(timeoutMilliseconds: 100) { show(event) }
            onPoll()
            let now = BootClock.now
            if now - lastTick >= interval {
                try reportLost()
                try tick()
                lastTick = now
            }
            sink.flush()
            if let deadline, now >= deadline { break }
        }
        for event in try probe.poll(timeoutMilliseconds: 0) { show(event) }
        try reportLost()
        sink.flush()
    }

    private func show(_ event: DropEvent) {
        if !event.deviceName.isEmpty { deviceNames[event.device] = event.deviceName }
        let record = describer.describe(event)
        let key = CountKey(location: event.location, reason: event.reason, device: event.device)
        if !showAll && DropDescriber.isHealthyNoise(record) {
            noiseKeys.insert(key)
            return
        }
        shownKeys.insert(key)
        if let containerIDs, !containerIDs.contains(record.container?.id ?? "") { return }
        if let name = record.container.map({ $0.name ?? $0.shortID }) ?? record.endpoint {
            containersByCountKey[key, default: []].insert(name)
        }
        shownDrops += 1
        onDrop(record)
        switch format {
        case .table: sink.line(DropRender.tableLine(record, clock: clock))
        case .json: sink.line(bytes: DropRender.json(record, clock: clock).finishedBytes)
        }
    }

    private func reportLost() throws {
        let total = try probe.lostEvents()
        guard total > lost else { return }
        switch format {
        case .table: sink.line(DropRender.lostLine(total - lost))
        case .json: sink.line(bytes: DropRender.lostJSON(total - lost, clock: clock).finishedBytes)
        }
        lost = total
    }

    /// What the kernel counts drops by (the drop_counts map's key).
    private struct CountKey: Hashable {
        var location: UInt64
        var reason: UInt32
        var device: DeviceKey
    }

    /// The kernel's exact counts, largest first, with the containers seen in the drop records
    /// of each (forwarded packets drop on host devices: the records' tuples name the container).
    func countRows() throws -> [DropRender.CountRow] {
        try probe.dropCounts().compactMap { count -> DropRender.CountRow? in
            let key = CountKey(location: count.location, reason: count.reason, device: count.device)
            if !showAll && noiseKeys.contains(key) && !shownKeys.contains(key) { return nil }
            let containers = containersByCountKey[key].map { $0.sorted() } ?? []
            if let containerIDs, !containerIDs.isEmpty, containers.isEmpty { return nil }
            let reason = describer.reasons.name(count.reason)
            let location = describer.locationName(count.location)
            return DropRender.CountRow(
                containers: containers, reason: reason, location: location,
                device: deviceNames[count.device] ?? scope.deviceName(count.device) ?? (count.device.ifindex == 0 ? "-" : "if\(count.device.ifindex)"),
                netns: describer.netnsName(UInt64(count.device.netnsInode)), count: count.count)
        }.sorted { ($0.count, $0.reason) > ($1.count, $1.reason) }
    }

    func printCounts(_ rows: [DropRender.CountRow]) {
        switch format {
        case .table:
            sink.line("")
            sink.line(DropRender.countHeader)
            if rows.isEmpty { sink.line("(no drops)") }
            rows.forEach { sink.line(DropRender.countLine($0)) }
        case .json:
            sink.line(bytes: DropRender.countJSON(rows).finishedBytes)
        }
        sink.flush()
    }
}

extension NetSession {
    /// The running kernel's drop-reason names; without them, exit 69 saying where they were looked for.
    static func dropReasons(command: String) throws -> DropReasons {
        guard let reasons = DropReasons.load() else {
            printError("tracer \(command): cannot read the kernel's drop reasons from skb/kfree_skb/format in tracefs; run `tracer check`")
            throw TracerExit.unavailable
        }
        return reasons
    }

    /// The network probe, loaded and attached, with healthy-host noise filtered in the kernel
    /// unless `showAll`, and `scope`'s devices and addresses in it.
    static func loadProbe(_ options: NetProbeOptions, reasons: DropReasons, showAll: Bool, scope: EgressScope,
                          command: String) throws -> NetProbe {
        var options = options
        if !showAll { options.ignoredReasons = Set(DropReasons.healthyHostNoise.compactMap(reasons.number)) }
        do {
            let probe = try NetProbe(options: options)
            try scope.apply(to: probe)
            return probe
        } catch {
            throw fail(error, command: command)
        }
    }
}
