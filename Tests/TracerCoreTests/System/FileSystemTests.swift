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
            #expect(try FileSystem.readBytes(path, kind: .runtimeIndex) == bytes, "size \(size)")
        }
    }

    @Test func procFilesAreReadPastTheirReportedSizeOfZero() throws {
        // /proc/self/maps is produced a page at a time and reports size 0.
        let ours = try FileSystem.readText("/proc/self/maps", kind: .processFile)
        #expect(ours.utf8.count > 0)
        #expect(ours.hasSuffix("\n"))
    }

    @Test func missingFilesThrowTheirErrno() {
        #expect(throws: FileSystem.ReadError.self) { try FileSystem.readBytes("/nonexistent/tracer-test", kind: .runtimeMetadata) }
        do {
            _ = try FileSystem.readBytes("/nonexistent/tracer-test", kind: .runtimeMetadata)
        } catch {
            #expect(error.errno == ENOENT)
            #expect(!error.isRefusal)
            #expect(!RefusedFiles.wasRefused("/nonexistent/tracer-test"), "a missing file is no refusal")
        }
    }

    func readWithin(seconds: Double, _ path: String, kind: FileKind) -> Result<[UInt8], FileSystem.ReadError>? {
        finishing(within: seconds) { Result { () throws(FileSystem.ReadError) in try FileSystem.readBytes(path, kind: kind) } } ?? nil
    }

    func refusal(_ result: Result<[UInt8], FileSystem.ReadError>?) -> FileSystem.ReadError.Cause? {
        guard case .failure(let error)? = result, error.isRefusal else { return nil }
        return error.cause
    }

    @Test func aFIFOIsRefusedWithoutBlocking() throws {
        let directory = try TemporaryDirectory()
        let path = directory.path + "/config.v2.json"
        #expect(mkfifo(path, 0o644) == 0)
        let result = readWithin(seconds: 5, path, kind: .runtimeMetadata)
        #expect(result != nil, "reading a FIFO blocked")
        #expect(refusal(result) == .notARegularFile(what: "a FIFO"))
        #expect(RefusedFiles.wasRefused(path))
        if case .failure(let error)? = result {
            #expect(error.description == "refused to read \(path): a FIFO, not a regular file")
        }
    }

    @Test func aSymlinkToDevZeroIsRefusedWithoutReading() throws {
        let directory = try TemporaryDirectory()
        let path = directory.path + "/config.v2.json"
        #expect(symlink("/dev/zero", path) == 0)
        let result = readWithin(seconds: 5, path, kind: .runtimeMetadata)
        #expect(result != nil, "reading /dev/zero did not stop")
        #expect(refusal(result) == .notARegularFile(what: "a character device"))
    }

    @Test func aFileOverItsCapIsRefusedFromItsSize() throws {
        let directory = try TemporaryDirectory()
        let path = directory.path + "/config.v2.json"
        let size = FileKind.runtimeMetadata.cap + 1
        #expect(FileManager.default.createFile(atPath: path, contents: nil))
        #expect(truncate(path, off_t(size)) == 0) // sparse: only the size counts
        let result = readWithin(seconds: 5, path, kind: .runtimeMetadata)
        #expect(refusal(result) == .overCap(size: size, kind: .runtimeMetadata))
        if case .failure(let error)? = result {
            #expect(error.description.hasSuffix(": 4194305 bytes, over the 4 MiB cap for container runtime metadata"))
        }
    }

    @Test func aFileAtItsCapIsReadWhole() throws {
        let directory = try TemporaryDirectory()
        let path = directory.path + "/config.v2.json"
        let bytes = [UInt8](repeating: 0x20, count: FileKind.runtimeMetadata.cap)
        try Data(bytes).write(to: URL(fileURLWithPath: path))
        #expect(try FileSystem.readBytes(path, kind: .runtimeMetadata) == bytes)
    }

    @Test func aProcFileOverItsCapIsRefusedWhileReading() throws {
        // /proc/kallsyms reports size 0 and holds megabytes: over the 1 MiB of a kernel setting.
        let symbols = try FileSystem.readBytes("/proc/kallsyms", kind: .kernelTable)
        try #require(symbols.count > FileKind.kernelSetting.cap, "this kernel's kallsyms is too small for the test")
        let result = readWithin(seconds: 5, "/proc/kallsyms", kind: .kernelSetting)
        #expect(refusal(result) == .overCap(size: nil, kind: .kernelSetting))
    }

    @Test func aDirectoryIsRefused() throws {
        let directory = try TemporaryDirectory()
        #expect(refusal(readWithin(seconds: 5, directory.path, kind: .runtimeMetadata)) == .notARegularFile(what: "a directory"))
    }

    @Test func aRefusalIsToldOncePerFile() throws {
        let directory = try TemporaryDirectory()
        let path = directory.path + "/state.json"
        #expect(mkfifo(path, 0o644) == 0)
        let error = FileSystem.ReadError(path: path, cause: .notARegularFile(what: "a FIFO"))
        _ = readWithin(seconds: 5, path, kind: .runtimeMetadata)
        #expect(RefusedFiles.wasRefused(path))
        #expect(RefusedFiles.record(error) == false, "told a second time")
        let other = FileSystem.ReadError(path: directory.path + "/other", cause: .notARegularFile(what: "a FIFO"))
        #expect(RefusedFiles.record(other) == true)
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

/// `body`'s value, run in a thread of its own; nil when it has not returned within `seconds`, so
/// a read that blocks fails its test instead of hanging the run (the thread is left behind).
func finishing<T>(within seconds: Double, _ body: @escaping @Sendable () -> T) -> T? {
    let outcome = Outcome<T>()
    let done = DispatchSemaphore(value: 0)
    Thread.detachNewThread {
        outcome.value = body()
        done.signal()
    }
    guard done.wait(timeout: .now() + seconds) == .success else { return nil }
    return outcome.value
}

/// Written by the worker thread before it signals, read after the wait.
private final class Outcome<T>: @unchecked Sendable { var value: T? }

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
