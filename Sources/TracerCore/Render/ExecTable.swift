/// The execsnoop-like table of `tracer exec`. Arguments are never cut; an argument that
/// is empty or holds spaces or quotes is shown in single quotes so argv boundaries stay visible.
public struct ExecTable {
    public let mode: ExecPipeline.Mode
    public let clock: BootClock
    public let colour: Bool

    public init(mode: ExecPipeline.Mode, clock: BootClock, colour: Bool) {
        self.mode = mode
        self.clock = clock
        self.colour = colour
    }

    public var header: String {
        switch mode {
        case .execs:
            return "TIME         PID     PPID    CONTAINER        PCOMM            COMM             RET ARGS"
        case .exits:
            return "TIME         PID     PPID    CONTAINER        PCOMM            COMM             DURATION CPU      EXIT     ARGS"
        }
    }

    public func line(_ output: ExecOutput) -> String {
        switch output {
        case .exec(let e):
            let ret = e.failed ? Formatting.errnoName(-e.ret) : "0"
            let columns = mode == .exits ? "-        -        " + Formatting.left(ret, 8) : Formatting.left(ret, 3)
            return prefix(e, time: e.timestamp) + paint(columns, red: e.failed) + " " + arguments(e)
        case .exit(let r):
            let status = exitText(r.exit)
            return prefix(r.exec, time: r.exit.timestamp)
                + Formatting.left(Formatting.duration(r.exit.lifetimeNanoseconds), 8) + " "
                + Formatting.left(Formatting.duration(r.exit.cpuNanoseconds), 8) + " "
                + paint(Formatting.left(status, 8), red: r.exit.status != 0) + " "
                + arguments(r.exec)
        }
    }

    public func lost(_ count: UInt64) -> String {
        paint("LOST \(count) events: the ring buffer was full (try --ring-buffer-size)", red: true)
    }

    private func prefix(_ e: ExecEvent, time: UInt64) -> String {
        Formatting.left(Formatting.clock(clock.wallClock(time)), 12) + " "
            + Formatting.left(String(e.pid), 7) + " "
            + Formatting.left(String(e.ppid), 7) + " "
            + Formatting.left(e.attribution.map(ContainerJSON.column) ?? "-", 16) + " "
            + Formatting.left(ByteText.escaped(e.parentComm), 16) + " "
            + Formatting.left(ByteText.escaped(e.comm), 16) + " "
    }

    func exitText(_ exit: ExitEvent) -> String {
        if let signal = exit.signal {
            return Formatting.signalName(signal) + (exit.coreDumped ? "(core)" : "")
        }
        return String(exit.exitCode ?? 0)
    }

    /// argv as a shell would need it typed, escaped for the terminal.
    public static func arguments(_ args: [[UInt8]], truncated: Bool) -> String {
        var parts = args.map { arg -> String in
            let text = ByteText.escaped(arg)
            if arg.isEmpty || arg.contains(where: { $0 == 32 || $0 == 39 || $0 == 34 }) {
                return "'" + text.replacingAll("'", with: "'\\''") + "'"
            }
            return text
        }
        if truncated { parts.append("...[truncated]") }
        return parts.joined(separator: " ")
    }

    private func arguments(_ e: ExecEvent) -> String {
        if e.args.isEmpty && !e.filename.isEmpty { return ByteText.escaped(e.filename) }
        return ExecTable.arguments(e.args, truncated: e.argsTruncated)
    }

    private func paint(_ text: String, red: Bool) -> String {
        colour && red ? "\u{1B}[31m" + text + "\u{1B}[0m" : text
    }
}

extension String {
    func replacingAll(_ target: String, with replacement: String) -> String {
        split(separator: Character(target), omittingEmptySubsequences: false).joined(separator: replacement)
    }
}
