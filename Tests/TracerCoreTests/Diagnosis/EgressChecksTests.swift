import Testing
@testable import TracerCore

/// The checks on hand-built states: a Docker-style host in the root namespace (docker0,
/// veth0, uplink eth0) and a container "web1", healthy and then broken one fact at a time.
struct EgressChecksTests {
    static let path = EgressPath(
        endpoint: .init(name: "web1", netnsInode: 10, netnsPath: "/proc/42/ns/net", interface: "eth0",
                        interfaceIndex: 2, ipv4: ["172.17.0.2/16"], mtu: 1500),
        hostNetnsInode: 1, hostNetnsPath: "/proc/1/ns/net", hostIsRoot: true,
        hostVeth: .init(name: "veth0", index: 5), bridge: .init(name: "docker0", index: 3),
        uplink: .init(name: "eth0", index: 2), gateway: "192.0.2.1")

    static func healthy() -> EgressPathState {
        let endpoint = EgressPathState.Side(
            interfaces: [NetworkInterface(index: 1, name: "lo", mtu: 65536, isUp: true, hasCarrier: true),
                         NetworkInterface(index: 2, name: "eth0", kind: "veth", mtu: 1500, isUp: true, hasCarrier: true,
                                          operState: "up", peerIndex: 5, peerNetnsID: 0, ipv4: ["172.17.0.2/16"])],
            routes: [IPv4Route(destination: "0.0.0.0/0", gateway: "172.17.0.1", outputIndex: 2),
                     IPv4Route(destination: "172.17.0.0/16", outputIndex: 2)])
        var host = EgressPathState.Side(
            interfaces: [NetworkInterface(index: 1, name: "lo", mtu: 65536, isUp: true, hasCarrier: true),
                         NetworkInterface(index: 2, name: "eth0", mtu: 1500, isUp: true, hasCarrier: true, operState: "up", ipv4: ["192.0.2.10/24"]),
                         NetworkInterface(index: 3, name: "docker0", kind: "bridge", mtu: 1500, isUp: true, hasCarrier: true, operState: "up", ipv4: ["172.17.0.1/16"]),
                         NetworkInterface(index: 5, name: "veth0", kind: "veth", mtu: 1500, isUp: true, hasCarrier: true, operState: "up", masterIndex: 3, peerIndex: 2, peerNetnsID: 1)],
            routes: [IPv4Route(destination: "0.0.0.0/0", gateway: "192.0.2.1", outputIndex: 2),
                     IPv4Route(destination: "172.17.0.0/16", outputIndex: 3),
                     IPv4Route(destination: "192.0.2.0/24", outputIndex: 2)],
            bridgePorts: [BridgePort(index: 5, name: "veth0", masterIndex: 3, state: .forwarding)])
        host.sysctls = ["net/ipv4/ip_forward": .value("1"), "net/ipv4/conf/all/rp_filter": .value("0"),
                        "net/ipv4/conf/docker0/forwarding": .value("1"), "net/ipv4/conf/docker0/rp_filter": .value("1"),
                        "net/ipv4/conf/eth0/forwarding": .value("1"), "net/ipv4/conf/eth0/rp_filter": .value("1"),
                        "net/netfilter/nf_conntrack_count": .value("12"), "net/netfilter/nf_conntrack_max": .value("262144"),
                        "net/bridge/bridge-nf-call-iptables": .missing]
        return EgressPathState(endpoint: endpoint, host: host)
    }

    func findings(_ change: (inout EgressPathState) -> Void, path: EgressPath = path) -> [Finding] {
        var state = Self.healthy()
        change(&state)
        return EgressDiagnosis.findings(for: path, state: state)
    }

    func setHost(_ state: inout EgressPathState, _ name: String, _ change: (inout NetworkInterface) -> Void) {
        let i = state.host.interfaces.firstIndex { $0.name == name }!
        change(&state.host.interfaces[i])
    }

    @Test func healthyHostHasNoFindings() {
        #expect(findings { _ in } == [])
    }

