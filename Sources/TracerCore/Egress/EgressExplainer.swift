/// Explains a flow that stopped: the kernel's evidence (the last stage reached, the drop
/// reason and where it happened) picks the settings that could cause it; the static checks
/// of the path say which of those is actually wrong. The finding names that setting or
/// rule and carries its fix, with the trace as evidence.
public enum EgressExplainer {
    /// What the trace saw of one stopped flow.
    public struct Evidence: Sendable {
        public var outcome: FlowOutcome
        /// The kernel's name for the last drop's reason, and the function that dropped it.
        public var reason: String?
        public var location: String?
        /// The device of the drop, and what it is to the path.
        public var dropDevice: String?
        public var dropRole: DeviceRole?
        /// The nftables trace's verdict, when it named a rule or policy.
        public var netfilterVerdict: String?

        public init(outcome: FlowOutcome, reason: String? = nil, location: String? = nil, dropDevice: String? = nil,
                    dropRole: DeviceRole? = nil, netfilterVerdict: String? = nil) {
            self.outcome = outcome
            self.reason = reason
            self.location = location
            self.dropDevice = dropDevice
            self.dropRole = dropRole
            self.netfilterVerdict = netfilterVerdict
        }
    }

    /// The codes that could explain the evidence, likeliest first.
    public static func candidates(_ evidence: Evidence) -> [FindingCode] {
        let outcome = evidence.outcome
        let reply = outcome.stoppedBefore?.isReply == true
        if let reason = evidence.reason {
            switch reason {
            case "IP_INADDRERRORS":
                return reply ? [.deviceForwardingDisabled, .ipForwardDisabled] : [.ipForwardDisabled, .deviceForwardingDisabled]
            case "IP_INNOROUTES", "IP_OUTNOROUTES":
                return [.uplinkDown, .noDefaultRoute, .endpointNoDefaultRoute, .noRoute, .policyRuleDrop]
            case "NOT_SPECIFIED" where evidence.location == "ip_error":
                // A blackhole, unreachable or prohibit policy rule (or route) gives ip_error no reason of its own.
                return [.policyRuleDrop, .noDefaultRoute, .noRoute]
            case "NETFILTER_DROP":
                if evidence.location == "nf_hook_slow" {
                    return [.legacyIptablesDrop, .forwardPolicyDrop, .forwardRuleDrop, .netfilterDrop]
                }
                return [.forwardRuleDrop, .forwardPolicyDrop, .legacyIptablesDrop, .netfilterDrop]
            case "PKT_TOO_BIG", "FRAG_TOO_FAR", "IP_FRAG_TOO_FAR":
                return [.mtuMismatch]
            case "IP_RPFILTER":
                return [.rpFilterDrop]
            case "IP_INVALID_SOURCE", "IP_LOCAL_SOURCE", "IP_LOCALNET", "IP_INVALID_DEST":
                return [.martianSource]
            case "NEIGH_FAILED", "NEIGH_QUEUEFULL", "NEIGH_CREATEFAIL", "NEIGH_DEAD":
                if evidence.dropRole == .uplink { return [.uplinkNoCarrier, .neighbourFailed] }
                return [.bridgeNoAddress, .vethDown, .bridgeDown, .bridgePortNotForwarding, .endpointInterfaceDown, .neighbourFailed]
            case "QDISC_DROP", "QDISC_OVERLIMIT", "QDISC_CONGESTED", "DEV_READY", "TC_EGRESS", "TC_INGRESS", "CPU_BACKLOG":
                if reason.hasPrefix("TC_") { return [.tcDrop] }
                switch evidence.dropRole {
                case .endpoint?, .hostVeth?: return [.vethDown, .endpointInterfaceDown, .qdiscDrop]
                case .uplink?: return [.uplinkNoCarrier, .uplinkDown, .qdiscDrop]
                default: return [.vethDown, .uplinkNoCarrier, .qdiscDrop]
                }
            case "BRIDGE_INGRESS_STP_STATE":
                return [.bridgeDown, .bridgePortNotForwarding]
            case "BPF_CGROUP_EGRESS", "BPF_CGROUP_INGRESS":
                return [.bpfCgroupDrop]
            case "SECURITY_HOOK":
                return [.securityDrop]
            default:
                return [.kernelDrop]
            }
        }
        // No drop: where the flow stopped says what to look at.
        if outcome.leftUnmasqueraded { return [.masqueradeMissing] }
        switch outcome.stoppedBefore {
        case .hostVethRX?, .endpointTX?:
            return [.vethDown, .endpointInterfaceDown, .bridgeNoAddress, .endpointNoDefaultRoute]
        case .bridgeRX?:
            return [.bridgeDown, .bridgePortNotForwarding, .vethNotAttached]
        case .uplinkQueue?:
            // Routed but never queued: the packet waits for the gateway's ARP on the uplink.
            return [.uplinkNoCarrier, .uplinkDown, .neighbourFailed, .noDefaultRoute]
        case .uplinkRX?:
            return [.masqueradeMissing, .uplinkNoCarrier, .noReply]
        case .bridgeTX?:
            return [.deviceForwardingDisabled, .forwardRuleDrop, .forwardPolicyDrop, .legacyIptablesDrop, .conntrackInvalid]
        case .hostVethTX?, .endpointRX?:
            return [.vethDown, .bridgePortNotForwarding]
        default:
            return []
        }
    }

