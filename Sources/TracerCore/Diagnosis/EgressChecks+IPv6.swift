/// The IPv6 checks of a path, run only when the path carries IPv6: the endpoint's interface or
/// the device its packets enter the host side by holds a global address (a ULA counts). The
/// devices are the IPv4 checks' own; what differs is the settings read (ipv6.md).
extension EgressChecks {
    /// The device the host side's IPv6 default route leaves by, when there is one.
    static func ipv6Uplink(in side: EgressPathState.Side) -> NetworkInterface? {
        side.ipv6Routes.defaultRoute.flatMap { side.interface(index: $0.outputIndex) }
    }

    /// The IPv6 uplink: the IPv6 default route's device, else the IPv4 uplink (routes go with a disabled device).
    var ipv6Uplink: NetworkInterface? { Self.ipv6Uplink(in: host) ?? uplink?.device }

    /// True when IPv6 is meant to flow on this path.
    var carriesIPv6: Bool {
        !(endpointInterface?.globalIPv6.isEmpty ?? true) || !(ingress?.globalIPv6.isEmpty ?? true)
    }

    func ipv6Checks(explained: Set<FindingCode>) -> [Finding] {
        guard carriesIPv6 else { return [] }
        var findings = ipv6DisabledChecks() + ipv6MTUChecks()
        let broken = Set(findings.compactMap(\.device))
        findings += ipv6EndpointChecks(broken: broken)
        findings += ipv6ForwardingChecks()
        findings += ipv6HostRouteChecks(broken: broken, explained: explained)
        findings += ipv6GatewayChecks(broken: broken)
        findings += ndpProxyChecks(broken: broken)
        return findings
    }

    /// An endpoint address inside a prefix the uplink holds: upstream, that prefix is on-link,
    /// so the router asks for the address by neighbour solicitation on the uplink, and only the
    /// host can answer, as its proxy (proxy_ndp on, all or the uplink, and a proxy entry).
    private func ndpProxyChecks(broken: Set<String>) -> [Finding] {
        guard host.error == nil, let uplink = ipv6Uplink, !broken.contains(uplink.name), let egress = ipv6Egress else { return [] }
        let key = "net/ipv6/conf/\(uplink.name)/proxy_ndp", allKey = "net/ipv6/conf/all/proxy_ndp"
        let enabled = [key, allKey].contains { sysctl($0).value.map { $0 != "0" } ?? false }
        var findings: [Finding] = []
        for address in egress.addresses.map(\.address) {
            // The bridge's own, longer prefix routes it here; the uplink's covers it upstream.
            guard let onLink = uplink.globalIPv6.first(where: { $0.contains(address) }),
                  ingress?.globalIPv6.contains(where: { $0.contains(address) && $0.length > onLink.length }) == true else { continue }
            let proxied = host.ipv6ProxyNeighbours.contains { $0.address == address && ($0.index == uplink.index || $0.index == 0) }
            guard !enabled || !proxied else { continue }
            var commands: [String] = []
            if !enabled { commands.append(hostCommand.sysctl(key, "1")) }
            if !proxied { commands.append(hostCommand.ip("-6 neigh add proxy \(address) dev \(shellWord(uplink.name))")) }
            findings.append(onHost(.ipv6NDPProxyMissing, .v6, .error,
                "\(path.endpoint.name)'s \(address) is inside \(uplink.name)'s on-link prefix \(onLink.network): the router asks for it by neighbour solicitation on \(uplink.name) and nobody answers, so replies never come back",
                evidence: "\(uplink.name) holds \(onLink) in \(hostName); \(ingress?.name ?? "?") holds " + (ingress?.globalIPv6.map(\.description).joined(separator: " ") ?? "")
                    + "; \(Self.dotted(key)) = \(sysctl(key).value ?? "?"), \(Self.dotted(allKey)) = \(sysctl(allKey).value ?? "?")"
                    + "; ip -6 neigh show proxy: " + (host.ipv6ProxyNeighbours.isEmpty ? "none" : host.ipv6ProxyNeighbours.map { "\($0.address)" }.joined(separator: " ")),
                fix: commands.joined(separator: " && "), device: uplink.name))
        }
        return findings
    }

