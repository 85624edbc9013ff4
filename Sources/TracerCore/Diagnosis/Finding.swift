/// One thing wrong (or worth knowing) on an egress path: a stable code, a one-line message
/// naming the device, setting or rule, what was read, and a command that fixes it.
/// `tracer diagnose` produces findings from configuration; `tracer egress` from what it saw.
public struct Finding: Sendable, Equatable {
    public enum Severity: String, Sendable, Comparable, CaseIterable {
        case error, warning, info

        private var rank: Int {
            switch self {
            case .error: return 0
            case .warning: return 1
            case .info: return 2
            }
        }

        /// Errors sort first.
        public static func < (a: Severity, b: Severity) -> Bool { a.rank < b.rank }
    }

    public var code: FindingCode
    public var severity: Severity
    /// One line: the device, setting or rule responsible.
    public var message: String
    /// What was read that shows it (a sysctl value, a rule, a link state).
    public var evidence: String
    /// A command to paste, run in the namespace the finding is about; nil when there is none.
    public var fix: String?
    /// The device the finding is about, if any.
    public var device: String?
    /// The network namespace the finding is about (the host side unless said otherwise).
    public var netnsInode: UInt64?
    /// Which packets it stops, when the check knows: a firewall rule met by the flow's own
    /// packets or by their replies. Weighed against a trace (`FlowEffect`).
    public var stops: PacketDirection?
    /// The address family whose packets it concerns (an IPv4 setting, an ip6 table's rule); nil
    /// for both (a device down, the conntrack table). A trace of the other family contradicts it.
    public var family: IPAddress.Family?

    public init(code: FindingCode, severity: Severity, message: String, evidence: String, fix: String? = nil,
                device: String? = nil, netnsInode: UInt64? = nil, stops: PacketDirection? = nil, family: IPAddress.Family? = nil) {
        self.family = family
        self.code = code
        self.severity = severity
        self.message = message
        self.evidence = evidence
        self.fix = fix
        self.device = device
        self.netnsInode = netnsInode
        self.stops = stops
    }
}

