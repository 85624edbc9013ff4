extension EgressChecks {
    /// Global and per-device forwarding: per device it is the ingress device's setting that
    /// counts, so the bridge (egress) and the uplink (replies) are both checked.
    func forwardingChecks() -> [Finding] {
        guard host.error == nil else { return [] }
        let key = "net/ipv4/ip_forward"
        switch sysctl(key) {
        case .value("0"):
            return [onHost(.ipForwardDisabled, .v4, .error,
                "IPv4 forwarding is off in \(hostName): packets from the endpoints are dropped at ip_error (IP_INADDRERRORS)",
                evidence: "net.ipv4.ip_forward = 0 in \(hostName)", fix: hostCommand.sysctl(key, "1"))]
        case .value:
            break
        case .missing:
            return [unchecked("net.ipv4.ip_forward", because: "/proc/sys/\(key) does not exist in \(hostName)")]
        case .unreadable(let why):
            return [unchecked("net.ipv4.ip_forward", because: why)]
        }
        var findings: [Finding] = []
        let devices: [(NetworkInterface?, String)] = [
            (ingress, "egress from \(path.endpoint.name) enters by it"),
            (uplink?.device, "the replies enter by it; they are dropped at ip_error (IP_INADDRERRORS) after de-NAT"),
        ]
        for case let (device?, role) in devices {
            let key = "net/ipv4/conf/\(device.name)/forwarding"
            switch sysctl(key) {
            case .value("0"):
                findings.append(onHost(.deviceForwardingDisabled, .v4, .error,
                    "forwarding is off on \(device.name) in \(hostName): \(role)",
                    evidence: "\(Self.dotted(key)) = 0 (net.ipv4.ip_forward = 1)", fix: hostCommand.sysctl(key, "1"),
                    device: device.name))
            case .unreadable(let why):
                findings.append(unchecked("forwarding on \(device.name)", because: why, device: device.name))
            case .value, .missing:
                break
            }
        }
        return findings
    }

    /// Routes on the host side: a default route, and a route back to the endpoint through its
    /// bridge (or veth). Without that route, rp_filter (strict: the route back must use the
    /// ingress device; loose: some route must exist) drops the packets on entry.
    func routeChecks(explained: Set<FindingCode>) -> [Finding] {
        guard host.error == nil else { return [] }
        var findings: [Finding] = []
        let guess = uplink?.device.name
        let ruleList = "ip rule: " + host.rules.map(\.description).joined(separator: "; ")
        let addDefault = "route add default via \(path.gateway.map { "\($0)" } ?? "GATEWAY") dev \(guess.map(shellWord) ?? "UPLINK")"
        switch Self.egressRoute(of: path, in: host) {
        case .route:
            break
        case .noRoute where PolicyRouting.isDefault(host.rules):
            findings.append(onHost(.noDefaultRoute, .v4, .error,
                "\(hostName) has no default route: forwarded packets to the outside are dropped at ip_error (IP_INNOROUTES)",
                evidence: "no 0.0.0.0/0 route in the main table of \(hostName)", fix: hostCommand.ip(addDefault), device: guess))
        case .noRoute(let tables):
            // Policy routing: the tables the endpoint's packets are looked up in, and for the fix the
            // first of them that could hold a default route (local holds the host's own addresses).
            let names = tables.map(RoutingTables.name)
            let first = tables.first { $0 != 255 } ?? NL.RT_TABLE_MAIN
            findings.append(onHost(.noDefaultRoute, .v4, .error,
                "no default route for \(path.endpoint.name)'s packets in \(hostName): its policy rules consult table\(names.count == 1 ? "" : "s") \(names.joined(separator: ", ")), none has one (IP_INNOROUTES)",
                evidence: ruleList,
                fix: hostCommand.ip(addDefault + (first == NL.RT_TABLE_MAIN ? "" : " table \(RoutingTables.name(first))")), device: guess))
        case .dropped(let rule):
            findings.append(onHost(.policyRuleDrop, .v4, .error,
                "policy rule \"\(rule.description)\" in \(hostName) drops \(path.endpoint.name)'s packets before any route is looked up",
                evidence: ruleList,
                fix: hostCommand.ip("rule del priority \(rule.priority)"), device: path.bridge?.name ?? path.hostVeth?.name))
        }
        // Without its address or while down, the bridge's connected route is gone: already explained.
        guard let ingress, let address = endpointAddress,
              explained.isDisjoint(with: [.bridgeDown, .bridgeNoAddress, .vethDown, .vethNotAttached]) else { return findings }
        let back = host.routes.lookup(address)
        guard back?.outputIndex != ingress.index else { return findings }
        let via = back.map { route in host.interface(index: route.outputIndex)?.name ?? "ifindex \(route.outputIndex ?? 0)" }
        let lookup = "route lookup \(address) in \(hostName): " + (back.map { "\($0.destination) dev \(via ?? "?")" } ?? "no route")
        let fix = hostCommand.ip("route replace \(IPPrefix(address)) dev \(shellWord(ingress.name))")
        // With rp_filter on, the kernel drops the packet on entry (IP_RPFILTER); without, the replies go astray.
        let filter = ReversePathFilter(device: ingress.name, sysctl: sysctl)
        let mode = filter.mode
        if mode == 1 || (mode == 2 && back == nil) {
            findings.append(onHost(.rpFilterDrop, .v4, .error,
                "rp_filter (\(mode == 1 ? "strict" : "loose")) drops \(path.endpoint.name)'s packets on \(ingress.name) (IP_RPFILTER): the route back to \(address) does not lead through it",
                evidence: "\(filter.evidence); \(lookup)", fix: fix, device: ingress.name))
        } else {
            findings.append(onHost(.noRoute, .v4, .error,
                "\(hostName) has no route back to \(path.endpoint.name) (\(address)) through \(ingress.name): replies go "
                    + (via.map { "out by \($0)" } ?? "nowhere"),
                evidence: lookup, fix: fix, device: ingress.name))
        }
        return findings
    }

    /// Conntrack table filling up (counted per namespace, limit shared with the host).
    func conntrackChecks() -> [Finding] {
        guard host.error == nil else { return [] }
        let countKey = "net/netfilter/nf_conntrack_count", maxKey = "net/netfilter/nf_conntrack_max"
        switch (sysctl(countKey), sysctl(maxKey)) {
        case (.value(let c), .value(let m)):
            guard let count = Int(c), let max = Int(m), max > 0 else {
                return [unchecked("the conntrack table", because: "unexpected values: count '\(c)', max '\(m)'")]
            }
            guard count * 10 >= max * 9 else { return [] }
            let full = count >= max
            return [onHost(.conntrackFull, nil, full ? .error : .warning,
                "the conntrack table in \(hostName) is \(full ? "full" : "nearly full"): new flows are dropped (\"nf_conntrack: table full, dropping packet\")",
                evidence: "net.netfilter.nf_conntrack_count = \(count), net.netfilter.nf_conntrack_max = \(max)",
                fix: "sysctl -w net.netfilter.nf_conntrack_max=\(max * 2)   # in the root namespace: the limit is global")]
        case (.missing, _), (_, .missing):
            return [] // nf_conntrack not loaded: no table to fill
        case (.unreadable(let why), _), (_, .unreadable(let why)):
            return [unchecked("the conntrack table", because: why)]
        }
    }

    /// br_netfilter makes bridged frames pass the IP hooks: worth knowing when reading rules.
    func brNetfilterChecks() -> [Finding] {
        guard host.error == nil, let bridge = path.bridge?.name else { return [] }
        let key = "net/bridge/bridge-nf-call-iptables"
        guard case .value("1") = sysctl(key) else { return [] }
        return [onHost(.brNetfilter, nil, .info,
            "br_netfilter is loaded: frames bridged on \(bridge) (between its endpoints) also pass the iptables/nftables FORWARD chain and conntrack",
            evidence: "net.bridge.bridge-nf-call-iptables = 1 in \(hostName)", device: bridge)]
    }
}
