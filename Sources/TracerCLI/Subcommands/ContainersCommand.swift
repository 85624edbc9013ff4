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
        options: CommonOptions.specs + RuntimeOptions.specs + [
            .flag("completion-names", help: "The names to complete --container with, one a line.", hidden: true),
        ]
    )

    let common: CommonOptions
    let runtimes: RuntimeOptions
    let completionNames: Bool

    init(_ arguments: ParsedArguments) throws(UsageError) {
        common = try CommonOptions(arguments)
        runtimes = try RuntimeOptions(arguments)
        completionNames = arguments.flag("completion-names")
    }

    func run() throws {
        if completionNames {
            for name in Self.completionNames(ContainerInventory.scan(resolver: runtimes.resolver).containers.map(\.identity)) {
                print(name)
            }
            return
        }
        let session = ContainersSession(source: HostContainers(resolver: runtimes.resolver))
        session.run(into: RenderingSink(message: printError, render: ContainersRender(format: common.output).lines))
    }
}

extension ContainersCommand {
    /// What the completion scripts offer for `--container`: each container's name, or its short id
    /// when it has none, sorted. A name a shell could misread (spaces, quotes, `$`, `:`, control
    /// characters, a leading `-`) is left out rather than escaped: the three shells escape
    /// differently, and a runtime's names never need it (docker and podman allow
    /// `[a-zA-Z0-9][a-zA-Z0-9_.-]`).
    static func completionNames(_ identities: [ContainerIdentity]) -> [String] {
        let names = identities.map { $0.name ?? $0.shortID }.filter { name in
            name.utf8.first != UInt8(ascii: "-") && !name.isEmpty && name.utf8.allSatisfy { byte in
                switch byte {
                case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "0")...UInt8(ascii: "9"):
                    true
                case UInt8(ascii: "_"), UInt8(ascii: "."), UInt8(ascii: "-"), UInt8(ascii: "+"), UInt8(ascii: "@"), UInt8(ascii: "/"):
                    true
                default:
                    false
                }
            }
        }
        return Array(Set(names)).sorted()
    }
}