    /// What the firewall checks need of the IPv6 side: the endpoint's usable global addresses
    /// (ULAs included) and the device the IPv6 default route leaves by; nil when the path carries no IPv6.
    var ipv6Egress: NetfilterInspector.IPv6Egress? {
        guard carriesIPv6, endpointSide.error == nil, let eth = endpointInterface else { return nil }
        let usable = eth.globalIPv6.filter { !eth.dadFailedIPv6.contains($0) }
        return usable.isEmpty ? nil : NetfilterInspector.IPv6Egress(addresses: usable, uplink: ipv6Uplink?.name)
    }

    /// The IPv6 default route's gateway, when the host's last neighbour solicitation for it went
    /// unanswered: packets wait for its address and die of NEIGH_FAILED. The fix, when a
    /// neighbour on the uplink said it is a router and answered, routes by it instead.
    private func ipv6GatewayChecks(broken: Set<String>) -> [Finding] {
        guard host.error == nil, let route = host.ipv6Routes.defaultRoute, let gateway = route.gateway,
              let device = host.interface(index: route.outputIndex), device.isUp, device.hasCarrier, !broken.contains(device.name),
              let entry = host.ipv6Neighbours.first(where: { $0.address == gateway && $0.index == device.index }), entry.unanswered
        else { return [] }
        let router = host.ipv6Neighbours.first { $0.isRouter && !$0.unanswered && $0.index == device.index && $0.address != gateway }
        return [onHost(.neighbourFailed, .v6, .warning,
            "the IPv6 gateway \(gateway) did not answer the last neighbour solicitation for it on \(device.name): IPv6 egress waits for its address and is dropped (NEIGH_FAILED)"
                + (router.map { "; \($0.address) on \(device.name) is a router that answers" } ?? ""),
            evidence: "ip -6 neigh in \(hostName): \(gateway) dev \(device.name) \(entry.stateName); default via \(gateway) dev \(device.name)"
                + (router.map { "; \($0.address) dev \(device.name) lladdr \($0.linkAddress ?? "?") router \($0.stateName)" } ?? ""),
            fix: router.map { hostCommand.ip("-6 route replace default via \($0.address) dev \(shellWord(device.name))") },
            device: device.name)]
    }

    private func endpointSysctl(_ key: String) -> SysctlFile.Reading {
        endpointSide.sysctls[key] ?? .unreadable("/proc/sys/\(key) was not read")
    }

    /// `disable_ipv6=1` on a device packets enter or leave the IPv6 stack by: the endpoint's
    /// interface, the bridge (or a routed host veth) and the uplink. A bridge port's own setting
    /// does not matter: bridged frames never reach its IPv6 stack.
    private func ipv6DisabledChecks() -> [Finding] {
        var findings: [Finding] = []
        if endpointSide.error == nil, let eth = endpointInterface {
            let key = "net/ipv6/conf/\(eth.name)/disable_ipv6"
            if case .value("1") = endpointSysctl(key) {
                let (restore, seen) = endpointAddressesBack(eth)
                findings.append(onEndpoint(.ipv6Disabled, .v6, .error,
                    "IPv6 is disabled on \(eth.name) in \(path.endpoint.name): it has no IPv6 address, its packets are dropped (IPV6DISABLED)",
                    evidence: "\(Self.dotted(key)) = 1 in \(path.endpoint.name); \(ingress.map { "\($0.name) holds \($0.globalIPv6.map(\.description).joined(separator: " "))" } ?? "")" + seen,
                    fix: endpointCommand.sysctl(key, "0")
                        + (restore.isEmpty ? "   # disabling removed \(eth.name)'s IPv6 addresses and routes: re-add them (or restart the container)"
                                           : restore.map { " && " + $0 }.joined()),
                    device: eth.name))
            }
        }
        guard host.error == nil else { return findings }
        var devices: [(NetworkInterface, String)] = []
        if let ingress { devices.append((ingress, "egress from \(path.endpoint.name) enters by it")) }
        if let uplink = ipv6Uplink, uplink.index != ingress?.index { devices.append((uplink, "egress leaves by it")) }
        for (device, role) in devices {
            let key = "net/ipv6/conf/\(device.name)/disable_ipv6"
            guard case .value("1") = sysctl(key) else { continue }
            var fix = hostCommand.sysctl(key, "0")
            // Disabling removed the device's addresses; the bridge's is the endpoint's gateway, known from its route.
            if device.index == ingress?.index, let gateway = endpointSide.ipv6Routes.defaultRoute?.gateway, gateway.isGlobalIPv6 {
                let length = endpointInterface?.globalIPv6.first { $0.contains(gateway) }?.length ?? 64
                fix += " && " + hostCommand.ip("addr add \(gateway)/\(length) dev \(shellWord(device.name))")
            } else {
                fix += "   # disabling removed \(device.name)'s IPv6 addresses and routes: re-add them"
            }
            findings.append(onHost(.ipv6Disabled, .v6, .error,
                "IPv6 is disabled on \(device.name) in \(hostName) (\(role)): IPv6 packets are dropped (IPV6DISABLED)",
                evidence: "\(Self.dotted(key)) = 1 in \(hostName)", fix: fix, device: device.name))
        }
        return findings
    }

