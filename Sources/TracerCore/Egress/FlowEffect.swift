/// What a static finding can do to a traced flow, as the trace would show it: which packets it
/// stops (the flow's own or its replies), before which stage, with which kernel drop (or none,
/// when packets wait for an answer or go astray), and what the firewall's trace may say of it.
/// `EgressExplainer` claims a static finding for a stopped flow only when the finding's effect is
/// consistent with everything the trace saw; `FindingCode.effect` is the one table of them.
public struct FlowEffect: Sendable {
    /// One way a finding stops a flow.
    public struct Stop: Sendable {
        /// The flow's own packets (false) or its replies (true).
        public var replies: Bool
        /// On a flow the remote opened (a published port, a DNAT); else on the endpoint's own.
        public var inbound: Bool
        /// The first stage the flow may miss (`FlowOutcome.stoppedBefore`).
        public var before: Set<PathStage>
        /// The kernel's reasons for the drop it causes.
        public var reasons: Set<DropReason.Name>
        /// Packets may also vanish without a kernel drop (queued for an ARP answer, sent astray).
        public var silent: Bool
        /// The devices the drop may be seen on, by role (nil: any).
        public var roles: Set<DeviceRole>?
        /// The drop is on the finding's own device (the one whose setting is wrong).
        public var onFindingDevice: Bool

        public init(replies: Bool, inbound: Bool = false, before: Set<PathStage>, reasons: Set<DropReason.Name> = [], silent: Bool = false,
                    roles: Set<DeviceRole>? = nil, onFindingDevice: Bool = false) {
            self.replies = replies
            self.inbound = inbound
            self.before = before
            self.reasons = reasons
            self.silent = silent
            self.roles = roles
            self.onFindingDevice = onFindingDevice
        }
    }

    /// What the firewall's trace (nftables trace, legacy counters) may have said of the drop.
    public enum Firewall: Sendable {
        /// Not a firewall drop: any verdict is about something else, and does not matter.
        case notInvolved
        /// A rule or policy the finding names: a verdict naming another contradicts it.
        case namesTheFinding
        /// Not a rule (conntrack dropping for want of room): a verdict naming a rule contradicts it.
        case noRule
    }

    public var stops: [Stop]
    public var firewall: Firewall = .notInvolved
    /// The trace seeing the packets masqueraded contradicts it.
    public var needsUnmasqueraded = false

    // The family a finding concerns is the finding's own (`Finding.family`): one code, such as
    // forward-policy-drop, is met by IPv4 and IPv6 flows alike.
    public init(_ stops: [Stop], firewall: Firewall = .notInvolved, needsUnmasqueraded: Bool = false) {
        self.stops = stops
        self.firewall = firewall
        self.needsUnmasqueraded = needsUnmasqueraded
    }
}

// Shorthands for the table: where on an egress path a flow stops.
private extension Set where Element == PathStage {
    /// Never reached the host side.
    static let inEndpoint: Self = [.endpointTX, .hostVethRX]
    /// Entered the host side (veth, bridge, prerouting) but was not routed out.
    static let inHost: Self = [.bridgeRX, .uplinkQueue]
    /// Routed, never queued on the uplink.
    static let beforeUplink: Self = [.uplinkQueue]
    /// Replies that came in by the uplink and were not forwarded to the bridge or veth.
    static let repliesInHost: Self = [.bridgeTX, .hostVethTX]
    /// Replies that never reached the endpoint from the host side.
    static let repliesToEndpoint: Self = [.hostVethTX, .endpointRX]
    /// An inbound flow's packets that came in by the uplink and were not translated (DNAT).
    static let inboundBeforeDNAT: Self = [.dnat]
    /// An inbound flow's packets that came in by the uplink and were not forwarded to the bridge.
    static let inboundInHost: Self = [.dnat, .forward]
    /// An inbound flow's replies that reached the host side and never left by the uplink.
    static let inboundRepliesInHost: Self = [.uplinkQueue]
}

