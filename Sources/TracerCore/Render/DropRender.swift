/// Tables and JSON lines for `tracer drops` and `tracer egress`: drops, flow stages, counts.
public enum DropRender {
    public static let header = "TIME         REASON                    LOCATION                  DEVICE       NETNS            DIR           TUPLE                                        CONTAINER"

    public static func tableLine(_ record: DropRecord, clock: BootClock) -> String {
        let event = record.event
        let time = Formatting.clock(clock.wallClock(event.timestamp))
        return [
            Formatting.left(time, 12), Formatting.left(record.reason.name.rawValue, 25), Formatting.left(record.location, 25),
            Formatting.left(escaped(event.deviceName.isEmpty ? "-" : event.deviceName), 12),
            Formatting.left(escaped(record.netns), 16), Formatting.left(record.direction.map(directionText) ?? "-", 13),
            Formatting.left(tupleText(event), 44), containerColumn(record),
        ].joined(separator: " ")
    }

    public static func json(_ record: DropRecord, clock: BootClock) -> JSONLine {
        let event = record.event
        var json = JSONLine()
        json.add("type", "drop")
        json.add("time", Formatting.rfc3339(clock.wallClock(event.timestamp)))
        json.add("reason", record.reason.name.rawValue)
        json.add("reason_code", event.reason)
        json.add("location", record.location)
        json.add("device", event.deviceName)
        json.add("ifindex", event.device.ifindex)
        json.add("netns", record.netns)
        json.add("netns_inode", event.device.netnsInode)
        add(record, to: &json)
        json.add("direction", optional: record.direction.map(directionText))
        json.add("stage", optional: event.stage.map { $0.name(in: event.flow?.direction ?? .egress) })
        json.add("ethertype", event.ethertype)
        if event.source != nil { json.add("tuple", object: tupleJSON(event)) } else { json.addNull("tuple") }
        return json
    }

    /// The endpoint and its container, as in `tracer exec`.
    static func add(_ record: DropRecord, to json: inout JSONLine) {
        if let container = record.container {
            json.add("container", object: ContainerJSON.object(container))
        } else {
            json.addNull("container")
        }
        json.add("endpoint", optional: record.endpoint)
    }

    static func containerColumn(_ record: DropRecord) -> String {
        if let container = record.container { return escaped(container.name ?? container.shortID) }
        return record.endpoint.map(escaped) ?? "-"
    }

    static func tupleJSON(_ event: DropEvent) -> JSONLine {
        var tuple = JSONLine()
        tuple.add("src", optional: event.source.map { "\($0)" })
        tuple.add("dst", optional: event.destination.map { "\($0)" })
        tuple.add("sport", event.sourcePort)
        tuple.add("dport", event.destinationPort)
        tuple.add("proto", IPProtocol(event.l4Protocol).name)
        return tuple
    }

    /// The packet's tuple in its one text form; "arp" or the ethertype for a packet that is not IP.
    static func tupleText(_ event: DropEvent) -> String {
        guard let tuple = event.tuple else {
            return event.ethertype == 0x0806 ? "arp" : ethertypeText(event.ethertype)
        }
        return "\(tuple)"
    }

    /// The DIR column and the JSON `direction`: "egress" and "reply" on an egress flow (as since
    /// the first release), "inbound" and "inbound-reply" on a flow started from outside.
    public static func directionText(_ direction: PacketDirection) -> String {
        switch (direction.flow, direction.isReply) {
        case (.egress, false): return "egress"
        case (.egress, true): return "reply"
        case (.inbound, false): return "inbound"
        case (.inbound, true): return "inbound-reply"
        }
    }

    static func escaped(_ text: String) -> String { ByteText.escaped(Array(text.utf8)) }

    /// "0x86dd" for an ethertype.
    static func ethertypeText(_ value: UInt16) -> String {
        let hex = String(value, radix: 16)
        return "0x" + String(repeating: "0", count: max(0, 4 - hex.count)) + hex
    }

    // MARK: counts

    public static let countHeader = "COUNT      REASON                    LOCATION                  DEVICE       NETNS            CONTAINER"

    public static func countLine(_ row: DropCountRow) -> String {
        [Formatting.left(String(row.count), 10), Formatting.left(row.reason.name.rawValue, 25), Formatting.left(row.location, 25),
         Formatting.left(escaped(row.device), 12), Formatting.left(escaped(row.netns), 16),
         row.containers.isEmpty ? "-" : row.containers.map(escaped).joined(separator: ",")].joined(separator: " ")
    }

