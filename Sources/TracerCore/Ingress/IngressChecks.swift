/// The static checks of one published port, as pure functions of what was read on its host
/// side. `path` is the endpoint the port leads to (nil: none behind this host side holds its
/// address); `hostPath` a path of the same host side, for the uplink and the namespace.
struct IngressChecks {
    let port: PublishedPort
    let path: EgressPath?
    let hostPath: EgressPath
    let host: IngressHostState
    /// The other endpoints of the host side: a neighbour on the same bridge is the other hairpin client.
    let neighbours: [EgressPath]

    /// Programs that answer a published port in the container's stead.
    static let proxies: Set<String> = ["docker-proxy", "rootlessport", "rootlessport-child", "slirp4netns", "pasta", "pasta.avx2",
                                       "rootlesskit"]

    var command: NamespaceCommand { NamespaceCommand(path: hostPath.hostNetnsPath, isRoot: hostPath.hostIsRoot) }
    var ruleset: Ruleset { host.reading.ruleset }
    var hostName: String {
        hostPath.hostIsRoot ? "the root namespace" : command.ipNetnsName ?? "netns \(hostPath.hostNetnsInode)"
    }
    /// "tcp 0.0.0.0:8080 -> 172.17.0.2:80 (web)" without the agreement.
    var label: String {
        let who = port.container.map { " (\($0.name ?? $0.shortID))" } ?? path.map { " (\($0.endpoint.name))" } ?? ""
        let targetPort = port.containerPort(forHostPort: port.hostPorts.first).map { ":\($0)" } ?? ""
        return "\(port.transport) \(port.hostText):\(port.hostPorts) -> \(port.targetText)\(targetPort)\(who)"
    }
    /// The device inbound packets enter by, and the one they leave by towards the container.
    var uplink: String? { hostPath.uplink?.name }
    var inner: String? { path.flatMap { $0.bridge?.name ?? $0.hostVeth?.name } }
    var containerPort: UInt16? { port.containerPort(forHostPort: port.hostPorts.first) }
    var isLoopbackOnly: Bool {
        switch port.hostAddress {
        case .address(let a): return IPPrefix("127.0.0.0/8")!.contains(a)
        case .network(let p): return IPPrefix("127.0.0.0/8")!.contains(p)
        case .unspecified: return false
        }
    }
    var specificHostAddress: IPAddress? {
        if case .address(let a) = port.hostAddress { return a }
        return nil
    }

    func finding(_ code: FindingCode, _ severity: Finding.Severity, _ message: String, evidence: String, fix: String? = nil,
                 device: String? = nil) -> Finding {
        Finding(code: code, severity: severity, message: message, evidence: evidence, fix: fix, device: device,
                netnsInode: hostPath.hostNetnsInode, family: port.containerAddress?.family)
    }

    func all() -> [Finding] {
        if let error = host.error {
            return [finding(.unchecked, .warning, "could not check \(label)", evidence: error)]
        }
        var findings = dnatChecks()
        guard !reachedRules.isEmpty else { return findings }
        if port.hostAddress.family == .v6 || port.containerAddress?.family == .v6 {
            // IPv6 forwarding is global (the path's ipv6-forwarding-disabled), IPv6 has no
            // rp_filter sysctl, and hairpin and localhost publishing are checked for IPv4 only.
            return findings + forwardChecks() + conntrackChecks()
        }
        if isLoopbackOnly {
            findings += localhostChecks()
        } else {
            findings += forwardingChecks() + reversePathChecks() + forwardChecks() + hairpinChecks()
        }
        findings += conntrackChecks()
        return findings
    }

    // MARK: - DNAT, or something listening in its stead

    func listeners(on address: IPAddress?) -> [ListeningSocket] {
        host.listeners.filter { $0.answers(address, port: port.hostPorts.first, transport: port.transport) }
    }

    func ownerText(_ socket: ListeningSocket) -> String {
        socket.owners.isEmpty ? "an unknown process (socket inode \(socket.inode))"
            : socket.owners.map { "\($0.program) (pid \($0.pid))" }.joined(separator: ", ")
    }

    /// The DNAT rules a packet meets: a rule in a chain no nat base chain reaches (the jump to
    /// netavark's per-container chain flushed) does nothing.
    var reachedRules: [DNATRule] { port.rules.filter { !$0.path.isEmpty } }

