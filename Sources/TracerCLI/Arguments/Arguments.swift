/// The command line: each subcommand declares its options as data, the parser checks the
/// arguments against them, and the command reads typed values back. Kept in the tool instead of
/// a framework because `tracer pid` has to answer in a few milliseconds: a reflection-based
/// parser cost it more than reading /proc did.

/// One `--name` a command accepts: a flag, or an option taking a value.
struct OptionSpec: Sendable {
    let name: String
    let short: Character?
    /// Shown as `<valueName>`; nil for a flag.
    let valueName: String?
    let help: String
    let repeatable: Bool
    /// What the shell offers for the value (`tracer completions`).
    var values: ValueCompletion = .none
    /// Accepted, but neither in the help nor in the completions: a protocol between the tracer's
    /// own completion scripts and the binary, not for users.
    var hidden = false

    static func flag(_ name: String, short: Character? = nil, help: String, hidden: Bool = false) -> OptionSpec {
        OptionSpec(name: name, short: short, valueName: nil, help: help, repeatable: false, hidden: hidden)
    }

    static func option(_ name: String, short: Character? = nil, value: String? = nil, help: String, repeatable: Bool = false,
                       values: ValueCompletion = .none) -> OptionSpec {
        OptionSpec(name: name, short: short, valueName: value ?? name, help: help, repeatable: repeatable, values: values)
    }
}

/// What a shell completes for an option's value or a command's arguments. Declared beside the
/// option so a new option completes without touching the script generator.
enum ValueCompletion: Sendable, Equatable {
    /// Nothing to offer (a number, a duration, a regex).
    case none
    /// One of these words.
    case oneOf([String])
    /// Some of these words, comma-separated.
    case listOf([String])
    case directory
    /// The names of the running containers, asked of the binary when completing
    /// (`tracer containers --completion-names`).
    case containerName
    /// The named network namespaces (`ip netns`'s names: the entries of /run/netns).
    case netnsName

    /// The raw values of an enum the parser reads the value as: the words cannot drift from what it accepts.
    static func oneOf<T: CaseIterable & RawRepresentable>(_ type: T.Type) -> ValueCompletion where T.RawValue == String {
        .oneOf(T.allCases.map(\.rawValue))
    }

    static func listOf<T: CaseIterable & RawRepresentable>(_ type: T.Type) -> ValueCompletion where T.RawValue == String {
        .listOf(T.allCases.map(\.rawValue))
    }
}

/// What `tracer NAME --help` shows, and what the parser accepts.
struct CommandSpec: Sendable {
    let name: String
    let abstract: String
    let discussion: String
    /// Positional arguments: their name and help, or nil when the command takes none.
    var arguments: (name: String, help: String)? = nil
    /// What the shell offers for the positional arguments.
    var argumentValues: ValueCompletion = .none
    var options: [OptionSpec]
}

/// A subcommand: built from checked arguments, then run.
protocol TracerCommand {
    /// The subcommand's name; found without building the spec, whose help text costs time to make.
    static var name: String { get }
    static var spec: CommandSpec { get }
    init(_ arguments: ParsedArguments) throws(UsageError)
    func run() throws
}

/// Bad input on the command line: one line naming the problem, exit 64.
struct UsageError: Error, Equatable {
    let message: String
    init(_ message: String) { self.message = message }
}

/// A process exit status thrown out of `run()`; see `TracerExit`.
struct ExitCode: Error, Equatable {
    let rawValue: Int32
    init(_ rawValue: Int32) { self.rawValue = rawValue }
}

/// A value given to an option, parsed from its text.
protocol ArgumentValue {
    init?(argument: String)
    /// What a valid value looks like, for the error message.
    static var expected: String { get }
    /// Why `text`, which `init?(argument:)` refused, is wrong when it is the right kind of value
    /// ("out of range", "must be positive"); nil to say it is not `expected`.
    static func rejection(of text: String) -> String?
}

extension ArgumentValue {
    static func rejection(of text: String) -> String? { nil }
}

