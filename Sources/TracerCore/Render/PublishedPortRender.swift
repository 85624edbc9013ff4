/// A published port and its findings as table lines and JSON lines: for `tracer diagnose`
/// (and `tracer ingress`). Every piece of text from the system is escaped.
public enum PublishedPortRender {
    private static func text(_ s: String) -> String { ByteText.escaped(Array(s.utf8)) }

    /// "published tcp 0.0.0.0:8080 -> 172.17.0.2:80  web (docker 3f2a1b0c9d8e)  runtime+rule  [host side tracerlab-docker-web]".
    public static func headerLine(_ report: PublishedPortReport) -> String {
        let port = report.port
        let host = port.hostText
        let target = port.targetText + (port.containerPorts.map { ":\($0)" } ?? "")
        let who: String
        if let container = port.container {
            who = "\(text(container.name ?? container.shortID)) (\(container.runtime.rawValue) \(container.shortID))"
        } else if let path = report.path {
            who = FindingRender.endpointLabel(path.endpoint)
        } else {
            who = "no endpoint"
        }
        let side = report.hostNetnsPath.map { path in
            FindingRender.namespaceLabel(path, isRoot: report.path?.hostIsRoot ?? false, inode: report.hostNetnsInode ?? 0)
        } ?? "?"
        var line = "published \(port.transport) \(text(host)):\(port.hostPorts) -> \(target)  \(who)  \(port.agreement.rawValue)  [host side \(side)]"
        if let note = port.note { line += "  (\(text(note)))" }
        return line
    }

    public static func tableLines(_ report: PublishedPortReport) -> [String] {
        [headerLine(report)]
            + (report.findings.isEmpty ? ["  ok: no problems found"] : report.findings.flatMap(FindingRender.tableLines))
    }

    /// `type` "published_port": `transport`, `host_address` ("0.0.0.0", "::", "*" for both, an
    /// address or a network), `host_ports` ("8080" or "9000-9001"), `container_address` and
    /// `container_ports` (null when unknown), `agreement`, `runtime` (the records: runtime, path,
    /// field), `rules` (each DNAT rule's location and text), `endpoint`, `container`,
    /// `host_netns`, `host_netns_path`, `note`.
    public static func json(_ report: PublishedPortReport) -> JSONLine {
        let port = report.port
        var json = JSONLine()
        json.add("type", "published_port")
        json.add("transport", port.transport.rawValue)
        json.add("host_address", port.hostAddress.description)
        json.add("host_ports", port.hostPorts.description)
        json.add("container_address", optional: port.containerAddress.map { "\($0)" })
        json.add("container_ports", optional: port.containerPorts?.description)
        json.add("agreement", port.agreement.rawValue)
        json.add("runtime", objects: port.runtimeRecords.map { record in
            var object = JSONLine()
            object.add("runtime", record.runtime.rawValue)
            object.add("path", record.path)
            object.add("field", record.field)
            return object
        })
        json.add("rules", objects: port.rules.map { rule in
            var object = JSONLine()
            object.add("backend", rule.backend.rawValue)
            object.add("location", rule.location)
            object.add("text", rule.text)
            object.add("hooks", strings: rule.hooks)
            return object
        })
        json.add("endpoint", optional: report.path?.endpoint.name)
        if let container = port.container ?? report.path?.endpoint.container {
            json.add("container", object: ContainerJSON.object(container))
        } else {
            json.addNull("container")
        }
        json.add("host_netns", optional: report.hostNetnsInode)
        json.add("host_netns_path", optional: report.hostNetnsPath)
        json.add("note", optional: port.note)
        return json
    }

    /// The port's line, then one `finding` line each, with `published_port` naming the port
    /// ("tcp 0.0.0.0:8080").
    public static func jsonLines(_ report: PublishedPortReport) -> [JSONLine] {
        let name = "\(report.port.transport) \(report.port.hostAddress):\(report.port.hostPorts)"
        return [json(report)] + report.findings.map { finding in
            var line = FindingRender.json(finding, path: report.path, netnsPath: report.hostNetnsPath)
            line.add("published_port", name)
            return line
        }
    }
}