    /// One finding for a stopped flow: the static finding that explains it if there is one,
    /// else what the kernel said, as precisely as it said it.
    public static func explain(_ evidence: Evidence, staticFindings: [Finding]) -> Finding {
        let outcome = evidence.outcome
        let candidates = candidates(evidence)
        let observed = observation(evidence)
        var finding: Finding
        if let match = candidates.lazy.compactMap({ code in
            staticFindings.first { $0.code == code && $0.severity != .info }
        }).first {
            finding = match
            // The trace saw packets die of it: whatever the static check thought, it is an error here.
            finding.severity = .error
            finding.evidence = observed + "; " + match.evidence
        } else {
            finding = Finding(code: fallbackCode(evidence, candidates: candidates), severity: .error,
                              message: fallbackMessage(evidence), evidence: observed,
                              device: evidence.dropDevice, netnsInode: outcome.path.hostNetnsInode)
        }
        if let verdict = evidence.netfilterVerdict {
            finding.message = "\(finding.message) (seen dropping: \(verdict))"
        }
        return finding
    }

    /// ARP for the gateway went unanswered: no IP packet ever left the endpoint.
    public static func explainUnansweredARP(path: EgressPath, requests: UInt64, staticFindings: [Finding]) -> Finding {
        let observed = "\(path.endpoint.interface) sent \(requests) ARP request\(requests == 1 ? "" : "s") and got no reply; no IP packet left the endpoint"
        let candidates: [FindingCode] = [.bridgeNoAddress, .vethDown, .bridgeDown, .bridgePortNotForwarding, .endpointInterfaceDown, .vethNotAttached]
        if let match = candidates.lazy.compactMap({ code in staticFindings.first { $0.code == code && $0.severity != .info } }).first {
            var finding = match
            finding.evidence = observed + "; " + match.evidence
            return finding
        }
        return Finding(code: .neighbourFailed, severity: .error,
                       message: "\(path.endpoint.name): its gateway does not answer ARP on \(path.endpoint.interface)",
                       evidence: observed, device: path.endpoint.interface, netnsInode: path.endpoint.netnsInode)
    }

    /// "icmp 172.17.0.2 -> 203.0.113.10: 3 packets reached bridge-rx, none uplink-queue; dropped: IP_INADDRERRORS at ip_error on br-lab"
    public static func observation(_ evidence: Evidence) -> String {
        let outcome = evidence.outcome
        var text = tupleText(outcome.flow)
        if let last = outcome.lastStage {
            text += ": \(outcome.stats.packets(at: last)) packet\(outcome.stats.packets(at: last) == 1 ? "" : "s") reached \(last.name)"
        } else {
            text += ": no packet reached any stage"
        }
        if let next = outcome.stoppedBefore { text += ", none \(next.name)" }
        if outcome.leftUnmasqueraded { text += "; left the uplink with the private source \(outcome.flow.endpointAddress)" }
        if let nat = outcome.stats.natAddress { text += "; masqueraded as \(nat)" }
        if let reason = evidence.reason {
            text += "; dropped: \(reason)"
            if let location = evidence.location { text += " at \(location)" }
            if let device = evidence.dropDevice { text += " on \(device)" }
        } else {
            text += "; no kernel drop"
        }
        return text
    }

    public static func tupleText(_ flow: FlowKey) -> String {
        let proto = IPProtocolName.of(flow.proto)
        if flow.proto == 1 { return "\(proto) \(flow.endpointAddress) -> \(flow.remoteAddress) id \(flow.endpointPort)" }
        return "\(proto) \(flow.endpointAddress):\(flow.endpointPort) -> \(flow.remoteAddress):\(flow.remotePort)"
    }

    private static func fallbackCode(_ evidence: Evidence, candidates: [FindingCode]) -> FindingCode {
        if evidence.reason == nil {
            if evidence.outcome.leftUnmasqueraded { return .masqueradeMissing }
            if evidence.outcome.stoppedBefore == .uplinkRX { return .noReply }
        }
        // The most general candidate: the last one, which names no particular setting.
        return candidates.last ?? .kernelDrop
    }

    private static func fallbackMessage(_ evidence: Evidence) -> String {
        let outcome = evidence.outcome
        let who = outcome.path.endpoint.name
        if let reason = evidence.reason {
            return "\(who): the kernel dropped its packets (\(reason)\(evidence.location.map { " at \($0)" } ?? "")) after \(outcome.lastStage?.name ?? "leaving the endpoint")"
        }
        if outcome.leftUnmasqueraded {
            return "\(who): packets leave \(outcome.path.uplink?.name ?? "the uplink") with the private source \(outcome.flow.endpointAddress); nothing masquerades them"
        }
        if outcome.stoppedBefore == .uplinkRX {
            return "\(who): packets left \(outcome.path.uplink?.name ?? "the uplink") (masqueraded as \(outcome.stats.natAddress.map { "\($0)" } ?? "?")) but no reply came back: the problem is beyond this host"
        }
        return "\(who): packets stop after \(outcome.lastStage?.name ?? "the endpoint") without a kernel drop"
    }
}
