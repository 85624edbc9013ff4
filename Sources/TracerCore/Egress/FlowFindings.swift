/// What `tracer egress` concludes once tracing ends: each flow that stopped is explained
/// (`EgressExplainer`) against the static checks of its path, and an endpoint that showed no
/// flow of a family but whose ARP (or NDP) went unanswered gets its finding too. One finding per endpoint,
/// flow direction and code: the first stopped flow that shows it is the example.
public enum FlowFindings {
    /// What makes two findings the same one.
    public struct Key: Hashable, Sendable {
        public var endpointNetns: UInt64
        public var direction: FlowDirection
        public var code: FindingCode

        public init(endpointNetns: UInt64, direction: FlowDirection, code: FindingCode) {
            self.endpointNetns = endpointNetns
            self.direction = direction
            self.code = code
        }
    }

    /// An endpoint that showed a flow of a family.
    private struct Flowing: Hashable {
        var endpointNetns: UInt64
        var family: IPAddress.Family
    }

    /// `flows`: every traced flow (complete ones tell which endpoints sent anything), with the
    /// trace's evidence. `checks`: the static findings of a path, asked once per endpoint and
    /// only for endpoints that need an explanation (reading them enters namespaces).
    public static func decide(flows: [EgressExplainer.Evidence], paths: [EgressPath], neighbours: [DeviceKey: DeviceNeighbourStats],
                              checks: (EgressPath) -> [Finding]) -> [EndpointFinding] {
        var staticFindings: [UInt64: [Finding]] = [:]
        func checked(_ path: EgressPath) -> [Finding] {
            if let known = staticFindings[path.endpoint.netnsInode] { return known }
            let found = checks(path)
            staticFindings[path.endpoint.netnsInode] = found
            return found
        }
        var result: [EndpointFinding] = []
        var seen: Set<Key> = []
        func add(_ finding: Finding, _ path: EgressPath, _ direction: FlowDirection) {
            let key = Key(endpointNetns: path.endpoint.netnsInode, direction: direction, code: finding.code)
            if seen.insert(key).inserted { result.append(EndpointFinding(finding: finding, path: path)) }
        }
        for evidence in flows where !evidence.outcome.isComplete {
            let path = evidence.outcome.path
            add(EgressExplainer.explain(evidence, staticFindings: checked(path)), path, evidence.outcome.direction.flow)
        }
        // An endpoint whose ARP (or NDP) went unanswered never shows a flow of that family until
        // the neighbour entry fails.
        let flowing = Set(flows.map { Flowing(endpointNetns: $0.outcome.path.endpoint.netnsInode, family: $0.outcome.flow.endpointAddress.family) })
        for path in paths {
            guard let stats = neighbours[path.endpoint.device] else { continue }
            for family in [IPAddress.Family.v4, .v6] where !flowing.contains(Flowing(endpointNetns: path.endpoint.netnsInode, family: family)) {
                let counts = stats.counts(family)
                guard counts.unanswered else { continue }
                add(EgressExplainer.explainUnansweredNeighbour(path: path, family: family, requests: counts.requestsSent, staticFindings: checked(path)),
                    path, .egress)
            }
        }
        return result
    }
}
