import Testing
@testable import TracerCore

/// The IPv6 checks on hand-built states: EgressChecksTests' Docker-style host made dual stack
/// (docker0 fd00:17::1/64, uplink eth0 2001:db8::10/64 via 2001:db8::1, web1 fd00:17::2/64),
/// healthy, then broken one fact at a time.
struct EgressIPv6ChecksTests {
    static let path = EgressChecksTests.path

    static func healthy() -> EgressPathState {
        var state = EgressChecksTests.healthy()
        func add(_ side: inout EgressPathState.Side, _ name: String, _ addresses: [IPPrefix]) {
            let i = side.interfaces.firstIndex { $0.name == name }!
            side.interfaces[i].ipv6 = addresses
            for address in addresses { side.interfaces[i].ipv6Flags[address] = 0x80 }
        }
        add(&state.endpoint, "eth0", ["fd00:17::2/64", "fe80::2/64"])
        state.endpoint.ipv6Routes = [IPRoute(destination: "::/0", gateway: "fd00:17::1", outputIndex: 2),
                                     IPRoute(destination: "fd00:17::/64", outputIndex: 2)]
        state.endpoint.sysctls = ["net/ipv6/conf/eth0/disable_ipv6": .value("0")]
        add(&state.host, "docker0", ["fd00:17::1/64", "fe80::1/64"])
        add(&state.host, "eth0", ["2001:db8::10/64"])
        state.host.ipv6Routes = [IPRoute(destination: "::/0", gateway: "2001:db8::1", outputIndex: 2),
                                 IPRoute(destination: "fd00:17::/64", outputIndex: 3)]
        state.host.ipv6Neighbours = [IPv4Neighbour(index: 2, address: "2001:db8::1", state: 0x04, flags: 0x80)]
        for (key, value) in ["net/ipv6/conf/all/forwarding": "1", "net/ipv6/conf/veth0/disable_ipv6": "0",
                             "net/ipv6/conf/docker0/disable_ipv6": "0", "net/ipv6/conf/eth0/disable_ipv6": "0",
                             "net/ipv6/conf/eth0/accept_ra": "1"] {
            state.host.sysctls[key] = .value(value)
        }
        return state
    }

    func findings(_ change: (inout EgressPathState) -> Void) -> [Finding] {
        var state = Self.healthy()
        change(&state)
        return EgressDiagnosis.findings(for: Self.path, state: state)
    }

    func set(_ side: inout EgressPathState.Side, _ name: String, _ change: (inout NetworkInterface) -> Void) {
        change(&side.interfaces[side.interfaces.firstIndex { $0.name == name }!])
    }

    @Test func healthyDualStackHasNoFindings() {
        #expect(findings { _ in } == [])
    }

    @Test func aPathWithoutGlobalIPv6IsNotCheckedForIPv6() {
        // IPv4 only: forwarding off and no route are no concern of that path.
        let found = findings {
            $0 = EgressChecksTests.healthy()
            $0.host.sysctls["net/ipv6/conf/all/forwarding"] = .value("0")
            set(&$0.endpoint, "eth0") { $0.ipv6 = ["fe80::2/64"] }
        }
        #expect(found == [])
    }

    @Test func forwardingOff() {
        let found = findings { $0.host.sysctls["net/ipv6/conf/all/forwarding"] = .value("0") }
        #expect(found.map(\.code) == [.ipv6ForwardingDisabled])
        #expect(found.first?.severity == .error)
        #expect(found.first?.evidence == "net.ipv6.conf.all.forwarding = 0 in the root namespace")
        #expect(found.first?.fix == "sysctl -w net.ipv6.conf.all.forwarding=1")
    }

