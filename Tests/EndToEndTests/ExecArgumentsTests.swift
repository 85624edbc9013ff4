import LabSupport
import Foundation
import Glibc
import Testing

/// `--args-size` at its floor: what is captured is the start of argv, and the cut is marked.
@Suite(.requires(TracerBinary.isRoot, "SKIPPED LOUDLY: tracing needs root (CAP_BPF, CAP_PERFMON); run the tests as root"))
struct ExecArgumentsTests {
    @Test func theSmallestArgsSizeMarksTheCut() throws {
        let marker = "argsize-\(getpid())-" + String(repeating: "x", count: 100)
        let result = try TracerBinary.run(["exec", "--args-size", "64", "--output", "json", "--duration", "3s", "--ppid", String(getpid())],
                                          whileRunning: {
            try Process.run(URL(fileURLWithPath: "/bin/echo"), arguments: [marker]).waitUntilExit()
        })
        #expect(result.status == 0, "\(result.stderr)")
        let objects = result.lines.compactMap { try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] }
        // Other tests of this process run echo too: this one's argv starts with the marker.
        let echo = try #require(objects.first { object in
            object["comm"] as? String == "echo" && (object["args"] as? [String])?.dropFirst().first?.hasPrefix("argsize-\(getpid())-") == true
        }, "\(result.stdout)")
        let args = try #require(echo["args"] as? [String])
        #expect(echo["args_truncated"] as? Bool == true, "\(echo)")
        #expect(args.first == "/bin/echo")
        // 64 bytes: "/bin/echo\0" and the first 54 bytes of the marker.
        #expect(args.count == 2 && marker.hasPrefix(args[1]) && args[1].utf8.count == 54, "\(args)")

        let table = try TracerBinary.run(["exec", "--args-size", "64", "--duration", "3s", "--ppid", String(getpid())], whileRunning: {
            try Process.run(URL(fileURLWithPath: "/bin/echo"), arguments: [marker]).waitUntilExit()
        })
        let line = try #require(table.lines.first { $0.contains("/bin/echo argsize-") }, "\(table.stdout)")
        #expect(line.hasSuffix("...[truncated]"), "\(line)")
    }
}
