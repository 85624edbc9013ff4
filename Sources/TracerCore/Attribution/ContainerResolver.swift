/// Answers "which container is this process in?" from a cgroup path or the leaf and parent names
/// the kernel captured, using `CgroupPathClassifier` for the shape and one metadata reader per
/// runtime for names and images.
///
/// Reads runtime state under /var/lib and /run, so it needs root for full answers; without access
/// it still returns identities with the id from the cgroup and a `warning`. Kernel-independent.
public struct ContainerResolver: Sendable {
    public let docker: DockerMetadata
    public let podman: PodmanMetadata
    public let crio: CRIOMetadata
    public let containerd: ContainerdMetadata
    public let runc: RuncState
    /// Where the host's files are read. The readers above are given their roots already under it;
    /// the paths they return (a sandbox key) are host paths, mapped by whoever opens them; the
    /// readers of /proc and network namespaces handed this resolver read under it too.
    public let hostRoot: HostRoot
    let cache: IdentityCache

    public init(
        docker: DockerMetadata,
        podman: PodmanMetadata,
        crio: CRIOMetadata,
        containerd: ContainerdMetadata,
        runc: RuncState,
        hostRoot: HostRoot = .identity,
        cacheCapacity: Int = 4096
    ) {
        self.docker = docker
        self.podman = podman
        self.crio = crio
        self.containerd = containerd
        self.runc = runc
        self.hostRoot = hostRoot
        self.cache = IdentityCache(capacity: cacheCapacity)
    }

    /// The runtimes' default rootful locations, read under `hostRoot`.
    public static func host(_ hostRoot: HostRoot = .identity) -> ContainerResolver {
        ContainerResolver(
            docker: DockerMetadata(root: hostRoot.path(DockerMetadata.defaultRoot)),
            podman: PodmanMetadata(graphRoot: hostRoot.path(PodmanMetadata.defaultGraphRoot),
                                   runRoot: hostRoot.path(PodmanMetadata.defaultRunRoot)),
            crio: CRIOMetadata(graphRoot: hostRoot.path(PodmanMetadata.defaultGraphRoot),
                               runRoot: hostRoot.path(PodmanMetadata.defaultRunRoot)),
            containerd: ContainerdMetadata(stateRoot: hostRoot.path(ContainerdMetadata.defaultStateRoot)),
            runc: RuncState(root: hostRoot.path(RuncState.defaultRoot)),
            hostRoot: hostRoot)
    }

    /// Resolves a full cgroup path (v2 `0::` line, or a v1 controller line's path).
    public func resolve(cgroupPath: String) -> Attribution {
        let path = RuncState.normalise(cgroupPath)
        return resolve(
            CgroupPathClassifier.classify(path: cgroupPath),
            runcKey: "runc-path:" + path,
            leaf: path.split(separator: "/").last.map(String.init) ?? "",
            runcLookup: { runc.container(cgroupPath: path) })
    }

    /// Resolves from the leaf and parent cgroup names captured at exec time, for processes whose
    /// cgroup may already be gone.
    public func resolve(leaf: String, parent: String) -> Attribution {
        resolve(
            CgroupPathClassifier.classify(leaf: leaf, parent: parent),
            runcKey: "runc-leaf:\(parent)/\(leaf)",
            leaf: leaf,
            runcLookup: { runc.container(leaf: leaf, parent: parent) })
    }

    func resolve(
        _ classification: CgroupClassification,
        runcKey: String,
        leaf: String,
        runcLookup: () -> RuncContainer?
    ) -> Attribution {
        switch classification {
        case .host:
            return .host
        case .runtimeHelper(let runtime, let what):
            return .notAContainer(reason: "\(runtime.rawValue) \(what), not the container itself")
        case .unrecognised(let shown):
            // runc's cgroup can be any path; bare ids under an unknown parent may be any engine's.
            if let found = lookupRunc(runcKey: runcKey, runcLookup) { return .container(found) }
            if CgroupName.isFullHexID(leaf), let found = lookupAnyEngine(id: leaf) { return .container(found) }
            return .notAContainer(reason: "unrecognised cgroup \(shown)")
        case .container(let match):
            if match.runtime == .containerd, let namespace = match.containerdNamespace {
                return resolveCtr(match, namespace: namespace, runcKey: runcKey, runcLookup: runcLookup)
            }
            return .container(resolveMatched(match))
        }
    }

