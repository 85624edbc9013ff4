/// Reads plain runc's container state, `<root>/<id>/state.json`.
///
/// A runc container's cgroup is whatever its spec says, so the path alone cannot name it; this is
/// how such a container is matched, by the cgroup path recorded in its state. Containers other
/// engines start through runc keep state under their own roots (`/run/docker/runtime-runc/moby`,
/// ...) and are not seen here. Needs read access to /run/runc (root).
public struct RuncState: Sendable {
    public let root: String
    /// runc's default state root on the host.
    public static let defaultRoot = "/run/runc"

    public init(root: String = defaultRoot) {
        self.root = root
    }

    /// Nil when runc has no directory for `id`; a container with `warning` when state.json is
    /// missing or corrupt (its cgroup path is then unknown).
    public func container(id: String) -> RuncContainer? {
        guard PathComponent.isPlain(id) else { return nil }
        let directory = FileSystem.join(root, id)
        guard FileSystem.isDirectory(directory) else { return nil }
        let path = FileSystem.join(directory, "state.json")
        switch MetadataFile.read(path) {
        case .object(let json): return Self.container(json, directoryID: id)
        case .missing: return RuncContainer(id: id, warning: "\(path): missing")
        case .corrupt(let why): return RuncContainer(id: id, warning: why)
        }
    }

    public func containers() -> [RuncContainer] {
        let names = FileSystem.entries(root) ?? []
        return names.sorted().compactMap(container(id:))
    }

    public func identity(id: String) -> ContainerIdentity? {
        container(id: id)?.identity
    }

    public func all() -> [ContainerIdentity] {
        containers().map(\.identity)
    }

    /// The container whose cgroup is `cgroupPath` or an ancestor of it (processes may sit in a
    /// sub-cgroup such as crun's `/container`); the deepest such container wins.
    public func container(cgroupPath: String) -> RuncContainer? {
        let path = Self.normalise(cgroupPath)
        return containers()
            .filter { container in
                guard let own = container.cgroupPath.map(Self.normalise) else { return false }
                return path == own || path.hasPrefix(own == "/" ? "/" : own + "/")
            }
            .max { ($0.cgroupPath?.count ?? 0) < ($1.cgroupPath?.count ?? 0) }
    }

    /// The container whose cgroup ends in `parent/leaf` (or is `/leaf` when `parent` is empty),
    /// for processes known only by the names the kernel captured.
    public func container(leaf: String, parent: String) -> RuncContainer? {
        let wanted = (parent.isEmpty || parent == "/") ? ["", leaf] : [parent, leaf]
        return containers().first { container in
            guard let path = container.cgroupPath else { return false }
            let components = Self.normalise(path).split(separator: "/", omittingEmptySubsequences: false).map(String.init)
            return Array(components.suffix(2)) == wanted
        }
    }

    static func normalise(_ path: String) -> String {
        "/" + path.split(separator: "/").joined(separator: "/")
    }

    static func container(_ json: JSONObject, directoryID: String) -> RuncContainer {
        let labels = json.strings("config", "labels")
        let bundle = labels.first { $0.hasPrefix("bundle=") }.map { String($0.dropFirst("bundle=".count)) }
        return RuncContainer(
            id: json.string("id") ?? directoryID,
            initPID: json.int("init_process_pid").flatMap { Int32(exactly: $0) }.flatMap { $0 > 0 ? $0 : nil },
            cgroupPath: cgroupPath(json),
            bundle: bundle)
    }

    /// libcontainer's Config.Cgroups.Path, else the brief's `cgroupsPath`, else a mounted path from
    /// `cgroup_paths` with its mount point removed.
    static func cgroupPath(_ json: JSONObject) -> String? {
        let systemd = json.bool("config", "cgroups", "systemd") ?? false
        if let path = json.string("config", "cgroups", "path") ?? json.string("config", "cgroupsPath") {
            if let expanded = SystemdCgroupSpec.path(path), systemd || !path.hasPrefix("/") { return expanded }
            return normalise(path)
        }
        let mounted = json.stringMap("cgroup_paths")
        for key in [""] + mounted.keys.sorted() {
            guard let path = mounted[key] else { continue }
            var components = path.split(separator: "/").map(String.init)
            guard components.starts(with: ["sys", "fs", "cgroup"]) else { continue }
            components.removeFirst(3)
            // v1 mounts each controller in its own directory; hybrid mounts v2 at unified/.
            if !key.isEmpty || components.first == "unified" { components = Array(components.dropFirst()) }
            return "/" + components.joined(separator: "/")
        }
        return nil
    }
}
