import CLibBPF
import Glibc
import Synchronization

/// A request to stop that threads blocked in the kernel wake for: an eventfd that, once fired,
/// stays readable, so every wait that watches it (ring buffer polls, interval sleeps) returns at
/// once, before or after the firing, with no race between checking and blocking. Lets an idle
/// reader block until there is something to deliver instead of waking every few milliseconds to
/// look at a flag.
public final class StopEvent: Sendable {
    private let fd: Int32
    private let fired = Atomic<Bool>(false)

    /// eventfd(2); fails only when the process is out of file descriptors or memory.
    public init() throws(Errno) {
        let fd = eventfd(0, Int32(EFD_CLOEXEC | EFD_NONBLOCK))
        guard fd >= 0 else { throw Errno.current }
        self.fd = fd
    }

    deinit { Glibc.close(fd) }

    /// Async-signal-safe (an atomic store and write(2)): a signal handler may call it.
    public func fire() {
        fired.store(true, ordering: .relaxed)
        var one: UInt64 = 1
        _ = write(fd, &one, MemoryLayout<UInt64>.size)
    }

    public var isFired: Bool { fired.load(ordering: .relaxed) }

    /// Blocks until the event fires or `timeoutMilliseconds` pass (-1: no limit); true if it fired.
    @discardableResult
    public func wait(timeoutMilliseconds: Int32) -> Bool {
        guard !isFired else { return true }
        var watched = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
        _ = Glibc.poll(&watched, 1, timeoutMilliseconds)
        return isFired
    }

    /// The readable end, for a `poll` beside other file descriptors of this module.
    var descriptor: Int32 { fd }
}
