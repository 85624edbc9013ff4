import Testing
@testable import TracerCore

/// What `tracer egress` says of a stopped flow that no static check explains: the kernel's
/// evidence alone, with the command that undoes what it names.
struct EgressExplainerTests {
    let path = EgressPath(
        endpoint: .init(name: "c1", netnsInode: 11, netnsPath: "/run/netns/lab-c1", interface: "eth0",
                        interfaceIndex: 2, ipv4: ["172.17.0.2/16"], mtu: 1500),
        hostNetnsInode: 22, hostNetnsPath: "/run/netns/lab-host", hostIsRoot: false,
        hostVeth: .init(name: "veth-c1", index: 5), bridge: .init(name: "br-lab", index: 3),
        uplink: .init(name: "uplink0", index: 4), gateway: "198.51.100.1")

    /// A ping that reached every stage up to `last`, with private source or NAT as given.
    func outcome(upTo last: PathStage, privateSource: Bool = false, nat: IPAddress? = nil) -> FlowOutcome {
        var packets = [UInt64](repeating: 0, count: PathStage.counted.count)
        for stage in PathStage.counted where stage.rawValue <= last.rawValue { packets[stage.rawValue] = 3 }
        let stats = FlowStats(packets: packets, drops: 0, lastDrop: nil, natAddress: nat, natPort: 0,
                              privateSourceSeen: privateSource)
        let flow = FlowKey(endpointAddress: IPAddress(172, 17, 0, 2), remoteAddress: IPAddress(203, 0, 113, 10),
                           endpointPort: 7, remotePort: 0, proto: 1)
        return FlowOutcome(flow: flow, stats: stats, path: path)
    }

    func explain(_ evidence: EgressExplainer.Evidence, _ findings: [Finding] = []) -> Finding {
        EgressExplainer.explain(evidence, staticFindings: findings)
    }

    @Test func anNftablesRuleOutsideTheForwardChainIsNamedWithItsNarrowestFix() {
        let accept = RuleFix(kind: .insertAccept, command: "nft insert rule inet probe pre position 2 ip daddr 203.0.113.10 meta l4proto icmp accept",
                             evidence: "an accept for icmp to 203.0.113.10 only, just before inet probe pre handle 2: ip saddr 172.17.0.0/16 drop")
        let finding = explain(.init(outcome: outcome(upTo: .hostVethRX), reason: "NETFILTER_DROP", location: "nft_do_chain",
                                    dropDevice: "br-lab", dropRole: .bridge,
                                    netfilterVerdict: "inet probe pre handle 2: ip saddr 172.17.0.0/16 drop",
                                    netfilterRule: "inet probe pre handle 2", netfilterFix: accept))
        #expect(finding.code == .netfilterDrop)
        #expect(finding.message.contains("inet probe pre handle 2"))
        #expect(finding.message.contains(accept.evidence))
        #expect(finding.fix == "nsenter --net=/run/netns/lab-host " + accept.command)
        // Without a fix from the ruleset, deleting the rule (which drops a whole subnet) is not offered.
        let unknown = explain(.init(outcome: outcome(upTo: .hostVethRX), reason: "NETFILTER_DROP", location: "nft_do_chain",
                                    dropDevice: "br-lab", dropRole: .bridge,
                                    netfilterVerdict: "inet probe pre handle 2: ip saddr 172.17.0.0/16 drop",
                                    netfilterRule: "inet probe pre handle 2"))
        #expect(unknown.message.contains("inet probe pre handle 2"))
        #expect(unknown.fix == nil)
    }

