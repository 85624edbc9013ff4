import TracerCore

extension OutputFormat: ArgumentValue {}

/// Flags every command shares.
struct CommonOptions {
    static let specs: [OptionSpec] = [
        .option("output", short: "o", value: "format", help: "Output format: table or json (one object per line).", values: .oneOf(OutputFormat.self)),
        .flag("verbose", help: "Show libbpf's messages, including verifier logs."),
    ]

    let output: OutputFormat
    let verbose: Bool

    init(_ arguments: ParsedArguments) throws(UsageError) {
        output = try arguments.value("output") ?? .table
        verbose = arguments.flag("verbose")
    }
}

/// "500ms", "2s", "1.5m", "1h", or plain seconds.
struct DurationArgument: ArgumentValue {
    let nanoseconds: UInt64
    /// Beyond this a boot-clock deadline would overflow (about 31 years).
    static let limit = 1e18

    init?(argument: String) {
        guard let nanoseconds = Self.nanoseconds(argument), nanoseconds >= 1, nanoseconds < Self.limit else { return nil }
        self.nanoseconds = UInt64(nanoseconds)
    }

    /// The text's value in nanoseconds, whatever its sign or size; nil when it is no duration.
    private static func nanoseconds(_ argument: String) -> Double? {
        let units: [(String, Double)] = [("ns", 1), ("us", 1e3), ("ms", 1e6), ("s", 1e9), ("m", 60e9), ("h", 3600e9)]
        var number = argument
        var scale = 1e9
        for (suffix, factor) in units.sorted(by: { $0.0.count > $1.0.count }) where argument.hasSuffix(suffix) {
            number = String(argument.dropLast(suffix.count))
            scale = factor
            break
        }
        guard let value = Double(number), value.isFinite else { return nil }
        return value * scale
    }

    static var expected: String { "a duration such as 500ms, 2s, 1.5m or 1h" }

    static func rejection(of text: String) -> String? {
        guard let nanoseconds = nanoseconds(text) else { return nil }
        if nanoseconds <= 0 { return "'\(text)' must be positive" }
        if nanoseconds >= limit { return "'\(text)' is out of range (at most about 31 years)" }
        return "'\(text)' is shorter than a nanosecond"
    }

    /// The shortest `--interval`: shorter ones would spend on printing the CPU the tracer measures.
    static let minimumInterval = DurationArgument(argument: "100ms")!
}

extension ParsedArguments {
    /// `--interval`, for every command that prints at an interval (top, drops, egress): at least 100 ms.
    func interval() throws(UsageError) -> DurationArgument? {
        guard let interval: DurationArgument = try value("interval") else { return nil }
        if interval.nanoseconds < DurationArgument.minimumInterval.nanoseconds { throw UsageError("--interval: at least 100ms") }
        return interval
    }
}
