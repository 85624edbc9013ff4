/// Explains a flow that stopped: every static finding of its path is weighed against the
/// kernel's evidence (the side and stage it stopped at, the drop's reason and device, the
/// firewall's verdict) through its code's declared effect (`FindingCode.effect`), and one that
/// no fact contradicts is the answer, with the trace as evidence. Without one, a code only
/// when the evidence itself supports it; else `unexplained`. Never a guess.
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

    /// What the trace saw, in `FlowEffect`'s terms: of a stopped flow, or of an endpoint whose
    /// ARP went unanswered before any packet left it.
    struct Facts {
        var direction: PacketDirection
        var stoppedBefore: PathStage
        var reason: DropReason.Name?
        var dropDevice: String?
        var dropRole: DeviceRole?
        var verdict: String?
        var masqueraded: Bool
        /// The flow's family: a finding about the other family's packets cannot explain it.
        var family: IPAddress.Family

        init(_ evidence: Evidence, stoppedBefore: PathStage) {
            let outcome = evidence.outcome
            direction = outcome.direction
            self.stoppedBefore = stoppedBefore
            // IPv6's neighbour discovery gives up without a reason of its own: ndisc's error
            // report frees the waiting packets as NOT_SPECIFIED from neigh_invalidate. That
            // function is the fact that the neighbour failed.
            if evidence.reason?.name == .notSpecified && evidence.location == "neigh_invalidate" {
                reason = .neighbourFailed
            } else {
                reason = evidence.reason?.name
            }
            dropDevice = evidence.dropDevice
            dropRole = evidence.dropRole
            verdict = evidence.netfilterVerdict
            masqueraded = outcome.stats.natAddress != nil
            family = outcome.flow.endpointAddress.family
        }

        /// ARP (or NDP) from the endpoint unanswered: the same fact as its NEIGH_FAILED, before endpoint-tx.
        init(unansweredNeighbourOn path: EgressPath, family: IPAddress.Family) {
            direction = .egress
            stoppedBefore = .endpointTX
            reason = .neighbourFailed
            dropDevice = path.endpoint.interface
            dropRole = .endpoint
            masqueraded = false
            self.family = family
        }
    }

    /// How a static finding fits what the trace saw.
    enum Fit: Comparable {
        /// Its effect contradicts a fact (another stage, side, reason, device or rule).
        case contradicted
        /// Nothing the trace saw contradicts it.
        case consistent
        /// The trace named the finding's own device or rule.
        case named
    }

    /// Weighs one static finding against the trace: its code's effect (`FindingCode.effect`)
    /// must admit the side that stopped, the stage, the drop's reason and device, and the
    /// firewall's verdict.
    static func fit(_ finding: Finding, _ facts: Facts) -> Fit {
        guard finding.severity != .info, let effect = finding.code.effect, finding.family.map({ $0 == facts.family }) ?? true else { return .contradicted }
        if let stops = finding.stops, stops != facts.direction { return .contradicted }
        if effect.needsUnmasqueraded && facts.masqueraded { return .contradicted }
        let onItsDevice = facts.reason != nil && facts.dropDevice != nil && facts.dropDevice == finding.device
        let admitted = effect.stops.contains { stop in
            guard stop.replies == facts.direction.isReply, stop.inbound == (facts.direction.flow == .inbound),
                  stop.before.contains(facts.stoppedBefore) else { return false }
            guard let reason = facts.reason else { return stop.silent }
            return stop.reasons.contains(reason) && (!stop.onFindingDevice || onItsDevice)
                && (stop.roles.map { roles in facts.dropRole.map(roles.contains) == true } ?? true)
        }
        guard admitted else { return .contradicted }
        switch effect.firewall {
        case .notInvolved:
            break
        case .namesTheFinding:
            if let verdict = facts.verdict {
                guard let named = FirewallPlace(verdict), let own = FirewallPlace(finding.evidence), named.isSame(as: own) else { return .contradicted }
                return .named
            }
        case .noRule:
            if facts.verdict != nil { return .contradicted }
        }
        return onItsDevice ? .named : .consistent
    }

    /// The static findings consistent with the trace, in the order a claim is chosen: those the
    /// trace named (their device or rule) first, then errors before warnings, then the checks'
    /// own order (the path's: the endpoint, host devices, forwarding, routes, the firewall).
    static func consistent(_ facts: Facts, _ staticFindings: [Finding]) -> [Finding] {
        staticFindings.enumerated()
            .map { (fit: fit($0.element, facts), offset: $0.offset, finding: $0.element) }
            .filter { $0.fit != .contradicted }
            .sorted { ($0.fit == .named ? 0 : 1, $0.finding.severity, $0.offset) < ($1.fit == .named ? 0 : 1, $1.finding.severity, $1.offset) }
            .map(\.finding)
    }

    /// One finding for a stopped flow: the static finding the trace is consistent with if there
    /// is one; else a code the kernel's evidence itself supports (a rule the trace named, a
    /// reason specific enough); else `unexplained`, with the stage, reason, location and device.
    public static func explain(_ evidence: Evidence, staticFindings: [Finding]) -> Finding {
        let outcome = evidence.outcome
        let observed = observation(evidence)
        var finding: Finding
        let matches = outcome.stoppedBefore.map { consistent(Facts(evidence, stoppedBefore: $0), staticFindings) } ?? []
        if let match = matches.first {
            finding = match
            // The trace saw packets die of it: whatever the static check thought, it is an error here.
            finding.severity = .error
            finding.evidence = observed + "; " + match.evidence + alsoConsistent(matches.dropFirst())
            // The firewall named the rule for the packet itself: its narrowest fix is the flow's.
            if let fix = evidence.netfilterFix, match.code.effect?.firewall == .namesTheFinding {
                finding.fix = fix.commands(in: NamespaceCommand(path: outcome.path.hostNetnsPath, isRoot: outcome.path.hostIsRoot))
                if !finding.evidence.contains(fix.evidence) { finding.evidence += "; fix: \(fix.evidence)" }
            }
        } else {
            let claim = claim(evidence, staticFindings: staticFindings) ?? unexplained(evidence, staticFindings: staticFindings)
            finding = Finding(code: claim.code, severity: .error, message: claim.message, evidence: observed + claim.evidence, fix: claim.fix,
                              device: evidence.dropDevice ?? (claim.code == .conntrackInvalid ? outcome.path.uplink?.name : nil),
                              netnsInode: evidence.dropRole == .endpoint ? outcome.path.endpoint.netnsInode : outcome.path.hostNetnsInode,
                              family: outcome.flow.endpointAddress.family)
        }
        if let verdict = evidence.netfilterVerdict {
            finding.message = "\(finding.message) (seen dropping: \(verdict))"
        }
        return finding
    }

    /// ARP for the gateway went unanswered: no IP packet ever left the endpoint.
    public static func explainUnansweredNeighbour(path: EgressPath, family: IPAddress.Family, requests: UInt64, staticFindings: [Finding]) -> Finding {
        let asked = family == .v4 ? "ARP request" : "neighbour solicitation"
        let observed = "\(path.endpoint.interface) sent \(requests) \(asked)\(requests == 1 ? "" : "s") and got no reply; no IP\(family == .v4 ? "" : "v6") packet left the endpoint"
        let matches = consistent(Facts(unansweredNeighbourOn: path, family: family), staticFindings)
        if let match = matches.first {
            var finding = match
            finding.severity = .error
            finding.evidence = observed + "; " + match.evidence + alsoConsistent(matches.dropFirst())
            return finding
        }
        return Finding(code: .neighbourFailed, severity: .error,
                       message: "\(path.endpoint.name): its gateway does not answer \(family == .v4 ? "ARP" : "neighbour discovery (NDP)") on \(path.endpoint.interface)",
                       evidence: observed, device: path.endpoint.interface, netnsInode: path.endpoint.netnsInode, family: family)
    }

    /// The other static findings the trace is consistent with, kept as evidence.
    private static func alsoConsistent(_ others: ArraySlice<Finding>) -> String {
        guard !others.isEmpty else { return "" }
        var named: [String] = []
        for other in others {
            let name = "\(other.code.rawValue)\(other.device.map { " (\($0))" } ?? "")"
            if !named.contains(name) { named.append(name) }
        }
        return "; also consistent with the trace: " + named.joined(separator: ", ")
    }

    /// "icmp 172.17.0.2 -> 203.0.113.10: 3 packets reached bridge-rx, none uplink-queue; dropped: IP_INADDRERRORS at ip_error on br-lab"
    public static func observation(_ evidence: Evidence) -> String {
        let outcome = evidence.outcome
        var text = outcome.text
        if let last = outcome.lastStage, PathStage.counted.contains(last) {
            text += ": \(outcome.stats.packets(at: last)) packet\(outcome.stats.packets(at: last) == 1 ? "" : "s") reached \(outcome.name(last))"
        } else if let last = outcome.lastStage {
            // DNAT and FORWARD have no counter: a drop past them, or a later stage, says they were passed.
            text += ": packets passed \(outcome.name(last))"
        } else {
            text += ": no packet reached any stage"
        }
        if let next = outcome.stoppedBefore { text += ", none \(outcome.name(next))" }
        if outcome.leftUnmasqueraded { text += "; left the uplink with the private source \(outcome.flow.endpointAddress)" }
        if let nat = outcome.stats.natAddress, outcome.flowDirection == .egress { text += "; masqueraded as \(nat)" }
        if let reason = evidence.reason {
            text += "; dropped: \(reason)"
            if let location = evidence.location { text += " at \(location)" }
            if let device = evidence.dropDevice { text += " on \(device)" }
        } else {
            text += "; no kernel drop"
        }
        return text
    }

    /// A code the kernel's evidence supports by itself, when no static finding explains the flow:
    /// a rule or policy the firewall named, a reason that names its mechanism (a tc filter,
    /// rp_filter, a neighbour unanswered, a qdisc, a martian source, a cgroup BPF program, an
    /// LSM) on the device it names, or what the stages show (a private source on the uplink, no
    /// reply to masqueraded packets). Each with the command that undoes it where the evidence
    /// names the thing responsible. Nil when nothing is specific enough: no guess.
    private static func claim(_ evidence: Evidence, staticFindings: [Finding]) -> (code: FindingCode, message: String, evidence: String, fix: String?)? {
        let outcome = evidence.outcome
        let path = outcome.path
        let who = path.endpoint.name
        let after = outcome.lastStage.map(outcome.name) ?? "leaving the endpoint"
        let host = NamespaceCommand(path: path.hostNetnsPath, isRoot: path.hostIsRoot)
        let here = evidence.dropRole == .endpoint ? NamespaceCommand(path: path.endpoint.netnsPath, isRoot: false) : host
        let replies = outcome.direction.isReply ? "the replies to its packets" : "its packets"
        if let reason = evidence.reason?.name {
            switch (reason, evidence.dropDevice) {
            case (.netfilterDrop, _) where evidence.netfilterRule != nil:
                let rule = evidence.netfilterRule ?? ""
                // The narrowest fix the ruleset shows (RuleFix); deleting the rule only when it drops nothing but this flow.
                return (.netfilterDrop, "\(who): the nftables rule \(rule) drops \(replies) after \(after)" + (evidence.netfilterFix.map { "; fix: \($0.evidence)" } ?? ""),
                        "", evidence.netfilterFix.map { $0.commands(in: host) })
            case (.netfilterDrop, _) where evidence.netfilterVerdict != nil:
                return (.netfilterDrop, "\(who): the firewall drops \(replies) after \(after)", "", evidence.netfilterFix.map { $0.commands(in: host) })
            case (.tcIngress, let device?), (.tcEgress, let device?):
                let hook = reason == .tcIngress ? "ingress" : "egress"
                return (.tcDrop, "\(who): a tc filter on \(device)'s \(hook) hook drops \(replies) (\(reason)); `tc filter show dev \(device) \(hook)` lists it",
                        "", here.run("tc filter del dev \(shellWord(device)) \(hook)"))
            case (.qdiscDrop, let device?):
                return (.qdiscDrop, "\(who): \(device)'s queueing discipline drops \(replies) (QDISC_DROP) though \(device) is up; `tc qdisc show dev \(device)` shows it",
                        "", here.run("tc qdisc del dev \(shellWord(device)) root"))
            case (.ipRPFilter, let device?):
                return (.rpFilterDrop, "\(who): reverse-path filtering on \(device) drops \(replies) (IP_RPFILTER): the route back to their source does not leave by \(device)",
                        "", ReversePathFilter.looseFix(device: device, host))
            case (.neighbourFailed, let device?) where evidence.dropRole == .uplink, (.neighbourQueueFull, let device?) where evidence.dropRole == .uplink:
                return (.neighbourFailed, "\(who): no ARP answer from the gateway \(path.gateway.map { "\($0)" } ?? "of the default route") on \(device) (\(reason)): "
                        + "it is down or unreachable, or the requests never left \(device) (`tc qdisc show dev \(device)`)", "", nil)
            case (.neighbourFailed, let device?), (.neighbourQueueFull, let device?):
                return (.neighbourFailed, "\(who): no ARP answer for \(replies) on \(device) (\(reason))", "", nil)
            case (.ipInvalidSource, _), (.ipLocalSource, _), (.ipLocalnet, _), (.ipInvalidDestination, _):
                return (.martianSource, "\(who): the kernel refuses \(replies) as martian (\(reason))\(evidence.dropDevice.map { " on \($0)" } ?? "") after \(after)", "", nil)
            case (.bpfCgroupEgress, _), (.bpfCgroupIngress, _):
                return (.bpfCgroupDrop, "\(who): a cgroup BPF program drops \(replies) (\(reason)); `bpftool cgroup tree` lists it", "", nil)
            case (.securityHook, _):
                return (.securityDrop, "\(who): a security module (LSM) drops \(replies) (SECURITY_HOOK) after \(after)", "", nil)
            default:
                return nil
            }
        }
        let uplink = path.uplink?.name ?? "the uplink"
        if outcome.leftUnmasqueraded {
            // The checks read the firewall (nothing unchecked) and found source NAT covering the
            // endpoint, yet packets left unmasqueraded: NAT skipped them as conntrack-INVALID.
            if !staticFindings.contains(where: { $0.code == .unchecked }) {
                return (.conntrackInvalid, "\(who): packets leave \(uplink) with the private source \(outcome.flow.endpointAddress) although source NAT covers it: "
                        + "NAT skips packets conntrack marks INVALID (mid-stream TCP without a conntrack entry, e.g. with net.netfilter.nf_conntrack_tcp_loose=0)",
                        "", host.run("iptables -I FORWARD -o \(shellWord(uplink)) -m conntrack --ctstate INVALID -j DROP"))
            }
            return (.masqueradeMissing, "\(who): packets leave \(uplink) with the private source \(outcome.flow.endpointAddress); nothing masquerades them", "", nil)
        }
        if outcome.stoppedBefore == .uplinkRX, let nat = outcome.stats.natAddress {
            return (.noReply, "\(who): packets left \(uplink) (masqueraded as \(nat)) but no reply came back: the problem is beyond this host", "", nil)
        }
        return nil
    }

    /// No fact explains the stop: say where it happened and what the kernel said, and which
    /// checks were weighed, with no fix.
    private static func unexplained(_ evidence: Evidence, staticFindings: [Finding]) -> (code: FindingCode, message: String, evidence: String, fix: String?) {
        let outcome = evidence.outcome
        let replies = outcome.direction.isReply ? "the replies to its packets" : "its packets"
        var message = "\(outcome.path.endpoint.name): \(replies) stop"
        message += outcome.lastStage.map { " after \(outcome.name($0))" } ?? " before any stage"
        if let next = outcome.stoppedBefore, outcome.lastStage != nil { message += ", before \(outcome.name(next))" }
        if let reason = evidence.reason {
            message += "; the kernel dropped them (\(reason)\(evidence.location.map { " at \($0)" } ?? "")"
            if let device = evidence.dropDevice { message += " on \(device)\(evidence.dropRole.map { ", \(roleName($0))" } ?? "")" }
            message += ")"
        } else {
            message += " without a kernel drop"
        }
        message += "; no setting read or rule named explains it"
        let weighed = staticFindings.filter { $0.severity != .info && $0.code.effect != nil }
        let note = weighed.isEmpty ? "; no static finding on the path"
            : "; static findings weighed, each contradicted by the trace: " + weighed.map { "\($0.code.rawValue)\($0.device.map { " (\($0))" } ?? "")" }.joined(separator: ", ")
        return (.unexplained, message, note, nil)
    }

    private static func roleName(_ role: DeviceRole) -> String {
        switch role {
        case .endpoint: return "the endpoint's interface"
        case .hostVeth: return "the host veth"
        case .bridge: return "the bridge"
        case .uplink: return "the uplink"
        }
    }
}

