import BPF
import CLinux
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

    /// Why a file was not read: the system said no, or the reader refused it (see `readBytes`).
    struct ReadError: Error, CustomStringConvertible {
        enum Cause: Equatable {
            case system(Int32)
            /// A FIFO, a device, a socket or a directory: `what` names it ("a FIFO").
            case notARegularFile(what: String)
            /// More bytes than the cap for its kind of file; `size` is what fstat said, nil for
            /// /proc and /sys files, which report 0 and were found over the cap while reading.
            case overCap(size: Int?, kind: FileKind)
        }

        var path: String
        var cause: Cause

        /// The errno of a system error; nil for a refusal.
        var errno: Int32? {
            if case .system(let e) = cause { return e }
            return nil
        }

        /// The reader would not read the file, whatever the permissions: worth a warning.
        var isRefusal: Bool { errno == nil }

        var description: String {
            switch cause {
            case .system(let e):
                return "cannot read \(path): \(Errno(e))"
            case .notARegularFile(let what):
                return "refused to read \(path): \(what), not a regular file"
            case .overCap(let size, let kind):
                return "refused to read \(path): " + (size.map { "\($0) bytes, over" } ?? "more than")
                    + " the \(kind.capText) cap for \(kind.name)"
            }
        }
    }

    /// The whole of a regular file, at most `kind`'s cap, without waiting on a FIFO or opening a device.
    ///
    /// Runtime metadata lives where other users can shape it (rootless podman keeps it in the
    /// user's home; a delegated cgroup or a container can plant files), so the name is first opened
    /// with O_PATH, which opens nothing: a FIFO would block the open, and opening a device can act
    /// (a watchdog arms). Only after fstat on that descriptor says regular file is the same inode
    /// opened for reading through /proc/self/fd, so the name cannot be swapped in between. O_NONBLOCK
    /// on that open is a second guard; on a regular file it changes nothing.
    ///
    /// A refusal (not a regular file, over the cap) is told once per path through `RefusedFiles`.
    /// /proc and /sys files report size 0 and are produced a page at a time, so the file is read to
    /// end of file, and the cap is checked on what was read as well as on the size fstat reports.
    /// What this cannot bound: a read the kernel itself stalls (a hung NFS or FUSE mount, or
    /// /proc/PID/cmdline of a process whose memory map lock is held).
    static func readBytes(_ path: String, kind: FileKind) throws(ReadError) -> [UInt8] {
        let handle = open(path, TRACER_O_PATH | O_CLOEXEC)
        guard handle >= 0 else { throw ReadError(path: path, cause: .system(Glibc.errno)) }
        defer { close(handle) }
        var st = stat()
        guard fstat(handle, &st) == 0 else { throw ReadError(path: path, cause: .system(Glibc.errno)) }
        guard st.st_mode & S_IFMT == S_IFREG else {
            throw refused(ReadError(path: path, cause: .notARegularFile(what: fileTypeName(st.st_mode))))
        }
        let cap = kind.cap
        guard st.st_size <= cap else { throw refused(ReadError(path: path, cause: .overCap(size: Int(st.st_size), kind: kind))) }

        let fd = open("/proc/self/fd/\(handle)", O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY)
        guard fd >= 0 else { throw ReadError(path: path, cause: .system(Glibc.errno)) }
        defer { close(fd) }
        // One byte more than the cap tells a file at the cap from one over it.
        var bytes = [UInt8](repeating: 0, count: min(st.st_size > 0 ? Int(st.st_size) + 1 : 4096, cap + 1))
        var length = 0
        while true {
            if length == bytes.count {
                guard bytes.count <= cap else {
                    throw refused(ReadError(path: path, cause: .overCap(size: nil, kind: kind)))
                }
                bytes.append(contentsOf: repeatElement(0, count: min(bytes.count, cap + 1 - bytes.count)))
            }
            let n: Int
            switch Errno.retryingOnInterrupt({ bytes.withUnsafeMutableBytes { read(fd, $0.baseAddress! + length, $0.count - length) } }) {
            case .success(let count): n = count
            case .failure(let e): throw ReadError(path: path, cause: .system(e.rawValue))
            }
            if n == 0 { break }
            length += n
        }
        bytes.removeSubrange(length...)
        return bytes
    }

    static func readText(_ path: String, kind: FileKind) throws(ReadError) -> String {
        String(decoding: try readBytes(path, kind: kind), as: UTF8.self)
    }

    private static func refused(_ error: ReadError) -> ReadError {
        RefusedFiles.record(error)
        return error
    }

    /// "a FIFO", "a character device": what a refusal names.
    static func fileTypeName(_ mode: mode_t) -> String {
        switch mode & S_IFMT {
        case S_IFIFO: return "a FIFO"
        case S_IFCHR: return "a character device"
        case S_IFBLK: return "a block device"
        case S_IFDIR: return "a directory"
        case S_IFSOCK: return "a socket"
        case S_IFLNK: return "a symbolic link"
        default: return "an unknown file type"
        }
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

    /// The target of the symbolic link at `path`, as readlink(2) gives it; nil for anything else.
    static func linkTarget(_ path: String) -> String? {
        var buffer = [UInt8](repeating: 0, count: Int(PATH_MAX))
        let n = buffer.withUnsafeMutableBufferPointer { readlink(path, $0.baseAddress!, $0.count) }
        guard n > 0 else { return nil }
        return String(decoding: buffer[..<n], as: UTF8.self)
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
