/// /proc/self/mountinfo (or, under a host root, the host's pid 1's): the one reader of that file.
public struct MountTable: Sendable {
    public struct Mount: Sendable, Equatable {
        /// The mounted file's path inside its file system; `net:[4026532281]` for a namespace bind mount.
        public var root: String
        public var mountPoint: String
        public var fileSystem: String
        public var source: String
        public var superOptions: String
    }

    public var mounts: [Mount]

    /// With `types`, only mounts of those file system types are parsed: a container host has
    /// hundreds of overlay mounts that most callers do not need.
    public static func read(path: String = "/proc/self/mountinfo", types: Set<String>? = nil) throws -> MountTable {
        parse(bytes: try FileSystem.readBytes(path, kind: .kernelTable), types: types)
    }

    /// The host's mounts with the paths the host gives them: ours on the host; under a host root,
    /// pid 1's (a container's own table names the host's mounts under the root, or not at all).
    public static func host(_ hostRoot: HostRoot, types: Set<String>? = nil) throws -> MountTable {
        try read(path: hostRoot.isIdentity ? "/proc/self/mountinfo" : hostRoot.path("/proc/1/mountinfo"), types: types)
    }

    public static func parse(_ text: String, types: Set<String>? = nil) -> MountTable {
        parse(bytes: Array(text.utf8), types: types)
    }

    /// Lines look like `36 35 98:0 /mnt1 /mnt2 rw,noatime master:1 - ext3 /dev/root rw,errors=continue`.
    /// The file system type is found on the bytes first, so skipped lines cost one scan and no
    /// String: that scan is what keeps `tracer pid` fast on a host with hundreds of overlays.
    static func parse(bytes: [UInt8], types: Set<String>?) -> MountTable {
        let wanted = types.map { Set($0.map { Array($0.utf8) }) }
        var mounts: [Mount] = []
        bytes.withUnsafeBufferPointer { all in
            var start = 0
            while start < all.count {
                var end = start
                while end < all.count && all[end] != 10 { end += 1 }
                let line = UnsafeBufferPointer(rebasing: all[start..<end])
                start = end + 1
                // Fields never hold a bare space (mountinfo escapes it), so the first " - " ends the optional fields.
                guard let dash = separator(in: line) else { continue }
                var typeEnd = dash + 3
                while typeEnd < line.count && line[typeEnd] != 32 { typeEnd += 1 }
                if let wanted, !wanted.contains(Array(line[(dash + 3)..<typeEnd])) { continue }
                let head = String(decoding: UnsafeBufferPointer(rebasing: line[..<dash]), as: UTF8.self)
                    .split(separator: " ", omittingEmptySubsequences: false)
                let tail = String(decoding: UnsafeBufferPointer(rebasing: line[(dash + 3)...]), as: UTF8.self)
                    .split(separator: " ", omittingEmptySubsequences: false)
                guard head.count > 4, tail.count >= 3 else { continue }
                mounts.append(Mount(root: unescape(String(head[3])), mountPoint: unescape(String(head[4])),
                                    fileSystem: String(tail[0]), source: String(tail[1]), superOptions: String(tail[2])))
            }
        }
        return MountTable(mounts: mounts)
    }

    /// Offset of the space that starts " - " in a mountinfo line.
    private static func separator(in line: UnsafeBufferPointer<UInt8>) -> Int? {
        guard line.count >= 3 else { return nil }
        for i in 0..<(line.count - 2) where line[i] == 32 && line[i + 1] == 45 && line[i + 2] == 32 { return i }
        return nil
    }

    public func mounts(ofType type: String) -> [Mount] { mounts.filter { $0.fileSystem == type } }

    /// Network namespaces pinned by bind mounts (ip netns, docker, CNI, podman), as paths by inode.
    public var networkNamespaceNames: [UInt64: [String]] {
        var names: [UInt64: [String]] = [:]
        for m in mounts(ofType: "nsfs") where m.root.hasPrefix("net:[") {
            guard let inode = UInt64(m.root.dropFirst(5).dropLast()) else { continue }
            if !(names[inode] ?? []).contains(m.mountPoint) { names[inode, default: []].append(m.mountPoint) }
        }
        return names
    }

    /// mountinfo escapes space, tab, newline and backslash as octal.
    static func unescape(_ field: String) -> String {
        guard field.contains("\\") else { return field }
        var out: [UInt8] = []
        let bytes = Array(field.utf8)
        var i = 0
        while i < bytes.count {
            if bytes[i] == 92, i + 3 < bytes.count,
               let v = UInt8(String(decoding: bytes[(i + 1)...(i + 3)], as: UTF8.self), radix: 8) {
                out.append(v)
                i += 4
            } else {
                out.append(bytes[i])
                i += 1
            }
        }
        return String(decoding: out, as: UTF8.self)
    }
}

/// How cgroups are laid out on this host.
public struct CgroupLayout: Sendable, Equatable {
    public enum Kind: String, Sendable { case v1, v2, hybrid, none }
    public var kind: Kind
    /// Where the v2 (unified) hierarchy is mounted, if it is.
    public var unifiedMount: String?
    /// v1 controllers (and named hierarchies) and where each is mounted.
    public var v1Mounts: [String: String]

    public init(mounts: MountTable) {
        unifiedMount = mounts.mounts(ofType: "cgroup2").first?.mountPoint
        var v1: [String: String] = [:]
        for m in mounts.mounts(ofType: "cgroup") {
            // Super options hold the controllers (or name=...) among a few generic flags.
            let generic: Set<Substring> = ["rw", "ro", "relatime", "noatime", "nosuid", "nodev", "noexec", "clone_children", "nsdelegate"]
            for option in m.superOptions.split(separator: ",") where !generic.contains(option) {
                v1[String(option)] = m.mountPoint
            }
        }
        v1Mounts = v1
        switch (unifiedMount != nil, !v1.isEmpty) {
        case (true, true): kind = .hybrid
        case (true, false): kind = .v2
        case (false, true): kind = .v1
        case (false, false): kind = .none
        }
    }

    public var summary: String {
        switch kind {
        case .v2: return "v2 at \(unifiedMount ?? "?")"
        case .v1: return "v1 (\(v1Mounts.count) hierarchies), no v2"
        case .hybrid: return "hybrid: v1 controllers under \(commonParent()), v2 at \(unifiedMount ?? "?")"
        case .none: return "no cgroup file system mounted"
        }
    }

    private func commonParent() -> String {
        let parents = Set(v1Mounts.values.map { path in path.split(separator: "/").dropLast().reduce("") { $0 + "/" + $1 } })
        return parents.count == 1 ? parents.first! + "/<controller>" : "\(v1Mounts.count) mounts"
    }
}
