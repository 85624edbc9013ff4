import BPF

/// The agent's metrics side: where its sessions' records become series, and the endpoint that
/// serves them while the sessions run. The `tracer-agent` executable provides it (TracerAgent,
/// on swift-prometheus and swift-nio), so that those libraries stay out of the `tracer`
/// binary every other command starts from.
public protocol AgentHost: AnyObject {
    /// How top's session groups what it counts, for `topSink` to turn into series.
    var topGroupKeys: [TopGroupKey] { get }
    func topSink() -> any RecordSink<TopRecord>
    func dropSink() -> any RecordSink<NetRecord>
    /// Every record to `output` as a JSON line, and counted.
    func execLogSink(output: RenderingSink<ExecRecord>) -> any RecordSink<ExecRecord>
    /// Runs `sessions` side by side until `stop` fires, with the endpoint answering; `failed`
    /// is called once per session that fails. Returns false when any session failed.
    func serve(_ sessions: [AgentSession], until stop: StopEvent,
               failed: @escaping @Sendable (String, any Error) -> Void) -> Bool
}

/// What `tracer agent`'s options ask of the metrics side, to build an `AgentHost` from.
public struct AgentHostOptions: Sendable {
    public var address: MetricsAddress
    public var labels: LabelFilter
    public var seriesTTLNanoseconds: UInt64

    public init(address: MetricsAddress, labels: LabelFilter, seriesTTLNanoseconds: UInt64) {
        self.address = address
        self.labels = labels
        self.seriesTTLNanoseconds = seriesTTLNanoseconds
    }
}
