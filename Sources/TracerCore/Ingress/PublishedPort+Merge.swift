/// Joining what the runtimes meant with what the kernel will do.
extension PublishedPort {
    /// The published ports of one host network namespace: every port of `runtime` (read from the
    /// metadata of the runtimes whose containers hang off this namespace) with the DNAT rules of
    /// `rules` (`dnatPorts(in:)` of this namespace's ruleset) that do the same, then every rule no
    /// runtime port claims. Each port's `sources` say who states it, `agreement` sums that up.
    ///
    /// A rule agrees with a runtime port when it covers the same protocol, host port and local
    /// address (family included) and leads to the same container address and port where both say
    /// one. A rule left over is attributed, where it can be, by the container id in its comment
    /// (netavark, CNI) or by its target address (`containers`: the addresses of running
    /// containers, published or not), so a stale rule to a container's old address stays visible.
    public static func merged(runtime: [PublishedPort], rules: [PublishedPort],
                              containers: [IPAddress: ContainerIdentity] = [:]) -> [PublishedPort] {
        var result = runtime
        var leftOver: [PublishedPort] = []
        for rule in rules {
            let matches = result.indices.filter { result[$0].agreesWith(rule: rule) }
            guard !matches.isEmpty else {
                leftOver.append(rule)
                continue
            }
            for i in matches {
                for source in rule.sources where !result[i].sources.contains(source) { result[i].sources.append(source) }
                if result[i].containerAddress == nil, rule.hostPorts == result[i].hostPorts { result[i].containerAddress = rule.containerAddress }
                if result[i].containerPorts == nil, rule.hostPorts == result[i].hostPorts { result[i].containerPorts = rule.containerPorts }
            }
        }
        var addresses = containers
        for port in runtime {
            if let address = port.containerAddress, let container = port.container, addresses[address] == nil {
                addresses[address] = container
            }
        }
        for var rule in leftOver {
            let named = rule.rules.first?.containerID
            rule.container = named.flatMap { id in
                runtime.lazy.compactMap(\.container).first { $0.id == id || id.hasSuffix("-\($0.id)") }
            } ?? rule.containerAddress.flatMap { addresses[$0] }
            result.append(rule)
        }
        return result.sorted { ($0.transport, $0.hostPorts, $0.hostAddress.description) < ($1.transport, $1.hostPorts, $1.hostAddress.description) }
    }

    /// The container port a packet to host port `port` reaches; nil when it is not known.
    public func containerPort(forHostPort port: UInt16) -> UInt16? {
        guard hostPorts.contains(port) else { return nil }
        if let target = rules.first?.target, target.mappings.isEmpty {
            return target.ports == nil ? port : target.translatedPort(port)
        }
        guard let containerPorts else { return rules.isEmpty ? nil : port }
        if containerPorts.isSingle { return containerPorts.first }
        let offset = Int(port - hostPorts.first)
        return offset < containerPorts.count ? UInt16(Int(containerPorts.first) + offset) : nil
    }

    /// Does DNAT rule port `rule` do what this runtime port says?
    func agreesWith(rule: PublishedPort) -> Bool {
        guard transport == rule.transport, rule.hostPorts.first <= hostPorts.first, hostPorts.last <= rule.hostPorts.last,
              Self.covers(rule: rule.hostAddress, runtime: hostAddress) else { return false }
        if let mine = containerAddress, let theirs = rule.containerAddress, mine != theirs { return false }
        if let id = rule.rules.first?.containerID, let container, container.id != id, !id.hasSuffix("-\(container.id)") {
            return false
        }
        for port in [hostPorts.first, hostPorts.last] {
            if let mine = containerPort(forHostPort: port), let theirs = rule.containerPort(forHostPort: port), mine != theirs {
                return false
            }
        }
        return true
    }

    /// A rule without an address match covers every local address of its table's family.
    private static func covers(rule: HostAddress, runtime: HostAddress) -> Bool {
        switch (rule, runtime) {
        case (.unspecified(let r), .unspecified(let m)): return r == nil || m == nil || r == m
        case (.address(let r), .address(let m)): return r == m
        case (.network(let r), .address(let m)): return r.contains(m)
        case (.network(let r), .network(let m)): return r.contains(m)
        default: return false
        }
    }
}
