/// One published port as `tracer diagnose` (and `tracer ingress`) report it: the port with its
/// sources, the endpoint path it leads to (nil when no endpoint behind the host side holds its
/// container address), and what the static checks found, errors first.
public struct PublishedPortReport: Sendable, Equatable {
    public var port: PublishedPort
    public var path: EgressPath?
    /// The namespace whose DNAT rules and sockets were read for it (the host side).
    public var hostNetnsInode: UInt64?
    public var hostNetnsPath: String?
    public var findings: [Finding]

    public init(port: PublishedPort, path: EgressPath?, hostNetnsInode: UInt64?, hostNetnsPath: String?, findings: [Finding]) {
        self.port = port
        self.path = path
        self.hostNetnsInode = hostNetnsInode
        self.hostNetnsPath = hostNetnsPath
        self.findings = findings
    }
}
