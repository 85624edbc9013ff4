/// What the rule walk costs the CPU at the namespace's rate of new connections, and the method.
public struct RuleCostEstimate: Sendable, Equatable {
    /// Nil when conntrack's statistics could not be read (conntrack not loaded in the namespace).
    public var rate: ConnectionRate?
    /// Rules a new connection evaluates (the most of the static walk), the median over the
    /// destinations counted.
    public var rulesPerConnection: Int
    /// The destinations the median is over.
    public var destinations: Int
    public var nanosecondsPerRule: Double

    /// Nanoseconds a new connection's first packet spends walking the rules.
    public var walkNanoseconds: Double { Double(rulesPerConnection) * nanosecondsPerRule }
    /// Of one core: new connections per second x the walk.
    public var coreFraction: Double? { rate.map { $0.perSecond * walkNanoseconds / 1e9 } }

    /// The cost of one rule evaluated, measured by `tools/bench/rule-cost.sh`: connection setup
    /// (SYN to SYN-ACK) to the last of N kube-proxy Services against the first, divided by the
    /// rules between them, iptables-nft on this project's 2-vCPU test VM: 18.0, 19.6 and 20.2 ns
    /// at 10,000, 1,000 and 100 Services on a quiet machine (17.75, 19.6 and 17.2 in another
    /// run), 24.5 and 27.3 ns with builds running. A rule of another shape, or another CPU,
    /// costs differently: the output says so.
    public static let measuredNanosecondsPerRule = 20.0

    public static func walkNanoseconds(rules: Int) -> Double { Double(rules) * measuredNanosecondsPerRule }
}

/// What the same services would cost in another of kube-proxy's data planes.
public struct DataPlaneRecommendation: Sendable, Equatable {
    /// "nftables", "ipvs".
    public var dataPlane: String
    /// Rules a new connection from a client other than the endpoint itself evaluates at prerouting
    /// now (the median over the destinations counted) and there.
    public var rulesNow: Int
    public var rulesThen: Int
    /// Of one core at the measured rate, now and then; nil without a rate.
    public var coreFractionNow: Double?
    public var coreFractionThen: Double?
    /// The destinations counted that kube-proxy's linear chains dispatch: the median is over them.
    public var services: Int
    public var reason: String
}
