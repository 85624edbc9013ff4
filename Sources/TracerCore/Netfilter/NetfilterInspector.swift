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
/// the forward chains of every backend and priority, and source NAT in postrouting; for each
/// family the endpoint has addresses of (IPv6: the tables ip6 and inet, and the ICMPv6 that PMTU
/// discovery and neighbour discovery need).
public enum NetfilterInspector {
    /// The endpoint's IPv6 addresses (global ones, ULAs included) and the device the host side's
    /// IPv6 default route leaves by: read with the path's state, not by discovery.
    public struct IPv6Egress: Sendable, Equatable {
        public var addresses: [IPPrefix]
        public var uplink: String?

        public init(addresses: [IPPrefix], uplink: String?) {
            self.addresses = addresses
            self.uplink = uplink
        }
    }

    /// Reads the host side's ruleset and checks it. Needs root (enters `path.hostNetnsPath`).
    /// `destination`: the address the endpoint fails to reach, if known; else "any internet address".
    public static func inspect(path: EgressPath, destination: IPAddress? = nil, ipv6: IPv6Egress? = nil) -> NetfilterReport {
        inspect(path: path, reading: RulesetReader.read(netnsPath: path.hostNetnsPath), destination: destination, ipv6: ipv6)
    }

    /// Checks an already read ruleset (pure).
    public static func inspect(path: EgressPath, reading: RulesetReading, destination: IPAddress? = nil,
                               ipv6: IPv6Egress? = nil) -> NetfilterReport {
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
        guard let ingress = path.bridge?.name ?? path.hostVeth?.name else {
            unchecked.append("netfilter: no host-side device for \(path.endpoint.name); forward chains not checked")
            return NetfilterReport(findings: findings, unchecked: unchecked, ruleset: ruleset)
        }
        // Each family's addresses and the uplink its packets leave by.
        var egresses: [(family: IPAddress.Family, addresses: [IPPrefix], uplink: String)] = []
        if let uplink = path.uplink?.name {
            if path.endpoint.ipv4.isEmpty {
                unchecked.append("netfilter: \(path.endpoint.name) has no IPv4 address; forward chains and NAT not checked")
            }
            egresses.append((.v4, path.endpoint.ipv4, uplink))
        } else {
            unchecked.append("netfilter: no uplink (no default route) in the host namespace; forward chains and NAT not checked")
        }
        if let ipv6, !ipv6.addresses.isEmpty, let uplink = ipv6.uplink ?? path.uplink?.name {
            egresses.append((.v6, ipv6.addresses, uplink))
        }
        guard !egresses.isEmpty else { return NetfilterReport(findings: findings, unchecked: unchecked, ruleset: ruleset) }

        for (family, addresses, uplink) in egresses {
            let target = destination?.family == family ? destination : nil
            let targetText = target.map { "\($0)" } ?? (family == .v4 ? "the internet" : "the IPv6 internet")
            for prefix in addresses {
                let (address, subnet, source) = (prefix.address, prefix.network, "\(prefix.address)")
                let egress = ImaginedPacket(source: address, destination: target, inInterface: ingress, outInterface: uplink, ctState: "new",
                                            family: family)
                let reply = ImaginedPacket(source: target, destination: address, inInterface: uplink, outInterface: ingress,
                                           ctState: "established", family: family)
                var dropped: Set<String> = []
                for (direction, packet, stops) in [("egress \(source) -> \(targetText) (\(ingress) -> \(uplink))", egress, PacketDirection.egress),
                                                   ("reply \(targetText) -> \(source) (\(uplink) -> \(ingress))", reply, .egressReply)] {
                    for drop in ForwardEvaluator.drops(in: ruleset, hook: "forward", packet: packet) {
                        var found = finding(for: drop, direction: direction, run: host, netns: ns, device: ingress, family: family)
                        found.stops = stops
                        findings.append(found)
                        // A rule that only may drop the flow (any ICMPv6, say) may still surely drop the ICMPv6 the path needs.
                        if drop.certain { dropped.insert(describe(drop)) }
                    }
                }
                if family == .v6 {
                    findings += icmpv6Drops(address: address, ingress: ingress, uplink: uplink, ruleset: ruleset, run: host, netns: ns,
                                            explained: dropped)
                }
                // A globally routed IPv6 prefix needs no NAT (the upstream router routes it back); a ULA does.
                guard family == .v4 || subnet.address.isUniqueLocal else { continue }
                let nat = ImaginedPacket(source: address, destination: target, inInterface: ingress, outInterface: uplink, ctState: "new",
                                         family: family)
                if ForwardEvaluator.sourceNat(in: ruleset, packet: nat) == nil {
                    findings.append(masqueradeMissing(subnet: subnet, source: source, uplink: uplink, ruleset: ruleset, run: host, netns: ns))
                }
            }
        }

        if let mixed = backendsMixed(ruleset, run: host, netns: ns) { findings.append(mixed) }
        return NetfilterReport(findings: dedupe(findings), unchecked: unchecked, ruleset: ruleset)
    }