/// Stable finding codes, documented in the README. Never rename one; add new ones.
public enum FindingCode: String, Sendable, CaseIterable {
    // forwarding and routing
    case ipForwardDisabled = "ip-forward-disabled"
    case deviceForwardingDisabled = "device-forwarding-disabled"
    case noDefaultRoute = "no-default-route"
    case policyRuleDrop = "policy-rule-drop"
    case noRoute = "no-route"
    case rpFilterDrop = "rp-filter-drop"
    case martianSource = "martian-source"
    // netfilter
    case forwardPolicyDrop = "forward-policy-drop"
    case forwardRuleDrop = "forward-rule-drop"
    case legacyIptablesDrop = "legacy-iptables-drop"
    case netfilterDrop = "netfilter-drop"
    case masqueradeMissing = "masquerade-missing"
    /// Both iptables-legacy and nftables tables are loaded in one namespace: two firewalls, each
    /// invisible to the other's tools.
    case iptablesBackendsMixed = "iptables-backends-mixed"
    /// A chain sends each of many destinations to its own chain with a rule of its own
    /// (kube-proxy's KUBE-SERVICES): a new connection walks one rule per destination ahead of its own.
    case linearServiceChain = "linear-service-chain"
    /// A chain met by every new connection to this host drops or rejects a long list of addresses,
    /// one rule each, where a set would be one lookup.
    case inputRejectList = "input-reject-list"
    case conntrackFull = "conntrack-full"
    case conntrackInvalid = "conntrack-invalid"
    case brNetfilter = "br-netfilter"
    // devices
    case bridgeNoAddress = "bridge-no-address"
    case bridgeDown = "bridge-down"
    case bridgePortNotForwarding = "bridge-port-not-forwarding"
    case vethDown = "veth-down"
    case vethNotAttached = "veth-not-attached"
    case uplinkDown = "uplink-down"
    case uplinkNoCarrier = "uplink-no-carrier"
    case mtuMismatch = "mtu-mismatch"
    /// The endpoint's own interface (eth0 in the container) is down.
    case endpointInterfaceDown = "endpoint-interface-down"
    /// The endpoint has no default route (or none through its veth).
    case endpointNoDefaultRoute = "endpoint-no-default-route"
    // IPv6 (checked when the path carries IPv6: a global address on the endpoint or its bridge)
    /// `net.ipv6.conf.all.forwarding=0` on the host side.
    case ipv6ForwardingDisabled = "ipv6-forwarding-disabled"
    /// Forwarding on, the uplink's default route from an RA, accept_ra not 2: the route will expire.
    case ipv6RAIgnored = "ipv6-ra-ignored"
    /// `disable_ipv6=1` on a device of the path.
    case ipv6Disabled = "ipv6-disabled"
    case ipv6NoDefaultRoute = "ipv6-no-default-route"
    case endpointIPv6NoDefaultRoute = "endpoint-ipv6-no-default-route"
    case ipv6AddressTentative = "ipv6-address-tentative"
    case ipv6DADFailed = "ipv6-dad-failed"
    /// A device of the path below 1280, IPv6's minimum MTU.
    case ipv6MTUTooSmall = "ipv6-mtu-too-small"
    /// The host side's firewall drops ICMPv6 the path needs: Packet Too Big (PMTU discovery) or
    /// neighbour discovery.
    case icmpv6Dropped = "icmpv6-dropped"
    /// The endpoint's address is inside the uplink's on-link prefix, so the upstream router asks
    /// for it by neighbour solicitation on the uplink, and the host does not answer for it (proxy_ndp).
    case ipv6NDPProxyMissing = "ipv6-ndp-proxy-missing"
    // neighbour, queueing and hooks
    case neighbourFailed = "neighbour-failed"
    case qdiscDrop = "qdisc-drop"
    case tcDrop = "tc-drop"
    case bpfCgroupDrop = "bpf-cgroup-drop"
    case securityDrop = "security-drop"
    // published ports (inbound); drops in FORWARD and forwarding use the codes above
    /// The runtime publishes the port, no DNAT rule does it and nothing on the host listens on it.
    case dnatMissing = "dnat-missing"
    /// A DNAT rule leads to an address no endpoint behind this host side holds.
    case dnatNoEndpoint = "dnat-no-endpoint"
    /// No DNAT: a userland proxy (docker-proxy, rootlessport) answers the port (info).
    case userlandProxy = "userland-proxy"
    /// Containers on the bridge reaching the published address get no DNAT and nothing listens.
    case hairpinUnreachable = "hairpin-unreachable"
    /// The container's bridge port has hairpin mode off: it cannot reach its own published port.
    case hairpinModeOff = "hairpin-mode-off"
    /// No MASQUERADE for the hairpinned flow: the reply goes straight back on the bridge.
    case hairpinMasqueradeMissing = "hairpin-masquerade-missing"
    /// Published on 127.0.0.1: no DNAT in nat OUTPUT and nothing listens.
    case localhostPublishUnreachable = "localhost-publish-unreachable"
    /// Published on 127.0.0.1 through DNAT: `route_localnet` is off on the bridge (martian drop).
    case localhostRouteLocalnetOff = "localhost-route-localnet-off"
    /// Published on 127.0.0.1 through DNAT: no MASQUERADE of 127.0.0.0/8 out of the bridge.
    case localhostMasqueradeMissing = "localhost-masquerade-missing"
    /// Conntrack entries for the published port that lead elsewhere than the container's address.
    case staleConntrack = "stale-conntrack"
    // what a trace saw without a configuration fact to pin it on
    /// No longer given: a drop no fact explains is `unexplained`.
    case kernelDrop = "kernel-drop"
    case noReply = "no-reply"
    case unchecked = "unchecked"
    /// A flow stopped and no fact (a setting read, a rule the trace named, a reason specific
    /// enough) says why: the stage it reached, the kernel's reason, location and device.
    case unexplained = "unexplained"
}
