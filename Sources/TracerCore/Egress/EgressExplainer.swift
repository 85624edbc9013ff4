/// Explains a flow that stopped: the kernel's evidence (the last stage reached, the drop
/// reason and where it happened) picks the settings that could cause it; the static checks
/// of the path say which of those is actually wrong. The finding names that setting or
/// rule and carries its fix, with the trace as evidence.
public enum EgressExplainer {
    /// What the trace saw of one stopped flow.
    public struct Evidence: Sendable {
        public var outcome: FlowOutcome
        /// The kernel's reason for the last drop, and the function that dropped it.
        public var reason: DropReason?
        public var location: String?
        /// The device of the drop, and what it is to the path.
        public var dropDevice: String?
        public var dropRole: DeviceRole?
        /// The nftables trace's verdict, when it named a rule or policy.
        public var netfilterVerdict: String?
        /// The nftables rule that dropped them, as `nft delete rule` takes it.
        public var netfilterRule: String?
        /// The narrowest firewall change that lets this flow through (see `RuleFix`).
        public var netfilterFix: RuleFix?

        public init(outcome: FlowOutcome, reason: DropReason? = nil, location: String? = nil, dropDevice: String? = nil,
                    dropRole: DeviceRole? = nil, netfilterVerdict: String? = nil, netfilterRule: String? = nil,
                    netfilterFix: RuleFix? = nil) {
            self.outcome = outcome
            self.reason = reason
            self.location = location
            self.dropDevice = dropDevice
            self.dropRole = dropRole
            self.netfilterVerdict = netfilterVerdict
            self.netfilterRule = netfilterRule
            self.netfilterFix = netfilterFix
        }
    }