    @Test func forwardingAndRouterAdvertisements() {
        func ra(_ state: inout EgressPathState) {
            state.host.ipv6Routes[0].origin = 9
            state.host.ipv6Routes[0].gateway = "fe80::1"
        }
        // Forwarding off, default route from an RA: accept_ra=2 goes first in the fix.
        let off = findings { ra(&$0); $0.host.sysctls["net/ipv6/conf/all/forwarding"] = .value("0") }
        #expect(off.map(\.code) == [.ipv6ForwardingDisabled])
        #expect(off.first?.fix == "sysctl -w net.ipv6.conf.eth0.accept_ra=2 && sysctl -w net.ipv6.conf.all.forwarding=1")
        #expect(off.first?.evidence.contains("net.ipv6.conf.eth0.accept_ra = 1") == true)
        // Forwarding on, accept_ra 1: the route will expire, a warning with the accept_ra fix.
        let on = findings { ra(&$0) }
        #expect(on.map(\.code) == [.ipv6RAIgnored])
        #expect(on.first?.severity == .warning && on.first?.device == "eth0")
        #expect(on.first?.fix == "sysctl -w net.ipv6.conf.eth0.accept_ra=2")
        #expect(on.first?.evidence.contains("proto ra") == true)
        // accept_ra=2, or a static default route: nothing to say.
        #expect(findings { ra(&$0); $0.host.sysctls["net/ipv6/conf/eth0/accept_ra"] = .value("2") } == [])
        #expect(findings { $0.host.sysctls["net/ipv6/conf/eth0/accept_ra"] = .value("0") } == [])
    }

    @Test func forwardingUnreadableIsUnchecked() {
        let found = findings { $0.host.sysctls["net/ipv6/conf/all/forwarding"] = .missing }
        #expect(found.map(\.code) == [.unchecked])
        #expect(found.first?.message.contains("net.ipv6.conf.all.forwarding") == true)
    }