    /// Disabling IPv6 on the endpoint's interface removed its addresses and routes; the host
    /// side's neighbour cache still maps them to the interface's MAC (while the entry lives), and
    /// the ingress device's address in the same prefix is the gateway. The commands to put them
    /// back, and what was read, for the evidence.
    private func endpointAddressesBack(_ eth: NetworkInterface) -> (commands: [String], evidence: String) {
        guard let mac = eth.macAddress, let ingress else { return ([], "") }
        let entries = host.ipv6Neighbours.filter { $0.index == ingress.index && $0.linkAddress == mac && $0.address.isGlobalIPv6 }
        var commands: [String] = [], gateway: IPAddress?
        for entry in entries {
            guard let prefix = ingress.globalIPv6.first(where: { $0.contains(entry.address) }) else { continue }
            commands.append(endpointCommand.ip("addr add \(entry.address)/\(prefix.length) dev \(shellWord(eth.name))"))
            gateway = gateway ?? prefix.address
        }
        if let gateway { commands.append(endpointCommand.ip("-6 route add default via \(gateway) dev \(shellWord(eth.name))")) }
        let seen = entries.map { "; ip -6 neigh in \(hostName): \($0.address) dev \(ingress.name) lladdr \(mac)" }.joined()
        return (commands, seen)
    }

    /// A device of the path below IPv6's minimum MTU (1280): the kernel turns IPv6 off on it
    /// (a bridge port still bridges, but drops frames larger than its MTU).
    private func ipv6MTUChecks() -> [Finding] {
        let minimum: UInt32 = 1280
        let eth = endpointSide.error == nil ? endpointInterface : nil
        let pathMTU = eth.map(\.mtu).flatMap { $0 >= minimum ? $0 : nil } ?? 1500
        var findings: [Finding] = []
        if let eth, eth.mtu > 0, eth.mtu < minimum {
            let target = hostVeth.map(\.mtu).flatMap { $0 >= minimum ? $0 : nil } ?? minimum
            findings.append(onEndpoint(.ipv6MTUTooSmall, .v6, .error,
                "\(eth.name) in \(path.endpoint.name) has MTU \(eth.mtu), below IPv6's minimum of 1280: the kernel disables IPv6 on it",
                evidence: "\(eth.name) mtu \(eth.mtu) in \(path.endpoint.name)",
                fix: endpointCommand.ip("link set \(shellWord(eth.name)) mtu \(target)"), device: eth.name))
        }
        guard host.error == nil else { return findings }
        var seen: Set<Int32> = []
        for device in [hostVeth, bridge, ipv6Uplink].compactMap({ $0 }) where seen.insert(device.index).inserted {
            guard device.mtu > 0, device.mtu < minimum else { continue }
            findings.append(onHost(.ipv6MTUTooSmall, .v6, .error,
                "\(device.name) in \(hostName) has MTU \(device.mtu), below IPv6's minimum of 1280: IPv6 packets of 1280 bytes, which every link must carry, are dropped there",
                evidence: "\(device.name) mtu \(device.mtu) in \(hostName); \(path.endpoint.name)'s \(path.endpoint.interface) mtu \(eth?.mtu ?? 0)",
                fix: hostCommand.ip("link set \(shellWord(device.name)) mtu \(pathMTU)"), device: device.name))
        }
        return findings
    }

