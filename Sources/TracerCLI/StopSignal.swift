import BPF
import Glibc
import Synchronization

/// Every signal whose default action would end a tracing command asks it to stop instead: the
/// command's loop sees the request, and the one teardown every way out shares runs (trace tables
/// removed, terminal restored, BPF detached, summary flushed). A signal's default action would
/// skip all of that and leave, for one, `tracer egress`'s nftables table in a host namespace.
///
/// Exit status after a signal (README "Exit codes"): SIGINT and SIGTERM are the usual ways to
/// stop a tracer, and SIGPIPE means the reader went away (as quiet an end as a closed stdout has
/// always been): the command's own status stands (0, or 2 for a flow `tracer egress` saw stop).
/// Any other (SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2, SIGALRM) exits 128 + the signal's number, as a
/// shell reports a process the signal killed, so a supervisor still sees the run was cut short.
enum StopSignal {
    /// The signals handled: those that would otherwise terminate us (or dump core, for SIGQUIT).
    static let handled: [Int32] = [SIGHUP, SIGINT, SIGQUIT, SIGUSR1, SIGUSR2, SIGPIPE, SIGALRM, SIGTERM]

    /// The first stop signal received, 0 before any.
    private static let first = Atomic<Int32>(0)
    /// Fired by the handler when set: threads blocked on it wake for the stop instead of
    /// polling `isRequested` (the agent, whose sessions sleep until there is work).
    nonisolated(unsafe) private static var event: StopEvent?

    /// `install`, and a stop event the signals fire, for waits that should end on a stop.
    static func installWithEvent() throws -> StopEvent {
        let stop = try StopEvent()
        event = stop // before the handlers: they read it without a lock
        install()
        return stop
    }

    static func install() {
        // A parent may hand us a blocked mask (test runners, some supervisors), or these signals
        // ignored (a shell without job control ignores SIGINT and SIGQUIT in background jobs):
        // we stop on them all, whatever we inherited. Except an ignored SIGHUP: that is `nohup`,
        // whose whole point is a tracer that outlives the terminal it was started from.
        var set = sigset_t()
        sigemptyset(&set)
        for signal in handled { sigaddset(&set, signal) }
        sigprocmask(SIG_UNBLOCK, &set, nil)
        for signal in handled where !(signal == SIGHUP && isIgnored(SIGHUP)) {
            // SIGPIPE too: a write to a closed pipe then fails with EPIPE (the sink ends quietly)
            // instead of killing us before the teardown.
            Glibc.signal(signal) { number in
                _ = StopSignal.first.compareExchange(expected: 0, desired: number, ordering: .relaxed)
                StopSignal.event?.fire()
            }
        }
    }

    private static func isIgnored(_ signal: Int32) -> Bool {
        var current = sigaction()
        guard sigaction(signal, nil, &current) == 0 else { return false }
        return unsafeBitCast(current.__sigaction_handler.sa_handler, to: Int.self) == unsafeBitCast(SIG_IGN, to: Int.self)
    }

    static var isRequested: Bool { first.load(ordering: .relaxed) != 0 }

    /// The signal that stopped the command, if one did.
    static var received: Int32? {
        let number = first.load(ordering: .relaxed)
        return number == 0 ? nil : number
    }

    /// The exit status a signal imposes on a command it stopped; nil when the command's own
    /// status stands (no signal, or SIGINT, SIGTERM or SIGPIPE).
    static var exitStatus: Int32? { received.flatMap(exitStatus(after:)) }

    static func exitStatus(after signal: Int32) -> Int32? {
        switch signal {
        case SIGINT, SIGTERM, SIGPIPE: return nil
        default: return 128 + signal
        }
    }
}
