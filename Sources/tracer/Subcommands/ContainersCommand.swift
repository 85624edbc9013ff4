import TracerCore

struct ContainersCommand: TracerCommand {
    static let name = "containers"
    static let spec = CommandSpec(
        name: name,
        abstract: "Every running container on the host: runtime, id, name, image, pod, init PID, processes, netns.",
        discussion: """
        Found from the processes' cgroups and named from the runtimes' files on disk
        (docker config.v2.json, podman/CRI-O storage, containerd task config.json, runc state.json).

        Examples:
          tracer containers
          tracer containers --output json
          tracer containers --docker-root /srv/docker --runc-root /run/my-runc
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
        let inventory = ContainerInventory.scan(resolver: runtimes.resolver)
        let netns = NetnsDirectory()
        /// The container's veths' host-side ends, and its IPv4 addresses.
        func network(_ c: ContainerInventory.Container) -> (veths: [String], ipv4: [String]) {
            guard let inode = c.netnsInode, let ns = netns.namespace(inode: inode), !ns.isHost else { return ([], []) }
            let interfaces = netns.contents(of: inode).interfaces
            let veths = interfaces.compactMap { netns.peer(of: $0, in: inode)?.name }
            let ipv4 = interfaces.filter { $0.name != "lo" }.flatMap(\.ipv4).map(\.description)
            return (veths, ipv4)
        }
        switch common.output {
        case .table:
            if inventory.containers.isEmpty {
                printError("tracer containers: no running containers found")
                return
            }
            print("RUNTIME     ID            NAME                 IMAGE                          INIT    PROCS NETNS       HOST-VETH    IPV4")
            for c in inventory.containers {
                let id = c.identity
                let net = network(c)
                print(Formatting.left(id.runtime.rawValue, 11) + " " + Formatting.left(ByteText.escaped(id.shortID), 13) + " "
                    + Formatting.left(ByteText.escaped(id.name ?? "-"), 20) + " "
                    + Formatting.left(ByteText.escaped(id.image ?? "-"), 30) + " "
                    + Formatting.left(c.initPID.map(String.init) ?? "-", 7) + " "
                    + Formatting.left(String(c.pids.count), 5) + " " + Formatting.left(c.netnsInode.map(String.init) ?? "-", 11) + " "
                    + Formatting.left(ByteText.escaped(net.veths.joined(separator: ",")).ifEmpty("-"), 12) + " "
                    + ByteText.escaped(net.ipv4.joined(separator: ",")).ifEmpty("-"))
            }
        case .json:
            for c in inventory.containers {
                let net = network(c)
                var json = JSONLine()
                json.add("type", "container")
                json.add("container", object: ContainerJSON.object(c.identity))
                json.add("init_pid", optional: c.initPID)
                json.add("processes", c.pids.count)
                json.add("cgroup", c.cgroupPath)
                json.add("netns", optional: c.netnsInode)
                json.add("host_veths", strings: net.veths)
                json.add("ipv4", strings: net.ipv4)
                print(json.finished)
            }
        }
    }
}

extension String {
    func ifEmpty(_ replacement: String) -> String { isEmpty ? replacement : self }
}
