/// The pod a container belongs to. Fields are optional because each runtime records a different subset.
public struct PodIdentity: Sendable, Equatable, Codable {
    public var namespace: String?
    public var name: String?
    public var uid: String?

    public init(namespace: String? = nil, name: String? = nil, uid: String? = nil) {
        self.namespace = namespace
        self.name = name
        self.uid = uid
    }
}
