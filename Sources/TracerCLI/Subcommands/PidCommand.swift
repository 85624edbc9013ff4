import TracerCore

struct PidCommand: TracerCommand {
    static let name = "pid"
    static let spec = CommandSpec(
        name: name,
        abstract: "Which container owns this PID: runtime, id, name, image, pod, PID inside, namespaces.",
        discussion: """
        Reads /proc and the runtimes' files on disk; no daemon or runtime socket is needed.
        With --container, lists a container's processes with their host and container PIDs.

        Examples:
          tracer pid 4242
          tracer pid 4242 4243 --output json
          tracer pid --container web
          tracer pid --container 3f2a --docker-root /srv/docker
        """,
        arguments: (name: "pid", help: "Process ids on the host."),
        options: [
            .option("container", value: "name|id", help: "List this container's processes (name, or id prefix).", values: .containerName),
        ] + CommonOptions.specs + RuntimeOptions.specs
    )

    let common: CommonOptions
    let runtimes: RuntimeOptions
    let pids: [Int32]
    let container: String?

    init(_ arguments: ParsedArguments) throws(UsageError) {
        common = try CommonOptions(arguments)
        runtimes = try RuntimeOptions(arguments)
        container = try arguments.containerQueries().last
        pids = try Self.pids(arguments.positionals)
        if pids.isEmpty && container == nil { throw UsageError("give at least one PID, or --container NAME") }
    }

    private static func pids(_ texts: [String]) throws(UsageError) -> [Int32] {
        guard !texts.isEmpty else { return [] }
        let limit = PIDLimit.read()
        return try texts.map { text throws(UsageError) in
            guard let value = Int64(text) else { throw UsageError("PID '\(text)' is not a number") }
            guard value > 0 else { throw UsageError("PID \(value) must be positive") }
            guard value <= Int64(limit) else { throw UsageError("PID \(value) is above pid_max (\(limit))") }
            return Int32(value)
        }
    }

    func run() throws {
        let session = PidSession(query: container.map { .container($0) } ?? .processes(pids),
                                 source: HostProcesses(resolver: runtimes.resolver))
        let render = PidRender(format: common.output)
        let outcome = try session.run(into: RenderingSink(message: printError, render: render.lines))
        if !outcome.missing.isEmpty { throw TracerExit.noSuchProcess }
    }
}
