/// The static checks of one egress path, as pure functions of what was read (`EgressPathState`).
/// Each group returns findings; `EgressDiagnosis` joins the groups. A consequence already
/// explained by another finding (every port disabled because the bridge is down) is left out,
/// so the first error names the cause.
struct EgressChecks {
    let path: EgressPath
    let state: EgressPathState

    var host: EgressPathState.Side { state.host }
    var endpointSide: EgressPathState.Side { state.endpoint }
    var hostCommand: NamespaceCommand { NamespaceCommand(path: path.hostNetnsPath, isRoot: path.hostIsRoot) }
    var endpointCommand: NamespaceCommand { NamespaceCommand(path: path.endpoint.netnsPath, isRoot: false) }

    /// "tel-x-host", or "the root namespace", for messages.
    var hostName: String {
        if path.hostIsRoot { return "the root namespace" }
        if let name = hostCommand.ipNetnsName { return name }
        return "netns \(path.hostNetnsInode)"
    }

    // MARK: - Devices read back

    var endpointInterface: NetworkInterface? {
        endpointSide.interface(index: path.endpoint.interfaceIndex).flatMap { $0.name == path.endpoint.interface ? $0 : nil }
            ?? endpointSide.interface(path.endpoint.interface)
    }
    var hostVeth: NetworkInterface? { path.hostVeth.flatMap { host.interface($0.name) } }
    var bridge: NetworkInterface? { path.bridge.flatMap { host.interface($0.name) } }
    /// Where egress packets enter the host side: the bridge, or the veth itself when routed.
    var ingress: NetworkInterface? { path.bridge == nil ? hostVeth : bridge }
    /// The endpoint's default gateway.
    var endpointGateway: IPAddress? { endpointSide.routes.defaultRoute?.gateway }
    /// The endpoint's first IPv4 address.
    var endpointAddress: IPAddress? {
        (endpointInterface?.ipv4 ?? path.endpoint.ipv4).first?.address
    }

    /// The route the endpoint's egress takes on the host side, policy rules included.
    static func egressRoute(of path: EgressPath, in side: EgressPathState.Side) -> PolicyRouting.Decision {
        PolicyRouting.egress(of: path, rules: side.rules, routes: side.routes)
    }

    /// The device the endpoint's egress route leaves by on the host side; without one (the kernel
    /// drops routes with their device), the one device that is neither loopback, a bridge, a
    /// bridge port nor the endpoint's veth, preferring one that is down.
    static func uplink(of path: EgressPath, in side: EgressPathState.Side) -> (device: NetworkInterface, guessed: Bool)? {
        if case .route(let route, _) = egressRoute(of: path, in: side), let device = side.interface(index: route.outputIndex) {
            return (device, false)
        }
        let candidates = side.interfaces.filter {
            $0.name != "lo" && $0.kind != "bridge" && $0.masterIndex == nil && $0.name != path.hostVeth?.name
        }
        let down = candidates.filter { !$0.isUp }
        if down.count == 1 { return (down[0], true) }
        return candidates.count == 1 ? (candidates[0], true) : nil
    }

    var uplink: (device: NetworkInterface, guessed: Bool)? { Self.uplink(of: path, in: host) }

    // MARK: - Building findings

    /// A finding about the host side; `family`: the packets it concerns (nil: both).
    func onHost(_ code: FindingCode, _ family: IPAddress.Family?, _ severity: Finding.Severity, _ message: String, evidence: String,
                fix: String? = nil, device: String? = nil) -> Finding {
        Finding(code: code, severity: severity, message: message, evidence: evidence, fix: fix, device: device,
                netnsInode: path.hostNetnsInode, family: family)
    }

    /// A finding about the endpoint's namespace; `family` as for `onHost`.
    func onEndpoint(_ code: FindingCode, _ family: IPAddress.Family?, _ severity: Finding.Severity, _ message: String, evidence: String,
                    fix: String? = nil, device: String? = nil) -> Finding {
        Finding(code: code, severity: severity, message: message, evidence: evidence, fix: fix, device: device,
                netnsInode: path.endpoint.netnsInode, family: family)
    }

    func unchecked(_ what: String, because why: String, onEndpoint: Bool = false, device: String? = nil) -> Finding {
        Finding(code: .unchecked, severity: .warning, message: "could not check \(what)", evidence: why,
                device: device, netnsInode: onEndpoint ? path.endpoint.netnsInode : path.hostNetnsInode)
    }

    /// `ip link` style state: "up, carrier" / "DOWN" / "up, NO-CARRIER (lowerlayerdown)".
    static func linkState(_ device: NetworkInterface) -> String {
        guard device.isUp else { return "DOWN (admin), mtu \(device.mtu)" }
        return (device.hasCarrier ? "UP, carrier" : "UP, NO-CARRIER") + ", operstate \(device.operState), mtu \(device.mtu)"
    }

    /// A /proc/sys value read on the host side, with what it was when it could not be read.
    func sysctl(_ key: String) -> SysctlFile.Reading {
        host.sysctls[key] ?? .unreadable("/proc/sys/\(key) was not read")
    }

    static func dotted(_ key: String) -> String {
        let parts = key.split(separator: "/")
        return parts.contains { $0.contains(".") } ? key : parts.joined(separator: ".")
    }
}