    func dnatChecks() -> [Finding] {
        let listening = listeners(on: specificHostAddress)
        switch port.agreement {
        case .runtimeAndRule where !reachedRules.isEmpty:
            return []
        case .ruleOnly:
            guard path == nil, !reachedRules.isEmpty, let address = port.containerAddress else { return [] }
            let rule = port.rules.first.map(\.location) ?? "?"
            return [finding(.dnatNoEndpoint, .warning,
                "\(label): the DNAT rule leads to \(address), which no endpoint behind \(hostName) holds: connections time out",
                evidence: "\(rule): \(port.rules.first?.text ?? "")",
                fix: port.rules.first.flatMap(deleteCommand))]
        case .runtimeOnly, .runtimeAndRule:
            let runtime = port.runtimeRecords.first.map { "\($0.runtime.rawValue) (\($0.path) \($0.field))" } ?? "the runtime"
            if let proxy = listening.first(where: { $0.owners.contains { Self.proxies.contains($0.program) } }) {
                return [finding(.userlandProxy, .info,
                    "\(label) is served by \(ownerText(proxy)), not by DNAT: connections reach the container from the proxy's address",
                    evidence: "no DNAT rule for it in \(hostName); \(proxy.transport) \(proxy.address):\(proxy.port) is held by "
                        + proxy.owners.map { "\($0.pid): \($0.commandLine)" }.joined(separator: "; "))]
            }
            let answer = listening.first.map { "; \(ownerText($0)) listens on \($0.address):\($0.port) and answers instead" }
                ?? ": connections reach the host itself and get a reset (NO_SOCKET) or the INPUT policy"
            return [finding(.dnatMissing, .error,
                "\(label) is published by \(port.runtimeRecords.first?.runtime.rawValue ?? "the runtime") but no DNAT rule in \(hostName) does it\(answer)",
                evidence: "published in \(runtime); " + (port.rules.isEmpty
                    ? "no DNAT rule of any backend covers \(port.transport) port \(port.hostPorts)"
                    : "its DNAT rule is in a chain no nat base chain reaches: " + port.rules.map(\.location).joined(separator: ", ")),
                fix: dnatFix())]
        }
    }

    /// The DNAT rule that puts the port back, and how the runtime re-creates its own.
    func dnatFix() -> String? {
        guard let address = port.containerAddress else { return nil }
        let toPorts = port.containerPorts.map { ":\($0.isSingle ? "\($0)" : "\($0.first)-\($0.last)")" } ?? ""
        // DNAT keeps the family: ip6tables, with the address in brackets when a port follows.
        let to = address.family == .v6 && !toPorts.isEmpty ? "[\(address)]\(toPorts)" : "\(address)\(toPorts)"
        let destination = specificHostAddress.map { " -d \($0)" } ?? ""
        let ports = port.hostPorts.isSingle ? "\(port.hostPorts.first)" : "\(port.hostPorts.first):\(port.hostPorts.last)"
        let tool = NetfilterBackend.iptablesNft.tool(family: address.family.tableFamily)
        let rule = command.run("\(tool) -t nat -A PREROUTING\(destination) -p \(port.transport) --dport \(ports) -j DNAT --to-destination \(to)")
        switch port.runtimeRecords.first?.runtime {
        case .docker?: return rule + "   # or let dockerd re-create its rules: systemctl restart docker"
        case .podman?: return rule + "   # or let podman re-create them: podman network reload \(shellWord(port.container?.name ?? port.container?.id ?? "--all"))"
        default: return rule
        }
    }

    func deleteCommand(_ rule: DNATRule) -> String? {
        switch rule.backend {
        case .nftables:
            return rule.handle.map { command.run("nft delete rule \(rule.family) \(rule.table) \(rule.chain) handle \($0)") }
        case .iptablesNft, .iptablesLegacy:
            let spec = rule.text.hasPrefix("-A ") ? String(rule.text.dropFirst(3)) : "\(rule.chain) \(rule.position)"
            return command.run("\(rule.backend.rawValue) -t \(rule.table) -D \(spec)")
        }
    }

    // MARK: - Forwarding and FORWARD

