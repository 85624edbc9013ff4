/// The completion scripts of `tracer completions`, written from the commands' specs: an option
/// added to a spec completes, with its values, without a change here. Every word taken from a
/// spec is quoted for the shell it lands in, so no spec text can run as code.
struct CompletionScript {
    let commands: [CommandSpec]

    /// `tracer help NAME`: not a command of its own, but completed like one.
    private static let help = (name: "help", abstract: "Show the help of a subcommand.")
    private static let helpFlag = (short: "-h", long: "--help", help: "Show help information.")
    private static let version = (name: "--version", help: "Show the version.")

    /// Options whose value the completion passes on to `tracer containers --completion-names`,
    /// so the names come from the runtimes the command line points at: the ones `containers`
    /// takes a directory for (the runtimes' roots).
    private var runtimeRootOptions: [String] {
        let containers = commands.first { $0.name == ContainersCommand.name }?.options ?? []
        return containers.filter { $0.values == .directory }.map { "--" + $0.name }
    }

    private func visibleOptions(_ spec: CommandSpec) -> [OptionSpec] {
        spec.options.filter { !$0.hidden }
    }

    private var commandNames: [String] { commands.map(\.name) + [Self.help.name] }

    // MARK: bash

    var bash: String {
        var lines = [
            "# bash completion for tracer, written by `tracer completions bash`.",
            "",
            "# The words starting with $1 among the others, compared as text: nothing in them is expanded.",
            "_tracer_reply() {",
            "    local cur=$1 word",
            "    shift",
            "    COMPREPLY=()",
            "    for word; do",
            "        [[ $word == \"$cur\"* ]] && COMPREPLY+=(\"$word\")",
            "    done",
            "    return 0",
            "}",
            "",
            "# A comma-separated list: the words not in it yet after the last comma, the list before it kept.",
            "_tracer_reply_list() {",
            "    local cur=$1 before= i word",
            "    local -a left=()",
            "    shift",
            "    [[ $cur == *,* ]] && before=${cur%,*},",
            "    for word; do [[ ,$before == *,\"$word\",* ]] || left+=(\"$word\"); done",
            "    _tracer_reply \"${cur##*,}\" \"${left[@]}\"",
            "    for i in \"${!COMPREPLY[@]}\"; do COMPREPLY[i]=$before${COMPREPLY[i]}; done",
            "    return 0",
            "}",
            "",
            "_tracer_reply_directories() {",
            "    compopt -o filenames 2>/dev/null",
            "    mapfile -t COMPREPLY < <(compgen -d -- \"$1\")",
            "    return 0",
            "}",
            "",
            "# The running containers' names, from the tracer being completed, with the runtime roots given on the line.",
            "_tracer_reply_containers() {",
            "    local cur=$1 tracer=${COMP_WORDS[0]} i",
            "    local -a roots=() names=()",
            "    [[ $tracer == \"~/\"* ]] && tracer=$HOME/${tracer#\"~/\"}",
            "    for (( i = 1; i < COMP_CWORD; i++ )); do",
            "        case ${COMP_WORDS[i]} in",
            "        \(runtimeRootOptions.map(bashQuote).joined(separator: "|")))",
            "            if [[ ${COMP_WORDS[i+1]} == = ]]; then roots+=(\"${COMP_WORDS[i]}\" \"${COMP_WORDS[i+2]}\")",
            "            else roots+=(\"${COMP_WORDS[i]}\" \"${COMP_WORDS[i+1]}\"); fi ;;",
            "        esac",
            "    done",
            "    mapfile -t names < <(\"$tracer\" containers --completion-names \"${roots[@]}\" 2>/dev/null)",
            "    _tracer_reply \"$cur\" \"${names[@]}\"",
            "}",
            "",
            "_tracer() {",
            "    local cur=${COMP_WORDS[COMP_CWORD]} prev= option= command= i",
            "    (( COMP_CWORD > 0 )) && prev=${COMP_WORDS[COMP_CWORD-1]}",
            "    # bash splits --name=value at the '=' (COMP_WORDBREAKS).",
            "    if [[ $cur == = ]]; then option=$prev cur=",
            "    elif [[ $prev == = ]] && (( COMP_CWORD > 1 )); then option=${COMP_WORDS[COMP_CWORD-2]}",
            "    else option=$prev",
            "    fi",
            "    # The subcommand: the first word that is no option (no option before it takes a value).",
            "    for (( i = 1; i < COMP_CWORD; i++ )); do",
            "        [[ ${COMP_WORDS[i]} == -* ]] && continue",
            "        command=${COMP_WORDS[i]}",
            "        break",
            "    done",
            "    case $command in",
            "    '')",
            "        if [[ $cur == -* ]]; then _tracer_reply \"$cur\" \(bashWords([Self.helpFlag.short, Self.helpFlag.long, Self.version.name]))",
            "        else _tracer_reply \"$cur\" \(bashWords(commandNames)); fi",
            "        ;;",
            "    \(bashQuote(Self.help.name)))",
            "        _tracer_reply \"$cur\" \(bashWords(commands.map(\.name)))",
            "        ;;",
        ]
        for spec in commands {
            let options = visibleOptions(spec)
            lines.append("    \(bashQuote(spec.name)))")
            lines.append("        case $option in")
            for option in options where option.valueName != nil {
                let names = ([option.short.map { "-\($0)" }].compactMap { $0 } + ["--" + option.name]).map(bashQuote)
                lines.append("        \(names.joined(separator: "|"))) \(bashReply(option.values)); return ;;")
            }
            lines.append("        esac")
            let flags = options.flatMap { option in [option.short.map { "-\($0)" }, "--" + option.name].compactMap { $0 } }
                + [Self.helpFlag.short, Self.helpFlag.long]
            if spec.arguments == nil {
                lines.append("        _tracer_reply \"$cur\" \(bashWords(flags))")
            } else {
                lines.append("        if [[ $cur == -* ]]; then _tracer_reply \"$cur\" \(bashWords(flags))")
                lines.append("        else \(bashReply(spec.argumentValues)); fi")
            }
            lines.append("        ;;")
        }
        lines += [
            "    esac",
            "    return 0",
            "}",
            "",
            "complete -F _tracer tracer",
            "",
        ]
        return lines.joined(separator: "\n")
    }

