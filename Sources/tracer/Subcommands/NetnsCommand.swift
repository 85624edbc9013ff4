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
        runtimes = RuntimeOptions(arguments)
    }

    func run() throws {
        try Privileges.require(.netns)
        let directory = NetnsDirectory()
        let inventory = ContainerInventory.scan(resolver: runtimes.resolver)
        for (i, ns) in directory.namespaces.enumerated() {
            let containers = inventory.containers.filter { $0.netnsInode == ns.inode }
            let inside = directory.contents(of: ns.inode)
            let links = inside.interfaces.map { LinkReport(interface: $0, peer: directory.peer(of: $0, in: ns.inode)) }
            switch common.output {
            case .table:
                if i > 0 { print("") }
                let label = ns.isHost ? " (host)" : ""
                print("netns \(ns.inode)\(label)" + (ns.names.isEmpty ? "" : "  " + ns.names.map(ByteText.escaped).joined(separator: " ")))
                print("  processes: \(ns.pids.count)" + (ns.pids.isEmpty ? "" : " (" + ns.pids.prefix(8).map(String.init).joined(separator: " ") + (ns.pids.count > 8 ? " ..." : "") + ")"))
                if !containers.isEmpty {
                    print("  containers: " + containers.map { "\(ByteText.escaped($0.identity.name ?? $0.identity.shortID)) (\($0.identity.runtime.rawValue))" }.joined(separator: ", "))
                }
                if let error = inside.error { print("  interfaces: cannot read: \(ByteText.escaped(error))") }
                for link in links { print("  " + Formatting.left(ByteText.escaped(link.interface.name), 14) + LinkRender.summary(link)) }
                print("  default route: " + (inside.defaultRoute.map { "via \($0.gateway.map { "\($0)" } ?? "-")" + ($0.outputIndex.flatMap { idx in inside.interfaces.first { $0.index == idx }?.name }.map { " dev " + ByteText.escaped($0) } ?? "") } ?? "none"))
                print("  ip_forward: " + (inside.ipForward.map { $0 ? "1" : "0" } ?? "?"))
            case .json:
                var json = JSONLine()
                json.add("type", "netns")
                json.add("inode", ns.inode)
                json.add("host", ns.isHost)
                json.add("names", strings: ns.names)
                json.add("pids", strings: ns.pids.map(String.init))
                json.add("containers", objects: containers.map { ContainerJSON.object($0.identity) })
                json.add("interfaces", objects: links.map(LinkRender.json))
                if let route = inside.defaultRoute {
                    var r = JSONLine()
                    r.add("gateway", optional: route.gateway.map { "\($0)" })
                    r.add("device", optional: route.outputIndex.flatMap { idx in inside.interfaces.first { $0.index == idx }?.name })
                    json.add("default_route", object: r)
                } else {
                    json.addNull("default_route")
                }
                if let forward = inside.ipForward { json.add("ip_forward", forward) } else { json.addNull("ip_forward") }
                if let error = inside.error { json.add("error", error) }
                print(json.finished)
            }
        }
    }
}