    /// iptables-legacy tables that hold rules (or a policy that is not accept) beside nftables
    /// tables in one namespace: every packet passes both, and each is invisible to the other's
    /// tools. Empty legacy tables (left loaded after a flush) change nothing and are not counted.
    /// `tracer diagnose` and `tracer rules` both say it; the fix flushes every table it names.
    static func backendsMixed(_ ruleset: Ruleset, run host: NamespaceCommand, netns: UInt64?) -> Finding? {
        let legacy = ruleset.tables.filter { table in
            table.backend == .iptablesLegacy
                && table.chains.contains { !$0.rules.isEmpty || ($0.policy.map { $0 != "accept" } ?? false) }
        }
        guard !legacy.isEmpty && ruleset.hasNftTables else { return nil }
        let nft = ruleset.tables.filter { $0.backend != .iptablesLegacy }.map { "\($0.label) (\($0.backend.rawValue))" }
            .joined(separator: ", ")
        let saves = Set(legacy.map { $0.backend.tool(family: $0.family) }).sorted().map { host.run("\($0)-save") }
        let flushes = legacy.map { table -> String in
            let tool = table.backend.tool(family: table.family)
            let policies = table.chains.filter { $0.isBaseChain && ($0.policy.map { $0 != "accept" } ?? false) }
                .map { host.run("\(tool) -t \(table.name) -P \($0.name) ACCEPT") }
            return ([host.run("\(tool) -t \(table.name) -F"), host.run("\(tool) -t \(table.name) -X")] + policies).joined(separator: " && ")
        }
        return Finding(
            code: .iptablesBackendsMixed, severity: .warning,
            message: "both iptables-legacy and nftables tables are loaded: a packet must pass both, and each is invisible to the other's tools",
            evidence: "iptables-legacy: \(legacy.map(\.label).joined(separator: ", ")); nftables: \(nft)",
            fix: saves.joined(separator: " && ") + "  # move these rules to the nft backend, then: " + flushes.joined(separator: " && "),
            netnsInode: netns)
    }

    /// The ICMPv6 an IPv6 path needs from the host side's firewall, walked as imagined packets:
    /// Packet Too Big to the endpoint (FORWARD, conntrack related: PMTU discovery), and the
    /// neighbour discovery the host answers and sends on the bridge and the uplink (INPUT and
    /// OUTPUT; conntrack leaves it untracked). A drop the flow's own packets surely meet is that
    /// finding's, not this one's.
    private static func icmpv6Drops(address: IPAddress, ingress: String, uplink: String, ruleset: Ruleset, run host: NamespaceCommand,
                                    netns: UInt64, explained: Set<String>) -> [Finding] {
        func packet(_ type: ICMPv6Type, from: String, to: String, destination: IPAddress? = nil, ct: String = "untracked") -> ImaginedPacket {
            ImaginedPacket(source: nil, destination: destination, inInterface: from, outInterface: to, ctState: ct,
                           proto: ICMPv6Type.protocolName, family: .v6, icmpv6Type: type)
        }
        let needed: [(hook: String, packet: ImaginedPacket, what: String)] = [
            ("forward", packet(.packetTooBig, from: uplink, to: ingress, destination: address, ct: "related"),
             "Packet Too Big from the IPv6 internet to \(address) (\(uplink) -> \(ingress)): path MTU discovery fails, large packets vanish"),
            ("input", packet(.neighbourSolicitation, from: ingress, to: ""),
             "neighbour solicitations on \(ingress) (the endpoints resolving their gateway): the host never answers, nothing leaves them"),
            ("input", packet(.neighbourSolicitation, from: uplink, to: ""),
             "neighbour solicitations on \(uplink) (the router resolving the host): replies cannot be delivered back"),
            ("input", packet(.neighbourAdvertisement, from: uplink, to: ""),
             "neighbour advertisements on \(uplink) (the router's answers): the host cannot resolve its gateway"),
            ("input", packet(.neighbourAdvertisement, from: ingress, to: ""),
             "neighbour advertisements on \(ingress) (the endpoints' answers): replies cannot be delivered to them"),
            ("output", packet(.neighbourSolicitation, from: "", to: uplink),
             "the host's neighbour solicitations out of \(uplink): it cannot resolve its gateway"),
            ("output", packet(.neighbourAdvertisement, from: "", to: ingress),
             "the host's neighbour advertisements on \(ingress): the endpoints cannot resolve their gateway"),
        ]
        // One finding per rule or policy, with every type it drops.
        var byPlace: [(drop: NetfilterDrop, types: [ICMPv6Type], what: [String])] = []
        for (hook, packet, what) in needed {
            for drop in ForwardEvaluator.drops(in: ruleset, hook: hook, packet: packet) where !explained.contains(describe(drop)) {
                let type = packet.icmpv6Type!
                if let i = byPlace.firstIndex(where: { describe($0.drop) == describe(drop) }) {
                    if !byPlace[i].types.contains(type) { byPlace[i].types.append(type) }
                    byPlace[i].what.append(what)
                    byPlace[i].drop.certain = byPlace[i].drop.certain || drop.certain
                } else {
                    byPlace.append((drop, [type], [what]))
                }
            }
        }
        return byPlace.map { drop, types, what in
            let place = describe(drop)
            let discovery = types.contains { $0 != .packetTooBig }
            // Neighbour discovery lost stops every IPv6 packet; Packet Too Big lost, only those larger than the path's MTU.
            let severity: Finding.Severity = drop.certain && discovery ? .error : .warning
            let accepts = acceptICMPv6(types, at: drop, run: host)
            var evidence = place
            if let rule = drop.rule, let packets = rule.packets { evidence += "; counter \(packets) packets" }
            let effect = discovery ? "neighbour discovery fails, IPv6 stops" : "path MTU discovery fails, large IPv6 packets vanish"
            return Finding(code: .icmpv6Dropped, severity: severity,
                           message: "\(place) \(drop.certain ? "drops" : "may drop") ICMPv6 \(types.map(\.description).joined(separator: ", ")): \(effect)",
                           evidence: evidence + "; imagined through the \(drop.baseChain) chains of the ip6 and inet tables: " + what.joined(separator: "; "),
                           fix: accepts, device: drop.baseChain == "output" || drop.baseChain == "OUTPUT" ? uplink : ingress,
                           netnsInode: netns, family: .v6)
        }
    }

