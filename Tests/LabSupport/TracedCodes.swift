/// The property over the static checks (issue #13): every finding code a static check gives that
/// can stop a flow has an egress.sh breakage that triggers it, and on that breakage `tracer egress`
/// traces the same code `tracer diagnose` reads. Every other code says here why it is not traced.
/// One place: `TracedCodeTests` runs `breakages` (egress flows) and `inboundBreakages` (flows to
/// a published port); `TracedCodesTableTests` checks that every `FindingCode` is traced by one of
/// them or has a reason in `untraced`, never both.
public enum TracedCodes {
    /// One breakage of the lab, and how to trace it.
    public struct Breakage: Sendable, CustomStringConvertible {
        /// The static check's code, which the trace must give too.
        public var code: String
        /// `egress.sh break NAME MODE`.
        public var mode: String
        /// The ping's payload (a large one for the MTU).
        public var size = 56
        /// Probes go on until the firewall's trace table is there (a NETFILTER_DROP starts it).
        public var firewall = false
        /// Packets wait for an ARP answer: NEIGH_FAILED comes about 3 s after the probe.
        public var waitsForARP = false
        /// On a dual-stack lab (`up --ipv6`), probed over IPv6.
        public var ipv6 = false

        public var description: String { "\(code) (\(mode)\(ipv6 ? ", IPv6" : ""))" }

        /// How long `tracer egress` traces it.
        public var duration: String { firewall ? "9s" : waitsForARP ? "8s" : "5s" }
    }

    public static let breakages: [Breakage] = [
        Breakage(code: "ip-forward-disabled", mode: "ip-forward-disabled"),
        Breakage(code: "device-forwarding-disabled", mode: "device-forwarding-disabled"),
        Breakage(code: "no-default-route", mode: "no-default-route"),
        Breakage(code: "policy-rule-drop", mode: "policy-blackhole"),
        Breakage(code: "no-route", mode: "no-route-back"),
        Breakage(code: "rp-filter-drop", mode: "rp-filter-bridge", waitsForARP: true),
        Breakage(code: "forward-policy-drop", mode: "forward-policy-drop", firewall: true),
        Breakage(code: "forward-rule-drop", mode: "forward-rule-drop", firewall: true),
        Breakage(code: "legacy-iptables-drop", mode: "legacy-iptables-drop", firewall: true),
        Breakage(code: "masquerade-missing", mode: "masquerade-missing"),
        Breakage(code: "conntrack-full", mode: "conntrack-full", firewall: true),
        Breakage(code: "bridge-no-address", mode: "bridge-no-address", waitsForARP: true),
        Breakage(code: "bridge-down", mode: "bridge-down", waitsForARP: true),
        Breakage(code: "bridge-port-not-forwarding", mode: "bridge-port-disabled", waitsForARP: true),
        Breakage(code: "veth-down", mode: "veth-down", waitsForARP: true),
        Breakage(code: "veth-not-attached", mode: "veth-nomaster", waitsForARP: true),
        Breakage(code: "uplink-down", mode: "uplink-down"),
        Breakage(code: "uplink-no-carrier", mode: "uplink-no-carrier", waitsForARP: true),
        Breakage(code: "mtu-mismatch", mode: "mtu-mismatch", size: 1400),
        Breakage(code: "neighbour-failed", mode: "gateway-unanswered", waitsForARP: true),
        // IPv6: the same probe over IPv6 on a dual-stack lab
        Breakage(code: "ipv6-forwarding-disabled", mode: "ipv6-forwarding-disabled", ipv6: true),
        Breakage(code: "ipv6-no-default-route", mode: "ipv6-host-no-default-route", ipv6: true),
        Breakage(code: "ipv6-mtu-too-small", mode: "ipv6-mtu-too-small", size: 1300, ipv6: true),
        Breakage(code: "ipv6-dad-failed", mode: "ipv6-dad-failed", ipv6: true),
        Breakage(code: "ipv6-disabled", mode: "ipv6-disabled-on-bridge", waitsForARP: true, ipv6: true),
        Breakage(code: "forward-policy-drop", mode: "ipv6-forward-policy-drop", firewall: true, ipv6: true),
        Breakage(code: "forward-rule-drop", mode: "ipv6-forward-rule-drop", firewall: true, ipv6: true),
        Breakage(code: "legacy-iptables-drop", mode: "ipv6-legacy-drop", firewall: true, ipv6: true),
        Breakage(code: "masquerade-missing", mode: "ipv6-masquerade-missing", ipv6: true),
        Breakage(code: "icmpv6-dropped", mode: "icmpv6-dropped", waitsForARP: true, ipv6: true),
        Breakage(code: "neighbour-failed", mode: "ipv6-gateway-unanswered", waitsForARP: true, ipv6: true),
        Breakage(code: "ipv6-ndp-proxy-missing", mode: "ipv6-ndp-proxy-missing", ipv6: true),
        Breakage(code: "policy-rule-drop", mode: "ipv6-policy-blackhole", ipv6: true),
    ]

