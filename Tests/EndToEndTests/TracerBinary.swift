import Foundation
import Glibc

/// Runs the built `tracer` binary the way a user does and captures what it printed.
struct TracerBinary {
    struct Result {
        var status: Int32
        var stdout: String
        var stderr: String
        var lines: [String] { stdout.split(separator: "\n").map(String.init) }
    }

    /// The binary sits beside the test bundle in the build directory.
    static let path: String = {
        let exe = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0]
        return URL(fileURLWithPath: exe).deletingLastPathComponent().appendingPathComponent("tracer").path
    }()

    /// `tracer agent` runs `tracer-agent`, built beside `tracer`.
    static var agentPath: String { URL(fileURLWithPath: path).deletingLastPathComponent().appendingPathComponent("tracer-agent").path }

    static var isRoot: Bool { geteuid() == 0 }

    /// Runs `tracer ARGS`, optionally through `prefix` (e.g. setpriv), sending `signal` after `signalAfter` seconds.
    static func run(_ arguments: [String], prefix: [String] = [], timeout: Double = 30, signal: Int32? = nil,
                    signalAfter: Double = 1, whileRunning: (() throws -> Void)? = nil) throws -> Result {
        let process = Process()
        let launch = prefix + [path] + arguments
        process.executableURL = URL(fileURLWithPath: launch[0])
        process.arguments = Array(launch.dropFirst())
        let out = Pipe()
        let err = Pipe()
        process.standardOutput = out
        process.standardError = err
        process.standardInput = FileHandle.nullDevice
        try process.run()
        // Both pipes are drained at once so a chatty child never blocks on a full pipe.
        let stdoutData = Captured()
        let stderrData = Captured()
        let group = DispatchGroup()
        group.enter()
        DispatchQueue.global().async { stdoutData.data = out.fileHandleForReading.readDataToEndOfFile(); group.leave() }
        group.enter()
        DispatchQueue.global().async { stderrData.data = err.fileHandleForReading.readDataToEndOfFile(); group.leave() }
        if let whileRunning {
            Thread.sleep(forTimeInterval: 1.0)
            try whileRunning()
        }
        if let signal {
            Thread.sleep(forTimeInterval: signalAfter)
            kill(process.processIdentifier, signal)
        }
        let deadline = Date().addingTimeInterval(timeout)
        while process.isRunning && Date() < deadline { Thread.sleep(forTimeInterval: 0.02) }
        if process.isRunning {
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
            throw TimedOut(arguments: arguments)
        }
        process.waitUntilExit()
        group.wait()
        return Result(status: process.terminationStatus, stdout: String(decoding: stdoutData.data, as: UTF8.self),
                      stderr: String(decoding: stderrData.data, as: UTF8.self))
    }

    /// Written by one reader thread, read after the group is done.
    final class Captured: @unchecked Sendable {
        var data = Data()
    }

    struct TimedOut: Error, CustomStringConvertible {
        let arguments: [String]
        var description: String { "tracer \(arguments.joined(separator: " ")) did not finish in time" }
    }
}
