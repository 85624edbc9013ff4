import TracerCore

/// Runs `tracer exec`: kernel events -> reorder -> pipeline -> renderer, until stopped.
final class ExecSession {
    let probe: ExecProbe
    let attributor: ExecAttributor
    let pipeline: ExecPipeline
    let format: OutputFormat
    let limit: Int?
    let deadline: UInt64?
    let clock = BootClock()
    let sink = OutputSink()

    init(probe: ExecProbe, attributor: ExecAttributor, pipeline: ExecPipeline, format: OutputFormat, limit: Int?, deadline: UInt64?) {
        self.probe = probe
        self.attributor = attributor
        self.pipeline = pipeline
        self.format = format
        self.limit = limit
        self.deadline = deadline
    }

    func run(stop: () -> Bool) throws {
        let started = BootClock.now
        let table = ExecTable(mode: pipeline.mode, clock: clock, colour: OutputSink.isTerminal)
        let json = ExecJSON(clock: clock)
        var reorder = ReorderBuffer<ProcessEvent>(timestamp: \.timestamp)
        var shown = 0
        var lostReported: UInt64 = 0
        var lastLostCheck: UInt64 = 0

        if format == .table {
            sink.line(table.header)
            sink.flush()
        }

        func emit(_ events: [ProcessEvent]) {
            let now = BootClock.now
            let enriched = events.map { event -> ProcessEvent in
                guard case .exec(var exec) = event else { return event }
                exec.attribution = attributor.attribute(exec.keys, now: now)
                return .exec(exec)
            }
            for output in pipeline.process(enriched) {
                if let limit, shown >= limit { return }
                if format == .table { sink.line(table.line(output)) } else { sink.line(bytes: json.lineBytes(output)) }
                shown += 1
            }
        }

        func reportLost(now: UInt64) throws {
            let total = try probe.lostEvents()
            guard total > lostReported else { return }
            sink.line(format == .table ? table.lost(total - lostReported) : json.lost(total - lostReported, at: now))
            lostReported = total
        }

        while !stop() && !sink.closed {
            reorder.insert(try probe.poll(timeoutMilliseconds: 10))
            let now = BootClock.now
            emit(reorder.release(now: now))
            if now - lastLostCheck >= 200_000_000 {
                try reportLost(now: now)
                lastLostCheck = now
            }
            sink.flush()
            if let limit, shown >= limit { break }
            if let deadline, now >= deadline { break }
        }

        // Flush what the kernel already delivered, then the final count of losses.
        reorder.insert(try probe.poll(timeoutMilliseconds: 0))
        emit(reorder.release(now: nil))
        let now = BootClock.now
        try reportLost(now: now)
        summary(elapsed: now - started, shown: shown, lost: lostReported)
        sink.flush()
    }

    private func summary(elapsed: UInt64, shown: Int, lost: UInt64) {
        switch format {
        case .json:
            var line = JSONLine()
            line.add("type", "summary")
            line.add("duration_ns", elapsed)
            line.add("execs", pipeline.execCount)
            line.add("failed_execs", pipeline.failedExecCount)
            line.add("exits", pipeline.exitCount)
            line.add("shown", shown)
            line.add("lost", lost)
            sink.line(line.finished)
        case .table:
            sink.flush()
            let text = "tracer exec: \(pipeline.execCount) execs, \(pipeline.failedExecCount) failed, "
                + "\(pipeline.exitCount) exits, \(shown) shown, \(lost) lost in \(Formatting.duration(elapsed))"
            printError(text)
        }
    }
}