    private func bashReply(_ values: ValueCompletion) -> String {
        switch values {
        case .none: "COMPREPLY=()"
        case .oneOf(let words): "_tracer_reply \"$cur\" \(bashWords(words))"
        case .listOf(let words): "_tracer_reply_list \"$cur\" \(bashWords(words))"
        case .directory: "_tracer_reply_directories \"$cur\""
        case .containerName: "_tracer_reply_containers \"$cur\""
        case .netnsName: "COMPREPLY=($(compgen -W \"$(command ls /run/netns 2>/dev/null)\" -- \"$cur\"))"
        }
    }

    private func bashWords(_ words: [String]) -> String {
        words.map(bashQuote).joined(separator: " ")
    }

    /// Single quotes, each `'` closed, escaped and reopened.
    private func bashQuote(_ text: String) -> String {
        "'" + text.split(separator: "'", omittingEmptySubsequences: false).joined(separator: "'\\''") + "'"
    }

    // MARK: zsh

    var zsh: String {
        var lines = [
            "#compdef tracer",
            "# zsh completion for tracer, written by `tracer completions zsh`.",
            "",
            "# The running containers' names, from the tracer being completed, with the runtime roots given on the line.",
            "_tracer_containers() {",
            "  local -a names roots",
            "  local option",
            "  for option in \(runtimeRootOptions.map(bashQuote).joined(separator: " ")); do",
            "    [[ -n ${opt_args[$option]} ]] && roots+=($option ${(Q)opt_args[$option]})",
            "  done",
            "  names=( ${(f)\"$(${_tracer_binary/#\\~/$HOME} containers --completion-names \"${roots[@]}\" 2>/dev/null)\"} )",
            "  compadd -a names",
            "}",
            "",
            "_tracer() {",
            "  local curcontext=$curcontext state state_descr line ret=1",
            "  typeset -A opt_args",
            "  local _tracer_binary=${words[1]}",
            "  _arguments -C \\",
            "    \(zshOption(short: "h", long: "help", help: Self.helpFlag.help, valueName: nil, values: .none, repeatable: false, exclusive: true)) \\",
            "    \(zshOption(short: nil, long: "version", help: Self.version.help, valueName: nil, values: .none, repeatable: false, exclusive: true)) \\",
            "    '1: :->command' \\",
            "    '*:: :->argument' && return 0",
            "  case $state in",
            "  (command)",
            "    local -a commands=(",
        ]
        for (name, abstract) in commands.map({ ($0.name, $0.abstract) }) + [(Self.help.name, Self.help.abstract)] {
            lines.append("      \(bashQuote(name + ":" + abstract))")
        }
        lines += [
            "    )",
            "    _describe -t commands 'tracer subcommand' commands && ret=0",
            "    ;;",
            "  (argument)",
            "    curcontext=${curcontext%:*:*}:tracer-$words[1]:",
            "    case $words[1] in",
            "    (\(zshWord(Self.help.name)))",
            "      _arguments '1:subcommand:\(zshAction(.oneOf(commands.map(\.name))))' && ret=0",
            "      ;;",
        ]
        for spec in commands {
            lines.append("    (\(zshWord(spec.name)))")
            lines.append("      _arguments -S \\")
            for option in visibleOptions(spec) {
                lines.append("        \(zshOption(short: option.short, long: option.name, help: option.help, valueName: option.valueName, values: option.values, repeatable: option.repeatable, exclusive: false)) \\")
            }
            lines.append("        \(zshOption(short: "h", long: "help", help: Self.helpFlag.help, valueName: nil, values: .none, repeatable: false, exclusive: true)) \\")
            if let arguments = spec.arguments {
                lines.append("        \(bashQuote("*:" + zshEscape(arguments.name, ":\\") + ":" + zshAction(spec.argumentValues))) \\")
            }
            lines.append("        && ret=0")
            lines.append("      ;;")
        }
        lines += [
            "    esac",
            "    ;;",
            "  esac",
            "  return ret",
            "}",
            "",
            "# Autoloaded from $fpath, or sourced after compinit.",
            "if [[ $funcstack[1] == _tracer ]]; then",
            "  _tracer \"$@\"",
            "else",
            "  compdef _tracer tracer",
            "fi",
            "",
        ]
        return lines.joined(separator: "\n")
    }

