import Glibc

/// Small file-system questions answered with stat(2), without full Foundation.
enum FileSystem {
    static func isDirectory(_ path: String) -> Bool {
        var st = stat()
        return stat(path, &st) == 0 && (st.st_mode & S_IFMT) == S_IFDIR
    }

    static func exists(_ path: String) -> Bool {
        access(path, F_OK) == 0
    }
}

extension Substring {
    /// Index just past the first occurrence of `needle`.
    func firstOccurrence(of needle: String) -> Index? {
        let n = needle.count
        var i = startIndex
        while i != endIndex {
            if self[i...].hasPrefix(needle) { return index(i, offsetBy: n) }
            i = index(after: i)
        }
        return nil
    }

    /// Index just past the last occurrence of `needle`.
    func lastOccurrence(of needle: String) -> Index? {
        var found: Index?
        var i = startIndex
        while i != endIndex {
            if self[i...].hasPrefix(needle) { found = index(i, offsetBy: needle.count) }
            i = index(after: i)
        }
        return found
    }
}