    @Test func aGatewayThatDidNotAnswerARPIsNamed() {
        let failed = findings { $0.host.neighbours = [IPv4Neighbour(index: 2, address: "192.0.2.1", state: 0x20)] }
        #expect(failed.map(\.code) == [.neighbourFailed])
        #expect(failed.first?.message.contains("gateway 192.0.2.1") == true)
        #expect(failed.first?.device == "eth0")
        // Reachable, stale or still resolving is fine; a failed entry on another device is not the gateway's.
        #expect(findings { $0.host.neighbours = [IPv4Neighbour(index: 2, address: "192.0.2.1", state: 0x02)] } == [])
        #expect(findings { $0.host.neighbours = [IPv4Neighbour(index: 2, address: "192.0.2.1", state: 0x01)] } == [])
        #expect(findings { $0.host.neighbours = [IPv4Neighbour(index: 3, address: "192.0.2.1", state: 0x20)] } == [])
        // Without carrier the uplink is the cause, not its gateway.
        let down = findings {
            $0.host.neighbours = [IPv4Neighbour(index: 2, address: "192.0.2.1", state: 0x20)]
            setHost(&$0, "eth0") { $0.hasCarrier = false }
        }
        #expect(down.map(\.code) == [.uplinkNoCarrier])
    }

    @Test func globalForwardingOffHidesThePerDeviceConsequences() {
        let found = findings {
            for key in ["net/ipv4/ip_forward", "net/ipv4/conf/docker0/forwarding", "net/ipv4/conf/eth0/forwarding"] {
                $0.host.sysctls[key] = .value("0")
            }
        }
        #expect(found.map(\.code) == [.ipForwardDisabled])
        // The root namespace needs no nsenter.
        #expect(found.first?.fix == "sysctl -w net.ipv4.ip_forward=1")
    }

    @Test func forwardingOffOnTheUplinkIsTheReplyDirection() {
        let found = findings { $0.host.sysctls["net/ipv4/conf/eth0/forwarding"] = .value("0") }
        #expect(found.map(\.code) == [.deviceForwardingDisabled])
        #expect(found.first?.device == "eth0")
        #expect(found.first?.message.contains("replies") == true)
    }

    @Test func bridgeDownHidesItsDisabledPortsAndLostRoute() {
        let found = findings {
            setHost(&$0, "docker0") { $0.isUp = false }
            $0.host.bridgePorts[0].state = .disabled
            $0.host.routes.removeAll { $0.outputIndex == 3 }
        }
        #expect(found.map(\.code) == [.bridgeDown])
        #expect(found.first?.fix == "ip link set docker0 up")
    }

    @Test func portStates() {
        let blocking = findings { $0.host.bridgePorts[0].state = .blocking }
        #expect(blocking.map(\.code) == [.bridgePortNotForwarding])
        #expect(blocking.first?.severity == .error)
        #expect(blocking.first?.device == "veth0")
        let learning = findings { $0.host.bridgePorts[0].state = .learning }
        #expect(learning.first?.severity == .warning)
        let unreadable = findings { $0.host.bridgePortsError = "netlink receive: Operation not permitted" }
        #expect(unreadable.map(\.code) == [.unchecked])
    }

    @Test func bridgeWithTheWrongAddress() {
        let found = findings { state in setHost(&state, "docker0") { $0.ipv4 = ["10.99.0.1/24"] } }
        #expect(found.first?.code == .bridgeNoAddress)
        #expect(found.first?.evidence == "docker0 has only 10.99.0.1/24")
        #expect(found.first?.fix == "ip addr add 172.17.0.1/16 dev docker0")
    }

    @Test func vethNotAttachedToTheBridgeHoldingTheGateway() {
        var detached = Self.path
        detached.bridge = nil
        let found = findings({ state in setHost(&state, "veth0") { $0.masterIndex = nil } }, path: detached)
        #expect(found.first?.code == .vethNotAttached)
        #expect(found.first?.fix == "ip link set veth0 master docker0")
    }

    @Test func uplinkDownWithoutDefaultRouteIsFoundByElimination() {
        var path = Self.path
        path.uplink = nil
        path.gateway = nil
        let found = findings({ state in
            setHost(&state, "eth0") { $0.isUp = false; $0.hasCarrier = false }
            state.host.routes.removeAll { $0.outputIndex == 2 }
        }, path: path)
        #expect(found.map(\.code) == [.uplinkDown, .noDefaultRoute])
        #expect(found.allSatisfy { $0.device == "eth0" })
    }

