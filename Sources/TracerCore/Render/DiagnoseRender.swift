/// `tracer diagnose`'s records as table lines or JSON lines: the one place each is formatted,
/// from the pieces in `FindingRender`.
public struct DiagnoseRender {
    private let format: OutputFormat

    public init(format: OutputFormat) {
        self.format = format
    }

    public func lines(_ record: DiagnoseRecord) -> [RenderedLine] {
        switch (record, format) {
        case (.noEndpoints, _):
            return [.message("tracer diagnose: no container networks found (no container or named namespace routes out through a veth)")]
        case (.endpoint(let path, let findings), .table):
            // The blank line after each endpoint parts it from the next one, and the last from the summary.
            return [.output(FindingRender.pathLine(path))]
                + (findings.isEmpty ? [.output("  ok: no problems found")] : findings.flatMap { FindingRender.tableLines($0).map { .output($0) } })
                + [.output("")]
        case (.endpoint(let path, let findings), .json):
            return [.output(FindingRender.pathJSON(path).finishedBytes)]
                + findings.map { .output(FindingRender.json($0, path: path).finishedBytes) }
        case (.publishedPort(let report), .table):
            return PublishedPortRender.tableLines(report).map { .output($0) } + [.output("")]
        case (.publishedPort(let report), .json):
            return PublishedPortRender.jsonLines(report).map { .output($0.finishedBytes) }
        case (.summary(let s), .table):
            guard s.endpoints > 0 else { return [] }
            let ports = s.publishedPorts == 0 ? "" : ", \(s.publishedPorts) published port\(s.publishedPorts == 1 ? "" : "s")"
            return [.output("\(s.endpoints) endpoint\(s.endpoints == 1 ? "" : "s")\(ports) checked: \(s.errors) error\(s.errors == 1 ? "" : "s"), "
                + "\(s.warnings) warning\(s.warnings == 1 ? "" : "s")")]
        case (.summary(let s), .json):
            var line = JSONLine()
            line.add("type", "summary")
            line.add("endpoints", s.endpoints)
            line.add("errors", s.errors)
            line.add("warnings", s.warnings)
            line.add("infos", s.infos)
            line.add("published_ports", s.publishedPorts)
            return [.output(line.finishedBytes)]
        }
    }
}