    /// One of ingress.md's breakages of a published lab, and how to trace it inbound.
    public struct InboundBreakage: Sendable, CustomStringConvertible {
        /// The static check's code, which `tracer ingress` must trace too.
        public var code: String
        /// `egress.sh break NAME MODE` after `egress.sh publish NAME --backend BACKEND`.
        public var mode: String
        public var backend = "iptables-nft"
        public var probe: EgressLab.InboundProbe = .tcp
        /// c1's port 22 is also recorded as dockerd records it, in a docker root of the test's
        /// own (`--docker-root`): only a runtime's record says a port is published when its DNAT
        /// rule is gone.
        public var dockerRecord = false

        public var description: String { "\(code) (\(mode), \(backend))" }

        /// The host port the probe connects to.
        public var port: Int { probe.udp ? 1253 : 1222 }
    }

    /// Inbound flows to c1's published ports, each stopped by one code's breakage.
    public static let inboundBreakages: [InboundBreakage] = [
        InboundBreakage(code: "forward-rule-drop", mode: "dnat-allowlist-miss", backend: "nft"),
        InboundBreakage(code: "forward-rule-drop", mode: "dnat-allowlist-miss-iptables-nft"),
        InboundBreakage(code: "legacy-iptables-drop", mode: "dnat-allowlist-miss-legacy", backend: "iptables-legacy"),
        InboundBreakage(code: "forward-rule-drop", mode: "dnat-forward-drop"),
        InboundBreakage(code: "forward-rule-drop", mode: "dnat-replies-dropped"),
        InboundBreakage(code: "rp-filter-drop", mode: "rp-filter-strict", probe: .remote),
        InboundBreakage(code: "dnat-missing", mode: "dnat-missing", dockerRecord: true),
        InboundBreakage(code: "stale-conntrack", mode: "stale-conntrack", probe: .udp),
        // IPv6: a dual-stack lab's port published on [2001:db8::2] too, probed over IPv6
        InboundBreakage(code: "ipv6-forwarding-disabled", mode: "ipv6-forwarding-disabled", probe: .tcp6),
        InboundBreakage(code: "forward-rule-drop", mode: "ipv6-dnat-forward-drop", probe: .tcp6),
    ]

    private static let traceOnly = "no static check gives it: only the trace's evidence does (EgressExplainer's claims), so there is no static code to compare"
    private static let beforeAnyPacket = "the endpoint's own stack refuses to send (ENETUNREACH at the socket): no packet and no ARP reaches a probe point, "
        + "so `tracer egress` has no stopped flow to explain; `tracer diagnose` alone reports it"

    private static let published = "a published-port check: "
    private static let hairpin = published + "the client is an endpoint of the same host (no uplink), so its flow is that endpoint's egress; "
        + "no stopped flow of an inbound path is traced for it (InboundLabTests breaks it; DiagnosePublishedPortTests reads it)"
    private static let localhost = published + "the client is the host itself on 127.0.0.1, never on an uplink: no stopped flow of an inbound path to trace"

    /// The codes not traced on a breakage, each with why.
    public static let untraced: [String: String] = [
        "endpoint-interface-down": beforeAnyPacket,
        "endpoint-no-default-route": beforeAnyPacket,
        "iptables-backends-mixed": "a warning that stops nothing itself: the drops of the hidden firewall are legacy-iptables-drop or forward-*-drop",
        "br-netfilter": "information: bridged frames pass the FORWARD chain; it stops nothing",
        "linear-service-chain": "a cost, not a stop: tracer rules counts the rules a connection walks (RuleCostLabTests, RulesCommandTests)",
        "input-reject-list": "a cost, not a stop of a container's flow: tracer rules counts it (RuleCostTests)",
        "unchecked": "something could not be read: a warning that claims nothing, so it cannot explain a stop",
        "endpoint-ipv6-no-default-route": beforeAnyPacket,
        "ipv6-ra-ignored": "a warning that stops nothing yet: the route expires later, then ipv6-no-default-route stops the flow",
        "ipv6-address-tentative": "a warning that lasts about a second (duplicate address detection); a failed one is ipv6-dad-failed",
        "martian-source": traceOnly,
        "netfilter-drop": traceOnly + " (EgressTests' prerouting-drop traces it)",
        "conntrack-invalid": traceOnly,
        "qdisc-drop": traceOnly,
        "tc-drop": traceOnly,
        "bpf-cgroup-drop": traceOnly,
        "security-drop": traceOnly,
        "no-reply": traceOnly,
        "unexplained": traceOnly + ": the answer when no fact supports a code",
        "kernel-drop": "no longer given: a drop no fact explains is `unexplained`",
        "userland-proxy": "information: a proxy process answers the published port; it stops nothing",
        "dnat-no-endpoint": published + "the DNAT leads to no endpoint in scope, so there is no path to trace",
        "hairpin-unreachable": hairpin, "hairpin-mode-off": hairpin, "hairpin-masquerade-missing": hairpin,
        "localhost-publish-unreachable": localhost, "localhost-route-localnet-off": localhost, "localhost-masquerade-missing": localhost,
    ]
}
