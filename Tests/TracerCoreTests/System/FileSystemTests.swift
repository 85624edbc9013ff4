import Foundation
import Glibc
import Testing
@testable import TracerCore

/// The C-library file helpers that replace Foundation's in the tracer, checked against Foundation.
struct FileSystemTests {
    @Test func readsFilesOfEverySizeWhole() throws {
        let directory = try TemporaryDirectory()
        for size in [0, 1, 4095, 4096, 4097, 70_000, 300_000] {
            let bytes = (0..<size).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ 7) }
            let path = directory.path + "/f\(size)"
            try Data(bytes).write(to: URL(fileURLWithPath: path))
            #expect(try FileSystem.readBytes(path) == bytes, "size \(size)")
        }
    }

    @Test func procFilesAreReadPastTheirReportedSizeOfZero() throws {
        // /proc/self/maps is produced a page at a time and reports size 0.
        let ours = try FileSystem.readText("/proc/self/maps")
        #expect(ours.utf8.count > 0)
        #expect(ours.hasSuffix("\n"))
    }

    @Test func missingFilesThrowTheirErrno() {
        #expect(throws: FileSystem.ReadError.self) { try FileSystem.readBytes("/nonexistent/tracer-test") }
        do {
            _ = try FileSystem.readBytes("/nonexistent/tracer-test")
        } catch {
            #expect(error.errno == ENOENT)
        }
    }

    @Test func directoryEntriesMatchFoundationsListing() throws {
        let directory = try TemporaryDirectory()
        for name in ["a", "b c", "ünï", ".hidden"] {
            FileManager.default.createFile(atPath: directory.path + "/" + name, contents: nil)
        }
        let ours = try #require(FileSystem.entries(directory.path)).sorted()
        let theirs = try FileManager.default.contentsOfDirectory(atPath: directory.path).sorted()
        #expect(ours == theirs)
        #expect(FileSystem.entries(directory.path + "/missing") == nil)
    }

    @Test func joinPutsOneSlashBetweenComponents() {
        #expect(FileSystem.join("/var/lib/docker", "containers", "abc") == "/var/lib/docker/containers/abc")
        #expect(FileSystem.join("/run/", "netns") == "/run/netns")
        #expect(FileSystem.join("relative") == "relative")
    }
}

/// A directory under /tmp removed when the value goes away.
final class TemporaryDirectory {
    let path: String

    init() throws {
        var template = Array("/tmp/tracer-fs-test.XXXXXX".utf8CString)
        guard let made = mkdtemp(&template) else { throw POSIXError(.EIO) }
        path = String(cString: made)
    }

    deinit { try? FileManager.default.removeItem(atPath: path) }
}
