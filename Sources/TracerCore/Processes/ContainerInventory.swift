import Glibc

/// The containers running on the host, found from the processes' cgroups and named from
/// the runtimes' metadata. Processes whose cgroup is no container's are left out.
public struct ContainerInventory: Sendable {
    public struct Container: Sendable {
        public var identity: ContainerIdentity
        public var cgroupPath: String
        /// Every hierarchy's path, as the first process found showed it.
        public var cgroup: ProcCgroup
        /// Its processes, by ascending host pid.
        public var members: [Member]
        /// The container's pid 1 on the host.
        public var initPID: Int32?
        public var netnsInode: UInt64?

        /// Its processes' host pids, ascending.
        public var pids: [Int32] { members.map(\.pid) }
    }

    /// One process of a container: its pid on the host and the pid it has inside.
    public struct Member: Sendable, Equatable {
        public var pid: Int32
        /// Its pid in its own pid namespace (`ProcStatus.pidInOwnNamespace`): 1 for the container's init.
        public var pidInContainer: Int32

        public init(pid: Int32, pidInContainer: Int32) {
            self.pid = pid
            self.pidInContainer = pidInContainer
        }
    }

    public var containers: [Container]

    /// Reads the host's /proc under the resolver's host root; `procRoot` overrides it (fixtures).
    public static func scan(resolver: ContainerResolver, procRoot: String? = nil) -> ContainerInventory {
        let procRoot = procRoot ?? resolver.hostRoot.proc
        let table = ProcessTable.scan(procRoot: procRoot)
        var byID: [String: Container] = [:]
        var resolved: [String: Attribution] = [:]
        for entry in table.entries {
            let path = entry.cgroup.attributionPath
            let attribution = resolved[path] ?? resolver.resolve(cgroupPath: path)
            resolved[path] = attribution
            guard case .container(let identity) = attribution else { continue }
            var container = byID[identity.id] ?? Container(identity: identity, cgroupPath: path, cgroup: entry.cgroup, members: [], initPID: nil)
            container.members.append(Member(pid: entry.pid, pidInContainer: entry.pidInNamespace))
            if container.initPID == nil && entry.pidInNamespace == 1 { container.initPID = entry.pid }
            byID[identity.id] = container
        }
        var containers = Array(byID.values)
        for i in containers.indices {
            if let pid = containers[i].identity.initPID, containers[i].pids.contains(pid) { containers[i].initPID = pid }
            if containers[i].initPID == nil { containers[i].initPID = containers[i].pids.min() }
            if let pid = containers[i].initPID { containers[i].netnsInode = ProcNamespaces.read(pid: pid, procRoot: procRoot)["net"] }
        }
        containers.sort { ($0.identity.name ?? $0.identity.id, $0.identity.id) < ($1.identity.name ?? $1.identity.id, $1.identity.id) }
        return ContainerInventory(containers: containers)
    }

    /// Containers whose name is `query`, or whose id starts with it.
    public func matching(_ query: String) -> [Container] {
        let exact = containers.filter { $0.identity.name == query || $0.identity.id == query }
        if !exact.isEmpty { return exact }
        return containers.filter { $0.identity.id.hasPrefix(query) }
    }

    /// Up to three names closest to `query`, for "unknown container" errors.
    public func closestNames(to query: String) -> [String] {
        let names = containers.map { $0.identity.name ?? $0.identity.shortID }
        return names.map { ($0, EditDistance.between($0, query)) }.sorted { $0.1 < $1.1 }.prefix(3).map(\.0)
    }
}

/// Levenshtein distance, for suggesting a name the user probably meant.
enum EditDistance {
    static func between(_ a: String, _ b: String) -> Int {
        let a = Array(a), b = Array(b)
        if a.isEmpty { return b.count }
        var previous = Array(0...b.count)
        for i in 1...a.count {
            var current = [i] + Array(repeating: 0, count: b.count)
            for j in stride(from: 1, through: b.count, by: 1) {
                current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1))
            }
            previous = current
        }
        return previous[b.count]
    }
}
