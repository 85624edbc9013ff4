/// The published-port half of `tracer diagnose`, and the static checks `tracer ingress` puts
/// beside its traces: for each port, what an inbound connection needs on the host side that
/// holds it. DNAT (or a userland proxy) for what the runtime publishes; FORWARD accepting the
/// DNAT'd flow (in = the uplink, out = the bridge, ct state new with the dnat status) and its
/// replies (established); forwarding on the uplink, the device inbound packets enter by;
/// hairpin (a container reaching a published address of its own host); 127.0.0.1 publishing
/// (route_localnet and a MASQUERADE, or a proxy); and conntrack entries for the port that lead
/// elsewhere than the container. A drop or a forwarding setting gets the code the egress checks
/// give the same cause, so a traced inbound flow and the static check agree.
public enum IngressDiagnosis {
    /// Pure: the ports of `ports` (already merged per host side, see `publishedPorts`) checked
    /// against `hosts` (keyed by host netns inode). Each port is matched to the endpoint path
    /// its container address belongs to, on the same host side.
    public static func check(_ ports: [(port: PublishedPort, hostNetnsInode: UInt64)], paths: [EgressPath],
                             hosts: [UInt64: IngressHostState]) -> [PublishedPortReport] {
        ports.map { port, inode in
            let path = endpointPath(of: port, hostNetnsInode: inode, paths: paths)
            let hostPath = path ?? paths.first { $0.hostNetnsInode == inode }
            var findings: [Finding] = []
            if let host = hosts[inode], let hostPath {
                let checks = IngressChecks(port: port, path: path, hostPath: hostPath, host: host,
                                           neighbours: paths.filter { $0.hostNetnsInode == inode && $0 != path })
                findings = checks.all()
            }
            let sorted = findings.enumerated().sorted { ($0.element.severity, $0.offset) < ($1.element.severity, $1.offset) }.map(\.element)
            return PublishedPortReport(port: port, path: path, hostNetnsInode: inode, hostNetnsPath: hostPath?.hostNetnsPath, findings: sorted)
        }
    }

    /// The path whose endpoint the port leads to: its container by id, else its container
    /// address among the endpoints of that host side.
    static func endpointPath(of port: PublishedPort, hostNetnsInode: UInt64, paths: [EgressPath]) -> EgressPath? {
        let local = paths.filter { $0.hostNetnsInode == hostNetnsInode }
        if let address = port.containerAddress, let hit = local.first(where: { $0.endpoint.addresses.contains { $0.address == address } }) {
            return hit
        }
        guard port.containerAddress == nil, let id = port.container?.id else { return nil }
        return local.first { $0.endpoint.container?.id == id }
    }

    /// The host side a runtime port belongs to: the one whose endpoint is its container (by id),
    /// else the one holding its container address.
    static func hostSide(of port: PublishedPort, paths: [EgressPath]) -> UInt64? {
        if let id = port.container?.id, let path = paths.first(where: { $0.endpoint.container?.id == id }) { return path.hostNetnsInode }
        if let address = port.containerAddress,
           let path = paths.first(where: { $0.endpoint.addresses.contains { $0.address == address } }) { return path.hostNetnsInode }
        return nil
    }

    /// Joins the runtimes' ports with each host side's DNAT rules: runtime ports go to the host
    /// side of their container's path, rules stay where they were read. Ports of containers no
    /// path leads to are left out (another selection, or not running).
    public static func publishedPorts(runtime: [PublishedPort], paths: [EgressPath],
                                      hosts: [UInt64: IngressHostState]) -> [(port: PublishedPort, hostNetnsInode: UInt64)] {
        var result: [(PublishedPort, UInt64)] = []
        for inode in hosts.keys.sorted() {
            guard let host = hosts[inode] else { continue }
            let mine = runtime.filter { hostSide(of: $0, paths: paths) == inode }
            var containers: [IPAddress: ContainerIdentity] = [:]
            for path in paths where path.hostNetnsInode == inode {
                guard let container = path.endpoint.container else { continue }
                for prefix in path.endpoint.addresses { containers[prefix.address] = container }
            }
            let rules = PublishedPort.dnatPorts(in: host.reading.ruleset)
            result += PublishedPort.merged(runtime: mine, rules: rules, containers: containers).map { ($0, inode) }
        }
        return result
    }

    /// On a host: reads each host side of `paths` once, joins `runtime` (the runtimes' ports,
    /// `PublishedPortReading` of docker, podman and containerd) with their DNAT rules, and checks
    /// every port. `everyPort`: keep ports no selected endpoint is the target of (rule-only ports
    /// of a host side, stale rules); false for a selection (`--container`, `--netns`).
    public static func reports(runtime: PublishedPortReading, paths: [EgressPath], everyPort: Bool) -> [PublishedPortReport] {
        var hosts: [UInt64: IngressHostState] = [:]
        var order: [UInt64] = []
        for path in paths where hosts[path.hostNetnsInode] == nil && !path.hostNetnsPath.isEmpty {
            hosts[path.hostNetnsInode] = IngressHostState.read(hostOf: paths.filter { $0.hostNetnsInode == path.hostNetnsInode })
            order.append(path.hostNetnsInode)
        }
        var ports = publishedPorts(runtime: runtime.ports, paths: paths, hosts: hosts)
        if !everyPort {
            ports = ports.filter { endpointPath(of: $0.port, hostNetnsInode: $0.hostNetnsInode, paths: paths) != nil }
        }
        for inode in order {
            let mine = ports.filter { $0.hostNetnsInode == inode }.map(\.port)
            hosts[inode]?.resolveOwners(for: mine)
            if let path = paths.first(where: { $0.hostNetnsInode == inode }) { hosts[inode]?.readConntrack(netnsPath: path.hostNetnsPath, for: mine) }
        }
        return check(ports, paths: paths, hosts: hosts)
    }
}