    /// ctr's `/<ns>/<id>` is only a shape guess, and runc spec paths often look the same, so it is
    /// a container only if runc or containerd (now, or cached from earlier) confirms it.
    func resolveCtr(
        _ match: CgroupMatch, namespace: String, runcKey: String, runcLookup: () -> RuncContainer?
    ) -> Attribution {
        if let found = lookupRunc(runcKey: runcKey, runcLookup) { return .container(found) }
        let key = Self.key(.containerd, namespace: namespace, id: match.containerID)
        if let cached = cache.identity(for: key), cached.warning == nil { return .container(cached) }
        if let found = containerd.identity(namespace: namespace, id: match.containerID) {
            cache.store(found, for: [key])
            return .container(found)
        }
        if let cached = cache.identity(for: key) { return .container(cached) }
        return .notAContainer(reason:
            "cgroup /\(namespace)/\(match.containerID) has ctr's shape but no such task in \(containerd.stateRoot)")
    }

    func lookupRunc(runcKey: String, _ runcLookup: () -> RuncContainer?) -> ContainerIdentity? {
        if let cached = cache.identity(for: runcKey), cached.warning == nil { return cached }
        if let found = runcLookup() {
            cache.store(found.identity, for: [runcKey, Self.key(.runc, namespace: nil, id: found.id)])
            return found.identity
        }
        return cache.identity(for: runcKey)
    }

    /// A definite runtime pattern matched: it is a container even if no metadata is left.
    func resolveMatched(_ match: CgroupMatch) -> ContainerIdentity {
        let key = Self.key(match.runtime, namespace: nil, id: match.containerID)
        if let cached = cache.identity(for: key), cached.warning == nil { return cached }
        if var found = lookup(match) {
            if found.pod == nil, let podUID = match.podUID { found.pod = PodIdentity(uid: podUID) }
            cache.store(found, for: [key])
            return found
        }
        if let cached = cache.identity(for: key) { return cached }
        return Self.bareIdentity(match)
    }

    func lookup(_ match: CgroupMatch) -> ContainerIdentity? {
        let id = match.containerID
        switch match.runtime {
        case .docker: return docker.identity(id: id)
        case .podman: return podman.identity(id: id)
        case .crio: return crio.identity(id: id)
        case .runc: return runc.identity(id: id)
        case .containerd:
            // cri-dockerd under cgroupfs gives a bare id under pod<uid>, the same shape as containerd.
            return containerd.identity(id: id) ?? (match.kubernetes ? docker.identity(id: id) : nil)
        case .lxc, .nspawn:
            // No daemonless metadata: the name in the cgroup is all there is.
            return ContainerIdentity(runtime: match.runtime, id: id, name: id)
        }
    }

    /// For a bare 64-hex leaf under an unknown parent (--cgroup-parent, nesting).
    func lookupAnyEngine(id: String) -> ContainerIdentity? {
        for runtime in [ContainerRuntime.docker, .containerd, .podman, .crio] {
            let key = Self.key(runtime, namespace: nil, id: id)
            if let cached = cache.identity(for: key), cached.warning == nil { return cached }
        }
        let found = docker.identity(id: id)
            ?? containerd.identity(id: id)
            ?? podman.identity(id: id)
            ?? crio.identity(id: id)
        if let found {
            cache.store(found, for: [Self.key(found.runtime, namespace: nil, id: id)])
            return found
        }
        return nil
    }

    static func bareIdentity(_ match: CgroupMatch) -> ContainerIdentity {
        ContainerIdentity(
            runtime: match.runtime,
            id: match.containerID,
            pod: match.podUID.map { PodIdentity(uid: $0) },
            warning: "no metadata found for \(match.runtime.rawValue) container \(match.containerID)")
    }

    static func key(_ runtime: ContainerRuntime, namespace: String?, id: String) -> String {
        "\(runtime.rawValue)/\(namespace ?? "")/\(id)"
    }
}