    /// The codes that could explain the evidence, likeliest first.
    public static func candidates(_ evidence: Evidence) -> [FindingCode] {
        let outcome = evidence.outcome
        let reply = outcome.direction.isReply
        if let reason = evidence.reason?.name {
            switch reason {
            case .ipInAddrErrors:
                return reply ? [.deviceForwardingDisabled, .ipForwardDisabled] : [.ipForwardDisabled, .deviceForwardingDisabled]
            case .ipInNoRoutes, .ipOutNoRoutes:
                return [.uplinkDown, .noDefaultRoute, .endpointNoDefaultRoute, .noRoute, .policyRuleDrop]
            case .notSpecified where evidence.location == "ip_error":
                // A blackhole, unreachable or prohibit policy rule (or route) gives ip_error no reason of its own.
                return [.policyRuleDrop, .noDefaultRoute, .noRoute]
            case .netfilterDrop:
                if evidence.location == "nf_hook_slow" {
                    return [.legacyIptablesDrop, .forwardPolicyDrop, .forwardRuleDrop, .netfilterDrop]
                }
                return [.forwardRuleDrop, .forwardPolicyDrop, .legacyIptablesDrop, .netfilterDrop]
            case .packetTooBig, .fragmentTooFar, .ipFragmentTooFar:
                return [.mtuMismatch]
            case .ipRPFilter:
                return [.rpFilterDrop]
            case .ipInvalidSource, .ipLocalSource, .ipLocalnet, .ipInvalidDestination:
                return [.martianSource]
            case .neighbourFailed, .neighbourQueueFull, .neighbourCreateFailed, .neighbourDead:
                if evidence.dropRole == .uplink { return [.uplinkNoCarrier, .neighbourFailed] }
                return [.bridgeNoAddress, .vethDown, .bridgeDown, .bridgePortNotForwarding, .endpointInterfaceDown, .neighbourFailed]
            case .qdiscDrop, .qdiscOverlimit, .qdiscCongested, .deviceReady, .tcEgress, .tcIngress, .cpuBacklog:
                if reason.isTrafficControl { return [.tcDrop] }
                switch evidence.dropRole {
                case .endpoint?, .hostVeth?: return [.vethDown, .endpointInterfaceDown, .qdiscDrop]
                case .uplink?: return [.uplinkNoCarrier, .uplinkDown, .qdiscDrop]
                default: return [.vethDown, .uplinkNoCarrier, .qdiscDrop]
                }
            case .bridgeIngressSTPState:
                return [.bridgeDown, .bridgePortNotForwarding]
            case .bpfCgroupEgress, .bpfCgroupIngress:
                return [.bpfCgroupDrop]
            case .securityHook:
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
            let code = fallbackCode(evidence, candidates: candidates, staticFindings: staticFindings)
            let (message, fix) = fallback(evidence, code: code)
            finding = Finding(code: code, severity: .error, message: message, evidence: observed, fix: fix,
                              device: evidence.dropDevice ?? (code == .conntrackInvalid ? outcome.path.uplink?.name : nil),
                              netnsInode: evidence.dropRole == .endpoint ? outcome.path.endpoint.netnsInode : outcome.path.hostNetnsInode)
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
        var text = outcome.text
        if let last = outcome.lastStage {
            text += ": \(outcome.stats.packets(at: last)) packet\(outcome.stats.packets(at: last) == 1 ? "" : "s") reached \(outcome.name(last))"
        } else {
            text += ": no packet reached any stage"
        }
        if let next = outcome.stoppedBefore { text += ", none \(outcome.name(next))" }
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

    private static func fallbackCode(_ evidence: Evidence, candidates: [FindingCode], staticFindings: [Finding]) -> FindingCode {
        if evidence.reason == nil {
            // The checks read the firewall (nothing unchecked) and found source NAT covering the
            // endpoint, yet packets left unmasqueraded: NAT skipped them as conntrack-INVALID.
            if evidence.outcome.leftUnmasqueraded {
                return staticFindings.contains { $0.code == .unchecked } ? .masqueradeMissing : .conntrackInvalid
            }
            if evidence.outcome.stoppedBefore == .uplinkRX { return .noReply }
        }
        // The most general candidate: the last one, which names no particular setting.
        return candidates.last ?? .kernelDrop
    }

    /// What the kernel's own evidence says when no static check explains it, and the command
    /// that undoes it where the evidence names the thing responsible.
    private static func fallback(_ evidence: Evidence, code: FindingCode) -> (message: String, fix: String?) {
        let outcome = evidence.outcome
        let path = outcome.path
        let who = path.endpoint.name
        let after = outcome.lastStage.map(outcome.name) ?? "leaving the endpoint"
        let host = NamespaceCommand(path: path.hostNetnsPath, isRoot: path.hostIsRoot)
        let here = evidence.dropRole == .endpoint ? NamespaceCommand(path: path.endpoint.netnsPath, isRoot: false) : host
        let replies = outcome.direction.isReply ? "the replies to its packets" : "its packets"
        if let reason = evidence.reason?.name {
            if reason == .netfilterDrop, let rule = evidence.netfilterRule ?? evidence.netfilterFix.flatMap({ _ in evidence.netfilterVerdict }) {
                // The narrowest fix the ruleset shows; deleting the rule only when it drops nothing but this flow.
                let fix = evidence.netfilterFix
                return ("\(who): the firewall rule \(rule) drops \(replies) after \(after)\(fix.map { "; \($0.evidence)" } ?? "")",
                        fix.map { host.run($0.command) })
            }
            switch (reason, evidence.dropDevice) {
            case (.tcIngress, let device?), (.tcEgress, let device?):
                let hook = reason == .tcIngress ? "ingress" : "egress"
                return ("\(who): a tc filter on \(device)'s \(hook) hook drops \(replies) (\(reason)); `tc filter show dev \(device) \(hook)` lists it",
                        here.run("tc filter del dev \(shellWord(device)) \(hook)"))
            case (.qdiscDrop, let device?):
                return ("\(who): \(device)'s queueing discipline drops \(replies) (QDISC_DROP) though \(device) is up; `tc qdisc show dev \(device)` shows it",
                        here.run("tc qdisc del dev \(shellWord(device)) root"))
            case (.ipRPFilter, let device?):
                return ("\(who): reverse-path filtering on \(device) drops \(replies) (IP_RPFILTER): the route back to their source does not leave by \(device)",
                        host.sysctl("net/ipv4/conf/all/rp_filter", "2") + " && " + host.sysctl("net/ipv4/conf/\(device)/rp_filter", "2"))
            case (_, let device?) where reason.isNeighbour && evidence.dropRole == .uplink:
                return ("\(who): no ARP answer from the gateway \(path.gateway.map { "\($0)" } ?? "of the default route") on \(device) (\(reason)): "
                        + "it is down or unreachable, or the requests never left \(device) (`tc qdisc show dev \(device)`)", nil)
            default:
                return ("\(who): the kernel dropped \(replies) (\(reason)\(evidence.location.map { " at \($0)" } ?? "")) after \(after)", nil)
            }
        }
        let uplink = path.uplink?.name ?? "the uplink"
        if outcome.leftUnmasqueraded {
            if code == .conntrackInvalid {
                return ("\(who): packets leave \(uplink) with the private source \(outcome.flow.endpointAddress) although source NAT covers it: "
                        + "NAT skips packets conntrack marks INVALID (mid-stream TCP without a conntrack entry, e.g. with net.netfilter.nf_conntrack_tcp_loose=0)",
                        host.run("iptables -I FORWARD -o \(shellWord(uplink)) -m conntrack --ctstate INVALID -j DROP"))
            }
            return ("\(who): packets leave \(uplink) with the private source \(outcome.flow.endpointAddress); nothing masquerades them", nil)
        }
        if outcome.stoppedBefore == .uplinkRX {
            return ("\(who): packets left \(uplink) (masqueraded as \(outcome.stats.natAddress.map { "\($0)" } ?? "?")) but no reply came back: the problem is beyond this host", nil)
        }
        return ("\(who): packets stop after \(outcome.lastStage.map(outcome.name) ?? "the endpoint") without a kernel drop", nil)
    }
}
