/// `tracer netns`: a block of lines per namespace, or one `netns` object per namespace. Names
/// (of namespaces, containers, interfaces) are chosen by others, so the table escapes them.
public final class NetnsRender {
    private let format: OutputFormat
    /// Namespaces shown so far: the table puts a blank line between them.
    private var shown = 0

    public init(format: OutputFormat) {
        self.format = format
    }

    public func lines(_ report: NetnsReport) -> [RenderedLine] {
        shown += 1
        switch format {
        case .table: return (shown > 1 ? [.output("")] : []) + Self.table(report).map { .output($0) }
        case .json: return [.output(Self.json(report).finishedBytes)]
        }
    }

    static func table(_ r: NetnsReport) -> [String] {
        let ns = r.namespace
        var lines = ["netns \(ns.inode)" + (ns.isHost ? " (host)" : "")
            + (ns.names.isEmpty ? "" : "  " + ns.names.map(ByteText.escaped).joined(separator: " "))]
        lines.append("  processes: \(ns.pids.count)" + (ns.pids.isEmpty ? ""
            : " (" + ns.pids.prefix(8).map(String.init).joined(separator: " ") + (ns.pids.count > 8 ? " ..." : "") + ")"))
        if !r.containers.isEmpty {
            lines.append("  containers: " + r.containers.map { "\(ByteText.escaped($0.name ?? $0.shortID)) (\($0.runtime.rawValue))" }
                .joined(separator: ", "))
        }
        if let error = r.error { lines.append("  interfaces: cannot read: \(ByteText.escaped(error))") }
        for link in r.links { lines.append("  " + Formatting.left(ByteText.escaped(link.interface.name), 14) + LinkRender.summary(link)) }
        for row in DefaultRouteRender.rows(r.defaultRoutes) { lines.append("  \(row.label): \(row.value)") }
        lines.append("  ip_forward: " + (r.ipForward.map { $0 ? "1" : "0" } ?? "?"))
        return lines
    }

    static func json(_ r: NetnsReport) -> JSONLine {
        let ns = r.namespace
        var json = JSONLine()
        json.add("type", "netns")
        json.add("inode", ns.inode)
        json.add("host", ns.isHost)
        json.add("names", strings: ns.names)
        json.add("pids", strings: ns.pids.map(String.init))
        json.add("containers", objects: r.containers.map(ContainerJSON.object))
        json.add("interfaces", objects: r.links.map(LinkRender.json))
        DefaultRouteRender.add(r.defaultRoutes, to: &json)
        if let forward = r.ipForward { json.add("ip_forward", forward) } else { json.addNull("ip_forward") }
        if let error = r.error { json.add("error", error) }
        return json
    }
}
