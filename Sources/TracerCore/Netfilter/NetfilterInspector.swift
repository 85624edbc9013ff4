/// What the static netfilter checks found on one egress path.
public struct NetfilterReport: Sendable, Equatable {
    public var findings: [Finding]
    /// What could not be read, and why (a tool missing, no permission, no uplink).
    public var unchecked: [String]
    /// The rules read, for callers that name rules from trace events.
    public var ruleset: Ruleset

    public init(findings: [Finding], unchecked: [String], ruleset: Ruleset) {
        self.findings = findings
        self.unchecked = unchecked
        self.ruleset = ruleset
    }
}

/// Static netfilter checks of one egress path, read-only: a packet from the endpoint to an internet
/// address (bridge -> uplink, ct state new) and its reply (uplink -> bridge, established) through
/// the forward chains of every backend and priority, and source NAT in postrouting.
public enum NetfilterInspector {
    /// Reads the host side's ruleset and checks it. Needs root (enters `path.hostNetnsPath`).
    /// `destination`: the address the endpoint fails to reach, if known; else "any internet address".
    public static func inspect(path: EgressPath, destination: IPAddress? = nil) -> NetfilterReport {
        inspect(path: path, reading: RulesetReader.read(netnsPath: path.hostNetnsPath), destination: destination)
    }

    /// Checks an already read ruleset (pure).
    public static func inspect(path: EgressPath, reading: RulesetReading, destination: IPAddress? = nil) -> NetfilterReport {
        var findings: [Finding] = []
        var unchecked = reading.unchecked
        let ruleset = reading.ruleset
        // Fixes run in the host side, spelled as every other fix is (`NamespaceCommand`).
        let host = NamespaceCommand(path: path.hostNetnsPath, isRoot: path.hostIsRoot)
        let ns = path.hostNetnsInode

        // Nothing read is not "no rules": claim nothing about chains we could not see.
        if ruleset.tables.isEmpty && reading.unchecked.contains(where: { $0.hasPrefix("nftables") || $0.hasPrefix("netfilter") }) {
            unchecked.append("netfilter: no ruleset could be read; forward chains and NAT not checked")
            return NetfilterReport(findings: findings, unchecked: unchecked, ruleset: ruleset)
        }
        let addresses = path.endpoint.ipv4.map { ($0.address, $0.network) }
        guard let ingress = path.bridge?.name ?? path.hostVeth?.name else {
            unchecked.append("netfilter: no host-side device for \(path.endpoint.name); forward chains not checked")
            return NetfilterReport(findings: findings, unchecked: unchecked, ruleset: ruleset)
        }
        guard let uplink = path.uplink?.name else {
            unchecked.append("netfilter: no uplink (no default route) in the host namespace; forward chains and NAT not checked")
            return NetfilterReport(findings: findings, unchecked: unchecked, ruleset: ruleset)
        }
        if addresses.isEmpty {
            unchecked.append("netfilter: \(path.endpoint.name) has no IPv4 address; forward chains and NAT not checked")
        }
        let target = destination
        let targetText = destination.map { "\($0)" } ?? "the internet"

        for (address, subnet) in addresses {
            let source = "\(address)"
            let egress = ImaginedPacket(source: address, destination: target, inInterface: ingress, outInterface: uplink, ctState: "new")
            let reply = ImaginedPacket(source: target, destination: address, inInterface: uplink, outInterface: ingress, ctState: "established")
            for (direction, packet, stops) in [("egress \(source) -> \(targetText) (\(ingress) -> \(uplink))", egress, PacketDirection.egress),
                                               ("reply \(targetText) -> \(source) (\(uplink) -> \(ingress))", reply, .egressReply)] {
                for drop in ForwardEvaluator.drops(in: ruleset, hook: "forward", packet: packet) {
                    var found = finding(for: drop, direction: direction, run: host, netns: ns, device: ingress)
                    found.stops = stops
                    findings.append(found)
                }
            }
            let nat = ImaginedPacket(source: address, destination: target, inInterface: ingress, outInterface: uplink, ctState: "new")
            if ForwardEvaluator.sourceNat(in: ruleset, packet: nat) == nil {
                findings.append(masqueradeMissing(subnet: subnet, source: source, uplink: uplink, ruleset: ruleset, run: host, netns: ns))
            }
        }

        if ruleset.hasLegacyTables && ruleset.hasNftTables {
            let legacy = ruleset.tables.filter { $0.backend == .iptablesLegacy }.map(\.name).joined(separator: ", ")
            let nft = ruleset.tables.filter { $0.backend != .iptablesLegacy }.map { "\($0.label) (\($0.backend.rawValue))" }
                .joined(separator: ", ")
            findings.append(Finding(
                code: .iptablesBackendsMixed, severity: .warning,
                message: "both iptables-legacy and nftables tables are loaded: a packet must pass both, and each is invisible to the other's tools",
                evidence: "iptables-legacy: \(legacy); nftables: \(nft)",
                fix: host.run("iptables-legacy-save") + "  # move these rules to the nft backend, then: "
                    + host.run("iptables-legacy -F") + " && " + host.run("iptables-legacy -P FORWARD ACCEPT"),
                netnsInode: ns))
        }
        return NetfilterReport(findings: dedupe(findings), unchecked: unchecked, ruleset: ruleset)
    }