    /// One `_arguments` spec, e.g. `'(-o --output)'{-o+,--output=}'[Output format]:format:(table json)'`.
    private func zshOption(short: Character?, long: String, help: String, valueName: String?, values: ValueCompletion,
                           repeatable: Bool, exclusive: Bool) -> String {
        let takesValue = valueName != nil
        let names = [short.map { "-\($0)" }, "--" + long].compactMap { $0 }
        var prefix = ""
        if exclusive {
            prefix = "'(- *)'"
        } else if repeatable {
            prefix = "'*'"
        } else if names.count > 1 {
            prefix = bashQuote("(" + names.joined(separator: " ") + ")")
        }
        let spelled = names.map { name in
            takesValue ? name + (name.hasPrefix("--") ? "=" : "+") : name
        }.map { zshEscape($0, "") }
        let namePart = spelled.count > 1 ? "{" + spelled.joined(separator: ",") + "}" : spelled[0]
        var rest = "[" + zshEscape(help, "\\[]") + "]"
        if let valueName {
            rest += ":" + zshEscape(valueName, ":\\") + ":" + zshAction(values)
        }
        return prefix + namePart + bashQuote(rest)
    }

    private func zshAction(_ values: ValueCompletion) -> String {
        switch values {
        case .none: " "
        case .oneOf(let words): "(" + words.map(zshWord).joined(separator: " ") + ")"
        case .listOf(let words): "_values -s , values " + words.map(zshWord).joined(separator: " ")
        case .directory: "_files -/"
        case .containerName: "_tracer_containers"
        case .netnsName: "_files -W /run/netns"
        }
    }

    /// A word of a zsh list: every character but letters, digits, `-`, `_` and `.` backslashed.
    private func zshWord(_ word: String) -> String {
        var out = ""
        for character in word {
            if character.isASCII && (character.isLetter || character.isNumber || "-_.".contains(character)) {
                out.append(character)
            } else {
                out += "\\" + String(character)
            }
        }
        return out
    }

    private func zshEscape(_ text: String, _ special: String) -> String {
        var out = ""
        for character in text {
            if special.contains(character) { out.append("\\") }
            out.append(character)
        }
        return out
    }

    // MARK: fish

