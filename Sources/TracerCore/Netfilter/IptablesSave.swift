/// Parses `iptables-save -c` output (iptables-legacy-save and iptables-nft-save print the same
/// format) into tables of the given backend. Pure: tests feed fixtures. `ipsets` are the namespace's
/// ipsets (`ipset save`); a table gets those its rules look up with `-m set --match-set`.
enum IptablesSave {
    static func parse(_ text: String, backend: NetfilterBackend, family: String = "ip",
                      ipsets: [String: NamedSet] = [:]) -> [FirewallTable] {
        var tables: [FirewallTable] = []
        // The current table's chains by name: kube-proxy's tables hold thousands.
        var chainIndex: [String: Int] = [:]
        for rawLine in text.split(separator: "\n") {
            let line = rawLine.trimmed
            if line.isEmpty || line.hasPrefix("#") || line == "COMMIT" { continue }
            if line.hasPrefix("*") {
                tables.append(FirewallTable(family: family, name: String(line.dropFirst()), backend: backend))
                chainIndex = [:]
                continue
            }
            guard !tables.isEmpty else { continue }
            let tableName = tables[tables.count - 1].name
            if line.hasPrefix(":") {
                // :NAME POLICY [packets:bytes]; POLICY is "-" for user chains.
                let words = line.dropFirst().split(separator: " ")
                guard let name = words.first else { continue }
                let policy = words.count > 1 && words[1] != "-" ? words[1].lowercased() : nil
                let counters = words.count > 2 ? parseCounters(words[2]) : nil
                let hook = policy == nil ? nil : builtinHook(String(name))
                chainIndex[String(name)] = tables[tables.count - 1].chains.count
                tables[tables.count - 1].chains.append(FirewallChain(
                    name: String(name), hook: hook, type: hook == nil ? nil : (tableName == "nat" ? "nat" : "filter"),
                    priority: hook == nil ? nil : builtinPriority(table: tableName, hook: hook!),
                    policy: policy, policyPackets: counters?.packets, policyBytes: counters?.bytes))
                continue
            }
            var words = tokenize(line)
            var counters: (packets: UInt64, bytes: UInt64)?
            if let first = words.first, first.hasPrefix("[") {
                counters = parseCounters(Substring(first))
                words.removeFirst()
            }
            guard words.count >= 2, words[0] == "-A" else { continue }
            let chainName = words[1]
            let body = Array(words.dropFirst(2))
            var rule = parseRule(body, family: IPAddress.Family(tableFamily: family) ?? .v4, ipsets: ipsets)
            rule.packets = counters?.packets
            rule.bytes = counters?.bytes
            rule.text = "-A " + ([chainName] + body).map(shellQuoted).joined(separator: " ")
            let t = tables.count - 1
            for case .setLookup(let lookup) in rule.matches where tables[t].set(lookup.set) == nil {
                if let set = ipsets[lookup.set] { tables[t].sets.append(set) }
            }
            if let c = chainIndex[chainName] {
                rule.position = tables[t].chains[c].rules.count + 1
                tables[t].chains[c].rules.append(rule)
            } else {
                rule.position = 1
                tables[t].chains.append(FirewallChain(name: chainName, rules: [rule]))
            }
        }
        return tables
    }

    /// The arguments after "-A CHAIN" -> matches and verdict; addresses of `family` (ip6tables: IPv6).
    static func parseRule(_ words: [String], family: IPAddress.Family = .v4, ipsets: [String: NamedSet] = [:]) -> FirewallRule {
        var matches: [RuleMatch] = []
        var verdict = RuleVerdict.none
        var comment: String?
        var negate = false
        var i = 0
        func next() -> String? {
            i += 1
            return i < words.count ? words[i] : nil
        }
        while i < words.count {
            let word = words[i]
            if word == "!" {
                negate = true
                i += 1
                continue
            }
            switch word {
            case "-s", "--source":
                if let v = next() { matches.append(addressMatch(v, family: family, negated: negate, source: true)) }
            case "-d", "--destination":
                if let v = next() { matches.append(addressMatch(v, family: family, negated: negate, source: false)) }
            case "-i", "--in-interface":
                if let v = next() { matches.append(.inInterface([v], negated: negate)) }
            case "-o", "--out-interface":
                if let v = next() { matches.append(.outInterface([v], negated: negate)) }
            case "-p", "--protocol":
                if let v = next() { matches.append(.proto([ICMPv6Type.normalisedProtocol(v)], negated: negate)) }
            case "--icmpv6-type":
                if let v = next() {
                    matches.append(ICMPv6Type(name: v).map { .icmpv6Type([$0], negated: negate) } ?? .other("--icmpv6-type \(v)"))
                }
            case "--dport", "--destination-port", "--dports", "--destination-ports":
                if let v = next() { matches.append(portMatch(v, negated: negate, destination: true)) }
            case "--sport", "--source-port", "--sports", "--source-ports":
                if let v = next() { matches.append(portMatch(v, negated: negate, destination: false)) }
            case "--ctstate", "--state":
                if let v = next() {
                    let states = Set(v.lowercased().split(separator: ",").map(String.init))
                    // `--ctstate DNAT` is the status bit under another name.
                    let virtual = states.isSubset(of: ["snat", "dnat"])
                    matches.append(virtual ? .ctStatus(states, negated: negate) : .ctState(states, negated: negate))
                }
            case "--ctstatus":
                if let v = next() {
                    matches.append(.ctStatus(Set(v.lowercased().split(separator: ",").map(String.init)), negated: negate))
                }
            case "--comment":
                comment = next()
            case "--match-set":
                if let name = next(), let flags = next() {
                    matches.append(.setLookup(SetLookup(selectors: IpsetSave.selectors(flags: flags, set: ipsets[name]), set: name,
                                                        negated: negate, ipsetFlags: flags)))
                }
            case "-m", "--match":
                let module = next() ?? ""
                if !["tcp", "udp", "conntrack", "state", "comment", "multiport", "icmp", "icmp6", "icmpv6", "set"].contains(module) {
                    matches.append(.other("-m \(module)"))
                }
            case "-j", "--jump":
                let target = next() ?? ""
                verdict = NftJSONRuleset.xtTarget(target)
                // Anything but a known extension target is a user chain (DOCKER-USER, KUBE-FORWARD, ...).
                if case .other(let name) = verdict, !["LOG", "MARK", "CONNMARK", "NFLOG", "TRACE", "CT", "NOTRACK", "TCPMSS",
                                                    "CHECKSUM", "NFQUEUE", "QUEUE", "AUDIT", "TOS", "DSCP"].contains(name) {
                    verdict = .jump(name)
                }
            case "-g", "--goto":
                verdict = .goto(next() ?? "")
            case "--to-source":
                if case .snat = verdict { verdict = .snat(next()) } else { _ = next() }
            case "--to-destination":
                if case .dnat = verdict { verdict = .dnat(next().map(DNATTarget.init(iptables:))) } else { _ = next() }
            default:
                // An option of a match we do not model: it may or may not match.
                if word.hasPrefix("-"), !isTargetOption(word) {
                    matches.append(.other(word))
                }
            }
            negate = false
            i += 1
        }
        return FirewallRule(position: 0, text: "", comment: comment, matches: matches, verdict: verdict)
    }