/// A firewall place as both the static checks and the trace describe it: "inet labfilter
/// forward handle 2: ...", "ip filter FORWARD rule 1, handle 5 (iptables-nft): ...",
/// "ip filter FORWARD policy drop (iptables-legacy)". Two descriptions name the same rule when
/// the table and chain agree and so do the handle (or, without one, the rule's position) or policy.
struct FirewallPlace: Equatable {
    var place: String
    var handle: String?
    var position: String?
    var isPolicy = false

    init?(_ text: String) {
        let words = text.split(separator: " ")
        guard words.count >= 4 else { return nil }
        place = words[0..<3].joined(separator: " ")
        var index = 3
        while index < words.count {
            let word = words[index], next = index + 1 < words.count ? words[index + 1] : ""
            switch word {
            case "handle", "rule":
                let number = String(next.filter(\.isNumber))
                if word == "handle" { handle = number } else { position = number }
                // The rule's own text follows the colon: its words are not the place's.
                if next.hasSuffix(":") { index = words.count }
                index += 2
            case "policy":
                isPolicy = true
                index = words.count
            default:
                index = word.hasSuffix(":") ? words.count : index + 1
            }
        }
        guard handle != nil || position != nil || isPolicy else { return nil }
    }

    func isSame(as other: FirewallPlace) -> Bool {
        guard place == other.place else { return false }
        if let handle, let theirs = other.handle { return handle == theirs }
        if let position, let theirs = other.position { return position == theirs }
        return isPolicy && other.isPolicy
    }
}