    var fish: String {
        var lines = [
            "# fish completion for tracer, written by `tracer completions fish`.",
            "",
            "# The subcommand on the line: the first word that is no option.",
            "function __tracer_command",
            "    for token in (commandline -opc)[2..-1]",
            "        string match -q -- '-*' $token; and continue",
            "        echo $token",
            "        return 0",
            "    end",
            "    return 1",
            "end",
            "",
            "function __tracer_needs_command",
            "    not __tracer_command >/dev/null",
            "end",
            "",
            "function __tracer_using --argument-names name",
            "    set -l command (__tracer_command); and test \"$command\" = \"$name\"",
            "end",
            "",
            "# A comma-separated list: the words not in it yet, after what is before the last comma.",
            "function __tracer_list",
            "    set -l token (commandline -ct)",
            "    set -l before ''",
            "    string match -q -- '*,*' \"$token\"; and set before (string replace -r -- '[^,]*$' '' \"$token\")",
            "    set -l used (string split , -- \"$before\")",
            "    for word in $argv",
            "        contains -- $word $used; or printf '%s\\n' $before$word",
            "    end",
            "end",
            "",
            "# The running containers' names, from the tracer being completed, with the runtime roots given on the line.",
            "function __tracer_containers",
            "    set -l tokens (commandline -opc)",
            "    set -l roots",
            "    for i in (seq 2 (count $tokens))",
            "        switch $tokens[$i]",
            "            case \(runtimeRootOptions.map(fishQuote).joined(separator: " "))",
            "                set -a roots $tokens[$i] $tokens[(math $i + 1)]",
            "            case \(runtimeRootOptions.map { fishQuote($0 + "=*") }.joined(separator: " "))",
            "                set -a roots $tokens[$i]",
            "        end",
            "    end",
            "    $tokens[1] containers --completion-names $roots 2>/dev/null",
            "end",
            "",
            "complete -c tracer -e",
            "complete -c tracer -f",
            "complete -c tracer -n __tracer_needs_command -s 'h' -l 'help' -d \(fishQuote(Self.helpFlag.help))",
            "complete -c tracer -n __tracer_needs_command -l version -d \(fishQuote(Self.version.help))",
        ]
        for (name, abstract) in commands.map({ ($0.name, $0.abstract) }) + [(Self.help.name, Self.help.abstract)] {
            lines.append("complete -c tracer -n __tracer_needs_command -a \(fishQuote(name)) -d \(fishQuote(abstract))")
        }
        lines.append("complete -c tracer -n \(fishQuote("__tracer_using " + Self.help.name)) -a \(fishQuote(commands.map(\.name).joined(separator: " ")))")
        for spec in commands {
            let condition = "-n " + fishQuote("__tracer_using " + spec.name)
            for option in visibleOptions(spec) {
                var line = "complete -c tracer \(condition)"
                if let short = option.short { line += " -s \(fishQuote(String(short)))" }
                line += " -l \(fishQuote(option.name))"
                if option.valueName != nil { line += " -x" + fishArguments(option.values) }
                line += " -d \(fishQuote(option.help))"
                lines.append(line)
            }
            lines.append("complete -c tracer \(condition) -s 'h' -l 'help' -d \(fishQuote(Self.helpFlag.help))")
            if spec.arguments != nil, spec.argumentValues != .none {
                lines.append("complete -c tracer \(condition)" + fishArguments(spec.argumentValues))
            }
        }
        lines.append("")
        return lines.joined(separator: "\n")
    }

    private func fishArguments(_ values: ValueCompletion) -> String {
        switch values {
        case .none: ""
        case .oneOf(let words): " -a " + fishQuote(words.joined(separator: " "))
        case .listOf(let words): " -a " + fishQuote("(__tracer_list " + words.joined(separator: " ") + ")")
        case .directory: " -a '(__fish_complete_directories)'"
        case .containerName: " -a '(__tracer_containers)'"
        case .netnsName: " -a '(command ls /run/netns 2>/dev/null)'"
        }
    }

    /// fish's single quotes: only `\` and `'` are escaped inside.
    private func fishQuote(_ text: String) -> String {
        var out = "'"
        for character in text {
            if character == "\\" || character == "'" { out.append("\\") }
            out.append(character)
        }
        return out + "'"
    }
}
