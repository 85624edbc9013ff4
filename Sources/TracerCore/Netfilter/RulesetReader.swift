/// What the firewall of one network namespace holds, and what could not be read.
public struct RulesetReading: Sendable, Equatable {
    public var ruleset: Ruleset
    /// One line per source that could not be read and why ("iptables-legacy: iptables-legacy-save not found ...").
    public var unchecked: [String]

    public init(ruleset: Ruleset, unchecked: [String]) {
        self.ruleset = ruleset
        self.unchecked = unchecked
    }
}

/// Reads every backend's IPv4 and IPv6 rules in one network namespace (the host side of an egress path,
/// which need not be the root namespace). Read-only. Needs CAP_NET_ADMIN in that namespace and
/// CAP_SYS_ADMIN to enter it.
///
/// - nftables (native tables and iptables-nft's): libnftables `list ruleset` with JSON and handles,
///   plus its text listing for each rule's readable form.
/// - iptables-nft tables are re-read with `iptables-nft-save -c` when it is installed, so their rules
///   read in iptables' terms (`-A FORWARD -o docker0 -m conntrack --ctstate ...`), which nft's JSON
///   only shows as opaque xt expressions; nft handles are attached by position.
/// - iptables-legacy (invisible to nft): `iptables-legacy-save -c`, and `ip6tables-legacy-save -c`.
/// - ipsets, which rules of both iptables backends look up (`-m set --match-set`): `ipset save`,
///   only when a rule names one.
public enum RulesetReader {
    public static func read(netnsPath: String) -> RulesetReading {
        do {
            return try RouteNetlink.inNamespace(netnsPath) { readCurrentNamespace() }
        } catch {
            return RulesetReading(ruleset: Ruleset(), unchecked: ["netfilter: \(error)"])
        }
    }

    /// Reads the calling thread's network namespace.
    public static func readCurrentNamespace() -> RulesetReading {
        var unchecked: [String] = []
        var tables: [FirewallTable] = []

        var nftTables: [FirewallTable] = []
        var ipsets: [String: NamedSet]?
        func ipsetsFor(_ saved: String) -> [String: NamedSet] {
            guard saved.contains("--match-set") else { return [:] }
            if let ipsets { return ipsets }
            let read = readIpsets(unchecked: &unchecked)
            ipsets = read
            return read
        }
        do {
            let json = try NftablesLibrary.run("list ruleset", options: [.json, .handle])
            let text = try NftablesLibrary.run("list ruleset", options: [.handle, .stateless])
            if json.status != 0 {
                unchecked.append("nftables: \(firstLine(json.stderr, or: "list ruleset failed"))")
            } else if let ruleset = NftJSONRuleset.parse(json: Array(json.stdout.utf8), text: text.stdout,
                                                         iptablesNftTables: iptablesNftTableNames(json.stderr + text.stderr)) {
                nftTables = ruleset.tables.map(markIptablesNft)
            } else {
                unchecked.append("nftables: libnftables printed JSON this reader does not understand")
            }
        } catch {
            unchecked.append("nftables: \(error)")
        }

        // iptables-nft tables in iptables' own terms, IPv4 (iptables) and IPv6 (ip6tables) alike.
        var replaced: Set<String> = []
        for (family, tool) in saveTools {
            let xtTables = nftTables.filter { $0.backend == .iptablesNft && $0.family == family }
            guard !xtTables.isEmpty else { continue }
            guard let save = SaveTool.find("\(tool)-nft-save") else {
                unchecked.append("\(tool)-nft: \(tool)-nft-save not found; its tables are read from nft, where matches such as -m conntrack are opaque")
                continue
            }
            do {
                let result = try save.run(["-c"])
                guard result.status == 0 else {
                    unchecked.append("\(tool)-nft: \(tool)-nft-save -c exited \(result.status): \(firstLine(result.stderr, or: ""))")
                    continue
                }
                for saved in IptablesSave.parse(result.stdout, backend: .iptablesNft, family: family, ipsets: ipsetsFor(result.stdout)) {
                    guard let nft = xtTables.first(where: { $0.name == saved.name }) else { continue }
                    tables.append(attachHandles(saved, from: nft))
                    replaced.insert(saved.label)
                }
            } catch {
                unchecked.append("\(tool)-nft: \(error)")
            }
        }
        tables.insert(contentsOf: nftTables.filter { !($0.backend == .iptablesNft && replaced.contains($0.label)) }, at: 0)

        for (family, tool) in saveTools {
            guard let save = SaveTool.find("\(tool)-legacy-save") else {
                unchecked.append("\(tool)-legacy: \(tool)-legacy-save not found; legacy rules (invisible to nft) not checked")
                continue
            }
            do {
                let result = try save.run(["-c"])
                if result.status == 0 {
                    tables += IptablesSave.parse(result.stdout, backend: .iptablesLegacy, family: family, ipsets: ipsetsFor(result.stdout))
                } else {
                    unchecked.append("\(tool)-legacy: \(tool)-legacy-save -c exited \(result.status): \(firstLine(result.stderr, or: ""))")
                }
            } catch {
                unchecked.append("\(tool)-legacy: \(error)")
            }
        }
        return RulesetReading(ruleset: Ruleset(tables: tables), unchecked: unchecked)
    }

