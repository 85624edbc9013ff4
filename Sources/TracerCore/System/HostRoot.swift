/// Where this process finds the host's files: "/" on the host itself; in a container that has
/// the host's `/` mounted (the DaemonSet's `/host`, `--host-root /host` or `HOST_ROOT=/host`),
/// that directory. Every path the host names (/proc/PID/..., /run/netns/NAME, a runtime's state
/// directory, a sandbox key a runtime recorded) stays a host path in what the tracer reports and
/// is mapped here only where a file is opened, so names read the same inside and outside.
///
/// /proc/self and tracefs are not mapped: the first is this process's own, and libbpf reads the
/// second at /sys/kernel/tracing itself, so the container keeps tracefs mounted in place.
public struct HostRoot: Sendable, Hashable, CustomStringConvertible {
    /// The directory holding the host's `/`, without a trailing slash ("/" for the host itself).
    public let directory: String

    /// The host's own root: every path is read where it is.
    public static let identity = HostRoot(checked: "/")

    public enum Failure: Error, Sendable, Equatable, CustomStringConvertible {
        case notADirectory(String)
        /// A directory without proc/ under it is no host's root (or the host's /proc is not mounted there).
        case noProc(String)

        public var description: String {
            switch self {
            case .notADirectory(let path): return "\(path) is not a directory"
            case .noProc(let path): return "\(path) has no proc/ under it: not the host's / mounted with its submounts"
            }
        }
    }

    /// Checks that `directory` is a directory with proc/ in it.
    public init(directory: String) throws(Failure) {
        let trimmed = Self.trimmed(directory)
        guard FileSystem.isDirectory(trimmed) else { throw .notADirectory(directory) }
        guard trimmed == "/" || FileSystem.isDirectory(FileSystem.join(trimmed, "proc")) else { throw .noProc(directory) }
        self.init(checked: trimmed)
    }

    private init(checked directory: String) {
        self.directory = directory
    }

    /// The flag when given, else the `HOST_ROOT` environment variable when set and not empty,
    /// else the host's own root.
    public static func resolve(flag: String?, environment: String?) throws(Failure) -> HostRoot {
        if let flag { return try HostRoot(directory: flag) }
        if let environment, !environment.isEmpty { return try HostRoot(directory: environment) }
        return .identity
    }

    public var isIdentity: Bool { directory == "/" }

    /// Where this process reads the host's absolute path `hostPath`; a relative path is read
    /// where it is (a directory given relative to the working directory).
    ///
    /// Symbolic links among the directories on the way are followed inside the host's root, as
    /// the host follows them: Debian's /var/run is a link to /run, and docker records sandbox
    /// keys under /var/run/docker/netns, which the container's own /run would otherwise answer.
    /// The last component is left for the caller's open(2) (/proc/PID/ns/net is a link of the
    /// kernel's own that is opened, never read).
    public func path(_ hostPath: String) -> String {
        guard !isIdentity, hostPath.hasPrefix("/") else { return hostPath }
        var resolved: [Substring] = []
        var pending = Array(hostPath.split(separator: "/").reversed())
        var links = 0
        while let next = pending.popLast() {
            if next == "." { continue }
            if next == ".." { _ = resolved.popLast(); continue }
            // 40 links as the kernel's own limit (ELOOP): a loop ends as a path that fails to open.
            if !pending.isEmpty, links < 40, let target = FileSystem.linkTarget(within(resolved + [next])) {
                links += 1
                if target.hasPrefix("/") { resolved = [] }
                pending += target.split(separator: "/").reversed()
                continue
            }
            resolved.append(next)
        }
        return within(resolved)
    }

    private func within(_ components: [Substring]) -> String {
        components.isEmpty ? directory : directory + "/" + components.joined(separator: "/")
    }

    /// The host's /proc (the host's pid namespace when the host's own /proc is mounted there).
    public var proc: String { path("/proc") }

    public var description: String { directory }

    private static func trimmed(_ path: String) -> String {
        var path = path
        while path.count > 1 && path.hasSuffix("/") { path.removeLast() }
        return path
    }
}
