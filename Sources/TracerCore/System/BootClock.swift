import Glibc

/// Converts the kernel's CLOCK_BOOTTIME timestamps to wall-clock time, and reads "now".
public struct BootClock: Sendable {
    /// Wall-clock nanoseconds at boot (realtime minus boottime), measured once.
    public let realtimeOffset: Int64

    public init() {
        let boot = BootClock.read(CLOCK_BOOTTIME)
        let real = BootClock.read(CLOCK_REALTIME)
        realtimeOffset = Int64(real) - Int64(boot)
    }

    public init(realtimeOffset: Int64) {
        self.realtimeOffset = realtimeOffset
    }

    public static var now: UInt64 { read(CLOCK_BOOTTIME) }

    /// Nanoseconds since the Unix epoch for a boot-time stamp.
    public func wallClock(_ boot: UInt64) -> Int64 { Int64(boot) + realtimeOffset }

    private static func read(_ clock: clockid_t) -> UInt64 {
        var ts = timespec()
        clock_gettime(clock, &ts)
        return UInt64(ts.tv_sec) * 1_000_000_000 + UInt64(ts.tv_nsec)
    }
}
