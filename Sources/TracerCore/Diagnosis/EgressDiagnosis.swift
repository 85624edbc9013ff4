/// `tracer diagnose` for one path: reads it, runs every check group, errors first.
public enum EgressDiagnosis {
    /// Reads the path's namespaces (CAP_SYS_ADMIN) and checks them.
    public static func findings(for path: EgressPath, directory: NetnsDirectory) -> [Finding] {
        findings(for: path, state: EgressPathState.read(path, directory: directory))
    }

    /// The one place where the check groups are joined. Netfilter (NetfilterInspector) adds
    /// its findings here.
    public static func findings(for path: EgressPath, state: EgressPathState) -> [Finding] {
        let checks = EgressChecks(path: path, state: state)
        var all = checks.endpointChecks() + checks.hostDeviceChecks() + checks.forwardingChecks()
        all += checks.routeChecks(explained: Set(all.map(\.code)))
        all += checks.mtuChecks() + checks.conntrackChecks() + checks.brNetfilterChecks()
        // Stable: within a severity, the order of the path (endpoint, host devices, forwarding, routes).
        return all.enumerated().sorted { ($0.element.severity, $0.offset) < ($1.element.severity, $1.offset) }.map(\.element)
    }
}
