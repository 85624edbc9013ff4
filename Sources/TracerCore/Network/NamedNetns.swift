import Glibc

/// A network namespace named on the command line (`--netns`): an `ip netns` name or another bind
/// mount's name, a path to a namespace file (/proc/PID/ns/net, a kind node's), or none: the root
/// namespace (pid 1's). Resolved once, to a path the tracer can enter.
public struct NamedNetns: Sendable, Equatable {
    public var path: String
    /// "the root network namespace", "network namespace tkp-lab", "network namespace /proc/42/ns/net".
    public var label: String
    public var isRoot: Bool

    /// pid 1's namespace, the host's; entered by its own path only where it is not ours already.
    /// Where pid 1's cannot be read (a sandbox, another user namespace), ours stands in, and the
    /// label says so.
    public static var root: NamedNetns {
        var mine = stat(), first = stat()
        let ours = stat("/proc/self/ns/net", &mine) == 0
        if stat("/proc/1/ns/net", &first) == 0, (try? RouteNetlink.inNamespace("/proc/1/ns/net") {}) != nil {
            let same = ours && mine.st_ino == first.st_ino && mine.st_dev == first.st_dev
            return NamedNetns(path: same ? "/proc/self/ns/net" : "/proc/1/ns/net", label: "the root network namespace", isRoot: true)
        }
        return NamedNetns(path: "/proc/self/ns/net", label: "the tracer's own network namespace (pid 1's cannot be entered)", isRoot: true)
    }

    public enum Failure: Error, Equatable, CustomStringConvertible {
        case unknown(String, closest: [String])
        case notANamespace(String, reason: String)
        /// It exists, and this process may not enter it (EPERM, EACCES).
        case notPermitted(String, reason: String)

        public var description: String {
            switch self {
            case .unknown(let query, let closest):
                return "no network namespace named '\(query)'"
                    + (closest.isEmpty ? " (no named namespaces found)" : "; closest: \(closest.joined(separator: ", "))")
            case .notANamespace(let path, let reason):
                return "\(path) is not a network namespace the tracer can enter: \(reason)"
            case .notPermitted(let path, let reason):
                return "may not enter the network namespace \(path): \(reason) (CAP_SYS_ADMIN, and read access to the file)"
            }
        }
    }

    public static func resolve(_ query: String?, names: [UInt64: [String]] = NetnsMounts.names()) -> Result<NamedNetns, Failure> {
        guard let query else { return .success(root) }
        if query.contains("/") {
            var st = stat()
            guard stat(query, &st) == 0 else { return .failure(.notANamespace(query, reason: String(cString: strerror(errno)))) }
            do {
                try RouteNetlink.inNamespace(query) {}
            } catch NetlinkError.namespace(_, let e) where e == EPERM || e == EACCES {
                return .failure(.notPermitted(query, reason: String(cString: strerror(e))))
            } catch {
                return .failure(.notANamespace(query, reason: "\(error)"))
            }
            return .success(NamedNetns(path: query, label: "network namespace \(query)", isRoot: false))
        }
        let all = names.values.flatMap { $0 }
        if let path = all.first(where: { short($0) == query }) {
            return .success(NamedNetns(path: path, label: "network namespace \(query)", isRoot: false))
        }
        return .failure(.unknown(query, closest: closest(to: query, among: all.map(short))))
    }

    /// The three names nearest `query`, for the error that names none.
    static func closest(to query: String, among names: [String]) -> [String] {
        Set(names).sorted().map { ($0, EditDistance.between($0, query)) }.sorted { $0.1 < $1.1 }.prefix(3).map(\.0)
    }

    private static func short(_ path: String) -> String { path.split(separator: "/").last.map(String.init) ?? path }
}
