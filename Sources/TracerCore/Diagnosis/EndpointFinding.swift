/// A finding and the endpoint path it is about: what `tracer diagnose` and `tracer egress`
/// print together (the endpoint's label, the namespace the fix runs in).
public struct EndpointFinding: Sendable, Equatable {
    public var finding: Finding
    public var path: EgressPath

    public init(finding: Finding, path: EgressPath) {
        self.finding = finding
        self.path = path
    }
}
