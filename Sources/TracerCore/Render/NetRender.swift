/// The network sessions' records (`tracer drops`, `tracer egress`) as table lines or JSON
/// lines: the one place each is formatted, from the pieces in `DropRender` and `FindingRender`.
public struct NetRender {
    private let format: OutputFormat
    /// The command's name in messages ("drops" for "tracer drops: ...").
    private let command: String
    private let clock: BootClock

    public init(format: OutputFormat, command: String, clock: BootClock = BootClock()) {
        self.format = format
        self.command = command
        self.clock = clock
    }

    public func lines(_ record: NetRecord) -> [RenderedLine] {
        switch (record, format) {
        case (.notice(let notice), _):
            return noticeText(notice).map { [.message("tracer \(command): " + $0)] } ?? []
        case (.path(let path), .table): return [.output("tracing " + FindingRender.pathLine(path))]
        case (.path(let path), .json): return [.output(FindingRender.pathJSON(path).finishedBytes)]
        case (.publishedPort(let report), .table):
            return PublishedPortRender.tableLines(report).enumerated().map { .output($0.offset == 0 ? "tracing " + $0.element : $0.element) }
        case (.publishedPort(let report), .json): return PublishedPortRender.jsonLines(report).map { .output($0.finishedBytes) }
        case (.started, .table): return [.output(DropRender.header)]
        case (.started, .json): return []
        case (.drop(let drop), .table): return [.output(DropRender.tableLine(drop, clock: clock))]
        case (.drop(let drop), .json): return [.output(DropRender.json(drop, clock: clock).finishedBytes)]
        case (.lost(let count, _), .table): return [.output(DropRender.lostLine(count))]
        case (.lost(let count, let at), .json): return [.output(DropRender.lostJSON(count, at: at, clock: clock).finishedBytes)]
        case (.counts(let rows), .table):
            return [.output(""), .output(DropRender.countHeader)]
                + (rows.isEmpty ? [.output("(no drops)")] : rows.map { .output(DropRender.countLine($0)) })
        case (.counts(let rows), .json): return [.output(DropRender.countJSON(rows).finishedBytes)]
        case (.stages(let flows), .table):
            let width = DropRender.flowWidth(flows.map(\.outcome))
            return [.output(""), .output(DropRender.stageHeader(flowWidth: width))]
                + (flows.isEmpty ? [.output("(no packets from the endpoints yet)")] : flows.map { .output(DropRender.stageLine($0.outcome, flowWidth: width)) })
        case (.stages(let flows), .json):
            return flows.map { .output(DropRender.stageJSON($0.outcome, evidence: $0).finishedBytes) }
        case (.findings(let findings), .table):
            if findings.isEmpty { return [.output(""), .output("ok: every traced flow got its reply")] }
            return [.output("")] + findings.flatMap { item in
                [.output(FindingRender.endpointLabel(item.path.endpoint) + ":")] + FindingRender.tableLines(item.finding).map { .output($0) }
            }
        case (.findings(let findings), .json):
            return findings.map { .output(FindingRender.json($0.finding, path: $0.path).finishedBytes) }
        case (.dropsSummary(let s), .table):
            return [.message("tracer \(command): \(s.drops) drops shown, \(s.lost) lost in \(Formatting.duration(s.durationNanoseconds))")]
        case (.dropsSummary(let s), .json):
            var line = JSONLine()
            line.add("type", "summary")
            line.add("duration_ns", s.durationNanoseconds)
            line.add("drops", s.drops)
            line.add("lost", s.lost)
            line.add("uncounted", s.uncounted)
            return [.output(line.finishedBytes)]
        case (.flowsSummary(let s), .table):
            return [.message("tracer \(command): \(s.endpoints) endpoint\(s.endpoints == 1 ? "" : "s"), \(s.flows) flows (\(s.stopped) stopped), "
                + "\(s.drops) drops shown, \(s.lost) lost in \(Formatting.duration(s.durationNanoseconds))")]
        case (.flowsSummary(let s), .json):
            var line = JSONLine()
            line.add("type", "summary")
            line.add("duration_ns", s.durationNanoseconds)
            line.add("endpoints", s.endpoints)
            line.add("flows", s.flows)
            line.add("stopped", s.stopped)
            line.add("drops", s.drops)
            line.add("lost", s.lost)
            line.add("findings", s.findings)
            return [.output(line.finishedBytes)]
        }
    }

    /// A notice's text; nil where the format leaves it out (a JSON reader learns that no
    /// container was found from the records).
    private func noticeText(_ notice: NetNotice) -> String? {
        switch notice {
        case .noContainers:
            return format == .table ? "no containers found; showing host drops" : nil
        case .noEndpoints:
            return "no container networks found (no container or named namespace routes out through a veth); tracing host drops only"
        case .removedStaleTraceTable(let table):
            return "removed trace table \(table) left by a run that was killed"
        case .couldNotWatch(let note):
            return "could not watch \(note)"
        case .noPublishedPorts:
            return "no published ports found (runtimes' metadata and DNAT rules of the host sides in scope); nothing inbound to trace"
        }
    }
}
