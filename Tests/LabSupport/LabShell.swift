import Foundation
import Glibc

/// Runs the lab scripts in tools/lab and reads their key=value output.
public enum LabShell {
    /// The repository's root, from this file's place in it.
    public static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()

    public static func script(_ name: String) -> String { root.appendingPathComponent("tools/lab/\(name)").path }

    public struct Failure: Error, CustomStringConvertible {
        public let message: String
        public init(_ message: String) { self.message = message }
        public var description: String { message }
    }

    /// Runs `bash ARGV...` with stdout and stderr together, `environment` added to ours.
    ///
    /// Output goes to a file, not a pipe: a runtime's monitor (conmon) keeps the inherited
    /// descriptors open for the container's life, so a pipe would never reach end of file.
    @discardableResult
    public static func run(_ argv: [String], environment: [String] = []) throws -> (status: Int32, output: String) {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("tracer-lab-\(getpid())-\(UUID().uuidString)").path
        defer { unlink(path) }
        let child: ChildProcess
        do {
            child = try ChildProcess.spawn(["/bin/bash"] + argv, environment: environment + ChildProcess.inheritedEnvironment,
                                           outputFile: path)
        } catch {
            throw Failure("cannot start bash: \(error)")
        }
        let status = child.wait().status
        let data = FileManager.default.contents(atPath: path) ?? Data()
        let exitStatus = (status & 0x7f) == 0 ? (status >> 8) & 0xff : 128 + (status & 0x7f)
        return (exitStatus, String(decoding: data, as: UTF8.self))
    }

    /// The `key=value` lines of a lab script's output (other lines are ignored).
    public static func facts(_ output: String) -> [String: String] {
        var facts: [String: String] = [:]
        for line in output.split(separator: "\n") {
            guard let eq = line.firstIndex(of: "="), !line[..<eq].contains(" ") else { continue }
            facts[String(line[..<eq])] = String(line[line.index(after: eq)...])
        }
        return facts
    }
}
