import TracerCore

struct DiagnoseCommand: TracerCommand {
    static let name = "diagnose"
    static let spec = CommandSpec(
        name: name,
        abstract: "Check each container's egress path without tracing: forwarding, devices, routes, MTU, conntrack.",
        discussion: """
        For every endpoint (each container with a network namespace of its own, and each
        `ip netns` namespace whose default route leaves by a veth) the path is found: the
        endpoint's eth0 -> its host veth -> bridge -> uplink, in whichever namespace the host
        side lives. Settings are read from inside each namespace. Each finding has a severity,
        a stable code (listed in the README), the evidence read and a command that fixes it.

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
            .option("container", value: "name|id", help: "Only this container (name or id prefix).", repeatable: true),
            .option("netns", value: "name", help: "Only the endpoint in this network namespace (ip netns name, path or inode), or every endpoint behind it when it is a host side.", repeatable: true),
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
        runtimes = RuntimeOptions(arguments)
    }

    func run() throws {
        try Privileges.require(.diagnose)
        let finder = EgressPathFinder(resolver: runtimes.resolver)
        let paths = try PathSelection.paths(finder, containers: container, namespaces: netns, command: "diagnose")
        let sink = OutputSink()
        if paths.isEmpty {
            printError("tracer diagnose: no container networks found (no container or named namespace routes out through a veth)")
        }
        var counts: [Finding.Severity: Int] = [:]
        for (i, path) in paths.enumerated() {
            let findings = EgressDiagnosis.findings(for: path, directory: finder.directory)
            for finding in findings { counts[finding.severity, default: 0] += 1 }
            switch common.output {
            case .table:
                if i > 0 { sink.line("") }
                sink.line(FindingRender.pathLine(path))
                if findings.isEmpty { sink.line("  ok: no problems found") }
                for finding in findings { FindingRender.tableLines(finding).forEach(sink.line) }
            case .json:
                sink.line(bytes: FindingRender.pathJSON(path).finishedBytes)
                for finding in findings { sink.line(bytes: FindingRender.json(finding, path: path).finishedBytes) }
            }
            sink.flush()
        }
        let errors = counts[.error] ?? 0, warnings = counts[.warning] ?? 0
        switch common.output {
        case .table:
            if !paths.isEmpty {
                sink.line("")
                sink.line("\(paths.count) endpoint\(paths.count == 1 ? "" : "s") checked: \(errors) error\(errors == 1 ? "" : "s"), \(warnings) warning\(warnings == 1 ? "" : "s")")
            }
        case .json:
            var summary = JSONLine()
            summary.add("type", "summary")
            summary.add("endpoints", paths.count)
            summary.add("errors", errors)
            summary.add("warnings", warnings)
            summary.add("infos", counts[.info] ?? 0)
            sink.line(bytes: summary.finishedBytes)
        }
        sink.flush()
        if errors > 0 { throw TracerExit.errorFound }
    }
}