/// The kernel's reasons the table names together.
private enum Reasons {
    /// A neighbour (ARP) left unanswered.
    static let neighbour: Set<DropReason.Name> = [.neighbourFailed, .neighbourQueueFull]
    static let noRoute: Set<DropReason.Name> = [.ipInNoRoutes, .ipOutNoRoutes]
    static let tooBig: Set<DropReason.Name> = [.packetTooBig, .fragmentTooFar, .ipFragmentTooFar]
    /// A device without carrier: packets wait for ARP, then the queue or the neighbour gives up.
    static let linkDown: Set<DropReason.Name> = [.neighbourFailed, .neighbourQueueFull, .qdiscDrop, .deviceReady]
    static let ipv6Disabled: DropReason.Name = "IPV6DISABLED"
    /// Delivered to the host itself (no DNAT): nothing listens there, or it is answered by a reset.
    static let noSocket: DropReason.Name = "NO_SOCKET"
}

extension FindingCode {
    /// What a static finding of this code can do to a flow; nil for codes no static check
    /// gives that stops a flow (those only a trace gives, and warnings that stop nothing).
    /// A new check that stops flows gets its line here, and a lab breakage in
    /// `Tests/LabSupport/TracedCodes.swift`.
    public var effect: FlowEffect? {
        typealias Stop = FlowEffect.Stop
        switch self {
        // forwarding and routing: decided at the routing lookup on the ingress device
        case .ipForwardDisabled:
            return FlowEffect([Stop(replies: false, before: .beforeUplink, reasons: [.ipInAddrErrors]),
                               Stop(replies: false, inbound: true, before: .inboundInHost, reasons: [.ipInAddrErrors])])
        case .deviceForwardingDisabled:
            // Forwarding is the ingress device's: the bridge for the endpoint's packets, the
            // uplink for the replies and for an inbound flow's packets.
            return FlowEffect([Stop(replies: false, before: .beforeUplink, reasons: [.ipInAddrErrors], onFindingDevice: true),
                               Stop(replies: true, before: .repliesInHost, reasons: [.ipInAddrErrors], onFindingDevice: true),
                               Stop(replies: false, inbound: true, before: .inboundInHost, reasons: [.ipInAddrErrors], onFindingDevice: true)])
        case .noDefaultRoute:
            return FlowEffect([Stop(replies: false, before: .beforeUplink, reasons: Reasons.noRoute)])
        case .policyRuleDrop:
            // Blackhole and prohibit give ip_error no reason of its own.
            return FlowEffect([Stop(replies: false, before: .beforeUplink, reasons: Reasons.noRoute.union([.notSpecified]))])
        case .noRoute:
            return FlowEffect([Stop(replies: true, before: .repliesInHost, reasons: Reasons.noRoute, silent: true)])
        case .rpFilterDrop:
            // Strict mode refuses the endpoint's ARP requests on that device too.
            return FlowEffect([Stop(replies: false, before: .inHost, reasons: [.ipRPFilter], onFindingDevice: true),
                               Stop(replies: false, inbound: true, before: .inboundInHost, reasons: [.ipRPFilter], onFindingDevice: true),
                               Stop(replies: false, before: .inEndpoint, reasons: Reasons.neighbour, silent: true, roles: [.endpoint])])
        // netfilter
        case .forwardPolicyDrop, .forwardRuleDrop, .legacyIptablesDrop:
            return FlowEffect([Stop(replies: false, before: .inHost, reasons: [.netfilterDrop]),
                               Stop(replies: true, before: .repliesInHost, reasons: [.netfilterDrop]),
                               Stop(replies: false, inbound: true, before: .inboundInHost, reasons: [.netfilterDrop]),
                               Stop(replies: true, inbound: true, before: .inboundRepliesInHost, reasons: [.netfilterDrop])],
                              firewall: .namesTheFinding)
        case .masqueradeMissing:
            // Nothing is dropped here: the replies to a private (or ULA) source never come back.
            return FlowEffect([Stop(replies: true, before: [.uplinkRX], silent: true)], needsUnmasqueraded: true)
        case .conntrackFull:
            // New flows only, at conntrack's prerouting hook: the firewall names no rule.
            return FlowEffect([Stop(replies: false, before: .inHost, reasons: [.netfilterDrop]),
                               Stop(replies: false, inbound: true, before: .inboundBeforeDNAT, reasons: [.netfilterDrop])], firewall: .noRule)
        // devices
        case .bridgeNoAddress:
            return FlowEffect([Stop(replies: false, before: Set.inEndpoint.union([.bridgeRX]), reasons: Reasons.neighbour, silent: true, roles: [.endpoint]),
                               Stop(replies: true, before: .repliesInHost, reasons: Reasons.noRoute, silent: true)])
        case .bridgeDown:
            return FlowEffect([Stop(replies: false, before: Set.inEndpoint.union([.bridgeRX]), reasons: Reasons.neighbour, silent: true, roles: [.endpoint]),
                               Stop(replies: false, before: Set.inEndpoint.union([.bridgeRX]), reasons: [.bridgeIngressSTPState])])
        case .bridgePortNotForwarding:
            return FlowEffect([Stop(replies: false, before: Set.inEndpoint.union([.bridgeRX]), reasons: Reasons.neighbour, silent: true, roles: [.endpoint]),
                               Stop(replies: false, before: Set.inEndpoint.union([.bridgeRX]), reasons: [.bridgeIngressSTPState]),
                               Stop(replies: true, before: .repliesToEndpoint, reasons: [.bridgeIngressSTPState], silent: true)])
        case .vethDown:
            return FlowEffect([Stop(replies: false, before: .inEndpoint, reasons: Reasons.linkDown, silent: true, roles: [.endpoint, .hostVeth]),
                               Stop(replies: true, before: .repliesToEndpoint, reasons: Reasons.linkDown, silent: true, roles: [.endpoint, .hostVeth])])
        case .vethNotAttached:
            // The host answers the endpoint's ARP on the bare veth (the gateway is its address),
            // forwards and masquerades its packets; the replies are routed to the bridge, where
            // nobody answers ARP for the endpoint (NEIGH_FAILED on a device outside the path).
            return FlowEffect([Stop(replies: false, before: Set.inEndpoint.union(Set<PathStage>.inHost), reasons: Reasons.neighbour, silent: true, roles: [.endpoint]),
                               Stop(replies: true, before: Set.repliesInHost.union(Set<PathStage>.repliesToEndpoint), reasons: Reasons.neighbour, silent: true)])
        // A packet queued on the uplink and dropped there never left: the stages count it as sent,
        // so the flow stops before the replies' first stage.
        case .uplinkDown:
            return FlowEffect([Stop(replies: false, before: .beforeUplink, reasons: Reasons.noRoute.union(Reasons.linkDown), silent: true),
                               Stop(replies: true, before: [.uplinkRX], reasons: Reasons.linkDown, roles: [.uplink])])
        case .uplinkNoCarrier:
            return FlowEffect([Stop(replies: false, before: .beforeUplink, reasons: Reasons.linkDown, silent: true, roles: [.uplink]),
                               Stop(replies: true, before: [.uplinkRX], reasons: Reasons.linkDown, roles: [.uplink])])
        case .mtuMismatch:
            // Routed packets too big for the next device (PKT_TOO_BIG); a veth end drops frames
            // larger than its MTU without a reason of its own.
            return FlowEffect([Stop(replies: false, before: Set.inEndpoint.union(Set<PathStage>.inHost), reasons: Reasons.tooBig),
                               Stop(replies: false, before: .inEndpoint, reasons: [.notSpecified], roles: [.endpoint, .hostVeth]),
                               Stop(replies: true, before: Set.repliesInHost.union(Set<PathStage>.repliesToEndpoint), reasons: Reasons.tooBig),
                               Stop(replies: true, before: .repliesToEndpoint, reasons: [.notSpecified], roles: [.endpoint, .hostVeth])])
        case .endpointInterfaceDown, .endpointNoDefaultRoute:
            // The endpoint's stack refuses to send (ENETUNREACH): at most an output route failure.
            return FlowEffect([Stop(replies: false, before: [.endpointTX], reasons: Reasons.noRoute, silent: true, roles: [.endpoint])])
        // neighbour: the gateway did not answer the host's last ARP (IPv6: neighbour solicitation)
        case .neighbourFailed:
            return FlowEffect([Stop(replies: false, before: .beforeUplink, reasons: Reasons.neighbour, silent: true, roles: [.uplink])])
        // IPv6: the same places, for IPv6 flows only (their findings' family is .v6)
        case .ipv6ForwardingDisabled:
            return FlowEffect([Stop(replies: false, before: .beforeUplink, reasons: [.ipInAddrErrors]),
                               Stop(replies: false, inbound: true, before: .inboundInHost, reasons: [.ipInAddrErrors])])
        case .ipv6Disabled:
            // On the gateway's device (the bridge), the endpoint's neighbour solicitations die
            // there too: its packets wait for an answer that never comes.
            return FlowEffect([Stop(replies: false, before: Set.inEndpoint.union(Set<PathStage>.inHost), reasons: [Reasons.ipv6Disabled], silent: true),
                               Stop(replies: false, before: [.endpointTX], reasons: Reasons.neighbour, silent: true, roles: [.endpoint])])
        case .ipv6NoDefaultRoute:
            return FlowEffect([Stop(replies: false, before: .beforeUplink, reasons: Reasons.noRoute)])
        case .endpointIPv6NoDefaultRoute:
            return FlowEffect([Stop(replies: false, before: [.endpointTX], silent: true)])
        case .ipv6DADFailed:
            // No usable global address: nothing is sent, or it leaves from the link-local one,
            // which the host never forwards (ip6_forward: IP_INADDRERRORS).
            return FlowEffect([Stop(replies: false, before: [.endpointTX], silent: true),
                               Stop(replies: false, before: .beforeUplink, reasons: [.ipInAddrErrors])])
        case .ipv6MTUTooSmall:
            return FlowEffect([Stop(replies: false, before: Set.inEndpoint.union(Set<PathStage>.inHost), reasons: Reasons.tooBig.union([.notSpecified])),
                               Stop(replies: true, before: Set.repliesInHost.union(Set<PathStage>.repliesToEndpoint), reasons: Reasons.tooBig.union([.notSpecified]))])
        case .icmpv6Dropped:
            // The firewall drops the ICMPv6 around the flow, not the flow's packets: neighbour
            // solicitations unanswered leave the endpoint's packets (or the host's, on the uplink)
            // waiting for an address; the replies wait on the router's; a Packet Too Big never
            // reaches the sender, so its large packets vanish beyond the host.
            return FlowEffect([Stop(replies: false, before: Set.inEndpoint.union([.bridgeRX]), reasons: Reasons.neighbour, silent: true, roles: [.endpoint]),
                               Stop(replies: false, before: .beforeUplink, reasons: Reasons.neighbour, silent: true, roles: [.uplink]),
                               Stop(replies: true, before: [.uplinkRX], silent: true)])
        case .ipv6NDPProxyMissing:
            // Nothing is dropped on the host: the router's solicitations for the endpoint go
            // unanswered, so the replies never come in by the uplink.
            return FlowEffect([Stop(replies: true, before: [.uplinkRX], silent: true)])
        // published ports: the client's packets are not translated, and reach the host itself
        case .dnatMissing, .staleConntrack:
            return FlowEffect([Stop(replies: false, inbound: true, before: .inboundBeforeDNAT, reasons: [Reasons.noSocket], silent: true)])
        // Warnings that stop nothing by themselves: a fact worth knowing, or a flow stopped later
        // under another code (an expired RA route is ipv6-no-default-route).
        case .iptablesBackendsMixed, .linearServiceChain, .inputRejectList, .brNetfilter, .ipv6RAIgnored, .ipv6AddressTentative, .unchecked, .userlandProxy:
            return nil
        // Published-port checks whose flows are not traced: a hairpin or localhost client is not
        // on an uplink (its flow is the client endpoint's egress), a DNAT to no known endpoint has
        // no path to trace.
        case .dnatNoEndpoint, .hairpinUnreachable, .hairpinModeOff, .hairpinMasqueradeMissing,
             .localhostPublishUnreachable, .localhostRouteLocalnetOff, .localhostMasqueradeMissing:
            return nil
        // Only a trace gives these (`EgressExplainer`'s claims from the kernel's evidence).
        case .martianSource, .netfilterDrop, .conntrackInvalid, .qdiscDrop, .tcDrop, .bpfCgroupDrop, .securityDrop,
             .kernelDrop, .noReply, .unexplained:
            return nil
        }
    }
}
