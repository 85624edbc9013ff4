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
        let session = ContainersSession(source: HostContainers(resolver: runtimes.resolver))
        session.run(into: RenderingSink(message: printError, render: ContainersRender(format: common.output).lines))
    }
}