    @Test func endpointDownAndWithoutDefaultRoute() {
        let found = findings {
            $0.endpoint.interfaces[1].isUp = false
            $0.endpoint.routes.removeAll { $0.destination == "0.0.0.0/0" }
        }
        #expect(found.map(\.code) == [.endpointInterfaceDown, .endpointNoDefaultRoute])
        #expect(found[0].netnsInode == 10)
        #expect(found[0].fix == "nsenter --net=/proc/42/ns/net ip link set eth0 up")
        #expect(found[1].fix == "nsenter --net=/proc/42/ns/net ip route add default via 172.17.0.1 dev eth0")
    }

    @Test func aRouteBackElsewhereIsAnRpFilterDropWhenStrictElseNoRoute() {
        let strict = findings { $0.host.routes.append(IPv4Route(destination: "172.17.0.2/32", outputIndex: 2)) }
        #expect(strict.map(\.code) == [.rpFilterDrop])
        #expect(strict.first?.device == "docker0")
        let off = findings {
            $0.host.routes.append(IPv4Route(destination: "172.17.0.2/32", outputIndex: 2))
            $0.host.sysctls["net/ipv4/conf/docker0/rp_filter"] = .value("0")
        }
        #expect(off.map(\.code) == [.noRoute])
        #expect(off.first?.fix == "ip route replace 172.17.0.2/32 dev docker0")
    }

    @Test func mtuAlongThePath() {
        let uplink = findings { state in setHost(&state, "eth0") { $0.mtu = 1400 } }
        #expect(uplink.map(\.code) == [.mtuMismatch])
        #expect(uplink.first?.device == "eth0")
        #expect(uplink.first?.severity == .warning)
        #expect(uplink.first?.fix == "nsenter --net=/proc/42/ns/net ip link set eth0 mtu 1400")
        let veth = findings { state in setHost(&state, "veth0") { $0.mtu = 9000 } }
        #expect(veth.map(\.device) == ["veth0"])
    }

    @Test func conntrackNearlyFullAndFull() {
        let nearly = findings { $0.host.sysctls["net/netfilter/nf_conntrack_count"] = .value("240000") }
        #expect(nearly.map(\.code) == [.conntrackFull])
        #expect(nearly.first?.severity == .warning)
        let full = findings { $0.host.sysctls["net/netfilter/nf_conntrack_count"] = .value("262144") }
        #expect(full.first?.severity == .error)
        let absent = findings {
            $0.host.sysctls["net/netfilter/nf_conntrack_count"] = .missing
            $0.host.sysctls["net/netfilter/nf_conntrack_max"] = .missing
        }
        #expect(absent == [])
    }

    @Test func brNetfilterIsInformation() {
        let found = findings { $0.host.sysctls["net/bridge/bridge-nf-call-iptables"] = .value("1") }
        #expect(found.map(\.code) == [.brNetfilter])
        #expect(found.first?.severity == .info)
    }

    @Test func whatCannotBeReadIsUnchecked() {
        let host = findings { $0.host = EgressPathState.Side(error: "network namespace /proc/1/ns/net: Operation not permitted (errno 1)") }
        #expect(host.map(\.code) == [.unchecked])
        #expect(host.first?.evidence.contains("Operation not permitted") == true)
        let sysctl = findings { $0.host.sysctls["net/ipv4/ip_forward"] = .unreadable("/proc/sys/net/ipv4/ip_forward: Permission denied") }
        #expect(sysctl.map(\.code) == [.unchecked])
    }

    @Test func fixesRunInTheirNamespace() {
        let named = NamespaceCommand(path: "/run/netns/tel-x-host", isRoot: false)
        #expect(named.ip("link set br-lab up") == "ip -n tel-x-host link set br-lab up")
        #expect(named.sysctl("net/ipv4/conf/eth0.100/forwarding", "1")
                == "nsenter --net=/run/netns/tel-x-host sysctl -w net/ipv4/conf/eth0.100/forwarding=1")
        let docker = NamespaceCommand(path: "/var/run/docker/netns/1a2b", isRoot: false)
        #expect(docker.ip("link set eth0 up") == "nsenter --net=/var/run/docker/netns/1a2b ip link set eth0 up")
        #expect(shellWord("it's") == "'it'\\''s'")
        #expect(shellWord("a b") == "'a b'")
        #expect(NamespaceCommand(path: "/proc/1/ns/net", isRoot: true).sysctl("net/ipv4/ip_forward", "1") == "sysctl -w net.ipv4.ip_forward=1")
    }
}