    /// "ip filter FORWARD policy drop (iptables-nft)" / "inet labfilter forward handle 2: ... drop".
    public static func describe(_ drop: NetfilterDrop) -> String {
        let place = "\(drop.family) \(drop.table) \(drop.chain)"
        guard let rule = drop.rule else { return "\(place) policy drop (\(drop.backend.rawValue))" }
        let via = drop.chain == drop.baseChain ? "" : " (from \(drop.baseChain))"
        switch drop.backend {
        case .nftables:
            return "\(place)\(via) handle \(rule.handle.map(String.init) ?? "?"): \(rule.text)"
        case .iptablesNft, .iptablesLegacy:
            let handle = rule.handle.map { ", handle \($0)" } ?? ""
            return "\(place)\(via) rule \(rule.position)\(handle) (\(drop.backend.rawValue)): \(rule.text)"
        }
    }

    /// The finding for a drop the evaluator found on a direction ("egress 172.17.0.2 -> the
    /// internet (br0 -> eth0)"); the published-port checks use it for inbound flows, so a drop
    /// gets the same code whichever way it is met.
    /// `narrowest`: the ruleset and the one packet the finding is about (a published port's
    /// DNAT'd flow), when the fix may open only that flow (`NarrowestFix`); else the fix undoes
    /// the rule or policy, which stops everything it stops.
    static func finding(for drop: NetfilterDrop, direction: String, run host: NamespaceCommand, netns: UInt64, device: String,
                        narrowest: (ruleset: Ruleset, packet: ImaginedPacket)? = nil) -> Finding {
        let what = describe(drop)
        let severity: Finding.Severity = drop.certain ? .error : .warning
        let verb = drop.certain ? "drops" : "may drop"
        let iptables = drop.backend == .iptablesLegacy ? "iptables-legacy" : "iptables-nft"
        var evidence = what
        if let rule = drop.rule {
            if let comment = rule.comment, !rule.text.contains(comment) { evidence += " comment \"\(comment)\"" }
            if let packets = rule.packets { evidence += "; counter \(packets) packets" }
        }
        let fix: String
        let code: FindingCode
        if let rule = drop.rule {
            code = drop.backend == .iptablesLegacy ? .legacyIptablesDrop : .forwardRuleDrop
            switch drop.backend {
            case .nftables:
                fix = host.run("nft delete rule \(drop.family) \(drop.table) \(drop.chain) handle \(rule.handle.map(String.init) ?? "<handle>")")
            case .iptablesNft, .iptablesLegacy:
                let spec = rule.text.hasPrefix("-A ") ? String(rule.text.dropFirst(3)) : "\(drop.chain) \(rule.position)"
                fix = host.run("\(iptables) -t \(drop.table) -D \(spec)")
            }
        } else {
            code = drop.backend == .iptablesLegacy ? .legacyIptablesDrop : .forwardPolicyDrop
            switch drop.backend {
            case .nftables:
                fix = host.run("nft chain \(drop.family) \(drop.table) \(drop.chain) '{ policy accept; }'")
            case .iptablesNft, .iptablesLegacy:
                fix = host.run("\(iptables) -t \(drop.table) -P \(drop.chain) ACCEPT")
            }
        }
        var narrowFix = fix
        if let narrowest, drop.certain,
           let rule = NarrowestFix.fix(ruleset: narrowest.ruleset, drop: NarrowestFix.Drop(
               family: drop.family, table: drop.table, backend: drop.backend, chain: drop.chain, handle: drop.rule?.handle,
               position: drop.backend == .nftables ? nil : drop.rule?.position), packet: narrowest.packet) {
            narrowFix = host.run(rule.command)
            evidence += "; fix: \(rule.evidence)"
        }
        return Finding(code: code, severity: severity, message: "\(what) \(verb) \(direction)", evidence: evidence, fix: narrowFix,
                       device: device, netnsInode: netns)
    }

    private static func masqueradeMissing(subnet: IPPrefix, source: String, uplink: String, ruleset: Ruleset, run host: NamespaceCommand,
                                          netns: UInt64) -> Finding {
        let natChains = ForwardEvaluator.baseChains(ruleset, hook: "postrouting", type: "nat")
        let evidence = natChains.isEmpty
            ? "no nat postrouting chain in any backend"
            : "nat postrouting chains: " + natChains.map { "\($0.0.label) \($0.1.name) (\($0.0.backend.rawValue), \($0.1.rules.count) rules)" }
                .joined(separator: ", ")
        let legacyOnly = ruleset.hasLegacyTables && !ruleset.hasNftTables
        let tool = legacyOnly ? "iptables-legacy" : "iptables-nft"
        return Finding(
            code: .masqueradeMissing, severity: .error,
            message: "no SNAT/MASQUERADE covers \(subnet.ruleText) (\(source)) out of \(uplink): packets leave with a private source and replies never come back",
            evidence: evidence,
            fix: host.run("\(tool) -t nat -A POSTROUTING -s \(subnet.ruleText) -o \(uplink) -j MASQUERADE"),
            device: uplink, netnsInode: netns)
    }

    private static func dedupe(_ findings: [Finding]) -> [Finding] {
        var seen: Set<String> = []
        return findings.filter { seen.insert("\($0.code.rawValue)|\($0.message)").inserted }
    }
}
