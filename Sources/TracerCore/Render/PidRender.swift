/// `tracer pid`'s records as table lines or JSON lines: the one place each is formatted.
public final class PidRender {
    private let format: OutputFormat
    private let clock: BootClock
    /// Pids answered so far, found or not: the table puts a blank line before each report but
    /// the first pid's.
    private var answered = 0

    public init(format: OutputFormat, clock: BootClock = BootClock()) {
        self.format = format
        self.clock = clock
    }

    public func lines(_ record: PidRecord) -> [RenderedLine] {
        switch (record, format) {
        case (.process(let report), .table):
            answered += 1
            return (answered > 1 ? [.output("")] : []) + ProcessReportRender.table(report, clock: clock).map { .output($0) }
        case (.process(let report), .json):
            return [.output(ProcessReportRender.json(report, clock: clock).finishedBytes)]
        case (.noSuchProcess(let pid), _):
            answered += 1
            return [.message("tracer pid: \(ProcessLookupError.noSuchProcess(pid))")]
        case (.containerProcesses(let listing), .table):
            return ContainerProcessesRender.table(listing).map { .output($0) }
        case (.containerProcesses(let listing), .json):
            return ContainerProcessesRender.json(listing).map { .output($0.finishedBytes) }
        }
    }
}
