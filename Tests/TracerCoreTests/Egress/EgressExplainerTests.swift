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

    // MARK: - Weighing every static finding against the trace

    func onHost(_ code: FindingCode, _ evidence: String = "read", device: String? = nil, severity: Finding.Severity = .error,
                stops: PacketDirection? = nil, family: IPAddress.Family? = nil) -> Finding {
        Finding(code: code, severity: severity, message: "\(code.rawValue) here", evidence: evidence, fix: "fix \(code.rawValue)",
                device: device, netnsInode: 22, stops: stops, family: family)
    }

    /// The first breakage: the table full, NETFILTER_DROP at nf_hook_slow and no rule named.
    @Test func aFullConntrackTableExplainsAFirewallDropNoRuleNamed() {
        let full = onHost(.conntrackFull, "net.netfilter.nf_conntrack_count = 262144, net.netfilter.nf_conntrack_max = 262144")
        let drop = EgressExplainer.Evidence(outcome: outcome(upTo: .hostVethRX), reason: "NETFILTER_DROP", location: "nf_hook_slow",
                                            dropDevice: "br-lab", dropRole: .bridge)
        let finding = explain(drop, [full])
        #expect(finding.code == .conntrackFull)
        #expect(finding.evidence.contains("nf_conntrack_count = 262144"))
        // A rule the trace named contradicts "no rule": the rule is the answer.
        var named = drop
        named.netfilterVerdict = "inet filter forward handle 4: drop"
        named.netfilterRule = "inet filter forward handle 4"
        #expect(explain(named, [full]).code == .netfilterDrop)
    }

    /// The second breakage: the veth off its bridge. The host answers ARP on the bare
    /// veth and forwards; the replies die on the bridge, unanswered (a device outside the path).
    @Test func aVethOffItsBridgeExplainsRepliesLostOnTheBridge() {
        let detached = onHost(.vethNotAttached, "veth-c1: no master", device: "veth-c1")
        let replies = EgressExplainer.Evidence(outcome: outcome(upTo: .uplinkRX, nat: IPAddress(198, 51, 100, 2)), reason: "NEIGH_FAILED",
                                               location: "neigh_invalidate")
        #expect(explain(replies, [detached]).code == .vethNotAttached)
        // As the issue saw it: packets stop after host-veth-rx without a kernel drop (no longer no-default-route).
        #expect(explain(.init(outcome: outcome(upTo: .hostVethRX)), [detached]).code == .vethNotAttached)
        // A default route missing would have stopped the packets before the uplink, with IP_INNOROUTES: contradicted.
        #expect(explain(replies, [onHost(.noDefaultRoute)]).code == .unexplained)
    }

    /// No fact, no code: the stage, the reason, where and on what, and the findings weighed.
    @Test func withoutAFactTheFlowIsUnexplained() {
        let finding = explain(.init(outcome: outcome(upTo: .bridgeRX), reason: "IP_INADDRERRORS", location: "ip_error",
                                    dropDevice: "br-lab", dropRole: .bridge), [onHost(.uplinkDown, device: "uplink0")])
        #expect(finding.code == .unexplained)
        #expect(finding.severity == .error)
        #expect(finding.fix == nil)
        #expect(finding.message.contains("its packets stop after bridge-rx, before uplink-queue"), "\(finding.message)")
        #expect(finding.message.contains("IP_INADDRERRORS at ip_error on br-lab, the bridge"), "\(finding.message)")
        #expect(finding.evidence.contains("static findings weighed, each contradicted by the trace: uplink-down (uplink0)"), "\(finding.evidence)")
        // Packets that stop without a drop, nothing to pin it on: no longer a guessed no-default-route.
        let silent = explain(.init(outcome: outcome(upTo: .hostVethRX)))
        #expect(silent.code == .unexplained)
        #expect(silent.message.contains("without a kernel drop"))
    }

    /// Forwarding off on the uplink stops the replies there, not the packets on the bridge.
    @Test func aSettingOnAnotherDeviceIsContradicted() {
        let uplinkOff = onHost(.deviceForwardingDisabled, device: "uplink0")
        let onBridge = EgressExplainer.Evidence(outcome: outcome(upTo: .bridgeRX), reason: "IP_INADDRERRORS", location: "ip_error",
                                                dropDevice: "br-lab", dropRole: .bridge)
        #expect(explain(onBridge, [uplinkOff]).code == .unexplained)
        let onUplink = EgressExplainer.Evidence(outcome: outcome(upTo: .uplinkRX, nat: IPAddress(198, 51, 100, 2)), reason: "IP_INADDRERRORS",
                                                location: "ip_error", dropDevice: "uplink0", dropRole: .uplink)
        #expect(explain(onUplink, [uplinkOff]).code == .deviceForwardingDisabled)
    }

    /// A firewall finding is the answer only for the rule the trace named, on the side it stops.
    @Test func aFirewallFindingMustBeTheRuleTheTraceNamed() {
        let rule = onHost(.forwardRuleDrop, "inet labfilter forward handle 2: ip saddr 172.17.0.0/16 drop", device: "br-lab", stops: .egress)
        var drop = EgressExplainer.Evidence(outcome: outcome(upTo: .bridgeRX), reason: "NETFILTER_DROP", location: "nf_hook_slow",
                                            dropDevice: "br-lab", dropRole: .bridge,
                                            netfilterVerdict: "inet labfilter forward handle 2: ip saddr 172.17.0.0/16 drop",
                                            netfilterRule: "inet labfilter forward handle 2")
        #expect(explain(drop, [rule]).code == .forwardRuleDrop)
        drop.netfilterVerdict = "inet other forward handle 9: drop"
        drop.netfilterRule = "inet other forward handle 9"
        let other = explain(drop, [rule])
        #expect(other.code == .netfilterDrop)
        // No narrowest fix from the ruleset: deleting the rule is not offered instead.
        #expect(other.fix == nil)
        // The replies stopped: a rule that meets the packets does not explain it.
        let replies = EgressExplainer.Evidence(outcome: outcome(upTo: .uplinkRX, nat: IPAddress(198, 51, 100, 2)), reason: "NETFILTER_DROP",
                                               location: "nf_hook_slow", dropDevice: "uplink0", dropRole: .uplink)
        #expect(explain(replies, [rule]).code == .unexplained)
        var replyRule = rule
        replyRule.stops = .egressReply
        #expect(explain(replies, [replyRule]).code == .forwardRuleDrop)
        // iptables-nft spells the same rule its own way on each side.
        let iptables = onHost(.forwardPolicyDrop, "ip filter FORWARD policy drop (iptables-nft)", stops: .egress)
        var policy = EgressExplainer.Evidence(outcome: outcome(upTo: .bridgeRX), reason: "NETFILTER_DROP", location: "nf_hook_slow",
                                              dropDevice: "br-lab", dropRole: .bridge, netfilterVerdict: "ip filter FORWARD policy drop (iptables-nft)")
        #expect(explain(policy, [iptables]).code == .forwardPolicyDrop)
        policy.netfilterVerdict = "ip filter FORWARD handle 5 rule 1: -A FORWARD -j DROP (iptables-nft)"
        #expect(explain(policy, [iptables]).code == .netfilterDrop)
        let numbered = onHost(.forwardRuleDrop, "ip filter FORWARD rule 1, handle 5 (iptables-nft): -A FORWARD -j DROP", stops: .egress)
        #expect(explain(policy, [iptables, numbered]).code == .forwardRuleDrop)
    }

    /// Several consistent findings: the one on the drop's device first, errors before warnings,
    /// then the checks' order; the others stay as evidence.
    @Test func theFindingOnTheDropsDeviceComesFirstTheOthersAreEvidence() {
        let gateway = onHost(.neighbourFailed, device: "uplink0", severity: .warning)
        let noCarrier = onHost(.uplinkNoCarrier, device: "uplink0")
        let uplinkDown = onHost(.uplinkDown, device: "uplink1")
        let drop = EgressExplainer.Evidence(outcome: outcome(upTo: .bridgeRX), reason: "NEIGH_FAILED", location: "neigh_invalidate",
                                            dropDevice: "uplink0", dropRole: .uplink)
        let finding = explain(drop, [uplinkDown, gateway, noCarrier])
        #expect(finding.code == .uplinkNoCarrier)
        #expect(finding.evidence.hasSuffix("also consistent with the trace: neighbour-failed (uplink0), uplink-down (uplink1)"), "\(finding.evidence)")
    }

    /// A finding about IPv6 packets never explains an IPv4 flow, whatever its code: the family
    /// is the finding's (the IPv6 checks set it), not the code's.
    @Test func anIPv6FindingNeverExplainsAnIPv4Flow() {
        let finding = explain(.init(outcome: outcome(upTo: .bridgeRX), reason: "IP_INADDRERRORS", location: "ip_error",
                                    dropDevice: "br-lab", dropRole: .bridge), [onHost(.ipv6ForwardingDisabled, family: .v6)])
        #expect(finding.code == .unexplained)
        // One code, both families: the ip6 table's policy is set aside for an IPv4 flow, the ip table's is the answer.
        let policy6 = onHost(.forwardPolicyDrop, "ip6 filter FORWARD policy drop (iptables-nft)", family: .v6)
        let policy4 = onHost(.forwardPolicyDrop, "ip filter FORWARD policy drop (iptables-nft)", family: .v4)
        let drop = EgressExplainer.Evidence(outcome: outcome(upTo: .bridgeRX), reason: "NETFILTER_DROP", location: "nft_do_chain",
                                            dropDevice: "br-lab", dropRole: .bridge)
        #expect(explain(drop, [policy6]).code == .unexplained)
        #expect(explain(drop, [policy6, policy4]).evidence.contains("ip filter FORWARD"))
        #expect(!explain(drop, [policy6, policy4]).evidence.contains("ip6 filter"))
        // Both families: a device down explains either.
        #expect(explain(.init(outcome: outcome(upTo: .endpointTX), reason: "NEIGH_FAILED", dropDevice: "eth0", dropRole: .endpoint),
                        [onHost(.bridgeDown, device: "br-lab")]).code == .bridgeDown)
    }

    /// Every code a static check gives that stops flows declares its effect; the others none.
    @Test func theEffectTableCoversTheCodesThatStopFlows() {
        let stopping = FindingCode.allCases.filter { $0.effect != nil }
        #expect(stopping.contains(.conntrackFull) && stopping.contains(.vethNotAttached) && stopping.contains(.mtuMismatch))
        #expect(!stopping.contains(.unexplained) && !stopping.contains(.brNetfilter) && !stopping.contains(.netfilterDrop))
        for code in stopping {
            #expect(code.effect?.stops.allSatisfy { !$0.before.isEmpty && (!$0.reasons.isEmpty || $0.silent) } == true, "\(code.rawValue)")
        }
    }
}
