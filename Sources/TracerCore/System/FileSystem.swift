import Glibc

/// Files and directories through the C library. The tracer links no Foundation: it would cost
/// every command about 1.5 ms of start-up, most of what `tracer pid` takes.
enum FileSystem {
    static func isDirectory(_ path: String) -> Bool {
        var st = stat()
        return stat(path, &st) == 0 && (st.st_mode & S_IFMT) == S_IFDIR
    }

    static func exists(_ path: String) -> Bool {
        access(path, F_OK) == 0
    }

    struct ReadError: Error, CustomStringConvertible {
        var path: String
        var errno: Int32
        var description: String { "cannot read \(path): \(String(cString: strerror(errno)))" }
    }

    /// The whole file, read until end of file. /proc files report size 0 and are produced a
    /// page at a time, so readers that trust the size stop at 4 KiB. The buffer starts at the
    /// size stat reports (a page for /proc) and doubles; most files read here are small.
    static func readBytes(_ path: String) throws(ReadError) -> [UInt8] {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw ReadError(path: path, errno: errno) }
        defer { close(fd) }
        var st = stat()
        var capacity = fstat(fd, &st) == 0 && st.st_size > 0 ? Int(st.st_size) + 1 : 4096
        var buffer = malloc(capacity)!
        defer { free(buffer) }
        var length = 0
        while true {
            if length == capacity {
                capacity *= 2
                buffer = realloc(buffer, capacity)!
            }
            let n = read(fd, buffer + length, capacity - length)
            if n < 0 {
                if errno == EINTR { continue }
                throw ReadError(path: path, errno: errno)
            }
            if n == 0 { return Array(UnsafeRawBufferPointer(start: buffer, count: length)) }
            length += n
        }
    }

    static func readText(_ path: String) throws(ReadError) -> String {
        String(decoding: try readBytes(path), as: UTF8.self)
    }

    /// The names in a directory, without `.` and `..`, in the order the kernel gives; nil when it
    /// cannot be opened.
    static func entries(_ path: String) -> [String]? {
        guard let directory = opendir(path) else { return nil }
        defer { closedir(directory) }
        var names: [String] = []
        while let entry = readdir(directory) {
            let name = withUnsafeBytes(of: &entry.pointee.d_name) { raw in
                String(decoding: raw.prefix { $0 != 0 }, as: UTF8.self)
            }
            if name != "." && name != ".." { names.append(name) }
        }
        return names
    }

    /// `base` with `components` appended, one slash between each.
    static func join(_ base: String, _ components: String...) -> String {
        var path = base
        for component in components {
            if !path.hasSuffix("/") { path += "/" }
            path += component
        }
        return path
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
