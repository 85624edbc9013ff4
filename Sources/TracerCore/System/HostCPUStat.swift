import Glibc

/// /proc/stat: the one reader of that file. The host's CPU time since boot, split into busy and
/// idle, and the number of forks since boot.
public struct HostCPUStat: Sendable, Equatable {
    /// Time all CPUs spent on anything but idle and iowait (guest time is inside user time).
    public var busyNanoseconds: UInt64
    /// Time of all CPUs, busy or not.
    public var totalNanoseconds: UInt64
    /// Processes and threads created since boot.
    public var forks: UInt64

    public init(busyNanoseconds: UInt64, totalNanoseconds: UInt64, forks: UInt64) {
        self.busyNanoseconds = busyNanoseconds
        self.totalNanoseconds = totalNanoseconds
        self.forks = forks
    }

    public static func read(path: String = "/proc/stat") throws -> HostCPUStat {
        guard let stat = parse(try FileSystem.readText(path, kind: .kernelTable), ticksPerSecond: UInt64(sysconf(Int32(_SC_CLK_TCK)))) else {
            throw Unreadable(path: path)
        }
        return stat
    }

    public struct Unreadable: Error, CustomStringConvertible {
        public let path: String
        public var description: String { "cannot read the host's CPU times from \(path)" }
    }

    /// The `cpu` line holds ticks: user nice system idle iowait irq softirq steal guest guest_nice.
    public static func parse(_ text: String, ticksPerSecond: UInt64) -> HostCPUStat? {
        var cpu: [UInt64]?
        var forks: UInt64?
        for line in text.split(separator: "\n") {
            if line.hasPrefix("cpu ") {
                cpu = line.split(separator: " ").dropFirst().compactMap { UInt64($0) }
            } else if line.hasPrefix("processes ") {
                forks = UInt64(line.dropFirst("processes ".count))
            }
        }
        guard let cpu, cpu.count >= 8, let forks, ticksPerSecond > 0 else { return nil }
        let total = cpu.prefix(8).reduce(0, +)
        let idle = cpu[3] + cpu[4]
        let scale = 1_000_000_000 / ticksPerSecond
        return HostCPUStat(busyNanoseconds: (total - idle) * scale, totalNanoseconds: total * scale, forks: forks)
    }

    /// CPUs online now.
    public static var onlineCPUs: Int { max(1, Int(sysconf(Int32(_SC_NPROCESSORS_ONLN)))) }
}
