import CLinux
import Glibc

/// Network namespaces pinned by bind mounts (ip netns, docker, CNI, podman): paths by namespace inode.
///
/// On Linux 6.8+ the mounts are listed with listmount(2) and only the file system magic of each is
/// read with statmount(2); /proc/self/mountinfo would make the kernel format every overlay's long
/// option string, which on a host with a hundred containers costs more than the rest of `tracer pid`.
/// Older kernels fall back to mountinfo.
public enum NetnsMounts {
    /// Paths as the host names them. Under a host root, from pid 1's mountinfo: listmount(2) lists
    /// this process's mount namespace, where the host's bind mounts are seen under the root if at all.
    public static func names(hostRoot: HostRoot = .identity) -> [UInt64: [String]] {
        if hostRoot.isIdentity, let names = fromStatmount() { return names }
        return (try? MountTable.host(hostRoot, types: ["nsfs"]))?.networkNamespaceNames ?? [:]
    }

    /// The bind mounts in the directories `ip netns`, CNI, CRI runtimes and podman use
    /// (/run/netns, rootless podman's /run/user/UID/netns), one stat each: `names()` asks the
    /// kernel about every mount, about 1 ms with a hundred containers. `tracer pid` uses these
    /// and the path a runtime recorded (docker's SandboxKey) instead.
    /// Named by their host paths; read under `hostRoot`.
    public static func conventionalNames(hostRoot: HostRoot = .identity) -> [UInt64: [String]] {
        var directories = ["/run/netns"]
        if canonical(hostRoot.path("/var/run/netns/.")) != canonical(hostRoot.path("/run/netns/.")) { directories.append("/var/run/netns") }
        for user in FileSystem.entries(hostRoot.path("/run/user")) ?? [] { directories.append("/run/user/\(user)/netns") }
        var names: [UInt64: [String]] = [:]
        for directory in directories {
            for entry in (FileSystem.entries(hostRoot.path(directory)) ?? []).sorted() {
                let path = FileSystem.join(directory, entry)
                if let inode = inode(ofBindMount: hostRoot.path(path)) { names[inode, default: []].append(path) }
            }
        }
        return names
    }

    /// The network namespace bind-mounted at `path`; nil for anything else (a name `ip netns`
    /// left unmounted is an empty file on the tmpfs, a different device from nsfs).
    public static func inode(ofBindMount path: String) -> UInt64? {
        var st = stat()
        guard let nsfs = nsfsDevice, stat(path, &st) == 0, st.st_dev == nsfs else { return nil }
        return UInt64(st.st_ino)
    }

    /// The device every namespace file lives on (nsfs has one superblock), read once.
    private static let nsfsDevice: dev_t? = {
        var own = stat()
        return stat("/proc/self/ns/net", &own) == 0 ? own.st_dev : nil
    }()

    private static func canonical(_ path: String) -> String? {
        guard let resolved = realpath(path, nil) else { return nil }
        defer { free(resolved) }
        return String(cString: resolved)
    }

    static let nsfsMagic: UInt64 = 0x6e73_6673

    /// nil when the kernel lacks listmount/statmount (or they fail), so the caller falls back.
    static func fromStatmount() -> [UInt64: [String]]? {
        var ids: [UInt64] = []
        var batch = [UInt64](repeating: 0, count: 1024)
        while true {
            let last = ids.last ?? 0
            let n = batch.withUnsafeMutableBufferPointer { tracer_listmount(last, $0.baseAddress, $0.count) }
            guard n >= 0 else { return nil }
            ids.append(contentsOf: batch[0..<n])
            if n < batch.count { break }
        }
        var names: [UInt64: [String]] = [:]
        let size = 8192
        let buffer = UnsafeMutableRawPointer.allocate(byteCount: size, alignment: 8)
        defer { buffer.deallocate() }
        for id in ids {
            guard tracer_statmount(id, UInt64(TRACER_STATMOUNT_SB_BASIC), buffer, size) == 0 else {
                if errno == ENOENT { continue } // unmounted since listed
                return nil
            }
            guard buffer.load(as: tracer_statmount.self).sb_magic == nsfsMagic else { continue }
            let fields = UInt64(TRACER_STATMOUNT_MNT_ROOT | TRACER_STATMOUNT_MNT_POINT)
            guard tracer_statmount(id, fields, buffer, size) == 0 else { continue }
            let head = buffer.load(as: tracer_statmount.self)
            guard head.mask & fields == fields else { continue }
            let strings = buffer + MemoryLayout<tracer_statmount>.size
            let root = String(cString: (strings + Int(head.mnt_root)).assumingMemoryBound(to: CChar.self))
            let point = String(cString: (strings + Int(head.mnt_point)).assumingMemoryBound(to: CChar.self))
            // The root of a namespace bind mount reads `net:[4026532281]`.
            guard root.hasPrefix("net:["), root.hasSuffix("]"), let inode = UInt64(root.dropFirst(5).dropLast()) else { continue }
            if !(names[inode] ?? []).contains(point) { names[inode, default: []].append(point) }
        }
        return names
    }
}
