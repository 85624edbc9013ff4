import Glibc

/// cgroup v2 ids: on 64-bit kernels since 5.5 the id is the directory's inode number.
public enum CgroupDirectory {
    public static func id(of path: String) -> UInt64? {
        var st = stat()
        guard stat(path, &st) == 0 else { return nil }
        return UInt64(st.st_ino)
    }
}
