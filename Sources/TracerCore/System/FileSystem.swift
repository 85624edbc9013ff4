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

    struct ReadError: Error, CustomStringConvertible {
        var path: String
        var errno: Int32
        var description: String { "cannot read \(path): \(String(cString: strerror(errno)))" }
    }

    /// The whole file, read until end of file. /proc files report size 0 and are produced a
    /// page at a time, so readers that trust the size (String(contentsOfFile:)) stop at 4 KiB.
    static func readBytes(_ path: String) throws(ReadError) -> [UInt8] {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw ReadError(path: path, errno: errno) }
        defer { close(fd) }
        var result: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 65536)
        while true {
            let n = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if n < 0 {
                if errno == EINTR { continue }
                throw ReadError(path: path, errno: errno)
            }
            if n == 0 { return result }
            result.append(contentsOf: chunk[0..<n])
        }
    }

    static func readText(_ path: String) throws(ReadError) -> String {
        String(decoding: try readBytes(path), as: UTF8.self)
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
