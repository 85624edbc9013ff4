import Testing
@testable import TracerCore

/// The static count of the rules a new connection's first packet evaluates, on kube-proxy's
/// iptables shape written by hand: KUBE-SERVICES walked linearly, a jump per service, the
/// `statistic` choice of an endpoint (a range: the first or the last endpoint), two rules per
/// endpoint chain.
struct RuleWalkTests {
    static func kubeProxy(services: Int) -> Ruleset {
        var lines = ["*nat", ":PREROUTING ACCEPT [0:0]", ":KUBE-SERVICES - [0:0]", ":KUBE-MARK-MASQ - [0:0]", ":KUBE-NODEPORTS - [0:0]",
                     "-A PREROUTING -m comment --comment \"kubernetes service portals\" -j KUBE-SERVICES",
                     "-A KUBE-MARK-MASQ -j MARK --set-xmark 0x4000/0x4000"]
        for i in 1...services {
            lines += [":KUBE-SVC-\(i) - [0:0]", ":KUBE-SEP-\(i)A - [0:0]", ":KUBE-SEP-\(i)B - [0:0]",
                      "-A KUBE-SERVICES -d \(address(i))/32 -p tcp -m comment --comment \"ns/svc\(i):http cluster IP\" -m tcp --dport 80 -j KUBE-SVC-\(i)",
                      "-A KUBE-SVC-\(i) -m statistic --mode random --probability 0.50000000000 -j KUBE-SEP-\(i)A",
                      "-A KUBE-SVC-\(i) -j KUBE-SEP-\(i)B"]
            for (sep, host) in [("A", 1), ("B", 2)] {
                lines += ["-A KUBE-SEP-\(i)\(sep) -s 10.244.\(i % 256).\(host)/32 -j KUBE-MARK-MASQ",
                          "-A KUBE-SEP-\(i)\(sep) -p tcp -m tcp -j DNAT --to-destination 10.244.\(i % 256).\(host):8080"]
            }
        }
        lines += ["-A KUBE-SERVICES -m addrtype --dst-type LOCAL -j KUBE-NODEPORTS", "COMMIT"]
        return Ruleset(tables: IptablesSave.parse(lines.joined(separator: "\n") + "\n", backend: .iptablesNft))
    }

    /// Service i's cluster IP: 10.96.(i / 256).(i % 256).
    static func address(_ i: Int) -> IPAddress { IPAddress(10, 96, UInt8(i / 256), UInt8(i % 256)) }

    static func syn(to service: Int) -> ImaginedPacket {
        ImaginedPacket(source: "10.0.0.5", destination: address(service), inInterface: "eth0", outInterface: "",
                       ctState: "new", proto: "tcp", destinationPort: 80, sourcePort: 40000)
    }

    @Test func aServiceFurtherDownKubeServicesCostsOneRuleMorePerServiceBeforeIt() {
        let ruleset = Self.kubeProxy(services: 20)
        // PREROUTING's jump, the services before it and its own rule, the statistic choice (1 or
        // 2 rules), the endpoint chain's masquerade mark and DNAT.
        for service in [1, 7, 20] {
            let walk = RuleWalk.walk(ruleset, hook: "prerouting", packet: Self.syn(to: service))
            #expect(walk.chains.map(\.chain) == ["PREROUTING"])
            #expect(walk.fewest == 1 + service + 1 + 2, "service \(service)")
            #expect(walk.most == 1 + service + 2 + 2, "service \(service)")
        }
    }

    @Test func anAddressNoServiceUsesWalksThemAll() {
        let ruleset = Self.kubeProxy(services: 50)
        var packet = Self.syn(to: 1)
        packet.destination = IPAddress(192, 0, 2, 1)
        let walk = RuleWalk.walk(ruleset, hook: "prerouting", packet: packet)
        // Every service rule, then the NODEPORTS jump, which may or may not be taken (the address
        // type is not known statically): KUBE-NODEPORTS is empty.
        #expect(walk.fewest == 1 + 50 + 1 && walk.most == 1 + 50 + 1)
    }

    @Test func theCountGrowsLinearlyWithTheServices() {
        let small = RuleWalk.walk(Self.kubeProxy(services: 100), hook: "prerouting", packet: Self.syn(to: 100))
        let large = RuleWalk.walk(Self.kubeProxy(services: 1000), hook: "prerouting", packet: Self.syn(to: 1000))
        #expect(large.most - small.most == 900)
    }

    @Test func aCertainDropEndsTheHookAndLaterChainsAreNotCounted() {
        let text = """
            *filter
            :INPUT ACCEPT [0:0]
            :FORWARD DROP [0:0]
            :OUTPUT ACCEPT [0:0]
            -A FORWARD -d 10.96.0.9/32 -j ACCEPT
            -A FORWARD -p tcp -j DROP
            -A FORWARD -j ACCEPT
            COMMIT

            """
        let walk = RuleWalk.walk(Ruleset(tables: IptablesSave.parse(text, backend: .iptablesNft)), hook: "forward", packet: Self.syn(to: 1))
        #expect(walk.fewest == 2 && walk.most == 2, "the accept that does not match, then the drop")
    }
}