    /// Forwarding, global and on the uplink: the ingress device's setting decides for inbound.
    func forwardingChecks() -> [Finding] {
        guard path != nil else { return [] }
        if case .value("0") = host.sysctl("net/ipv4/ip_forward") {
            return [finding(.ipForwardDisabled, .error,
                "IPv4 forwarding is off in \(hostName): connections to \(label) are dropped at ip_error (IP_INADDRERRORS)",
                evidence: "net.ipv4.ip_forward = 0 in \(hostName)", fix: command.sysctl("net/ipv4/ip_forward", "1"))]
        }
        guard let uplink else { return [] }
        let key = "net/ipv4/conf/\(uplink)/forwarding"
        switch host.sysctl(key) {
        case .value("0"):
            return [finding(.deviceForwardingDisabled, .error,
                "forwarding is off on \(uplink) in \(hostName): connections to \(label) enter by it and are dropped at ip_error (IP_INADDRERRORS) after DNAT",
                evidence: "\(EgressChecks.dotted(key)) = 0 (net.ipv4.ip_forward = 1)", fix: command.sysctl(key, "1"), device: uplink)]
        case .unreadable(let why):
            return [finding(.unchecked, .warning, "could not check forwarding on \(uplink)", evidence: why, device: uplink)]
        case .value, .missing:
            return []
        }
    }

    /// Strict reverse-path filtering on the uplink drops a client whose address the host routes
    /// out of another device (IP_RPFILTER), before DNAT. Which clients connect is not known here:
    /// a warning naming the networks routed elsewhere.
    func reversePathChecks() -> [Finding] {
        guard path != nil, let device = hostPath.uplink else { return [] }
        let filter = ReversePathFilter(device: device.name, sysctl: host.sysctl)
        guard filter.mode == 1 else { return [] }
        // Networks behind a gateway on another device: their clients' replies do not leave by the uplink.
        let elsewhere = host.routes.filter {
            $0.table == NL.RT_TABLE_MAIN && !$0.isDefault && $0.gateway != nil && $0.outputIndex != nil && $0.outputIndex != device.index
        }
        guard !elsewhere.isEmpty else { return [] }
        let networks = elsewhere.map { "\($0.destination)" }.joined(separator: ", ")
        let routes = elsewhere.map { route in
            "\(route.destination) via \(route.gateway.map { "\($0)" } ?? "?") dev \(host.interfaces.first(index: route.outputIndex)?.name ?? "ifindex \(route.outputIndex ?? 0)")"
        }
        return [finding(.rpFilterDrop, .warning,
            "strict rp_filter on \(device.name) in \(hostName): clients in \(networks) that connect to \(label) through \(device.name) are dropped on entry (IP_RPFILTER): the route back to them leaves by another device",
            evidence: "\(filter.evidence); routes: " + routes.joined(separator: ", "),
            fix: ReversePathFilter.looseFix(device: device.name, command), device: device.name)]
    }

    /// The DNAT'd SYN (uplink -> bridge, new, dnat) and the replies (bridge -> uplink,
    /// established, dnat) through every forward chain.
    func forwardChecks() -> [Finding] {
        guard let path, let address = port.containerAddress, let inner else { return [] }
        guard let uplink else {
            return [finding(.unchecked, .warning, "could not check FORWARD for \(label)",
                            evidence: "no uplink (no default route) in \(hostName)")]
        }
        let proto = port.transport.rawValue
        let dport = containerPort.map(Int.init)
        let inbound = ImaginedPacket(source: nil, destination: address, inInterface: uplink, outInterface: inner, ctState: "new",
                                     proto: proto, destinationPort: dport, dnat: true)
        let reply = ImaginedPacket(source: address, destination: nil, inInterface: inner, outInterface: uplink, ctState: "established",
                                   proto: proto, sourcePort: dport, dnat: true, isReply: true)
        var findings: [Finding] = []
        for (direction, packet) in [("inbound \(label) (\(uplink) -> \(inner))", inbound),
                                    ("the replies of \(label) (\(inner) -> \(uplink))", reply)] {
            for drop in ForwardEvaluator.drops(in: ruleset, hook: "forward", packet: packet) {
                findings.append(NetfilterInspector.finding(for: drop, direction: direction, run: command, netns: path.hostNetnsInode,
                                                           device: inner, family: packet.family, narrowest: (ruleset, packet)))
            }
        }
        return findings
    }

    // MARK: - Hairpin

