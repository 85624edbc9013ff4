/// Where a session's records go as they are made: a renderer writing the chosen output
/// (`RenderingSink`), the agent's metrics, or a test collecting them. A session stops once its
/// sink is closed (`tracer exec | head -1`).
public protocol RecordSink<Record>: AnyObject {
    associatedtype Record
    func emit(_ record: Record)
    /// Hands what was emitted to its reader now; sessions call it once per round of work.
    func flush()
    /// True once nobody reads the records any more.
    var isClosed: Bool { get }
}

/// Keeps every record: for tests, and for callers that look at a session's records afterwards.
public final class CollectingSink<Record>: RecordSink {
    public private(set) var records: [Record] = []
    /// Closes itself after this many records, as a closed pipe would.
    private let capacity: Int?

    public init(capacity: Int? = nil) {
        self.capacity = capacity
    }

    public func emit(_ record: Record) {
        guard !isClosed else { return }
        records.append(record)
    }

    public func flush() {}

    public var isClosed: Bool { capacity.map { records.count >= $0 } ?? false }
}

/// Table or JSON lines, as `--output` chooses.
public enum OutputFormat: String, Sendable, CaseIterable {
    case table, json
}

/// One rendered line: standard output carries the records, standard error the human summaries
/// that must not mix with a table piped elsewhere.
public enum RenderedLine: Equatable {
    case output([UInt8])
    case message(String)

    public static func output(_ text: String) -> RenderedLine { .output(Array(text.utf8)) }
}

/// Renders each record with `render` and writes the lines: records to standard output (through
/// `OutputSink`, which notices a closed pipe), messages to standard error.
public final class RenderingSink<Record>: RecordSink {
    private let render: (Record) -> [RenderedLine]
    private let output: OutputSink
    private let message: (String) -> Void

    public init(output: OutputSink = OutputSink(), message: @escaping (String) -> Void, render: @escaping (Record) -> [RenderedLine]) {
        self.output = output
        self.message = message
        self.render = render
    }

    public func emit(_ record: Record) {
        for line in render(record) {
            switch line {
            case .output(let bytes): output.line(bytes: bytes)
            case .message(let text):
                output.flush()
                message(text)
            }
        }
    }

    public func flush() { output.flush() }

    public var isClosed: Bool { output.closed }
}
