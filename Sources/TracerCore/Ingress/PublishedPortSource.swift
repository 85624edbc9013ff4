/// Where a fact about a published port comes from.
public enum PublishedPortSource: Sendable, Equatable {
    /// A runtime's metadata on disk: what the runtime meant to publish.
    case runtime(RuntimePortRecord)
    /// A DNAT rule: what the kernel will do.
    case dnatRule(DNATRule)
}

/// The runtime record a published port was read from: the file and the field.
public struct RuntimePortRecord: Sendable, Equatable {
    public var runtime: ContainerRuntime
    /// The file read: docker's config.v2.json or hostconfig.json, podman's bolt_state.db, the
    /// containerd task's config.json.
    public var path: String
    /// "NetworkSettings.Ports", "HostConfig.PortBindings", "newPortMappings", "nerdctl/ports".
    public var field: String

    public init(runtime: ContainerRuntime, path: String, field: String) {
        self.runtime = runtime
        self.path = path
        self.field = field
    }
}