/// Digits, with a sign: the right kind of text for a number whatever its size.
private func isWholeNumber(_ text: String) -> Bool {
    let digits = text.utf8.first == UInt8(ascii: "-") || text.utf8.first == UInt8(ascii: "+") ? text.utf8.dropFirst() : text.utf8[...]
    return !digits.isEmpty && digits.allSatisfy { $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9") }
}

extension Int: ArgumentValue {
    init?(argument: String) { self.init(argument) }
    static var expected: String { "an integer" }
    static func rejection(of text: String) -> String? {
        isWholeNumber(text) ? "'\(text)' is out of range (at most \(Int.max))" : nil
    }
}

extension UInt32: ArgumentValue {
    init?(argument: String) { self.init(argument) }
    static var expected: String { "a number from 0 to \(UInt32.max)" }
    static func rejection(of text: String) -> String? {
        isWholeNumber(text) ? "'\(text)' is out of range (0 to \(UInt32.max))" : nil
    }
}

extension String: ArgumentValue {
    init?(argument: String) { self = argument }
    static var expected: String { "text" }
}

extension ArgumentValue where Self: RawRepresentable, Self.RawValue == String, Self: CaseIterable {
    init?(argument: String) { self.init(rawValue: argument) }
    static var expected: String { "one of " + allCases.map(\.rawValue).joined(separator: ", ") }
}

/// The arguments of one command, checked against its spec.
struct ParsedArguments {
    private(set) var flags: Set<String> = []
    private(set) var values: [String: [String]] = [:]
    private(set) var positionals: [String] = []
    /// `-h` or `--help` was given.
    private(set) var wantsHelp = false

    init(_ arguments: [String], spec: CommandSpec) throws(UsageError) {
        var rest = arguments[...]
        var optionsEnded = false
        while let argument = rest.popFirst() {
            let bytes = argument.utf8
            if optionsEnded || bytes.first != UInt8(ascii: "-") || bytes.count == 1 || Self.isNegativeNumber(bytes) {
                guard spec.arguments != nil else {
                    throw UsageError("unexpected argument '\(argument)'")
                }
                positionals.append(argument)
                continue
            }
            if argument == "--" { optionsEnded = true; continue }
            if argument == "--help" || argument == "-h" { wantsHelp = true; continue }
            // --name=value, --name value, -x value
            var name = argument
            var inline: String?
            if let equals = bytes.firstIndex(of: UInt8(ascii: "=")) {
                name = String(argument[..<equals])
                inline = String(argument[argument.utf8.index(after: equals)...])
            }
            // A handful of options each: a linear search, no lookup tables to build.
            let option: OptionSpec?
            if name.hasPrefix("--") {
                let long = name.dropFirst(2)
                option = spec.options.first { $0.name == long }
            } else if name.utf8.count == 2 {
                let letter = name.utf8.last
                option = spec.options.first { $0.short?.asciiValue == letter }
            } else {
                option = nil
            }
            guard let option else { throw UsageError("unknown option '\(name)'") }
            let flagName = "--\(option.name)"
            guard option.valueName != nil else {
                if inline != nil { throw UsageError("\(flagName) takes no value") }
                flags.insert(option.name)
                continue
            }
            guard let value = inline ?? rest.popFirst() else { throw UsageError("\(flagName) needs a value") }
            if !option.repeatable && values[option.name] != nil {
                throw UsageError("\(flagName) given more than once")
            }
            values[option.name, default: []].append(value)
        }
    }

    /// `-5` and the like: an argument, not an option (the PID checks then name the problem).
    private static func isNegativeNumber(_ bytes: String.UTF8View) -> Bool {
        bytes.count > 1 && bytes.dropFirst().allSatisfy { $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9") }
    }

    func flag(_ name: String) -> Bool { flags.contains(name) }

    func strings(_ name: String) -> [String] { values[name] ?? [] }

    /// The option's value, parsed; nil when it was not given.
    func value<T: ArgumentValue>(_ name: String, as type: T.Type = T.self) throws(UsageError) -> T? {
        guard let text = values[name]?.last else { return nil }
        guard let value = T(argument: text) else {
            throw UsageError("--\(name): " + (T.rejection(of: text) ?? "'\(text)' is not \(T.expected)"))
        }
        return value
    }

    /// Every value of a repeatable option, parsed.
    func values<T: ArgumentValue>(_ name: String, as type: T.Type = T.self) throws(UsageError) -> [T] {
        var parsed: [T] = []
        for text in strings(name) {
            guard let value = T(argument: text) else {
                throw UsageError("--\(name): " + (T.rejection(of: text) ?? "'\(text)' is not \(T.expected)"))
            }
            parsed.append(value)
        }
        return parsed
    }
}
