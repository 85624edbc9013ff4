import BPF

/// `tracer drops`: every drop on the host as it happens (described, noise and other
/// containers left out), the kernel's exact counts at the end and every `countInterval`, then
/// the summary. Needs a loaded network probe (root, or CAP_BPF and CAP_PERFMON) or a recording.
public final class DropsSession {
    public struct Options: Sendable {
        /// Show the drops a healthy host makes all the time.
        public var showAll = false
        /// Only drops of these containers (ids), when set.
        public var containerIDs: Set<String>?
        /// Stop at this boot-clock time.
        public var deadline: UInt64?
        /// Also print the counts this often, not only at the end.
        public var countInterval: UInt64?
        /// No container was found on the host: say that the drops are the host's.
        public var noContainers = false
        /// Ends the wait for drops as soon as a stop is asked, so the session sleeps until a drop
        /// or the next interval instead of looking at `stop` ten times a second (the agent).
        public var stop: StopEvent?

        public init(showAll: Bool = false, containerIDs: Set<String>? = nil, deadline: UInt64? = nil,
                    countInterval: UInt64? = nil, noContainers: Bool = false, stop: StopEvent? = nil) {
            self.showAll = showAll
            self.containerIDs = containerIDs
            self.deadline = deadline
            self.countInterval = countInterval
            self.noContainers = noContainers
            self.stop = stop
        }
    }

    private let stream: DropStream
    private let options: Options
    /// How often losses are checked when counts are not printed at an interval.
    private let lostCheckInterval: UInt64 = 1_000_000_000

    /// `scope`: the endpoints' paths, whose addresses name the container of a forwarded drop.
    public init(source: NetEventSource, describer: DropDescriber, scope: EgressScope, options: Options = Options()) {
        stream = DropStream(source: source, describer: describer, scope: scope,
                            filter: DropFilter(showAll: options.showAll, containerIDs: options.containerIDs), stop: options.stop)
        self.options = options
    }

    /// Runs until `stop` says so, the deadline passes or the sink closes; the summary is the
    /// last record, and is returned.
    @discardableResult
    public func run(into sink: some RecordSink<NetRecord>, stop: () -> Bool) throws -> DropsSummary {
        let started = BootClock.now
        if options.noContainers { sink.emit(.notice(.noContainers)) }
        try stream.run(into: sink, stop: stop, deadline: options.deadline, interval: options.countInterval ?? lostCheckInterval) {
            if options.countInterval != nil { sink.emit(.counts(try stream.countRows())) }
        }
        sink.emit(.counts(try stream.countRows()))
        sink.flush()
        let summary = DropsSummary(durationNanoseconds: BootClock.now - started, drops: stream.shown, lost: stream.lost,
                                   uncounted: (try? stream.source.uncountedDrops()) ?? 0)
        sink.emit(.dropsSummary(summary))
        sink.flush()
        return summary
    }
}
