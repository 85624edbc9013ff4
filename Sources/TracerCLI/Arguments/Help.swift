/// `tracer --help` and `tracer NAME --help`.
enum Help {
    static let width = 80

    static func root(_ commands: [CommandSpec], abstract: String, discussion: String) -> String {
        var lines = ["OVERVIEW: \(abstract)", "", "USAGE: tracer <subcommand> [options]", ""]
        lines += discussion.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        lines += ["", "SUBCOMMANDS:"]
        lines += commands.flatMap { row($0.name, $0.abstract) }
        lines += ["", "OPTIONS:"]
        lines += row("--version", "Show the version.") + row("-h, --help", "Show help information.")
        lines += ["", "  See 'tracer <subcommand> --help' for a subcommand's options."]
        return lines.joined(separator: "\n")
    }

    static func command(_ spec: CommandSpec) -> String {
        var usage = "USAGE: tracer \(spec.name)"
        if let arguments = spec.arguments { usage += " [<\(arguments.name)> ...]" }
        if !spec.options.isEmpty { usage += " [options]" }
        var lines = ["OVERVIEW: \(spec.abstract)", ""]
        lines += spec.discussion.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        lines += ["", usage]
        if let arguments = spec.arguments {
            lines += ["", "ARGUMENTS:"] + row("<\(arguments.name)>", arguments.help)
        }
        lines += ["", "OPTIONS:"]
        for option in spec.options where !option.hidden {
            var label = option.short.map { "-\($0), " } ?? ""
            label += "--\(option.name)"
            if let value = option.valueName { label += " <\(value)>" }
            lines += row(label, option.help + (option.repeatable ? " (repeatable)" : ""))
        }
        lines += row("-h, --help", "Show help information.")
        return lines.joined(separator: "\n")
    }

    /// `  label    help`, the help wrapped at `width` in a column of its own.
    private static func row(_ label: String, _ help: String) -> [String] {
        let column = 28
        let indent = String(repeating: " ", count: column)
        var lines: [String] = []
        var current = "  " + label
        if current.count >= column - 1 {
            lines.append(current)
            current = indent
        } else {
            current += String(repeating: " ", count: column - current.count)
        }
        var lineHasWords = false
        for word in help.split(separator: " ") {
            if lineHasWords && current.count + 1 + word.count > width {
                lines.append(current)
                current = indent
                lineHasWords = false
            }
            current += (lineHasWords ? " " : "") + word
            lineHasWords = true
        }
        lines.append(current)
        return lines
    }
}