    /// Inside the endpoint: its address through duplicate address detection, and an IPv6 default route.
    private func ipv6EndpointChecks(broken: Set<String>) -> [Finding] {
        guard endpointSide.error == nil, let eth = endpointInterface, eth.isUp, !broken.contains(eth.name) else { return [] }
        var findings: [Finding] = []
        let name = shellWord(eth.name)
        for address in eth.dadFailedIPv6 where address.address.isGlobalIPv6 {
            // Who else holds it, when it is the host side.
            let holder = host.interfaces.first { $0.ipv6.contains { $0.address == address.address } }
            var fix = endpointCommand.ip("addr del \(address) dev \(name)") + " && " + endpointCommand.ip("addr add \(address) dev \(name)")
            if let holder {
                fix = hostCommand.ip("addr del \(holder.ipv6.first { $0.address == address.address }!) dev \(shellWord(holder.name))") + " && " + fix
            } else {
                fix += "   # once the other holder on the link gave it up"
            }
            findings.append(onEndpoint(.ipv6DADFailed, .v6, .error,
                "\(path.endpoint.name)'s address \(address) on \(eth.name) failed duplicate address detection: another host on the link holds it"
                    + (holder.map { " (\($0.name) in \(hostName))" } ?? "") + "; it is never used (EADDRNOTAVAIL at bind/connect)",
                evidence: "ip -6 addr in \(path.endpoint.name): \(address) dev \(eth.name) dadfailed tentative", fix: fix, device: eth.name))
        }
        for address in eth.tentativeIPv6 where address.address.isGlobalIPv6 {
            findings.append(onEndpoint(.ipv6AddressTentative, .v6, .warning,
                "\(path.endpoint.name)'s address \(address) on \(eth.name) is still tentative (duplicate address detection running): connections from it fail with EADDRNOTAVAIL until it ends",
                evidence: "ip -6 addr in \(path.endpoint.name): \(address) dev \(eth.name) tentative", device: eth.name))
        }
        let usable = eth.globalIPv6.filter { !eth.dadFailedIPv6.contains($0) }
        guard !usable.isEmpty else { return findings }
        if endpointSide.ipv6Routes.defaultRoute == nil {
            let gateway = bridge?.globalIPv6.first { gw in usable.contains { $0.contains(gw.address) } }?.address
            findings.append(onEndpoint(.endpointIPv6NoDefaultRoute, .v6, .error,
                "\(path.endpoint.name) has no IPv6 default route: connecting to any IPv6 address outside its subnet fails with ENETUNREACH",
                evidence: "no ::/0 route in the main table of \(path.endpoint.name) (its addresses: \(usable.map(\.description).joined(separator: " ")))",
                fix: endpointCommand.ip("-6 route add default via \(gateway.map { "\($0)" } ?? "GATEWAY") dev \(name)"), device: eth.name))
        }
        return findings
    }

