import TracerCore

/// A Service address on the command line: "10.96.0.10:53/udp".
extension ServiceAddress: ArgumentValue {
    init?(argument: String) { self.init(argument) }
    static var expected: String { "ADDRESS:PORT/PROTOCOL (e.g. 10.96.0.10:53/udp, [fd00::10]:443/tcp; protocol tcp, udp or sctp)" }
}

struct RulesCommand: TracerCommand {
    static let name = "rules"
    static let spec = CommandSpec(
        name: name,
        abstract: "What the firewall costs a new connection: base chains by hook, the chains that grow with the services, rules evaluated per destination.",
        discussion: """
        Reads every backend's rules (nftables, iptables-nft, iptables-legacy) in one network
        namespace, the root one by default, and shows them as the first packet of a new
        connection meets them: each hook's base chains in priority order with their length,
        the rules reachable from them and whose they are (kube-proxy, docker, netavark,
        firewalld, cni, others); the chains that grow with the number of services (a rule per
        service, or a verdict map: one lookup); and for each destination (--to, or every
        service address the rules name) how many rules its first packet evaluates, counted
        by a static walk of the chains through prerouting, forward and postrouting (a range
        where a match is random, such as kube-proxy's choice of endpoint). With --trace the
        same is measured on a real packet: a temporary nftables trace table marks the first
        packet of the next new connection to each destination (removed on exit), and the
        rules it evaluated are counted from the trace (iptables-legacy rules are invisible to
        it). Then the rate of new connections (conntrack's NEW events over --interval)
        and an estimate of the CPU the walk costs, with its method; and, for kube-proxy's
        iptables mode, what its nftables mode would cost.

        Codes: linear-service-chain (a chain dispatching --threshold or more destinations a
        rule each), iptables-backends-mixed, input-reject-list.

        Exit codes: 0 done, 5 unknown network namespace (or a path that is none), 64 usage,
        77 missing privileges (CAP_SYS_ADMIN to enter namespaces, CAP_NET_ADMIN to read the
        rules and trace) or a namespace this process may not enter.

        Examples:
          tracer rules
          tracer rules --to 10.96.0.10:53/udp --trace 30s
          tracer rules --netns tkp-lab --output json
        """,
        options: [
            .option("netns", value: "name|path", help: "The network namespace to read: an ip netns name or a path (/proc/PID/ns/net); the root one by default.", values: .netnsName),
            .option("to", value: "addr:port/proto", help: "Count this destination (e.g. 10.96.0.10:53/udp); without it, every service address found in the rules.", repeatable: true),
            .option("trace", value: "duration", help: "Also measure each destination on the first packet of a real new connection, waiting this long (e.g. 30s)."),
            .option("interval", value: "duration", help: "Watch conntrack's new connections this long for the rate (default 1s)."),
            .option("threshold", value: "rules", help: "A chain dispatching this many destinations a rule each is a finding (default \(RuleCostFindings.defaultThreshold))."),
        ] + CommonOptions.specs
    )

    let netns: String?
    let destinations: [ServiceAddress]
    let trace: DurationArgument?
    let interval: DurationArgument?
    let threshold: Int
    let common: CommonOptions

    init(_ arguments: ParsedArguments) throws(UsageError) {
        netns = arguments.strings("netns").last
        destinations = try arguments.values("to")
        trace = try arguments.value("trace")
        interval = try arguments.value("interval")
        let threshold: Int? = try arguments.value("threshold")
        if let threshold, threshold < 2 { throw UsageError("--threshold must be at least 2, got \(threshold)") }
        self.threshold = threshold ?? RuleCostFindings.defaultThreshold
        common = try CommonOptions(arguments)
        if trace != nil && destinations.isEmpty {
            throw UsageError("--trace needs the destinations to trace: name them with --to")
        }
    }

    func run() throws {
        try Privileges.require(.rules)
        StopSignal.install()
        let namespace: NamedNetns
        switch NamedNetns.resolve(netns) {
        case .success(let found): namespace = found
        case .failure(let failure):
            printError("tracer rules: \(failure)")
            if case .notPermitted = failure { throw TracerExit.noPermission }
            throw TracerExit.unknownNamespace
        }
        let session = RulesSession(.init(netnsPath: namespace.path, label: namespace.label, isRoot: namespace.isRoot, destinations: destinations,
                                         traceSeconds: trace.map { Double($0.nanoseconds) / 1e9 },
                                         rateSeconds: interval.map { Double($0.nanoseconds) / 1e9 } ?? 1, threshold: threshold))
        var render = RulesRender(format: common.output, netnsPath: namespace.path, tableDestinations: destinations.isEmpty ? 20 : .max)
        if trace != nil {
            printError("tracer rules: tracing the next new connection to \(destinations.map(\.description).joined(separator: ", ")) "
                + "for up to \(Formatting.duration(trace!.nanoseconds)) (make one now)")
        }
        do {
            try session.run(into: RenderingSink(message: printError, render: { render.lines($0) }), stop: { StopSignal.isRequested })
        } catch {
            printError("tracer rules: \(error)")
            throw TracerExit.failure
        }
    }
}
