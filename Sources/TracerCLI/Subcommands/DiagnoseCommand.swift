import TracerCore

struct DiagnoseCommand: TracerCommand {
    static let name = "diagnose"
    static let spec = CommandSpec(
        name: name,
        abstract: "Check each container's egress path and published ports without tracing: forwarding, devices, routes, MTU, conntrack, DNAT.",
        discussion: """
        For every endpoint (each container with a network namespace of its own, and each
        `ip netns` namespace whose default route leaves by a veth) the path is found: the
        endpoint's eth0 -> its host veth -> bridge -> uplink, in whichever namespace the host
        side lives. Settings are read from inside each namespace. Each finding has a severity,
        a stable code (listed in the README), the evidence read and a command that fixes it.
        Then the published ports (from docker, podman and nerdctl metadata and from the DNAT
        rules of each host side; those of the selected endpoints with --container/--netns):
        DNAT present or a userland proxy listening, FORWARD accepting the DNAT'd flow and its
        replies, forwarding on the uplink, hairpin, 127.0.0.1 publishing, stale conntrack entries.

        Exit codes: 0 nothing at error severity, 2 at least one error finding, 4 unknown
        container, 5 unknown network namespace, 77 missing privileges: root, or CAP_SYS_ADMIN
        (entering namespaces) and CAP_NET_ADMIN (reading the firewall's rules).

        Examples:
          tracer diagnose
          tracer diagnose --container web1 --output json
          tracer diagnose --netns tel-lab-c1
          tracer diagnose --netns tel-lab-host        # every endpoint behind that host side
        """,
        options: [
            .option("container", value: "name|id", help: "Only this container (name or id prefix).", repeatable: true, values: .containerName),
            .option("netns", value: "name", help: "Only the endpoint in this network namespace (ip netns name, path or inode), or every endpoint behind it when it is a host side.", repeatable: true, values: .netnsName),
        ] + CommonOptions.specs + RuntimeOptions.specs
    )

    let container: [String]
    let netns: [String]
    let common: CommonOptions
    let runtimes: RuntimeOptions

    init(_ arguments: ParsedArguments) throws(UsageError) {
        container = try arguments.containerQueries()
        netns = arguments.strings("netns")
        common = try CommonOptions(arguments)
        runtimes = try RuntimeOptions(arguments)
    }

    func run() throws {
        try Privileges.require(.diagnose)
        let finder = EgressPathFinder(resolver: runtimes.resolver)
        let paths = try PathSelection.paths(finder, containers: container, namespaces: netns, command: "diagnose")
        let resolver = runtimes.resolver
        let everyPort = container.isEmpty && netns.isEmpty
        let session = DiagnoseSession(paths: paths, checks: EgressDiagnosis.checks(directory: finder.directory)) {
            let runtime = resolver.docker.publishedPorts() + resolver.podman.publishedPorts() + resolver.containerd.publishedPorts()
            return IngressDiagnosis.reports(runtime: runtime, paths: paths, everyPort: everyPort)
        }
        let render = DiagnoseRender(format: common.output)
        let summary = session.run(into: RenderingSink(message: printError, render: render.lines))
        if summary.errors > 0 { throw TracerExit.errorFound }
    }
}
