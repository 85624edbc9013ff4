/// The rules one real packet evaluated, counted from its nftables trace: the kernel reports each
/// rule whose matches all held (its verdict, or `continue`) and each base chain's policy, never
/// the rules that did not match. Rules are evaluated in list order, so a rule's position in its
/// chain is the number evaluated there up to it; a chain the packet left without a verdict (it
/// fell off its end, back to its caller) cost all its rules.
public struct TracedWalk: Sendable, Equatable {
    public struct HookCount: Sendable, Equatable {
        public var hook: String
        public var rules: Int
    }

    /// The traced packet (the first packet of a new connection to the destination).
    public var packet: FlowTuple
    public var hooks: [HookCount]
    public var rules: Int { hooks.reduce(0) { $0 + $1.rules } }

    /// Counts `events`, one packet's in the order the kernel sent them (the tracer's own trace
    /// table's left out), against the ruleset that names their chains. Nil without events.
    public static func count(packet: FlowTuple, events: [NftTraceEvent], ruleset: Ruleset) -> TracedWalk? {
        struct Key: Hashable { var family, table, chain: String }
        var lastEvent: [Key: NftTraceEvent] = [:]
        var order: [(key: Key, hook: String)] = []
        var jumpedTo: [(key: Key, hook: String)] = []
        var hook: String?
        for event in events where !event.fromTraceTable {
            let key = Key(family: event.family, table: event.table, chain: event.chain)
            if let base = chain(key.family, key.table, key.chain, ruleset)?.hook { hook = base }
            guard let current = hook else { continue }
            if lastEvent[key] == nil { order.append((key, current)) }
            lastEvent[key] = event
            if event.kind == .rule, event.verdict == "jump" || event.verdict == "goto", let target = event.jumpTarget {
                jumpedTo.append((Key(family: key.family, table: key.table, chain: target), current))
            }
        }
        guard !order.isEmpty else { return nil }

        func length(_ key: Key) -> Int { chain(key.family, key.table, key.chain, ruleset)?.rules.count ?? 0 }
        func position(_ event: NftTraceEvent) -> Int {
            guard let handle = event.ruleHandle else { return 0 }
            return ruleset.rule(family: event.family, table: event.table, chain: event.chain, handle: handle)?.position ?? 0
        }
        /// The walk ended inside this chain (a verdict), not by coming back out of it.
        func ended(_ key: Key, depth: Int = 0) -> Bool {
            guard depth < 32, let last = lastEvent[key] else { return false }
            switch (last.kind, last.verdict) {
            case (.policy, _): return true
            case (.rule, "accept"?), (.rule, "drop"?), (.rule, "queue"?), (.rule, "stolen"?): return true
            case (.rule, "jump"?), (.rule, "goto"?):
                return last.jumpTarget.map { ended(Key(family: key.family, table: key.table, chain: $0), depth: depth + 1) } ?? false
            default: return false
            }
        }
        var byHook: [(hook: String, rules: Int)] = []
        func add(_ hook: String, _ rules: Int) {
            if let i = byHook.firstIndex(where: { $0.hook == hook }) { byHook[i].rules += rules } else { byHook.append((hook, rules)) }
        }
        for (key, hook) in order {
            let last = lastEvent[key]!
            switch (last.kind, last.verdict) {
            case (.policy, _), (.return, _), (.rule, "continue"?):
                add(hook, length(key))
            case (.rule, "jump"?):
                // Back from the callee with nothing further matching here: the chain ran out.
                let callee = last.jumpTarget.map { Key(family: key.family, table: key.table, chain: $0) }
                add(hook, callee.map { ended($0) } == true ? position(last) : length(key))
            default:
                add(hook, position(last))
            }
        }
        // Chains jumped to where no rule matched: the packet went through all of them.
        var counted = Set(order.map(\.key))
        for (key, hook) in jumpedTo where counted.insert(key).inserted { add(hook, length(key)) }
        return TracedWalk(packet: packet, hooks: byHook.map { HookCount(hook: $0.hook, rules: $0.rules) })
    }

    private static func chain(_ family: String, _ table: String, _ chain: String, _ ruleset: Ruleset) -> FirewallChain? {
        ruleset.tables.first { $0.family == family && $0.name == table && $0.backend != .iptablesLegacy }?.chain(chain)
    }
}
