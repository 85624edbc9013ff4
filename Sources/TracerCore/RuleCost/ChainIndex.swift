/// A table's chains by name (a kube-proxy table has tens of thousands: a linear search per jump
/// would make every walk quadratic), and what a jump, goto or verdict map from one can reach.
struct ChainIndex {
    let table: FirewallTable
    private let byName: [String: FirewallChain]

    init(_ table: FirewallTable) {
        self.table = table
        byName = Dictionary(table.chains.map { ($0.name, $0) }, uniquingKeysWith: { first, _ in first })
    }

    /// `starts` and every chain reachable from them, each once, breadth first in rule order
    /// (so what is collected from them comes in the order the chains list it).
    func reachable(from starts: [String]) -> [FirewallChain] {
        var seen = Set(starts)
        var queue = starts
        var next = 0
        var found: [FirewallChain] = []
        while next < queue.count {
            let name = queue[next]
            next += 1
            guard let chain = byName[name] else { continue }
            found.append(chain)
            for rule in chain.rules {
                for target in rule.verdict.chainTargets(in: table) where seen.insert(target).inserted { queue.append(target) }
            }
        }
        return found
    }
}
