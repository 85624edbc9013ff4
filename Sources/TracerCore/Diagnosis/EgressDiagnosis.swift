/// `tracer diagnose` for one path: reads it, runs every check group, errors first.
public enum EgressDiagnosis {
    /// Reads the path's namespaces and firewall (CAP_SYS_ADMIN) and checks them.
    public static func findings(for path: EgressPath, directory: NetnsDirectory) -> [Finding] {
        let state = EgressPathState.read(path, directory: directory)
        // The firewall is walked for the IPv6 addresses the state read, too.
        let ipv6 = EgressChecks(path: path, state: state).ipv6Egress
        return findings(for: path, state: state, netfilter: NetfilterInspector.inspect(path: path, ipv6: ipv6))
    }

    /// The checks of every path, read in `directory`'s namespaces: what `DiagnoseSession` and
    /// `EgressSession` run on the host.
    public static func checks(directory: NetnsDirectory) -> (EgressPath) -> [Finding] {
        { findings(for: $0, directory: directory) }
    }

    /// The one place where the check groups are joined: devices, forwarding, routes, MTU,
    /// conntrack, br_netfilter, IPv6, and the firewall (what it could not read becomes `unchecked`).
    public static func findings(for path: EgressPath, state: EgressPathState, netfilter: NetfilterReport? = nil) -> [Finding] {
        let checks = EgressChecks(path: path, state: state)
        var all = checks.endpointChecks() + checks.hostDeviceChecks() + checks.forwardingChecks()
        all += checks.routeChecks(explained: Set(all.map(\.code)))
        all += checks.mtuChecks() + checks.conntrackChecks() + checks.brNetfilterChecks()
        let ipv6 = checks.ipv6Checks(explained: Set(all.map(\.code)))
        // Below 1280 is the cause on that device; the mismatch's fix (lower the endpoint's MTU to it) would disable IPv6 there too.
        let tooSmall = Set(ipv6.filter { $0.code == .ipv6MTUTooSmall }.compactMap(\.device))
        all.removeAll { $0.code == .mtuMismatch && $0.device.map(tooSmall.contains) == true }
        all += ipv6
        if let netfilter {
            all += netfilter.findings
            // Without an uplink the route checks already said why; the firewall cannot be walked either.
            let explained = all.contains { $0.code == .noDefaultRoute || $0.code == .uplinkDown }
            for text in netfilter.unchecked where !(explained && text.contains("no uplink")) {
                all.append(Finding(code: .unchecked, severity: .warning, message: "could not check \(text)", evidence: text,
                                   netnsInode: path.hostNetnsInode))
            }
        }
        // Stable: within a severity, the order of the path (endpoint, host devices, forwarding, routes, firewall).
        return all.enumerated().sorted { ($0.element.severity, $0.offset) < ($1.element.severity, $1.offset) }.map(\.element)
    }
}