    /// Global forwarding, and what turning it on does to an uplink configured by router advertisements.
    private func ipv6ForwardingChecks() -> [Finding] {
        guard host.error == nil else { return [] }
        let key = "net/ipv6/conf/all/forwarding"
        let route = host.ipv6Routes.defaultRoute
        var acceptRA: (key: String, value: String)?
        if let route, route.isFromRouterAdvertisement, let device = ipv6Uplink {
            let raKey = "net/ipv6/conf/\(device.name)/accept_ra"
            if let value = sysctl(raKey).value, value != "2" { acceptRA = (raKey, value) }
        }
        switch sysctl(key) {
        case .value("0"):
            var fix = hostCommand.sysctl(key, "1")
            if let acceptRA { fix = hostCommand.sysctl(acceptRA.key, "2") + " && " + fix }
            return [onHost(.ipv6ForwardingDisabled, .v6, .error,
                "IPv6 forwarding is off in \(hostName): \(path.endpoint.name)'s IPv6 packets are dropped at ip6_forward (IP_INADDRERRORS)"
                    + (acceptRA == nil ? "" : "; the uplink's default route came from a router advertisement, so accept_ra=2 first"),
                evidence: "net.ipv6.conf.all.forwarding = 0 in \(hostName)"
                    + (acceptRA.map { "; \(Self.dotted($0.key)) = \($0.value), default route proto ra" } ?? ""),
                fix: fix)]
        case .value:
            guard let acceptRA, let device = ipv6Uplink else { return [] }
            return [onHost(.ipv6RAIgnored, .v6, .warning,
                "IPv6 forwarding is on in \(hostName), so \(device.name) ignores router advertisements (accept_ra=\(acceptRA.value)): its default route came from one and disappears when its lifetime ends",
                evidence: "net.ipv6.conf.all.forwarding = 1, \(Self.dotted(acceptRA.key)) = \(acceptRA.value); default via \(route?.gateway.map { "\($0)" } ?? "-") dev \(device.name) proto ra",
                fix: hostCommand.sysctl(acceptRA.key, "2"), device: device.name)]
        case .missing:
            return [unchecked("net.ipv6.conf.all.forwarding", because: "/proc/sys/\(key) does not exist in \(hostName) (IPv6 off in the kernel)")]
        case .unreadable(let why):
            return [unchecked("net.ipv6.conf.all.forwarding", because: why)]
        }
    }

    /// An IPv6 default route on the host side, as the policy rules look it up for the endpoint's
    /// IPv6 packets; the gateway for the fix is a neighbour on the uplink that said it is a router.
    private func ipv6HostRouteChecks(broken: Set<String>, explained: Set<FindingCode>) -> [Finding] {
        guard host.error == nil else { return [] }
        let source = endpointInterface?.globalIPv6.first?.address
        if !PolicyRouting.isDefault(host.ipv6Rules),
           case .dropped(let rule) = PolicyRouting.egress(from: source, inInterface: ingress?.name, rules: host.ipv6Rules, routes: host.ipv6Routes) {
            return [onHost(.policyRuleDrop, .v6, .error,
                "IPv6 policy rule \"\(rule.description)\" in \(hostName) drops \(path.endpoint.name)'s IPv6 packets before any route is looked up",
                evidence: "ip -6 rule: " + host.ipv6Rules.map(\.description).joined(separator: "; "),
                fix: hostCommand.ip("-6 rule del priority \(rule.priority)"), device: ingress?.name)]
        }
        guard host.ipv6Routes.defaultRoute == nil, explained.isDisjoint(with: [.uplinkDown, .uplinkNoCarrier]) else { return [] }
        let device = uplink?.device
        if let device, broken.contains(device.name) { return [] }
        let router = host.ipv6Neighbours.first { $0.isRouter && !$0.failed && $0.index == device?.index }?.address
        let add = "-6 route add default via \(router.map { "\($0)" } ?? "GATEWAY") dev \(device.map { shellWord($0.name) } ?? "UPLINK")"
        return [onHost(.ipv6NoDefaultRoute, .v6, .error,
            "\(hostName) has no IPv6 default route: \(path.endpoint.name)'s IPv6 packets to the outside are dropped (IP_INNOROUTES, ICMPv6 no route)",
            evidence: "no ::/0 route in the main table of \(hostName)" + (router.map { "; \($0) on \(device?.name ?? "?") is a router (ip -6 neigh)" } ?? ""),
            fix: hostCommand.ip(add), device: device?.name)]
    }
}
