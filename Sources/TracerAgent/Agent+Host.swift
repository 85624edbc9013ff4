import BPF
import TracerCore

/// The agent as `tracer agent`'s metrics side: its sinks feed `metrics`, `serve` runs the sessions.
extension Agent: AgentHost {
    public convenience init(_ options: AgentHostOptions) throws {
        try self.init(address: options.address,
                      metrics: AgentMetrics(filter: options.labels, ttlNanoseconds: options.seriesTTLNanoseconds))
    }

    public var topGroupKeys: [TopGroupKey] { TopMetricsSink.groupKeys }

    public func topSink() -> any RecordSink<TopRecord> { TopMetricsSink(metrics: metrics) }

    public func dropSink() -> any RecordSink<NetRecord> { DropMetricsSink(metrics: metrics) }

    public func execLogSink(output: RenderingSink<ExecRecord>) -> any RecordSink<ExecRecord> {
        ExecLogSink(output: output, metrics: metrics)
    }

    public func serve(_ sessions: [AgentSession], until stop: StopEvent,
                      failed: @escaping @Sendable (String, any Error) -> Void) -> Bool {
        run(sessions, until: stop, failed: failed)
        return !health.sessions.contains { if case .failed = $0.state { true } else { false } }
    }
}