    @Test func disabledOnTheEndpointsInterface() {
        let found = findings {
            $0.endpoint.sysctls["net/ipv6/conf/eth0/disable_ipv6"] = .value("1")
            // What the kernel does with it: addresses and routes gone, link-local too.
            set(&$0.endpoint, "eth0") { $0.ipv6 = [] }
            $0.endpoint.ipv6Routes = []
        }
        #expect(found.map(\.code) == [.ipv6Disabled])
        #expect(found.first?.netnsInode == 10 && found.first?.device == "eth0")
        #expect(found.first?.fix?.hasPrefix("nsenter --net=/proc/42/ns/net sysctl -w net.ipv6.conf.eth0.disable_ipv6=0") == true)
        #expect(found.first?.fix?.contains("re-add them") == true)

        // The host side's neighbour cache still knows the address by eth0's MAC: the fix puts it back.
        let known = findings {
            $0.endpoint.sysctls["net/ipv6/conf/eth0/disable_ipv6"] = .value("1")
            set(&$0.endpoint, "eth0") { $0.ipv6 = []; $0.macAddress = "02:42:ac:11:00:02" }
            $0.endpoint.ipv6Routes = []
            $0.host.ipv6Neighbours.append(IPv4Neighbour(index: 3, address: "fd00:17::2", state: 0x04, linkAddress: "02:42:ac:11:00:02"))
            // Another endpoint's entry and a link-local one are not eth0's addresses.
            $0.host.ipv6Neighbours.append(IPv4Neighbour(index: 3, address: "fd00:17::3", state: 0x04, linkAddress: "02:42:ac:11:00:03"))
            $0.host.ipv6Neighbours.append(IPv4Neighbour(index: 3, address: "fe80::2", state: 0x04, linkAddress: "02:42:ac:11:00:02"))
        }
        #expect(known.first?.fix == "nsenter --net=/proc/42/ns/net sysctl -w net.ipv6.conf.eth0.disable_ipv6=0"
                + " && nsenter --net=/proc/42/ns/net ip addr add fd00:17::2/64 dev eth0"
                + " && nsenter --net=/proc/42/ns/net ip -6 route add default via fd00:17::1 dev eth0")
        #expect(known.first?.evidence.contains("fd00:17::2 dev docker0 lladdr 02:42:ac:11:00:02") == true)
    }

    @Test func disabledOnTheBridgeGetsItsGatewayAddressBack() {
        let found = findings {
            $0.host.sysctls["net/ipv6/conf/docker0/disable_ipv6"] = .value("1")
            set(&$0.host, "docker0") { $0.ipv6 = [] }
        }
        #expect(found.map(\.code) == [.ipv6Disabled])
        #expect(found.first?.device == "docker0")
        #expect(found.first?.fix == "sysctl -w net.ipv6.conf.docker0.disable_ipv6=0 && ip addr add fd00:17::1/64 dev docker0")
    }

    @Test func disabledOnTheUplinkButNotOnABridgePort() {
        let uplink = findings {
            $0.host.sysctls["net/ipv6/conf/eth0/disable_ipv6"] = .value("1")
            set(&$0.host, "eth0") { $0.ipv6 = [] }
            $0.host.ipv6Routes.removeAll { $0.isDefault }
        }
        // The missing default route is its consequence, not a second cause.
        #expect(uplink.map(\.code) == [.ipv6Disabled])
        #expect(uplink.first?.device == "eth0")
        // A bridge port's IPv6 stack is never on the bridged path.
        #expect(findings { $0.host.sysctls["net/ipv6/conf/veth0/disable_ipv6"] = .value("1") } == [])
    }

    @Test func noDefaultRouteOnTheHostSideNamesTheRouter() {
        let found = findings { $0.host.ipv6Routes.removeAll { $0.isDefault } }
        #expect(found.map(\.code) == [.ipv6NoDefaultRoute])
        #expect(found.first?.fix == "ip -6 route add default via 2001:db8::1 dev eth0")
        // Without a router among the neighbours the gateway is left to fill in.
        let unknown = findings { $0.host.ipv6Routes.removeAll { $0.isDefault }; $0.host.ipv6Neighbours = [] }
        #expect(unknown.first?.fix == "ip -6 route add default via GATEWAY dev eth0")
    }

    /// `ip -6 rule`: a rule blackholing the endpoint's prefix drops its IPv6 packets before any
    /// route, whatever the main table holds; the default rules change nothing.
    @Test func anIPv6PolicyRuleThatBlackholesTheEndpoint() {
        let defaults = [IPv4Rule(priority: 0, action: .lookup(table: 255)), IPv4Rule(priority: 32766, action: .lookup(table: 254))]
        #expect(findings { $0.host.ipv6Rules = defaults } == [])
        var blackhole = IPv4Rule(priority: 100, action: .blackhole)
        blackhole.source = "fd00:17::/64"
        let found = findings { $0.host.ipv6Rules = [defaults[0], blackhole, defaults[1]] }
        #expect(found.map(\.code) == [.policyRuleDrop])
        #expect(found.first?.family == .v6 && found.first?.device == "docker0")
        #expect(found.first?.fix == "ip -6 rule del priority 100")
        // Another prefix's rule does not select the endpoint.
        blackhole.source = "fd00:99::/64"
        #expect(findings { $0.host.ipv6Rules = [defaults[0], blackhole, defaults[1]] } == [])
    }

    @Test func noDefaultRouteInTheEndpoint() {
        let found = findings { $0.endpoint.ipv6Routes.removeAll { $0.isDefault } }
        #expect(found.map(\.code) == [.endpointIPv6NoDefaultRoute])
        #expect(found.first?.netnsInode == 10)
        #expect(found.first?.fix == "nsenter --net=/proc/42/ns/net ip -6 route add default via fd00:17::1 dev eth0")
    }

    @Test func tentativeAndDADFailedAddresses() {
        let tentative = findings { set(&$0.endpoint, "eth0") { $0.ipv6Flags["fd00:17::2/64"] = 0x40 } }
        #expect(tentative.map(\.code) == [.ipv6AddressTentative])
        #expect(tentative.first?.severity == .warning && tentative.first?.fix == nil)

        // The host side holds the same address on the bridge: removing it comes first in the fix.
        let failed = findings {
            set(&$0.endpoint, "eth0") { $0.ipv6Flags["fd00:17::2/64"] = 0xc8 }
            set(&$0.host, "docker0") { $0.ipv6.append("fd00:17::2/64") }
        }
        #expect(failed.map(\.code) == [.ipv6DADFailed])
        #expect(failed.first?.message.contains("docker0") == true)
        #expect(failed.first?.fix == "ip addr del fd00:17::2/64 dev docker0 && nsenter --net=/proc/42/ns/net ip addr del fd00:17::2/64 dev eth0"
                + " && nsenter --net=/proc/42/ns/net ip addr add fd00:17::2/64 dev eth0")
        // A holder elsewhere on the link: the re-add, once it gave it up.
        let elsewhere = findings { set(&$0.endpoint, "eth0") { $0.ipv6Flags["fd00:17::2/64"] = 0xc8 } }
        #expect(elsewhere.map(\.code) == [.ipv6DADFailed])
        #expect(elsewhere.first?.fix?.contains("once the other holder") == true)
    }

    @Test func mtuBelow1280() {
        let veth = findings { set(&$0.host, "veth0") { $0.mtu = 1200 } }
        #expect(veth.first?.code == .ipv6MTUTooSmall)
        #expect(veth.first?.device == "veth0")
        #expect(veth.first?.fix == "ip link set veth0 mtu 1500")
        // Not also as a mismatch: its fix (eth0 down to 1200) would disable IPv6 in the endpoint too.
        #expect(veth.map(\.code) == [.ipv6MTUTooSmall])

        let endpoint = findings { set(&$0.endpoint, "eth0") { $0.mtu = 1000 } }
        #expect(endpoint.first?.code == .ipv6MTUTooSmall)
        #expect(endpoint.first?.fix == "nsenter --net=/proc/42/ns/net ip link set eth0 mtu 1500")
        // 1280 itself is allowed.
        #expect(!findings { set(&$0.host, "eth0") { $0.mtu = 1280 } }.contains { $0.code == .ipv6MTUTooSmall })
    }
    /// The IPv6 gateway unanswered: the IPv4 twin's code with family ipv6; the fix routes by the
    /// neighbour that said it is a router, when one answers.
    @Test func theIPv6GatewayUnansweredIsNeighbourFailed() {
        let found = findings {
            $0.host.ipv6Routes[0].gateway = "2001:db8::99"
            $0.host.ipv6Neighbours.append(IPv4Neighbour(index: 2, address: "2001:db8::99", state: 0x20))
        }
        #expect(found.map(\.code) == [.neighbourFailed])
        #expect(found.first?.family == .v6 && found.first?.severity == .warning && found.first?.device == "eth0")
        #expect(found.first?.evidence.hasPrefix("ip -6 neigh in the root namespace: 2001:db8::99 dev eth0 FAILED") == true)
        #expect(found.first?.fix == "ip -6 route replace default via 2001:db8::1 dev eth0")
        // Still soliciting, and no other router: said, with no fix to invent.
        let alone = findings {
            $0.host.ipv6Routes[0].gateway = "2001:db8::99"
            $0.host.ipv6Neighbours = [IPv4Neighbour(index: 2, address: "2001:db8::99", state: 0x01)]
        }
        #expect(alone.map(\.code) == [.neighbourFailed] && alone.first?.fix == nil)
    }

    /// The endpoint's address inside the uplink's on-link prefix (docker0 holds a longer one):
    /// the router solicits it on the uplink; proxy_ndp and a proxy entry answer it.
    @Test func anAddressInsideTheUplinksPrefixNeedsAnNDPProxy() {
        func inside(_ state: inout EgressPathState) {
            set(&state.host, "docker0") { $0.ipv6 += ["2001:db8::100:1/120"] }
            set(&state.endpoint, "eth0") { $0.ipv6 += ["2001:db8::100:2/120"] }
            state.host.sysctls["net/ipv6/conf/eth0/proxy_ndp"] = .value("0")
            state.host.sysctls["net/ipv6/conf/all/proxy_ndp"] = .value("0")
        }
        let found = findings(inside)
        #expect(found.map(\.code) == [.ipv6NDPProxyMissing])
        #expect(found.first?.family == .v6 && found.first?.severity == .error && found.first?.device == "eth0")
        #expect(found.first?.fix == "sysctl -w net.ipv6.conf.eth0.proxy_ndp=1 && ip -6 neigh add proxy 2001:db8::100:2 dev eth0")
        // Half done: only the missing half is the fix; both done, nothing.
        let entry = IPv4Neighbour(index: 2, address: "2001:db8::100:2", state: 0, flags: NL.NTF_PROXY)
        let enabled = findings { inside(&$0); $0.host.sysctls["net/ipv6/conf/all/proxy_ndp"] = .value("1") }
        #expect(enabled.first?.fix == "ip -6 neigh add proxy 2001:db8::100:2 dev eth0")
        #expect(findings { inside(&$0); $0.host.sysctls["net/ipv6/conf/eth0/proxy_ndp"] = .value("1"); $0.host.ipv6ProxyNeighbours = [entry] } == [])
        // The ULA outside the uplink's prefix needs none (healthyDualStackHasNoFindings).
    }
}
