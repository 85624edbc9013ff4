import TracerCore

extension OutputFormat: ArgumentValue {}

/// Flags every command shares.
struct CommonOptions {
    static let specs: [OptionSpec] = [
        .option("output", short: "o", value: "format", help: "Output format: table or json (one object per line)."),
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

    init?(argument: String) {
        let units: [(String, Double)] = [("ns", 1), ("us", 1e3), ("ms", 1e6), ("s", 1e9), ("m", 60e9), ("h", 3600e9)]
        var number = argument
        var scale = 1e9
        for (suffix, factor) in units.sorted(by: { $0.0.count > $1.0.count }) where argument.hasSuffix(suffix) {
            number = String(argument.dropLast(suffix.count))
            scale = factor
            break
        }
        guard let value = Double(number), value.isFinite, value > 0, value * scale < 1e18 else { return nil }
        nanoseconds = UInt64(value * scale)
    }

    static var expected: String { "a duration such as 500ms, 2s, 1.5m or 1h" }
}