    /// A container reaching a published address of its own host: DNAT must apply to packets from
    /// the bridge too (else a proxy must listen), the bridge port must let a frame leave by the
    /// port it came in by (the container reaching itself), and a MASQUERADE must make the reply
    /// come back through the host (else it goes straight back on the bridge and is ignored).
    func hairpinChecks() -> [Finding] {
        guard let path, let bridge = path.bridge?.name, let address = port.containerAddress,
              let own = path.endpoint.ipv4.first?.address else { return [] }
        let proto = port.transport.rawValue
        let fromBridge = ImaginedPacket(source: own, destination: specificHostAddress, inInterface: bridge, outInterface: "",
                                        ctState: "new", proto: proto, destinationPort: Int(port.hostPorts.first))
        guard ForwardEvaluator.destinationNat(in: ruleset, hook: "prerouting", packet: fromBridge) != nil else {
            guard listeners(on: specificHostAddress).isEmpty else { return [] }
            let excluded = port.rules.first.map { "\($0.location): \($0.text)" } ?? ""
            return [finding(.hairpinUnreachable, .warning,
                "containers on \(bridge) reaching \(label) by the published address get no DNAT (the rules leave out traffic from \(bridge)) and nothing on the host listens on it",
                evidence: "no DNAT in nat prerouting for \(proto) from \(bridge) to port \(port.hostPorts); \(excluded)",
                fix: containerPort.map { cp in
                    command.run("iptables-nft -t nat -I PREROUTING -i \(bridge) -p \(proto) --dport \(port.hostPorts.first) -j DNAT --to-destination \(address):\(cp)")
                        + " && " + masqueradeCommand(source: IPPrefix(address: own, length: path.endpoint.ipv4.first?.length ?? 32).network,
                                                     destination: address, bridge: bridge, port: cp)
                },
                device: bridge)]
        }
        var findings: [Finding] = []
        if let veth = path.hostVeth, let brport = host.bridgePorts.first(where: { $0.index == veth.index }), brport.hairpin == false,
           port.containerAddress.map({ a in path.endpoint.ipv4.contains { $0.address == a } }) == true {
            findings.append(finding(.hairpinModeOff, .warning,
                "hairpin mode is off on \(veth.name), \(path.endpoint.name)'s port of \(bridge): \(path.endpoint.name) cannot reach its own published port \(label)",
                evidence: "bridge link: \(veth.name) master \(bridge) hairpin off",
                fix: command.bridge("link set dev \(shellWord(veth.name)) hairpin on"), device: veth.name))
        }
        // The clients: the container itself, and another endpoint on the same bridge when there is one.
        let others = neighbours.filter { $0.bridge?.name == bridge }.compactMap { $0.endpoint.ipv4.first?.address }
        for source in [own] + others.prefix(1) {
            let hairpinned = ImaginedPacket(source: source, destination: address, inInterface: bridge, outInterface: bridge, ctState: "new",
                                            proto: proto, destinationPort: containerPort.map(Int.init), dnat: true)
            guard ForwardEvaluator.sourceNat(in: ruleset, packet: hairpinned) == nil else { continue }
            // Another container's reply is bridged straight back; br_netfilter lets conntrack undo the DNAT on it.
            if source != own, case .value("1") = host.sysctl("net/bridge/bridge-nf-call-iptables") { continue }
            let prefix = path.endpoint.ipv4.first.map { IPPrefix(address: $0.address, length: $0.length).network } ?? IPPrefix(source)
            findings.append(finding(.hairpinMasqueradeMissing, .warning,
                "no MASQUERADE for \(source) -> \(address) out of \(bridge): a container on \(bridge) reaching \(label) by the published address gets its reply straight from \(address) and ignores it",
                evidence: "nat postrouting chains: no SNAT/MASQUERADE matches \(proto) \(source) -> \(address):\(containerPort.map(String.init) ?? "?") out of \(bridge)",
                fix: containerPort.map { masqueradeCommand(source: source == own ? IPPrefix(own) : prefix, destination: address, bridge: bridge, port: $0) },
                device: bridge))
            break
        }
        return findings
    }

    func masqueradeCommand(source: IPPrefix, destination: IPAddress, bridge: String, port: UInt16) -> String {
        command.run("iptables-nft -t nat -A POSTROUTING -s \(source.ruleText) -d \(destination) -o \(bridge) -p \(self.port.transport) --dport \(port) -j MASQUERADE")
    }

    // MARK: - 127.0.0.1

