import TracerCore

/// `--exec-log`: `tracer exec`'s records written as it writes them (JSON lines on standard
/// output, for a log shipper), and what the ring buffer lost counted as a metric too.
public final class ExecLogSink: RecordSink {
    private let output: RenderingSink<ExecRecord>
    private let metrics: AgentMetrics

    public init(output: RenderingSink<ExecRecord>, metrics: AgentMetrics) {
        self.output = output
        self.metrics = metrics
    }

    public func emit(_ record: ExecRecord) {
        if case .lost(let count, let at) = record {
            metrics.add(.lostEvents, .fixed("source", "exec_ring_buffer"), count, now: at)
        }
        output.emit(record)
    }

    public func flush() { output.flush() }
    /// Closed with standard output (as `tracer exec`'s).
    public var isClosed: Bool { output.isClosed }
}
