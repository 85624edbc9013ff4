/// `tracer rules`' records as table lines or JSON lines: the one place each is formatted.
public struct RulesRender {
    private let format: OutputFormat
    private let netnsPath: String
    /// In a table, the costliest destinations shown when every one found is listed.
    private let tableDestinations: Int
    /// Destinations seen so far (the table shows the costliest few, then a line for the rest).
    private var shown = 0
    private var namespaceHeader = false
    private var chainHeader = false
    private var destinationHeader = false

    public init(format: OutputFormat, netnsPath: String, tableDestinations: Int = .max) {
        self.format = format
        self.netnsPath = netnsPath
        self.tableDestinations = tableDestinations
    }

    private static func text(_ s: String) -> String { ByteText.escaped(s) }

    public mutating func lines(_ record: RulesRecord) -> [RenderedLine] {
        switch format {
        case .table: return tableLines(record).map { .output($0) }
        case .json: return jsonLines(record).map { .output($0.finishedBytes) }
        }
    }

    // MARK: - Table

    private mutating func tableLines(_ record: RulesRecord) -> [String] {
        switch record {
        case .namespace(let label, let unchecked):
            if namespaceHeader { return unchecked.map { "not counted: " + Self.text($0) } }
            namespaceHeader = true
            return ["Firewall of \(Self.text(label)), as the first packet of a new connection meets it"]
                + unchecked.map { "not counted: " + Self.text($0) } + [""]
        case .chain(let c):
            var lines: [String] = []
            if !chainHeader {
                chainHeader = true
                lines.append(row("HOOK", "PRIO", "BACKEND", "CHAIN", "RULES", "REACHABLE", "OWNERS"))
            }
            let owners = c.owners.map { "\($0.owner.rawValue) \($0.rules)" }.joined(separator: ", ")
            lines.append(row(c.hook, String(c.priority), c.backend.rawValue, Self.text("\(c.family) \(c.table) \(c.chain)"), String(c.rules),
                             String(c.reachableRules), owners.isEmpty ? "-" : owners))
            return lines
        case .dispatch(let d):
            let place = Self.text("\(d.family) \(d.table) \(d.chain)") + " (\(d.backend.rawValue), \(d.owner.rawValue))"
            switch d.kind {
            case .rules:
                return ["grows with the services: \(place): \(d.destinations) destinations, a rule each: up to \(d.mostEvaluated) rules evaluated"]
            case .verdictMap:
                return ["grows with the services: \(place): verdict map \(Self.text(d.map ?? "?")), \(d.destinations) destinations: one lookup"]
            }
        case .ipvs(let services, let servers):
            return ["IPVS: \(services) virtual services, \(servers) real servers: one hash lookup per new connection, after the rules below send it there"]
        case .destination(let cost):
            shown += 1
            var lines: [String] = []
            if !destinationHeader {
                destinationHeader = true
                lines += ["", destinationRow("DESTINATION", "SERVICE", "RULES", "PREROUTING", "FORWARD", "POSTROUTING", "TRACED")]
            }
            guard shown <= tableDestinations else { return lines }
            func hook(_ name: String) -> String {
                cost.hooks.first { $0.hook == name }.map { Self.range($0.fewest, $0.most) } ?? "-"
            }
            let traced = cost.traced.map { String($0.rules) } ?? "-"
            let service = cost.service.map(Self.text) ?? (cost.addressed ? "-" : "(no service uses it)")
            lines.append(destinationRow(cost.destination.description, service, Self.range(cost.fewest, cost.most), hook("prerouting"),
                                        hook("forward"), hook("postrouting"), traced))
            return lines
        case .untraced(let destinations, let seconds):
            return ["no new connection to \(destinations.map(\.description).joined(separator: ", ")) in \(Formatting.oneDecimal(seconds)) s: "
                + "not traced (make one while tracing, e.g. from a pod)"]
        case .finding(let finding):
            return [""] + FindingRender.tableLines(finding)
        case .estimate(let e):
            var lines = [""]
            if shown > tableDestinations {
                lines.append("(the \(tableDestinations) costliest of \(shown) destinations shown; all with --output json, or name them with --to)")
            }
            let walk = "\(e.rulesPerConnection) rules x \(Formatting.oneDecimal(e.nanosecondsPerRule)) ns = about \(Formatting.oneDecimal(e.walkNanoseconds / 1000)) µs per new connection"
            if let rate = e.rate, let core = e.coreFraction {
                lines.append("new connections: \(Formatting.oneDecimal(rate.perSecond))/s (\(rate.connections) counted by conntrack in \(Formatting.oneDecimal(rate.seconds)) s\(rate.lostEvents > 0 ? ", some events lost: at least" : "")); "
                    + "rule walk: \(walk), about \(Self.percent(core)) of one CPU")
            } else {
                lines.append("rule walk: \(walk); no rate of new connections (see above)")
            }
            lines.append("  method: rules per new connection = the static walk's most, median over \(e.destinations) destination\(e.destinations == 1 ? "" : "s"); "
                + "ns per rule measured by tools/bench/rule-cost.sh (iptables-nft, kube-proxy's rules, a 2-vCPU VM: another CPU or rule shape differs); "
                + "rate from conntrack's new-connection events (netlink, as conntrack -E -e NEW shows them)")
            return lines
        case .recommendation(let r):
            var line = "recommendation: kube-proxy's \(r.dataPlane) mode: \(r.rulesThen) rules at prerouting per new connection instead of \(r.rulesNow) "
                + "(median over the \(r.services) service destination\(r.services == 1 ? "" : "s") counted)"
            if let now = r.coreFractionNow, let then = r.coreFractionThen {
                line += ", about \(Self.percent(then)) of one CPU instead of \(Self.percent(now)) at this rate"
            }
            return [line, "  " + r.reason]
        case .summary(let s):
            return ["", "\(s.baseChains) base chains, \(s.rules) rules, \(s.destinations) destination\(s.destinations == 1 ? "" : "s") counted, "
                + "\(s.warnings) warning\(s.warnings == 1 ? "" : "s")"]
        }
    }

