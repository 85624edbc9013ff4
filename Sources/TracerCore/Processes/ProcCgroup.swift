/// /proc/PID/cgroup: the one reader of that file. One line per v1 hierarchy
/// (`ID:controllers:path`) and `0::path` for v2.
public struct ProcCgroup: Sendable, Equatable {
    /// The v2 (unified) path, if the process is in the v2 hierarchy.
    public var unified: String?
    /// v1 paths by controller list (`memory`, `cpu,cpuacct`, `name=systemd`).
    public var v1: [String: String]

    public static func read(pid: Int32, procRoot: String = "/proc") throws -> ProcCgroup {
        parse(try FileSystem.readText("\(procRoot)/\(pid)/cgroup", kind: .processFile))
    }

    public static func parse(_ text: String) -> ProcCgroup {
        var result = ProcCgroup(unified: nil, v1: [:])
        for line in text.split(separator: "\n") {
            let parts = line.split(separator: ":", maxSplits: 2, omittingEmptySubsequences: false)
            guard parts.count == 3 else { continue }
            if parts[0] == "0" && parts[1].isEmpty {
                result.unified = String(parts[2])
            } else {
                result.v1[String(parts[1])] = String(parts[2])
            }
        }
        return result
    }

    /// The path that says most about the container: the v2 path unless it is the root (as for
    /// every host process on a hybrid host), then the memory, pids or name=systemd v1 path.
    public var attributionPath: String {
        if let unified, unified != "/" { return unified }
        for controller in ["memory", "pids", "name=systemd"] {
            if let path = v1[controller] { return path }
        }
        return unified ?? v1.values.first ?? "/"
    }

    /// `0::path` first, then each distinct v1 path with the controllers that share it.
    public var paths: [String] {
        var seen: [String] = []
        if let unified { seen.append("0::" + unified) }
        var controllers: [String: [String]] = [:]
        for (controller, path) in v1 { controllers[path, default: []].append(controller) }
        for (path, names) in controllers.sorted(by: { $0.key < $1.key }) {
            seen.append(names.sorted().joined(separator: ",") + ":" + path)
        }
        return seen
    }
}
