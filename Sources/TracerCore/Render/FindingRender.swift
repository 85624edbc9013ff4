/// Findings and egress paths as table lines and JSON lines, for `tracer diagnose` and
/// `tracer egress`. Every piece of text from the system is escaped.
public enum FindingRender {
    private static func text(_ s: String) -> String { ByteText.escaped(Array(s.utf8)) }

    /// "web1 (podman 3f2a1b0c9d8e)", or the namespace name for an endpoint no runtime manages.
    public static func endpointLabel(_ endpoint: EgressPath.Endpoint) -> String {
        guard let container = endpoint.container else { return text(endpoint.name) }
        return "\(text(endpoint.name)) (\(container.runtime.rawValue) \(container.shortID))"
    }

    /// A namespace path as a person names it: "tel-x-host" for /run/netns/tel-x-host.
    static func namespaceLabel(_ path: String, isRoot: Bool, inode: UInt64) -> String {
        if isRoot { return "root netns" }
        let prefix = "/run/netns/"
        if path.hasPrefix(prefix) { return text(String(path.dropFirst(prefix.count))) }
        return "netns \(inode)" + (path.isEmpty ? "" : " (\(text(path)))")
    }

    /// One line: endpoint, then the devices a packet crosses, then the namespaces.
    /// `web1 (podman 3f2a1b0c9d8e): eth0 10.88.0.2/16 -> veth0 -> podman0 -> uplink0 via 198.51.100.1  [netns-3c.. -> tracerlab-podman-web1]`
    public static func pathLine(_ path: EgressPath) -> String {
        var hops = [text(path.endpoint.interface) + (path.endpoint.routableAddresses.isEmpty ? "" : " " + text(path.endpoint.routableAddresses.map(\.description).joined(separator: ",")))]
        hops.append(path.hostVeth.map { text($0.name) } ?? "?")
        if let bridge = path.bridge { hops.append(text(bridge.name)) }
        hops.append(path.uplink.map { text($0.name) + (path.gateway.map { " via \($0)" } ?? "") } ?? "(no default route)")
        let endpointNS = namespaceLabel(path.endpoint.netnsPath, isRoot: false, inode: path.endpoint.netnsInode)
        let hostNS = namespaceLabel(path.hostNetnsPath, isRoot: path.hostIsRoot, inode: path.hostNetnsInode)
        return "\(endpointLabel(path.endpoint)): \(hops.joined(separator: " -> "))  [\(endpointNS) -> host side \(hostNS)]"
    }

    /// SEVERITY CODE DEVICE MESSAGE, then the evidence and the fix on lines of their own.
    public static func tableLines(_ finding: Finding) -> [String] {
        var lines = ["  " + Formatting.left(finding.severity.rawValue.uppercased(), 8) + " "
            + Formatting.left(finding.code.rawValue, 27) + " " + Formatting.left(text(finding.device ?? "-"), 12) + " "
            + text(finding.message)]
        lines.append("           evidence: " + text(finding.evidence))
        if let fix = finding.fix { lines.append("           fix:      " + text(fix)) }
        return lines
    }

    /// `type` "path": the endpoint and the devices of its way out.
    public static func pathJSON(_ path: EgressPath) -> JSONLine {
        var json = JSONLine()
        json.add("type", "path")
        addEndpoint(path.endpoint, to: &json)
        json.add("interface", path.endpoint.interface)
        json.add("ipv4", strings: path.endpoint.ipv4.map(\.description))
        json.add("ipv6", strings: path.endpoint.ipv6.map(\.description))
        json.add("mtu", path.endpoint.mtu)
        json.add("host_netns", path.hostNetnsInode)
        json.add("host_netns_path", path.hostNetnsPath)
        json.add("host_is_root", path.hostIsRoot)
        json.add("host_veth", optional: path.hostVeth?.name)
        json.add("bridge", optional: path.bridge?.name)
        json.add("uplink", optional: path.uplink?.name)
        json.add("gateway", optional: path.gateway.map { "\($0)" })
        return json
    }

    /// `type` "finding": `code`, `severity`, `message`, `evidence`, `fix`, `device`, `netns`
    /// (inode) and `netns_path` of the namespace it is about, the endpoint and container, and
    /// `family` (ipv4, ipv6, or null: both) of the packets it concerns. Without a path (a published port that leads to no endpoint), `endpoint` and `container`
    /// are null and `netnsPath` names the namespace.
    public static func json(_ finding: Finding, path: EgressPath?, netnsPath: String? = nil) -> JSONLine {
        var json = JSONLine()
        json.add("type", "finding")
        json.add("code", finding.code.rawValue)
        json.add("severity", finding.severity.rawValue)
        json.add("message", finding.message)
        json.add("evidence", finding.evidence)
        json.add("fix", optional: finding.fix)
        json.add("device", optional: finding.device)
        json.add("netns", optional: finding.netnsInode)
        let nsPath = path.flatMap { path in
            finding.netnsInode == path.endpoint.netnsInode ? path.endpoint.netnsPath
                : finding.netnsInode == path.hostNetnsInode ? path.hostNetnsPath : nil
        } ?? netnsPath
        json.add("netns_path", optional: nsPath)
        if let path {
            addEndpoint(path.endpoint, to: &json)
        } else {
            json.addNull("endpoint")
            json.addNull("endpoint_netns")
            json.addNull("container")
        }
        json.add("family", optional: finding.family.map { $0 == .v4 ? "ipv4" : "ipv6" })
        return json
    }

    private static func addEndpoint(_ endpoint: EgressPath.Endpoint, to json: inout JSONLine) {
        json.add("endpoint", endpoint.name)
        json.add("endpoint_netns", endpoint.netnsInode)
        if let container = endpoint.container {
            json.add("container", object: ContainerJSON.object(container))
        } else {
            json.addNull("container")
        }
    }
}
