import Glibc

/// Where tracepoints are listed. libbpf reads tracepoint ids from here when it attaches.
///
/// tracefs is root's only on most hosts (mode 0700, its files 0440): a process whose uid is not 0
/// needs CAP_DAC_READ_SEARCH to read it, whatever else it holds. Every question asked here goes
/// through open or stat, never access(2): access checks with the real uid and, unless that is 0,
/// drops every capability first, so it would call tracefs missing for a process that can read it.
public enum TraceFS {
    static let candidates = ["/sys/kernel/tracing", "/sys/kernel/debug/tracing"]

    /// Whether this process can read tracefs.
    public enum Access: Equatable, Sendable {
        case readable(path: String)
        /// Mounted at `path`, but reading it fails with `errno` (EACCES for the usual mode 0700, root).
        case denied(path: String, errno: Int32, mode: UInt32, owner: UInt32)
        case notMounted
    }

    /// Tries each place tracefs lives by opening a file every tracefs has (`events/header_page`,
    /// mode 0440 like the tracepoint ids libbpf reads), so the answer is the one libbpf will get.
    public static var access: Access {
        var denied: Access?
        for candidate in candidates {
            let fd = open(candidate + "/events/header_page", O_RDONLY | O_CLOEXEC | O_NONBLOCK)
            if fd >= 0 {
                close(fd)
                return .readable(path: candidate)
            }
            let e = errno
            guard e == EACCES || e == EPERM, denied == nil else { continue }
            var info = stat()
            let known = stat(candidate, &info) == 0
            denied = .denied(path: candidate, errno: e, mode: known ? info.st_mode & 0o7777 : 0, owner: known ? info.st_uid : 0)
        }
        return denied ?? .notMounted
    }

    /// The tracefs this process can read, if any.
    public static var path: String? {
        if case .readable(let path) = access { return path }
        return nil
    }

    public static func hasTracepoint(category: String, name: String) -> Bool {
        guard let path else { return true } // cannot tell: let the attach say what is wrong
        var info = stat()
        return stat("\(path)/events/\(category)/\(name)", &info) == 0
    }

    /// Mounts tracefs at /sys/kernel/tracing when no tracefs is mounted (needs CAP_SYS_ADMIN);
    /// never over one that is mounted but not readable. Returns true when this call mounted it.
    @discardableResult
    public static func mountIfNeeded() -> Bool {
        guard access == .notMounted else { return false }
        return mount("nodev", candidates[0], "tracefs", 0, nil) == 0
    }
}
