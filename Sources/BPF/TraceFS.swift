import Glibc

/// Where tracepoints are listed. libbpf reads tracepoint ids from here when it attaches.
public enum TraceFS {
    static let candidates = ["/sys/kernel/tracing", "/sys/kernel/debug/tracing"]

    /// The mounted tracefs, if any.
    public static var path: String? {
        candidates.first { access("\($0)/events", F_OK) == 0 }
    }

    public static func hasTracepoint(category: String, name: String) -> Bool {
        guard let path else { return true } // cannot tell: let the attach say what is wrong
        return access("\(path)/events/\(category)/\(name)", F_OK) == 0
    }

    /// Mounts tracefs at /sys/kernel/tracing when no tracefs is mounted (needs CAP_SYS_ADMIN).
    /// Returns true when this call mounted it.
    @discardableResult
    public static func mountIfNeeded() -> Bool {
        guard path == nil else { return false }
        return mount("nodev", candidates[0], "tracefs", 0, nil) == 0
    }
}