    private func row(_ hook: String, _ priority: String, _ backend: String, _ chain: String, _ rules: String, _ reachable: String,
                     _ owners: String) -> String {
        Formatting.left(hook, 12) + " " + String(repeating: " ", count: max(0, 5 - priority.count)) + priority + "  "
            + Formatting.left(backend, 15) + " " + Formatting.left(chain, 42) + " " + String(repeating: " ", count: max(0, 6 - rules.count)) + rules
            + " " + String(repeating: " ", count: max(0, 9 - reachable.count)) + reachable + "  " + owners
    }

    private func destinationRow(_ destination: String, _ service: String, _ rules: String, _ prerouting: String, _ forward: String,
                                _ postrouting: String, _ traced: String) -> String {
        Formatting.left(destination, 24) + " " + Formatting.left(service, 24) + " " + Formatting.left(rules, 12) + " "
            + Formatting.left(prerouting, 11) + " " + Formatting.left(forward, 8) + " " + Formatting.left(postrouting, 12) + " " + traced
    }

    static func range(_ fewest: Int, _ most: Int) -> String { fewest == most ? "\(most)" : "\(fewest)-\(most)" }

    static func percent(_ fraction: Double) -> String {
        let p = fraction * 100
        return p < 0.1 && p > 0 ? "<0.1%" : "\(Formatting.oneDecimal(p))%"
    }

    // MARK: - JSON

    private static func addPlace(_ family: String, _ table: String, _ chain: String, _ backend: NetfilterBackend, to json: inout JSONLine) {
        json.add("family", family)
        json.add("table", table)
        json.add("chain", chain)
        json.add("backend", backend.rawValue)
    }

