import Foundation
import Testing

/// tools/setup.sh is the repository's one list of Debian packages. A package named anywhere else in
/// tools/ (a `need PROGRAM PACKAGE` line of the pre-flight, a lab or a benchmark) must be in it, or a
/// fresh machine misses it while a machine set up by hand passes (netavark did exactly that).
@Suite struct SetupPackagesTests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().deletingLastPathComponent()

    /// Every package of setup.sh's `packages="..."` lines, with or without --test.
    static func setupPackages() throws -> Set<String> {
        let text = try String(contentsOf: root.appendingPathComponent("tools/setup.sh"), encoding: .utf8)
        var names: Set<String> = []
        for match in text.matches(of: /packages="([^"]*)"/) {
            for word in match.1.split(separator: " ") where !word.hasPrefix("$") { names.insert(String(word)) }
        }
        return names
    }

    /// Every shell script under tools/, with its path relative to the repository.
    static func scripts() throws -> [(path: String, text: String)] {
        let tools = root.appendingPathComponent("tools")
        let walker = FileManager.default.enumerator(atPath: tools.path)!
        var found: [(String, String)] = []
        while let name = walker.nextObject() as? String {
            guard name.hasSuffix(".sh") else { continue }
            found.append(("tools/" + name, try String(contentsOf: tools.appendingPathComponent(name), encoding: .utf8)))
        }
        return found
    }

    /// The (program, package) pairs of every `need` call in tools/.
    static func needs() throws -> [(script: String, program: String, package: String)] {
        var pairs: [(String, String, String)] = []
        for (path, text) in try scripts() {
            for line in text.split(separator: "\n") where !line.trimmingCharacters(in: .whitespaces).hasPrefix("#") {
                for match in line.matches(of: /(?:^|[\s;(])need\s+("[^"]*"|\S+)\s+([a-z0-9][a-z0-9.+-]*)/) {
                    pairs.append((path, String(match.1), String(match.2)))
                }
            }
        }
        return pairs
    }

    @Test func everyNeededPackageIsInSetup() throws {
        let listed = try Self.setupPackages()
        #expect(listed.contains("netavark"), "podman's network backend")
        let needs = try Self.needs()
        #expect(needs.count > 30, "the pre-flight alone names more than 30 programs")
        for need in needs {
            #expect(listed.contains(need.package), "\(need.script) needs \(need.program) from \(need.package), which tools/setup.sh does not install")
        }
    }

    @Test func onlySetupInstallsPackages() throws {
        for (path, text) in try Self.scripts() where path != "tools/setup.sh" {
            #expect(text.firstMatch(of: /apt(-get)?\s+install/) == nil, "\(path) installs packages itself: call tools/setup.sh or `need` instead")
        }
    }

    /// A program a test spawns by absolute path is checked by the pre-flight, so a missing one is named
    /// before the tests run instead of failing (or skipping) one of them.
    @Test func everyProgramTestsSpawnIsInThePreflight() throws {
        let preflight = Set(try Self.needs().filter { $0.script == "tools/preflight.sh" }.map { ($0.program as NSString).lastPathComponent })
        let tests = Self.root.appendingPathComponent("Tests")
        let walker = FileManager.default.enumerator(atPath: tests.path)!
        var spawned: Set<String> = []
        while let name = walker.nextObject() as? String {
            guard name.hasSuffix(".swift") else { continue }
            let text = try String(contentsOf: tests.appendingPathComponent(name), encoding: .utf8)
            for match in text.matches(of: /"\/(?:usr\/)?s?bin\/([a-z0-9][a-z0-9._+-]*)"/) { spawned.insert(String(match.1)) }
        }
        #expect(spawned.contains("podman"))
        for program in spawned.sorted() {
            #expect(preflight.contains(program), "Tests spawn \(program), which tools/preflight.sh does not check")
        }
    }

    /// need names the missing program and its package on one line and fails; present ones pass quietly.
    @Test func needNamesTheMissingPackage() throws {
        func run(_ script: String) throws -> (status: Int32, stderr: String) {
            let process = Process()
            process.executableURL = URL(fileURLWithPath: "/bin/sh")
            process.arguments = ["-c", ". tools/lib/need.sh; " + script]
            process.currentDirectoryURL = Self.root
            let errors = Pipe()
            process.standardError = errors
            try process.run()
            let data = errors.fileHandleForReading.readDataToEndOfFile()
            process.waitUntilExit()
            return (process.terminationStatus, String(decoding: data, as: UTF8.self))
        }
        let missing = try run("need /nonexistent/netavark netavark \"podman's network backend\"")
        #expect(missing.status == 1)
        #expect(missing.stderr == "missing /nonexistent/netavark (podman's network backend): Debian package netavark; run tools/setup.sh --test, and add netavark to its list if it is not there\n")
        let present = try run("need sh dash && need /bin/sh dash")
        #expect(present.status == 0 && present.stderr.isEmpty)
    }
}
