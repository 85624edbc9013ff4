/// `tracer exec`'s records as table lines or JSON lines: the one place each is formatted.
public struct ExecRender {
    private let format: OutputFormat
    private let table: ExecTable
    private let json: ExecJSON

    public init(format: OutputFormat, mode: ExecPipeline.Mode, clock: BootClock = BootClock(), colour: Bool) {
        self.format = format
        table = ExecTable(mode: mode, clock: clock, colour: colour)
        json = ExecJSON(clock: clock)
    }

    public func lines(_ record: ExecRecord) -> [RenderedLine] {
        switch (record, format) {
        case (.started, .table): return [.output(table.header)]
        case (.started, .json): return []
        case (.process(let output), .table): return [.output(table.line(output))]
        case (.process(let output), .json): return [.output(json.lineBytes(output))]
        case (.lost(let count, _), .table): return [.output(table.lost(count))]
        case (.lost(let count, let at), .json): return [.output(json.lost(count, at: at))]
        case (.summary(let s), .table):
            return [.message("tracer exec: \(s.execs) execs, \(s.failedExecs) failed, \(s.exits) exits, \(s.shown) shown, "
                + "\(s.lost) lost in \(Formatting.duration(s.durationNanoseconds))")]
        case (.summary(let s), .json):
            var line = JSONLine()
            line.add("type", "summary")
            line.add("duration_ns", s.durationNanoseconds)
            line.add("execs", s.execs)
            line.add("failed_execs", s.failedExecs)
            line.add("exits", s.exits)
            line.add("shown", s.shown)
            line.add("lost", s.lost)
            return [.output(line.finished)]
        }
    }
}
