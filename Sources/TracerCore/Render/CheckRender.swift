/// `tracer check`'s report as table lines or one JSON object: the one place each is formatted.
public struct CheckRender {
    private let format: OutputFormat

    public init(format: OutputFormat) {
        self.format = format
    }

    public func lines(_ check: TracingCheck) -> [RenderedLine] {
        switch format {
        case .table: return Self.table(check).map { .output($0) }
        case .json: return [.output(Self.json(check).finishedBytes)]
        }
    }

    static func table(_ check: TracingCheck) -> [String] {
        var lines = [check.tracingWorks ? "tracer check: tracing works here" : "tracer check: tracing cannot work here yet"]
        for item in check.items {
            let mark: String
            switch item.status {
            case .ok: mark = "ok"
            case .warning: mark = "warn"
            case .problem: mark = "FAIL"
            case .unavailable: mark = "n/a"
            case .info: mark = "info"
            }
            // Details quote paths and kernel strings of the host.
            lines.append("  " + Formatting.left(mark, 5) + Formatting.left(item.name, 38) + " " + ByteText.escaped(item.detail))
            if let fix = item.fix { lines.append("       fix: " + ByteText.escaped(fix)) }
        }
        return lines
    }

    static func json(_ check: TracingCheck) -> JSONLine {
        var json = JSONLine()
        json.add("type", "check")
        json.add("ok", check.tracingWorks)
        json.add("items", objects: check.items.map { item in
            var line = JSONLine()
            line.add("name", item.name)
            line.add("status", item.status.rawValue)
            line.add("detail", item.detail)
            line.add("fix", optional: item.fix)
            return line
        })
        return json
    }
}
