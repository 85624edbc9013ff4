/// `tracer containers`' records as table lines or JSON lines: the one place each is formatted.
public struct ContainersRender {
    private let format: OutputFormat

    public init(format: OutputFormat) {
        self.format = format
    }

    public func lines(_ record: ContainersRecord) -> [RenderedLine] {
        switch (record, format) {
        case (.started(let count), .table):
            if count == 0 { return [.message("tracer containers: no running containers found")] }
            return [.output("RUNTIME     ID            NAME                 IMAGE                          INIT    PROCS NETNS       HOST-VETH    IPV4               IPV6")]
        case (.started, .json):
            return []
        case (.container(let running), .table):
            return [.output(Self.row(running))]
        case (.container(let running), .json):
            return [.output(Self.json(running).finishedBytes)]
        }
    }

    static func row(_ running: RunningContainer) -> String {
        let c = running.container
        let id = c.identity
        return Formatting.left(id.runtime.rawValue, 11) + " " + Formatting.left(ByteText.escaped(id.shortID), 13) + " "
            + Formatting.left(ByteText.escaped(id.name ?? "-"), 20) + " "
            + Formatting.left(ByteText.escaped(id.image ?? "-"), 30) + " "
            + Formatting.left(c.initPID.map(String.init) ?? "-", 7) + " "
            + Formatting.left(String(c.members.count), 5) + " " + Formatting.left(c.netnsInode.map(String.init) ?? "-", 11) + " "
            + Formatting.left(orDash(ByteText.escaped(running.hostVeths.joined(separator: ","))), 12) + " "
            + Formatting.left(addresses(running.ipv4), 18) + " "
            // Global only, and last: IPv6 addresses (up to 43 characters each) push no column
            // there; link-local ones are in the JSON.
            + addresses(running.addresses(.v6).filter(\.address.isGlobalIPv6))
    }

    /// "10.88.0.2/16,10.89.0.2/16", or "-".
    private static func addresses(_ prefixes: [IPPrefix]) -> String {
        orDash(prefixes.map(\.description).joined(separator: ","))
    }

    static func json(_ running: RunningContainer) -> JSONLine {
        let c = running.container
        var json = JSONLine()
        json.add("type", "container")
        json.add("container", object: ContainerJSON.object(c.identity))
        json.add("init_pid", optional: c.initPID)
        json.add("processes", c.members.count)
        json.add("cgroup", c.cgroupPath)
        json.add("netns", optional: c.netnsInode)
        json.add("host_veths", strings: running.hostVeths)
        json.add("ipv4", strings: running.ipv4.map(\.description))
        json.add("ipv6", strings: running.addresses(.v6).map(\.description))
        return json
    }

    private static func orDash(_ text: String) -> String { text.isEmpty ? "-" : text }
}
