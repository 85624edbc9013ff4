extension EgressChecks {
    /// The endpoint's own interface and default route.
    func endpointChecks() -> [Finding] {
        if let error = endpointSide.error {
            return [unchecked("\(path.endpoint.name)'s interface and routes", because: error, onEndpoint: true)]
        }
        let name = path.endpoint.interface
        guard let eth = endpointInterface else {
            return [unchecked("\(path.endpoint.name)'s \(name)", because: "\(name) no longer exists in its namespace",
                              onEndpoint: true, device: name)]
        }
        var findings: [Finding] = []
        if !eth.isUp {
            findings.append(onEndpoint(.endpointInterfaceDown, nil, .error,
                "\(name) in \(path.endpoint.name) is down: nothing leaves the endpoint",
                evidence: "\(name): \(Self.linkState(eth))", fix: endpointCommand.ip("link set \(shellWord(name)) up"), device: name))
        }
        guard let route = endpointSide.routes.defaultRoute else {
            let gateway = bridge?.ipv4.first.map { "\($0.address)" } ?? "GATEWAY"
            findings.append(onEndpoint(.endpointNoDefaultRoute, .v4, .error,
                "\(path.endpoint.name) has no default route: it cannot address anything outside its subnet",
                evidence: "no 0.0.0.0/0 route in the main table of \(path.endpoint.name)",
                fix: endpointCommand.ip("route add default via \(gateway) dev \(shellWord(name))"), device: name))
            return findings
        }
        if let index = route.outputIndex, index != eth.index {
            let other = endpointSide.interface(index: index)?.name ?? "ifindex \(index)"
            findings.append(onEndpoint(.endpointNoDefaultRoute, .v4, .warning,
                "\(path.endpoint.name)'s default route leaves by \(other), not by its veth \(name)",
                evidence: "default via \(route.gateway.map { "\($0)" } ?? "-") dev \(other)", device: name))
        }
        return findings
    }

    /// Host veth, bridge, bridge port, uplink.
    func hostDeviceChecks() -> [Finding] {
        if let error = host.error { return [unchecked("the host side (\(hostName))", because: error)] }
        var findings: [Finding] = []
        var vethUp = true
        if let name = path.hostVeth?.name {
            if let veth = hostVeth {
                vethUp = veth.isUp
                if !veth.isUp {
                    findings.append(onHost(.vethDown, nil, .error,
                        "host veth \(name) of \(path.endpoint.name) is down in \(hostName): the endpoint's frames are dropped at its eth0 (no carrier)",
                        evidence: "\(name): \(Self.linkState(veth))", fix: hostCommand.ip("link set \(shellWord(name)) up"), device: name))
                }
                findings += attachmentChecks(veth)
            } else {
                findings.append(unchecked("host veth \(name)", because: "it no longer exists in \(hostName)", device: name))
            }
        }
        findings += bridgeChecks(vethUp: vethUp)
        findings += uplinkChecks()
        return findings
    }

    /// A veth that is no bridge's port while a bridge holds the endpoint's gateway.
    private func attachmentChecks(_ veth: NetworkInterface) -> [Finding] {
        guard path.bridge == nil, veth.masterIndex == nil, let gateway = endpointGateway,
              let owner = host.interfaces.first(where: { $0.kind == "bridge" && $0.ipv4.contains { $0.address == gateway } })
        else { return [] }
        return [onHost(.vethNotAttached, .v4, .error,
            "host veth \(veth.name) is not a port of bridge \(owner.name), which holds \(path.endpoint.name)'s gateway \(gateway)",
            evidence: "\(veth.name): no master; \(owner.name): \(owner.ipv4.map(\.description).joined(separator: " "))",
            fix: hostCommand.ip("link set \(shellWord(veth.name)) master \(shellWord(owner.name))"), device: veth.name)]
    }

    private func bridgeChecks(vethUp: Bool) -> [Finding] {
        guard let name = path.bridge?.name else { return [] }
        guard let bridge else { return [unchecked("bridge \(name)", because: "it no longer exists in \(hostName)", device: name)] }
        var findings: [Finding] = []
        if !bridge.isUp {
            findings.append(onHost(.bridgeDown, nil, .error,
                "bridge \(name) is down in \(hostName): frames from its ports are dropped (BRIDGE_INGRESS_STP_STATE)",
                evidence: "\(name): \(Self.linkState(bridge))", fix: hostCommand.ip("link set \(shellWord(name)) up"), device: name))
        }
        let gateway = endpointGateway
        let addresses = bridge.ipv4.map(\.address)
        if addresses.isEmpty || (gateway != nil && !addresses.contains { $0 == gateway }) {
            let wanted = gateway.map { "\($0)" } ?? "the endpoints' gateway"
            let length = (endpointInterface?.ipv4 ?? path.endpoint.ipv4).first?.length ?? 16
            let held = addresses.isEmpty ? "no IPv4 address" : "only \(bridge.ipv4.map(\.description).joined(separator: " "))"
            var fix = gateway.map { hostCommand.ip("addr add \($0)/\(length) dev \(shellWord(name))") }
            var evidence = "\(name) has \(held)"
            // NetworkManager takes the address away again: the durable fix keeps it off the bridge.
            if let manager = state.networkManager {
                let durable = NetworkManagerState.durableFix(device: name, runtime: path.endpoint.container?.runtime)
                fix = fix.map { "\($0) && \(durable)" } ?? durable
                evidence += "; \(manager.evidence)"
            }
            findings.append(onHost(.bridgeNoAddress, .v4, .error,
                "bridge \(name) does not hold \(path.endpoint.name)'s gateway \(wanted): its ARP requests go unanswered"
                    + (state.networkManager == nil ? "" : " (NetworkManager manages \(name) and removes it)"),
                evidence: evidence, fix: fix, device: name))
        }
        if let error = host.bridgePortsError {
            findings.append(unchecked("the STP state of \(name)'s ports", because: error, device: path.hostVeth?.name))
        } else if bridge.isUp, vethUp, let veth = path.hostVeth,
                  let port = host.bridgePorts.first(where: { $0.index == veth.index && $0.name == veth.name }),
                  let portState = port.state, portState != .forwarding {
            let transient = portState == .listening || portState == .learning
            findings.append(onHost(.bridgePortNotForwarding, nil, transient ? .warning : .error,
                "port \(veth.name) of bridge \(name) is \(portState.name), not forwarding: the bridge drops its frames (BRIDGE_INGRESS_STP_STATE)",
                evidence: "bridge link: \(veth.name) master \(name) state \(portState.name)",
                fix: transient ? nil : portState == .blocking
                    ? hostCommand.ip("link set \(shellWord(name)) type bridge stp_state 0") + "   # STP blocks it: look for a loop first"
                    : hostCommand.bridge("link set dev \(shellWord(veth.name)) state 3"),
                device: veth.name))
        }
        return findings
    }

    private func uplinkChecks() -> [Finding] {
        guard let (uplink, guessed) = uplink else { return [] }
        let name = uplink.name
        if !uplink.isUp {
            var fix = hostCommand.ip("link set \(shellWord(name)) up")
            if guessed { fix += " && " + hostCommand.ip("route replace default via \(path.gateway.map { "\($0)" } ?? "GATEWAY") dev \(shellWord(name))") }
            return [onHost(.uplinkDown, nil, .error,
                "uplink \(name) is down in \(hostName)" + (guessed ? ": its routes, the default route among them, went with it and do not come back with `link set up`" : ""),
                evidence: "\(name): \(Self.linkState(uplink))" + (guessed ? "; no default route, \(name) is the only device that can be the uplink" : ""),
                fix: fix, device: name)]
        }
        guard !uplink.hasCarrier else { return gatewayChecks(uplink) }
        var evidence = "\(name): \(Self.linkState(uplink))"
        var fix: String?
        if let peer = state.uplinkPeer {
            let command = state.uplinkPeerNamespace.map { NamespaceCommand(path: $0, isRoot: false) }
            let peerState = state.uplinkPeerUp.map { $0 ? " (up)" : " (DOWN)" } ?? ""
            evidence += "; its veth peer \(peer.name)\(peerState) is in " + (command?.ipNetnsName ?? "netns \(peer.netnsInode)")
            if state.uplinkPeerUp == false, let command {
                fix = command.ip("link set \(shellWord(peer.name)) up")
            }
        }
        return [onHost(.uplinkNoCarrier, nil, .error,
            "uplink \(name) has no carrier: packets queue for ARP and are dropped (QDISC_DROP, then NEIGH_FAILED)",
            evidence: evidence, fix: fix, device: name)]
    }

    /// The egress route's gateway, when the host's last ARP for it went unanswered: packets
    /// wait for its address and die of NEIGH_FAILED; no setting here is wrong, the gateway is.
    private func gatewayChecks(_ uplink: NetworkInterface) -> [Finding] {
        guard case .route(let route, _) = Self.egressRoute(of: path, in: host), let gateway = route.gateway,
              let entry = host.neighbours.first(where: { $0.address == gateway && $0.index == uplink.index }), entry.failed
        else { return [] }
        return [onHost(.neighbourFailed, .v4, .warning,
            "the gateway \(gateway) did not answer the last ARP for it on \(uplink.name): egress packets wait for its address and are dropped (NEIGH_FAILED)",
            evidence: "ip neigh in \(hostName): \(gateway) dev \(uplink.name) FAILED; default route via \(gateway)", device: uplink.name)]
    }

    /// Endpoint eth0, host veth, bridge and uplink MTUs.
    func mtuChecks() -> [Finding] {
        guard let eth = endpointInterface, eth.mtu > 0 else { return [] }
        let endpointName = path.endpoint.name
        let lower = { (mtu: UInt32) in endpointCommand.ip("link set \(shellWord(eth.name)) mtu \(mtu)") }
        var findings: [Finding] = []
        if let veth = hostVeth, veth.mtu > 0, veth.mtu != eth.mtu {
            findings.append(onHost(.mtuMismatch, nil, .warning,
                "the two ends of \(endpointName)'s veth differ: \(eth.name) \(eth.mtu), \(veth.name) \(veth.mtu); frames larger than the receiving end's MTU are dropped",
                evidence: "\(eth.name) mtu \(eth.mtu) in \(endpointName); \(veth.name) mtu \(veth.mtu) in \(hostName)",
                fix: eth.mtu > veth.mtu ? lower(veth.mtu) : hostCommand.ip("link set \(shellWord(veth.name)) mtu \(eth.mtu)"),
                device: veth.name))
        }
        if let bridge, bridge.mtu > 0, bridge.mtu < eth.mtu {
            findings.append(onHost(.mtuMismatch, nil, .warning,
                "bridge \(bridge.name) carries \(bridge.mtu) bytes, \(endpointName)'s \(eth.name) sends up to \(eth.mtu)",
                evidence: "\(eth.name) mtu \(eth.mtu); \(bridge.name) mtu \(bridge.mtu)", fix: lower(bridge.mtu), device: bridge.name))
        }
        if let (uplink, _) = uplink, uplink.mtu > 0, uplink.mtu < eth.mtu {
            findings.append(onHost(.mtuMismatch, nil, .warning,
                "uplink \(uplink.name) carries \(uplink.mtu) bytes, \(endpointName)'s \(eth.name) sends up to \(eth.mtu): larger packets with DF set (every IPv6 packet) are dropped at ip_forward or ip6_forward (PKT_TOO_BIG) unless the ICMP 'fragmentation needed' (ICMPv6 'packet too big') reaches the sender",
                evidence: "\(eth.name) mtu \(eth.mtu) in \(endpointName); \(uplink.name) mtu \(uplink.mtu) in \(hostName)",
                fix: lower(uplink.mtu), device: uplink.name))
        }
        return findings
    }
}
