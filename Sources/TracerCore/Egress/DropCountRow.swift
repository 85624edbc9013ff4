/// One exact kernel drop counter with the names a person reads, and the containers whose
/// drops the live records showed under it.
public struct DropCountRow: Sendable, Equatable {
    public var containers: [String]
    public var reason: DropReason
    /// The function, as `DropDescriber.locationName` spells every location.
    public var location: String
    public var device: String
    public var netns: String
    public var count: UInt64

    public init(containers: [String], reason: DropReason, location: String, device: String, netns: String, count: UInt64) {
        self.containers = containers
        self.reason = reason
        self.location = location
        self.device = device
        self.netns = netns
        self.count = count
    }
}