    private static func isTargetOption(_ word: String) -> Bool {
        ["--reject-with", "--log-prefix", "--log-level", "--random", "--random-fully", "--to-ports", "--persistent",
         "--set-xmark", "--set-mark", "--icmp-type", "--tcp-flags", "--syn", "--clamp-mss-to-pmtu", "--queue-num",
         "--queue-bypass", "--mode", "--src-type", "--dst-type", "--limit-iface-in", "--limit-iface-out"].contains(word)
    }

    private static func addressMatch(_ value: String, family: IPAddress.Family, negated: Bool, source: Bool) -> RuleMatch {
        // iptables accepts comma-separated lists; iptables-save prints one per rule.
        let prefixes = value.split(separator: ",").compactMap { IPPrefix.network($0, family: family) }
        guard !prefixes.isEmpty else { return .other((source ? "-s " : "-d ") + value) }
        return source ? .source(prefixes, negated: negated) : .destination(prefixes, negated: negated)
    }

    private static func portMatch(_ value: String, negated: Bool, destination: Bool) -> RuleMatch {
        var ranges: [ClosedRange<Int>] = []
        for item in value.split(separator: ",") {
            let ends = item.split(separator: ":", omittingEmptySubsequences: false)
            let lo = ends[0].isEmpty ? 0 : Int(ends[0])
            let hi = ends.count > 1 ? (ends[1].isEmpty ? 65535 : Int(ends[1])) : lo
            guard let lo, let hi, lo <= hi else { return .other("--dport " + value) }
            ranges.append(lo...hi)
        }
        return destination ? .destinationPort(ranges, negated: negated) : .sourcePort(ranges, negated: negated)
    }

    /// "[12:3456]" -> (12, 3456).
    static func parseCounters(_ word: Substring) -> (packets: UInt64, bytes: UInt64)? {
        guard word.hasPrefix("["), word.hasSuffix("]") else { return nil }
        let parts = word.dropFirst().dropLast().split(separator: ":")
        guard parts.count == 2, let p = UInt64(parts[0]), let b = UInt64(parts[1]) else { return nil }
        return (p, b)
    }

    static func builtinHook(_ chain: String) -> String? {
        switch chain {
        case "PREROUTING": return "prerouting"
        case "INPUT": return "input"
        case "FORWARD": return "forward"
        case "OUTPUT": return "output"
        case "POSTROUTING": return "postrouting"
        default: return nil
        }
    }

    /// NF_IP_PRI_* of the iptables tables (the nat table's input/postrouting hooks sit at srcnat).
    static func builtinPriority(table: String, hook: String) -> Int {
        switch table {
        case "raw": return -300
        case "mangle": return -150
        case "nat": return hook == "prerouting" || hook == "output" ? -100 : 100
        case "security": return 50
        default: return 0
        }
    }

    /// Splits an iptables-save line into words: double quotes group, backslash escapes inside them.
    static func tokenize(_ line: String) -> [String] {
        var words: [String] = []
        var current = ""
        var inWord = false
        var quoted = false
        var escaped = false
        for ch in line {
            if escaped {
                current.append(ch)
                escaped = false
            } else if quoted {
                if ch == "\\" { escaped = true } else if ch == "\"" { quoted = false } else { current.append(ch) }
            } else if ch == "\"" {
                quoted = true
                inWord = true
            } else if ch == " " || ch == "\t" {
                if inWord { words.append(current) }
                current = ""
                inWord = false
            } else {
                current.append(ch)
                inWord = true
            }
        }
        if inWord { words.append(current) }
        return words
    }

    /// Quotes a word the way iptables-save does, so a printed rule can be pasted back.
    static func shellQuoted(_ word: String) -> String {
        let plain = !word.isEmpty && word.allSatisfy { $0.isLetter || $0.isNumber || "-_./:+,!=@%".contains($0) }
        if plain { return word }
        var out = "\""
        for ch in word {
            if ch == "\"" || ch == "\\" { out.append("\\") }
            out.append(ch)
        }
        return out + "\""
    }
}
