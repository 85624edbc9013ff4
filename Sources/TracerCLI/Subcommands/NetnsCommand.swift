import TracerCore

struct NetnsCommand: TracerCommand {
    static let name = "netns"
    static let spec = CommandSpec(
        name: name,
        abstract: "Every network namespace: names, containers and processes in it, interfaces, veth peers, routes.",
        discussion: """
        Namespaces are found from every process and from bind mounts (ip netns, docker, CNI,
        podman). Interfaces are read over rtnetlink from inside each namespace; each veth is
        shown with its peer, in whichever namespace the peer lives.

        Privileges: root, or CAP_SYS_ADMIN (entering namespaces); without it exit 77.

        Examples:
          tracer netns
          tracer netns --output json
        """,
        options: CommonOptions.specs + RuntimeOptions.specs
    )

    let common: CommonOptions
    let runtimes: RuntimeOptions

    init(_ arguments: ParsedArguments) throws(UsageError) {
        common = try CommonOptions(arguments)
        runtimes = try RuntimeOptions(arguments)
    }

    func run() throws {
        try Privileges.require(.netns)
        let session = NetnsSession(source: HostNamespaces(resolver: runtimes.resolver))
        session.run(into: RenderingSink(message: printError, render: NetnsRender(format: common.output).lines))
    }
}
