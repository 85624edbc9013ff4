/// `tracer top`'s records as table lines or JSON lines, and as the interactive screen's frames:
/// the one place each is formatted (the layout itself is `TopTable`'s and `TopJSON`'s).
public final class TopRender {
    private let format: OutputFormat
    private let table: TopTable
    private let json: TopJSON
    /// The width of a table that goes to a pipe or a file.
    private let width: Int
    /// Snapshots written so far: a table stream puts a blank line between them.
    private var shown = 0

    public init(format: OutputFormat, clock: BootClock = BootClock(), width: Int = TopRender.streamWidth(columns: nil)) {
        self.format = format
        table = TopTable(clock: clock)
        json = TopJSON(clock: clock)
        self.width = width
    }

    /// A stream of snapshots on standard output.
    public func lines(_ record: TopRecord) -> [RenderedLine] {
        guard case .snapshot(let snapshot) = record else { return [] }
        shown += 1
        switch format {
        case .json: return [.output(json.line(snapshot))]
        case .table: return (shown > 1 ? [.output("")] : []) + table.frame(snapshot, width: width).map { .output($0) }
        }
    }

    /// The interactive screen's whole frame for a terminal of `width` x `height`.
    public func screen(_ record: TopRecord, width: Int, height: Int) -> [String] {
        switch record {
        case .started(let interval):
            return [TopTable.fit("tracer top: first snapshot in " + Formatting.duration(interval) + " (q quits)", width)]
        case .snapshot(let snapshot):
            return table.frame(snapshot, width: width, height: height)
        }
    }

    /// Tables on a pipe or in a file are not cut to a terminal: the arguments get the room of
    /// `COLUMNS` when it is set, else 200 columns.
    public static func streamWidth(columns: String?) -> Int {
        if let columns = columns.flatMap({ Int($0) }), columns > 0 { return columns }
        return 200
    }
}