    private func jsonLines(_ record: RulesRecord) -> [JSONLine] {
        var json = JSONLine()
        switch record {
        case .namespace(let label, let unchecked):
            json.add("type", "namespace")
            json.add("netns", label)
            json.add("netns_path", netnsPath)
            json.add("unchecked", strings: unchecked)
        case .chain(let c):
            json.add("type", "chain")
            json.add("hook", c.hook)
            json.add("priority", c.priority)
            Self.addPlace(c.family, c.table, c.chain, c.backend, to: &json)
            json.add("chain_type", optional: c.type)
            json.add("policy", optional: c.policy)
            json.add("rules", c.rules)
            json.add("reachable_rules", c.reachableRules)
            json.add("owners", objects: c.owners.map { share in
                var o = JSONLine()
                o.add("owner", share.owner.rawValue)
                o.add("rules", share.rules)
                return o
            })
        case .dispatch(let d):
            json.add("type", "dispatch")
            Self.addPlace(d.family, d.table, d.chain, d.backend, to: &json)
            json.add("owner", d.owner.rawValue)
            json.add("kind", d.kind.rawValue)
            json.add("map", optional: d.map)
            json.add("destinations", d.destinations)
            json.add("most_evaluated", d.mostEvaluated)
        case .ipvs(let services, let servers):
            json.add("type", "ipvs")
            json.add("virtual_services", services)
            json.add("real_servers", servers)
        case .destination(let cost):
            json.add("type", "destination")
            json.add("destination", cost.destination.description)
            json.add("address", cost.destination.address.description)
            json.add("port", cost.destination.port)
            json.add("protocol", cost.destination.proto.rawValue)
            json.add("service", optional: cost.service)
            json.add("addressed", cost.addressed)
            json.add("rules_evaluated", cost.most)
            json.add("rules_evaluated_fewest", cost.fewest)
            json.add("rules_evaluated_traced", optional: cost.traced?.rules)
            json.add("estimated_walk_ns", RuleCostEstimate.walkNanoseconds(rules: cost.most))
            json.add("hooks", objects: cost.hooks.map { hook in
                var o = JSONLine()
                o.add("hook", hook.hook)
                o.add("fewest", hook.fewest)
                o.add("most", hook.most)
                return o
            })
            if let traced = cost.traced {
                json.add("traced_hooks", objects: traced.hooks.map { hook in
                    var o = JSONLine()
                    o.add("hook", hook.hook)
                    o.add("rules", hook.rules)
                    return o
                })
                json.add("traced_packet", traced.packet.description)
            } else {
                json.addNull("traced_hooks")
                json.addNull("traced_packet")
            }
        case .untraced(let destinations, let seconds):
            json.add("type", "untraced")
            json.add("destinations", strings: destinations.map(\.description))
            json.add("seconds", seconds)
        case .finding(let finding):
            return [FindingRender.json(finding, path: nil, netnsPath: netnsPath)]
        case .estimate(let e):
            json.add("type", "estimate")
            if let rate = e.rate {
                json.add("new_connections_per_second", rate.perSecond)
                json.add("interval_seconds", rate.seconds)
                json.add("new_connections", rate.connections)
                json.add("lost_events", rate.lostEvents)
            } else {
                json.addNull("new_connections_per_second")
                json.addNull("interval_seconds")
                json.addNull("new_connections")
                json.addNull("lost_events")
            }
            json.add("rules_per_connection", e.rulesPerConnection)
            json.add("destinations", e.destinations)
            json.add("ns_per_rule", e.nanosecondsPerRule)
            json.add("walk_ns", e.walkNanoseconds)
            if let core = e.coreFraction { json.add("cpu_core_fraction", core) } else { json.addNull("cpu_core_fraction") }
            json.add("method", "rules per new connection (static walk's most, median over the destinations) x ns per rule (tools/bench/rule-cost.sh) "
                + "x new connections per second (conntrack's NEW events over the interval)")
        case .recommendation(let r):
            json.add("type", "recommendation")
            json.add("data_plane", r.dataPlane)
            json.add("services", r.services)
            json.add("rules_now", r.rulesNow)
            json.add("rules_then", r.rulesThen)
            if let now = r.coreFractionNow, let then = r.coreFractionThen {
                json.add("cpu_core_fraction_now", now)
                json.add("cpu_core_fraction_then", then)
            } else {
                json.addNull("cpu_core_fraction_now")
                json.addNull("cpu_core_fraction_then")
            }
            json.add("reason", r.reason)
        case .summary(let s):
            json.add("type", "summary")
            json.add("base_chains", s.baseChains)
            json.add("rules", s.rules)
            json.add("destinations", s.destinations)
            json.add("warnings", s.warnings)
        }
        return [json]
    }
}