    /// Published on a loopback address: a proxy listening there, or DNAT in nat OUTPUT with
    /// route_localnet on the bridge and a MASQUERADE of 127.0.0.0/8 out of it.
    func localhostChecks() -> [Finding] {
        guard let path, let inner, let address = port.containerAddress else { return [] }
        let local = specificHostAddress ?? IPAddress(127, 0, 0, 1)
        if !listeners(on: local).isEmpty { return [] }
        let proto = port.transport.rawValue
        let fromHost = ImaginedPacket(source: local, destination: local, inInterface: "", outInterface: "lo", ctState: "new",
                                      proto: proto, destinationPort: Int(port.hostPorts.first))
        guard port.rules.contains(where: { $0.hooks.contains("output") }) || ForwardEvaluator.destinationNat(in: ruleset, hook: "output", packet: fromHost) != nil else {
            return [finding(.localhostPublishUnreachable, .error,
                "\(label) is published on \(local) but no DNAT in nat OUTPUT covers it and nothing listens there: connections from the host get a reset",
                evidence: "DNAT rules for it hook only prerouting: " + port.rules.map(\.location).joined(separator: ", "),
                fix: containerPort.map { command.run("iptables-nft -t nat -A OUTPUT -d \(local) -p \(proto) --dport \(port.hostPorts.first) -j DNAT --to-destination \(address):\($0)") })]
        }
        var findings: [Finding] = []
        let key = "net/ipv4/conf/\(inner)/route_localnet"
        if case .value("0") = host.sysctl(key) {
            findings.append(finding(.localhostRouteLocalnetOff, .error,
                "route_localnet is off on \(inner): \(label)'s DNAT'd packets keep their source \(local) and are dropped as martians (IP_INVALID_SOURCE)",
                evidence: "\(EgressChecks.dotted(key)) = 0 in \(hostName)", fix: command.sysctl(key, "1"), device: inner))
        }
        let out = ImaginedPacket(source: local, destination: address, inInterface: "", outInterface: inner, ctState: "new",
                                 proto: proto, destinationPort: containerPort.map(Int.init), dnat: true)
        if ForwardEvaluator.sourceNat(in: ruleset, packet: out) == nil {
            findings.append(finding(.localhostMasqueradeMissing, .error,
                "no MASQUERADE of \(local) out of \(inner): \(path.endpoint.name) gets \(label)'s connections from \(local) and answers its own loopback",
                evidence: "nat postrouting chains: no SNAT/MASQUERADE matches \(proto) \(local) -> \(address) out of \(inner)",
                fix: command.run("iptables-nft -t nat -A POSTROUTING -s 127.0.0.0/8 -o \(inner) -j MASQUERADE"), device: inner))
        }
        return findings
    }

    // MARK: - Conntrack

    /// TCP states of an entry on its way out: harmless leftovers of a container's old address.
    static let closing: Set<String> = ["TIME_WAIT", "CLOSE", "CLOSE_WAIT", "LAST_ACK", "FIN_WAIT"]

    /// Entries for the published port whose reply does not come from the container's address:
    /// made before the DNAT rule existed, or towards the container's address before a restart.
    /// Packets of those flows follow the entry; no NAT rule is consulted, nothing is dropped.
    func conntrackChecks() -> [Finding] {
        guard let address = port.containerAddress else { return [] }
        guard let table = host.conntrack else {
            return [finding(.unchecked, .warning, "could not check conntrack entries for \(label)", evidence: host.conntrackError ?? "not read")]
        }
        let local = Set(host.localAddresses)
        let stale = table.filter { entry in
            guard entry.transport == port.transport, let dport = entry.original.destinationPort, port.hostPorts.contains(dport),
                  entry.reply.source != address, !Self.closing.contains(entry.state ?? "") else { return false }
            switch port.hostAddress {
            case .address(let a): return entry.original.destination == a
            case .network(let p): return p.contains(entry.original.destination)
            case .unspecified: return local.contains(entry.original.destination)
            }
        }
        guard !stale.isEmpty else { return [] }
        var fixes: [String] = []
        for entry in stale where !fixes.contains(where: { $0.contains("--reply-src \(entry.reply.source) ") }) {
            fixes.append(command.run("conntrack -D -p \(port.transport) --orig-port-dst \(entry.original.destinationPort ?? 0) --reply-src \(entry.reply.source) "))
        }
        let targets = Array(Set(stale.map { "\($0.reply.source)" })).sorted().joined(separator: ", ")
        return [finding(.staleConntrack, .warning,
            "\(stale.count) conntrack entr\(stale.count == 1 ? "y" : "ies") for \(label) lead to \(targets), not \(address): their packets follow the entry past the DNAT rule",
            evidence: stale.prefix(3).map(\.text).joined(separator: " | "),
            fix: fixes.map { String($0.dropLast()) }.joined(separator: " && "))]
    }
}