    public static func countJSON(_ rows: [DropCountRow]) -> JSONLine {
        var json = JSONLine()
        json.add("type", "counts")
        json.add("counts", objects: rows.map { row in
            var item = JSONLine()
            item.add("count", row.count)
            item.add("reason", row.reason.name.rawValue)
            item.add("location", row.location)
            item.add("device", row.device)
            item.add("netns", row.netns)
            item.add("containers", strings: row.containers)
            return item
        })
        return json
    }

    /// `at`: the boot-clock time the loss was noticed.
    public static func lostJSON(_ count: UInt64, at: UInt64, clock: BootClock) -> JSONLine {
        var json = JSONLine()
        json.add("type", "lost")
        json.add("time", Formatting.rfc3339(clock.wallClock(at)))
        json.add("count", count)
        return json
    }

    public static func lostLine(_ count: UInt64) -> String {
        "LOST \(count) drop record\(count == 1 ? "" : "s") (the ring buffer was full; the counts below stay exact)"
    }

    // MARK: stages

    public static func stageJSON(_ outcome: FlowOutcome, evidence: EgressExplainer.Evidence?) -> JSONLine {
        var json = JSONLine()
        json.add("type", "stage")
        json.add("endpoint", outcome.path.endpoint.name)
        if let container = outcome.path.endpoint.container {
            json.add("container", object: ContainerJSON.object(container))
        } else {
            json.addNull("container")
        }
        json.add("direction", directionText(outcome.direction))
        json.add("stage", optional: outcome.lastStage.map(outcome.name))
        json.add("stopped_before", optional: outcome.stoppedBefore.map(outcome.name))
        json.add("complete", outcome.isComplete)
        json.add("stages", objects: outcome.expected.map { stage in
            var item = JSONLine()
            item.add("stage", outcome.name(stage))
            item.add("packets", outcome.stats.packets(at: stage))
            return item
        })
        json.add("nat", optional: outcome.stats.natAddress.map { "\($0)" })
        json.add("private_source_on_uplink", outcome.leftUnmasqueraded)
        json.add("drops", outcome.stats.drops)
        json.add("reason", optional: evidence?.reason?.name.rawValue)
        json.add("location", optional: evidence?.location)
        json.add("device", optional: evidence?.dropDevice)
        // As the opener sent it (an inbound flow's client to the published port), never reversed.
        let sent = outcome.sent
        var tuple = JSONLine()
        tuple.add("src", "\(sent.source)")
        tuple.add("dst", "\(sent.destination)")
        tuple.add("sport", sent.sourcePort)
        tuple.add("dport", sent.destinationPort)
        tuple.add("proto", sent.proto.name)
        json.add("tuple", object: tuple)
        if let translatedTo = outcome.translatedTo {
            var dnat = JSONLine()
            dnat.add("address", "\(translatedTo.address)")
            dnat.add("port", translatedTo.port)
            json.add("dnat", object: dnat)
        } else {
            json.addNull("dnat")
        }
        json.add("flow", outcome.text)
        return json
    }

    /// The FLOW column's width when every flow fits: an egress tuple between two IPv4 endpoints.
    public static let minimumFlowWidth = 44

    /// The flows table's FLOW column: as wide as its widest flow (an inbound flow names its
    /// translation too), at least `minimumFlowWidth`.
    public static func flowWidth(_ outcomes: [FlowOutcome]) -> Int {
        max(minimumFlowWidth, outcomes.map { $0.text.count }.max() ?? 0)
    }

    public static func stageHeader(flowWidth: Int = minimumFlowWidth) -> String {
        [Formatting.left("ENDPOINT", 16), Formatting.left("FLOW", flowWidth), Formatting.left("LAST STAGE", 20),
         Formatting.left("STOPPED BEFORE", 20), Formatting.left("NAT", 16), "DROPS"].joined(separator: " ")
    }

    public static func stageLine(_ outcome: FlowOutcome, flowWidth: Int = minimumFlowWidth) -> String {
        [Formatting.left(escaped(outcome.path.endpoint.name), 16), Formatting.left(outcome.text, flowWidth),
         Formatting.left(outcome.lastStage.map(outcome.name) ?? "-", 20), Formatting.left(outcome.stoppedBefore.map(outcome.name) ?? "(complete)", 20),
         Formatting.left(outcome.stats.natAddress.map { "\($0)" } ?? (outcome.leftUnmasqueraded ? "none" : "-"), 16),
         String(outcome.stats.drops)].joined(separator: " ")
    }
}
