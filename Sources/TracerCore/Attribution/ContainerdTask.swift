/// A containerd task with the namespace it lives in, so callers can tell Docker's (`moby`) apart.
public struct ContainerdTask: Sendable, Equatable {
    public var namespace: String
    public var identity: ContainerIdentity

    public init(namespace: String, identity: ContainerIdentity) {
        self.namespace = namespace
        self.identity = identity
    }
}
