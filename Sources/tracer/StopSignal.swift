import Glibc
import Synchronization

/// SIGINT and SIGTERM ask the running command to stop; it then detaches and flushes.
/// SIGPIPE is ignored so a closed pipe shows up as a write error instead of killing us.
enum StopSignal {
    private static let requested = Atomic<Bool>(false)

    static func install() {
        // A parent may hand us a blocked mask (test runners, some supervisors): unblock what we handle.
        var handled = sigset_t()
        sigemptyset(&handled)
        sigaddset(&handled, SIGINT)
        sigaddset(&handled, SIGTERM)
        sigprocmask(SIG_UNBLOCK, &handled, nil)
        signal(SIGPIPE, SIG_IGN)
        signal(SIGINT) { _ in StopSignal.requested.store(true, ordering: .relaxed) }
        signal(SIGTERM) { _ in StopSignal.requested.store(true, ordering: .relaxed) }
    }

    static var isRequested: Bool { requested.load(ordering: .relaxed) }
}
