/// A namespace's default route of one family, with the interface it leaves by: what `tracer netns`
/// and `tracer pid` show of its routing.
public struct DefaultRoute: Sendable, Equatable {
    public var route: IPRoute
    /// The name of the interface the route leaves by, when it names one that is in the namespace.
    public var device: String?

    public init(route: IPRoute, device: String?) {
        self.route = route
        self.device = device
    }

    public var family: IPAddress.Family { route.destination.family }
}