    /// An accept of exactly these ICMPv6 types, first in the chain that drops them: the rule or
    /// policy stays for everything else.
    static func acceptICMPv6(_ types: [ICMPv6Type], at drop: NetfilterDrop, run host: NamespaceCommand) -> String {
        switch drop.backend {
        case .nftables:
            let list = types.count == 1 ? types[0].description : "{ " + types.map(\.description).joined(separator: ", ") + " }"
            return host.run("nft insert rule \(drop.family) \(drop.table) \(drop.chain) icmpv6 type \(shellWord(list)) accept")
        case .iptablesNft, .iptablesLegacy:
            let tool = drop.backend.tool(family: drop.family)
            return types.map { host.run("\(tool) -t \(drop.table) -I \(drop.chain) 1 -p ipv6-icmp --icmpv6-type \($0.number) -j ACCEPT") }
                .joined(separator: " && ")
        }
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
                        family: IPAddress.Family, narrowest: (ruleset: Ruleset, packet: ImaginedPacket)? = nil) -> Finding {
        let what = describe(drop)
        let severity: Finding.Severity = drop.certain ? .error : .warning
        let verb = drop.certain ? "drops" : "may drop"
        let iptables = drop.backend.tool(family: drop.family)
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
           let rule = NarrowestFix.fix(ruleset: narrowest.ruleset, drop: NarrowestFix.Drop(drop), packet: narrowest.packet) {
            narrowFix = rule.commands(in: host)
            evidence += "; fix: \(rule.evidence)"
        }
        return Finding(code: code, severity: severity, message: "\(what) \(verb) \(direction)", evidence: evidence, fix: narrowFix,
                       device: device, netnsInode: netns, family: family)
    }

    private static func masqueradeMissing(subnet: IPPrefix, source: String, uplink: String, ruleset: Ruleset, run host: NamespaceCommand,
                                          netns: UInt64) -> Finding {
        let family = subnet.family
        let natChains = ForwardEvaluator.baseChains(ruleset, hook: "postrouting", type: "nat", family: family)
        let evidence = natChains.isEmpty
            ? "no nat postrouting chain in any backend" + (family == .v4 ? "" : " for IPv6")
            : "nat postrouting chains: " + natChains.map { "\($0.0.label) \($0.1.name) (\($0.0.backend.rawValue), \($0.1.rules.count) rules)" }
                .joined(separator: ", ")
        // The backend in use: a native nft nat chain when no iptables table of the family exists
        // (a rule there, in nft's terms); else legacy when it alone holds tables; else iptables-nft.
        let tableFamily = family.tableFamily
        let fix: String
        if !ruleset.tables.contains(where: { $0.backend != .nftables && $0.family == tableFamily }),
           let (table, chain) = natChains.first(where: { $0.0.backend == .nftables }) {
            let match = NftJSONRuleset.describe(.source([subnet], negated: false))
            fix = host.run("nft add rule \(table.family) \(table.name) \(chain.name) \(match) oifname \(shellWord("\"\(uplink)\"")) masquerade")
        } else {
            let legacyOnly = ruleset.hasLegacyTables && !ruleset.hasNftTables
            fix = host.run("\((legacyOnly ? NetfilterBackend.iptablesLegacy : .iptablesNft).tool(family: tableFamily)) -t nat -A POSTROUTING -s \(subnet.ruleText) -o \(uplink) -j MASQUERADE")
        }
        let kind = family == .v4 ? "a private source" : "a unique local (ULA) source, which the internet does not route,"
        return Finding(
            code: .masqueradeMissing, severity: .error,
            message: "no SNAT/MASQUERADE covers \(subnet.ruleText) (\(source)) out of \(uplink): packets leave with \(kind) and replies never come back",
            evidence: evidence, fix: fix, device: uplink, netnsInode: netns, family: family)
    }

    private static func dedupe(_ findings: [Finding]) -> [Finding] {
        var seen: Set<String> = []
        return findings.filter { seen.insert("\($0.code.rawValue)|\($0.message)").inserted }
    }
}