    /// The iptables tools of each family whose tables they save: iptables for ip, ip6tables for ip6.
    static let saveTools = [("ip", "iptables"), ("ip6", "ip6tables")]

    /// The calling thread's namespace's ipsets, by name (`ipset save`).
    static func readIpsets(unchecked: inout [String]) -> [String: NamedSet] {
        guard let tool = SaveTool.find("ipset") else {
            unchecked.append("ipset: ipset not found; the sets iptables rules look up (-m set) are not read")
            return [:]
        }
        do {
            let result = try tool.run(["save"])
            guard result.status == 0 else {
                unchecked.append("ipset: ipset save exited \(result.status): \(firstLine(result.stderr, or: ""))")
                return [:]
            }
            return IpsetSave.parse(result.stdout)
        } catch {
            unchecked.append("ipset: \(error)")
            return [:]
        }
    }

    /// Tables libnftables warns about: "# Warning: table ip filter is managed by iptables-nft, do not touch!".
    static func iptablesNftTableNames(_ warnings: String) -> Set<String> {
        var names: Set<String> = []
        for line in warnings.split(separator: "\n") where line.contains("managed by iptables-nft") {
            let words = line.split(separator: " ")
            if let i = words.firstIndex(of: "table"), i + 2 < words.count {
                names.insert("\(words[i + 1]) \(words[i + 2])")
            }
        }
        return names
    }

    /// nft only warns about iptables-nft tables that hold xt expressions; a table made by
    /// `iptables-nft -P FORWARD DROP` alone has none. Such a table still has iptables' name and
    /// only base chains named after their hooks (FORWARD on forward).
    static func markIptablesNft(_ table: FirewallTable) -> FirewallTable {
        guard table.backend == .nftables, table.family == "ip" || table.family == "ip6",
              ["filter", "nat", "mangle", "raw", "security"].contains(table.name),
              !table.chains.isEmpty,
              table.chains.allSatisfy({ $0.hook == nil || IptablesSave.builtinHook($0.name) == $0.hook }),
              table.chains.allSatisfy({ $0.name.allSatisfy { !$0.isLowercase } })
        else { return table }
        var marked = table
        marked.backend = .iptablesNft
        return marked
    }

    /// The iptables-nft-save view of a table, with nft's hooks, priorities and rule handles.
    /// Rules are matched by position; a chain whose rule count differs keeps no handles.
    static func attachHandles(_ saved: FirewallTable, from nft: FirewallTable) -> FirewallTable {
        var table = saved
        table.handle = nft.handle
        let nftChains = Dictionary(nft.chains.map { ($0.name, $0) }, uniquingKeysWith: { a, _ in a })
        for c in table.chains.indices {
            guard let nftChain = nftChains[table.chains[c].name] else {
                // iptables-nft-save prints every builtin chain, also those never created: no hook.
                table.chains[c].hook = nil
                table.chains[c].policy = nil
                continue
            }
            table.chains[c].handle = nftChain.handle
            if nftChain.hook != nil {
                table.chains[c].hook = nftChain.hook
                table.chains[c].priority = nftChain.priority
                table.chains[c].type = nftChain.type
            }
            guard nftChain.rules.count == table.chains[c].rules.count else { continue }
            for r in table.chains[c].rules.indices {
                table.chains[c].rules[r].handle = nftChain.rules[r].handle
            }
        }
        return table
    }

    private static func firstLine(_ text: String, or fallback: String) -> String {
        let line = text.split(separator: "\n").first { !$0.trimmed.isEmpty }.map { $0.trimmed } ?? ""
        return line.isEmpty ? fallback : line
    }
}