    @Test func aTcFilterDropNamesItsHookAndRemovesItsFilters() {
        let ingress = explain(.init(outcome: outcome(upTo: .hostVethRX), reason: "TC_INGRESS",
                                    location: "__netif_receive_skb_core", dropDevice: "veth-c1", dropRole: .hostVeth))
        #expect(ingress.code == .tcDrop)
        #expect(ingress.message.contains("veth-c1's ingress hook"))
        #expect(ingress.fix == "nsenter --net=/run/netns/lab-host tc filter del dev veth-c1 ingress")
        // On the endpoint's own interface, the command runs in the endpoint's namespace.
        let egress = explain(.init(outcome: outcome(upTo: .endpointTX), reason: "TC_EGRESS", dropDevice: "eth0", dropRole: .endpoint))
        #expect(egress.fix == "nsenter --net=/run/netns/lab-c1 tc filter del dev eth0 egress")
        #expect(egress.netnsInode == 11)
    }

    @Test func aQdiscDropOnAnUpDeviceRemovesTheRootQdisc() {
        let finding = explain(.init(outcome: outcome(upTo: .uplinkQueue), reason: "QDISC_DROP", location: "__dev_queue_xmit",
                                    dropDevice: "uplink0", dropRole: .uplink))
        #expect(finding.code == .qdiscDrop)
        #expect(finding.fix == "nsenter --net=/run/netns/lab-host tc qdisc del dev uplink0 root")
    }

    @Test func aStaticFindingStillWinsOverTheFallback() {
        let down = Finding(code: .uplinkNoCarrier, severity: .error, message: "uplink0 has no carrier", evidence: "NO-CARRIER",
                           fix: "ip link set uplink0 up")
        let finding = explain(.init(outcome: outcome(upTo: .uplinkQueue), reason: "QDISC_DROP", dropDevice: "uplink0", dropRole: .uplink), [down])
        #expect(finding.code == .uplinkNoCarrier)
        #expect(finding.fix == "ip link set uplink0 up")
    }

    @Test func reversePathFilteringOfRepliesIsLoosened() {
        let finding = explain(.init(outcome: outcome(upTo: .uplinkQueue, nat: IPAddress(198, 51, 100, 2)), reason: "IP_RPFILTER",
                                    location: "ip_rcv_finish_core", dropDevice: "uplink0", dropRole: .uplink))
        #expect(finding.code == .rpFilterDrop)
        #expect(finding.message.contains("the replies"))
        #expect(finding.fix == "nsenter --net=/run/netns/lab-host sysctl -w net.ipv4.conf.all.rp_filter=2"
            + " && nsenter --net=/run/netns/lab-host sysctl -w net.ipv4.conf.uplink0.rp_filter=2")
    }

    @Test func anUnansweredGatewayIsNamed() {
        let finding = explain(.init(outcome: outcome(upTo: .bridgeRX), reason: "NEIGH_FAILED", location: "neigh_invalidate",
                                    dropDevice: "uplink0", dropRole: .uplink))
        #expect(finding.code == .neighbourFailed)
        #expect(finding.message.contains("no ARP answer from the gateway 198.51.100.1 on uplink0"))
    }

    @Test func aPrivateSourceDespiteSourceNatIsConntrackInvalid() {
        // The checks read the firewall and found NAT covering the endpoint: nothing unchecked, no masquerade-missing.
        let leak = explain(.init(outcome: outcome(upTo: .uplinkQueue, privateSource: true)))
        #expect(leak.code == .conntrackInvalid)
        #expect(leak.message.contains("INVALID"))
        #expect(leak.fix?.contains("--ctstate INVALID -j DROP") == true)
        // When the firewall could not be read, missing NAT stays the explanation.
        let unread = Finding(code: .unchecked, severity: .warning, message: "could not check netfilter", evidence: "nft missing")
        #expect(explain(.init(outcome: outcome(upTo: .uplinkQueue, privateSource: true)), [unread]).code == .masqueradeMissing)
        // And a masquerade-missing finding from the checks is the answer.
        let missing = Finding(code: .masqueradeMissing, severity: .error, message: "no MASQUERADE", evidence: "nat table")
        #expect(explain(.init(outcome: outcome(upTo: .uplinkQueue, privateSource: true)), [missing]).code == .masqueradeMissing)
    }
}
