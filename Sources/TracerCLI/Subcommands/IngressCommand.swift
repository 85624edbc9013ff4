import BPF
import TracerCore

/// `--port 1222`, `--port 1222/tcp`: a host port a client connects to.
struct PortArgument: ArgumentValue, Equatable {
    let port: UInt16
    let transport: TransportProtocol?

    init?(argument: String) {
        let parts = argument.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count <= 2, let port = UInt16(parts[0]), port > 0 else { return nil }
        self.port = port
        if parts.count == 2 {
            guard let transport = TransportProtocol(name: parts[1]) else { return nil }
            self.transport = transport
        } else {
            transport = nil
        }
    }

    static var expected: String { "a port from 1 to 65535, optionally with /tcp, /udp or /sctp (1222/tcp)" }

    func matches(_ port: PublishedPort) -> Bool {
        port.hostPorts.contains(self.port) && (transport == nil || transport == port.transport)
    }
}

struct IngressCommand: TracerCommand {
    static let name = "ingress"
    static let spec = CommandSpec(
        name: name,
        abstract: "Follow connections into containers' published ports (DNAT) and say where they are lost and why.",
        discussion: """
        Starts from what you know: a container, a published port, or nothing (every published
        port of every endpoint). Published ports come from the runtimes' metadata (docker,
        podman, nerdctl) and from the DNAT rules of each host side (nft, iptables-nft,
        iptables-legacy); each is printed with its static checks, as `tracer diagnose` does.
        Then inbound flows are traced from the client's first packet on the uplink:
        uplink-rx -> dnat -> forward -> bridge-tx -> host-veth-tx -> endpoint-rx, and the
        reply back: reply-endpoint-tx -> reply-host-veth-rx -> reply-bridge-rx
        -> reply-uplink-queue. A flow is named as the client sent it and where DNAT sent it
        ("tcp 203.0.113.254:53658 -> 198.51.100.2:1222 dnat 172.17.0.2:22"). At the end each
        flow that stopped gets a finding: a stable code, the rule or setting responsible, and
        the narrowest fix (the set element an allow-list missed, not the deletion of its drop).
        Connect to the port while it runs.

        Exit codes: 0 no flow stopped (or nothing published), 2 a flow stopped, 4 unknown
        container, 5 unknown network namespace, 6 the port is not published, 77 missing
        privileges (as `tracer egress`).

        Examples:
          tracer ingress --duration 10s
          tracer ingress --container web --port 8080/tcp --output json
        """,
        options: [
            .option("container", value: "name|id", help: "Only this container's published ports (name or id prefix).", repeatable: true, values: .containerName),
            .option("netns", value: "name", help: "Only ports leading to the endpoint in this network namespace, or to every endpoint behind it when it is a host side.", repeatable: true, values: .netnsName),
            .option("port", value: "port[/proto]", help: "Only this published host port (e.g. 8080 or 8080/tcp).", repeatable: true),
            .option("duration", help: "Stop after this long (e.g. 10s); without it, run until Ctrl-C."),
            .option("interval", help: "Print the flows' stages this often while tracing (e.g. 5s); at least 100ms."),
            .flag("all", help: "Also show drops a healthy host makes all the time."),
            .flag("no-nft-trace", help: "Do not add the temporary nftables trace table that names the rule dropping a packet."),
        ] + CommonOptions.specs + RuntimeOptions.specs
    )

    let common: CommonOptions
    let runtimes: RuntimeOptions
    let container: [String]
    let netns: [String]
    let ports: [PortArgument]
    let duration: DurationArgument?
    let interval: DurationArgument?
    let all: Bool
    let noNftTrace: Bool

    init(_ arguments: ParsedArguments) throws(UsageError) {
        common = try CommonOptions(arguments)
        runtimes = try RuntimeOptions(arguments)
        container = try arguments.containerQueries()
        netns = arguments.strings("netns")
        ports = try arguments.values("port")
        duration = try arguments.value("duration")
        interval = try arguments.interval()
        all = arguments.flag("all")
        noNftTrace = arguments.flag("no-nft-trace")
    }

    func run() throws {
        StopSignal.install()
        try Privileges.require(.egress)
        LibbpfLog.install(verbose: common.verbose)
        let reasons = try NetProbeLoading.dropReasons(command: "ingress")
        let finder = EgressPathFinder(resolver: runtimes.resolver)
        let selected = try PathSelection.paths(finder, containers: container, namespaces: netns, command: "ingress")
        let resolver = runtimes.resolver
        let runtime = resolver.docker.publishedPorts() + resolver.podman.publishedPorts() + resolver.containerd.publishedPorts()
        var reports = IngressDiagnosis.reports(runtime: runtime, paths: selected, everyPort: false)
        if !ports.isEmpty {
            let chosen = reports.filter { report in ports.contains { $0.matches(report.port) } }
            for port in ports where !reports.contains(where: { port.matches($0.port) }) {
                let published = reports.map { "\($0.port.hostPorts)/\($0.port.transport)" }
                printError("tracer ingress: port \(port.port)\(port.transport.map { "/\($0)" } ?? "") is not published"
                           + (container.isEmpty && netns.isEmpty ? "" : " by the selection")
                           + (published.isEmpty ? "; nothing is published" : "; published: " + Array(Set(published)).sorted().joined(separator: ", ")))
                throw TracerExit.unknownPort
            }
            reports = chosen
        }
        let render = NetRender(format: common.output, command: "ingress")
        guard !reports.isEmpty else {
            printError("tracer ingress: no published ports found (runtimes' metadata and DNAT rules of the host sides in scope); nothing inbound to trace")
            return
        }
        // Only the endpoints the ports lead to are traced.
        let targets = Set(reports.compactMap { $0.path?.endpoint.netnsInode })
        let paths = selected.filter { targets.contains($0.endpoint.netnsInode) }
        let scope = EgressScope(paths: paths, published: reports)
        let probe = try NetProbeLoading.probe(.egress(scope: scope, reasons: reasons, showAll: all), scope: scope, command: "ingress")
        defer { probe.close() }

        let describer = DropDescriber(reasons: reasons, scope: scope, directory: finder.directory, inventory: finder.inventory)
        let watch = NetfilterWatch(paths: paths, nftTrace: !noNftTrace)
        defer { watch.stop() }
        let session = EgressSession(source: probe, describer: describer, scope: scope, watch: watch,
                                    checks: EgressDiagnosis.checks(directory: finder.directory), options: .init(
                                        showAll: all, deadline: duration.map { BootClock.now + $0.nanoseconds },
                                        stageInterval: interval?.nanoseconds, direction: .inbound, publishedPorts: reports))
        let summary: FlowsSummary
        do {
            summary = try session.run(into: RenderingSink(message: printError, render: render.lines), stop: { StopSignal.isRequested })
        } catch {
            throw fail(error, command: "ingress")
        }
        if summary.errors > 0 { throw TracerExit.errorFound }
    }
}
