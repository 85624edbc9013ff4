import Glibc

/// Everything `tracer pid` says about one process: who it is, where it runs, which container.
public struct ProcessReport: Sendable {
    public var pid: Int32
    public var comm: String
    public var commandLine: [[UInt8]]
    public var ppid: Int32
    /// Nanoseconds after boot.
    public var startTime: UInt64
    /// The tgid in each pid namespace, from the host's down to the innermost.
    public var namespacePIDs: [Int32]
    public var isKernelThread: Bool
    public var cgroup: ProcCgroup
    public var namespaces: ProcNamespaces
    /// Kinds whose namespace is pid 1's.
    public var sharedWithHost: Set<String>
    public var attribution: Attribution
    /// The container's pid 1 on the host.
    public var initPID: Int32?
    public var netnsNames: [String]
    /// The interfaces of its network namespace, each veth with its peer wherever that lives.
    public var links: [LinkReport]
    /// The main table's default routes of its network namespace, IPv4 first.
    public var defaultRoutes: [DefaultRoute] = []

    /// Its pid inside its container (the last of `namespacePIDs`, as `ProcStatus.pidInOwnNamespace`);
    /// nil outside containers.
    public var pidInContainer: Int32? {
        guard case .container = attribution else { return nil }
        return namespacePIDs.last
    }

    public var container: ContainerIdentity? {
        if case .container(let identity) = attribution { return identity }
        return nil
    }

    /// Reads /proc for `pid` (under the resolver's host root unless `procRoot` is given) and resolves
    /// its container. Throws `noSuchProcess` when it is gone.
    public static func read(pid: Int32, resolver: ContainerResolver, netns: NetnsDirectory?,
                            procRoot: String? = nil) throws -> ProcessReport {
        let procRoot = procRoot ?? resolver.hostRoot.proc
        guard FileSystem.exists("\(procRoot)/\(pid)") else { throw ProcessLookupError.noSuchProcess(pid) }
        let stat: ProcStat
        let status: ProcStatus
        let cgroup: ProcCgroup
        do {
            stat = try ProcStat.read(pid: pid, procRoot: procRoot)
            status = try ProcStatus.read(pid: pid, procRoot: procRoot)
            cgroup = try ProcCgroup.read(pid: pid, procRoot: procRoot)
        } catch {
            // Gone between the check and the reads.
            throw FileSystem.exists("\(procRoot)/\(pid)") ? ProcessLookupError.unreadable(pid: pid, file: "stat") : .noSuchProcess(pid)
        }
        let namespaces = ProcNamespaces.read(pid: pid, procRoot: procRoot)
        // pid 1's namespaces are the host's; where they cannot be read, ours stand in.
        var host = ProcNamespaces.read(pid: 1, procRoot: procRoot)
        if host.inodes.isEmpty { host = ProcNamespaces.read(pid: getpid(), procRoot: procRoot) }
        let shared = Set(namespaces.inodes.filter { host[$0.key] == $0.value }.map(\.key))
        let attribution = status.isKernelThread ? .host : resolver.resolve(cgroupPath: cgroup.attributionPath)

        var initPID: Int32?
        if case .container(let identity) = attribution {
            initPID = identity.initPID
            if initPID == nil || !FileSystem.exists("\(procRoot)/\(initPID!)") {
                // The process of this cgroup that is pid 1 in its namespace.
                initPID = ProcessTable.scan(procRoot: procRoot).entries
                    .first { $0.cgroup.attributionPath == cgroup.attributionPath && $0.pidInNamespace == 1 }?.pid
            }
        }
        var names = namespaces["net"].flatMap { inode in netns?.namespaces.first { $0.inode == inode }?.names } ?? []
        // The bind mount the runtime recorded, where the directory has not named it already.
        if case .container(let identity) = attribution, let path = identity.netnsPath, !names.contains(path),
           let inode = namespaces["net"], NetnsMounts.inode(ofBindMount: resolver.hostRoot.path(path)) == inode {
            names.append(path)
        }
        var links: [LinkReport] = []
        var defaultRoutes: [DefaultRoute] = []
        if let netns, let inode = namespaces["net"] {
            netns.know(inode: inode, path: "\(procRoot)/\(pid)/ns/net")
            if let shim = runtimeNamespace(ppid: stat.ppid, besides: inode, procRoot: procRoot) {
                netns.hintHostSide(inode: shim.inode, path: shim.path)
            }
            let contents = netns.contentsWithRoutes(of: inode)
            links = contents.interfaces.map { LinkReport(interface: $0, peer: netns.peer(of: $0, in: inode)) }
            defaultRoutes = contents.defaultRoutes
        }
        return ProcessReport(
            pid: pid, comm: stat.comm, commandLine: ProcCmdline.read(pid: pid, procRoot: procRoot), ppid: stat.ppid,
            startTime: stat.startTimeNanoseconds, namespacePIDs: status.pidsByNamespace,
            isKernelThread: status.isKernelThread, cgroup: cgroup, namespaces: namespaces, sharedWithHost: shared,
            attribution: attribution, initPID: initPID, netnsNames: names, links: links, defaultRoutes: defaultRoutes)
    }
}

/// The network namespace of the nearest ancestor outside `inode`: where the container's runtime
/// shim (containerd-shim, conmon) runs, and so usually the host side of its veth.
private func runtimeNamespace(ppid: Int32, besides inode: UInt64, procRoot: String) -> (inode: UInt64, path: String)? {
    var pid = ppid
    for _ in 0..<16 where pid > 0 {
        let path = "\(procRoot)/\(pid)/ns/net"
        var st = stat()
        guard stat(path, &st) == 0 else { return nil }
        if UInt64(st.st_ino) != inode { return (UInt64(st.st_ino), path) }
        guard let parent = try? ProcStat.read(pid: pid, procRoot: procRoot).ppid else { return nil }
        pid = parent
    }
    return nil
}

/// One interface of a namespace, with its veth peer.
public struct LinkReport: Sendable {
    public var interface: NetworkInterface
    public var peer: NetnsDirectory.Peer?

    public init(interface: NetworkInterface, peer: NetnsDirectory.Peer?) {
        self.interface = interface
        self.peer = peer
    }
}
