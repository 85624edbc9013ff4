import Glibc
import TracerCore

/// Runs `tracer top`: every interval, kernel counters -> aggregation -> screen, table or JSON.
final class TopSession {
    enum Display {
        /// Redrawn in place on a terminal until q, Ctrl-C or SIGTERM; Ctrl-Z suspends it cleanly.
        case interactive
        /// One snapshot after another on standard output.
        case stream(OutputFormat)
    }

    let probe: TopProbe
    let aggregator: TopAggregator
    let display: Display
    let intervalNanoseconds: UInt64
    /// Snapshots to print before stopping (1 for --once); nil: until stopped.
    let count: Int?
    let limit: Int?
    let clock = BootClock()
    let sink = OutputSink()

    init(probe: TopProbe, aggregator: TopAggregator, display: Display, intervalNanoseconds: UInt64, count: Int?, limit: Int?) {
        self.probe = probe
        self.aggregator = aggregator
        self.display = display
        self.intervalNanoseconds = intervalNanoseconds
        self.count = count
        self.limit = limit
    }

    func run(stop: () -> Bool) throws {
        let terminal: TopTerminal? = if case .interactive = display { TopTerminal() } else { nil }
        defer { terminal?.restore() }
        let table = TopTable(clock: clock)
        var hostStart = try? HostCPUStat.read()
        if let hostStart { aggregator.seedUsualRate(forksSinceBoot: hostStart.forks, uptimeNanoseconds: BootClock.now) }
        var deadline = BootClock.now + intervalNanoseconds
        var last: TopSnapshot?
        var shown = 0

        func redraw() {
            guard let terminal else { return }
            let size = terminal.size
            let lines = last.map { table.frame($0, width: size.columns, height: size.rows) }
                ?? [TopTable.fit("tracer top: first snapshot in " + Formatting.duration(intervalNanoseconds) + " (q quits)", size.columns)]
            terminal.draw(lines)
        }

        func takeSnapshot() throws {
            let interval = try probe.read()
            let hostEnd = try? HostCPUStat.read()
            var snapshot = aggregator.snapshot(interval, host: hostStart.flatMap { start in hostEnd.map { (start, $0) } })
            hostStart = hostEnd
            if let limit { snapshot.rows = Array(snapshot.rows.prefix(limit)) }
            last = snapshot
            shown += 1
            switch display {
            case .interactive:
                redraw()
            case .stream(.json):
                sink.line(bytes: TopJSON(clock: clock).line(snapshot))
            case .stream(.table):
                if shown > 1 { sink.line("") }
                for line in table.frame(snapshot, width: TopSession.streamWidth) { sink.line(line) }
            }
            sink.flush()
        }

        redraw()
        while !stop() && !sink.closed {
            let now = BootClock.now
            if now >= deadline {
                try takeSnapshot()
                if let count, shown >= count { return }
                deadline += intervalNanoseconds
                if deadline <= now { deadline = now + intervalNanoseconds } // we fell behind: skip, never burst
                continue
            }
            let wait = Int32(min((deadline - now) / 1_000_000 + 1, 100))
            if let terminal {
                if terminal.key(waitingUpTo: wait) == .quit { return }
                let resumed = terminal.suspendIfAsked()
                if terminal.takeResize() || resumed { redraw() }
            } else {
                usleep(useconds_t(wait) * 1000)
            }
        }
        // Stopped by a signal before the last snapshot: a stream still gets what was counted.
        if case .stream = display, !sink.closed, count == nil || shown < count! { try takeSnapshot() }
    }

    /// Tables on a pipe or in a file are not cut to a terminal: the arguments get this much room.
    static var streamWidth: Int {
        if let columns = getenv("COLUMNS").flatMap({ Int(String(cString: $0)) }), columns > 0 { return columns }
        return 200
    }
}
