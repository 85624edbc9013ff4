import LabSupport
import Foundation
import Glibc
import Testing

/// Input the host itself can shape, through the built binary: docker metadata that is a FIFO, a
/// link to /dev/zero or 50 MB, and names with terminal controls and a bidi override, in
/// config.v2.json and in a cgroup's name. Each runs against a real process moved into a real
/// cgroup (a docker-shaped scope, or `lxc.payload.<name>`) under a test slice of the cgroup v2
/// hierarchy, with the metadata in a fixture `--docker-root`.
@Suite(.serialized, .requires(TracerBinary.isRoot && HostileCgroup.unifiedMount != nil,
                              "SKIPPED LOUDLY: needs root and a writable cgroup v2 hierarchy"))
struct HostileInputTests {
    /// ESC[2J (clear the screen), CR, BEL, a newline and U+202E (right-to-left override).
    static let hostileName = "ev\u{1B}[2J\r\u{07}\nil\u{202E}X"
    /// The same in a table (`ByteText.escaped`) and in a stderr message (`controlsEscaped`).
    static let inTable = "ev\\x1b[2J\\r\\x07\\nil\\u202eX"
    static let inMessage = "ev\\x1b[2J\\x0d\\x07\\x0ail\\u202eX"
    /// cgroup names cannot hold a newline (the kernel refuses it: /proc/PID/cgroup is line-based).
    static let hostileCgroupName = "ev\u{1B}[2J\r\u{07}il\u{202E}X"
    static let cgroupInTable = "ev\\x1b[2J\\r\\x07il\\u202eX"

    /// No terminal control or bidi override of the hostile names reaches stdout or stderr raw.
    func expectNothingRaw(_ result: TracerBinary.Result, _ what: String, sourceLocation: SourceLocation = #_sourceLocation) {
        for (stream, text) in [("stdout", result.stdout), ("stderr", result.stderr)] {
            for raw in ["\u{1B}", "\u{07}", "\r", "\u{202E}", "\nil\u{202E}"] {
                #expect(!text.contains(raw), "\(what): raw U+\(String(raw.unicodeScalars.last!.value, radix: 16)) on \(stream)",
                        sourceLocation: sourceLocation)
            }
        }
    }

    func json(_ line: String) -> [String: Any]? {
        try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any]
    }

    // MARK: defects 1 and 2: metadata that would hang the tracer or fill its memory

    enum MetadataShape: String, CaseIterable, CustomTestStringConvertible {
        case fifo, devZeroLink, fiftyMegabytes
        var testDescription: String { rawValue }
        /// What the warning says after the path.
        var refusal: String {
            switch self {
            case .fifo: return "a FIFO, not a regular file"
            case .devZeroLink: return "a character device, not a regular file"
            case .fiftyMegabytes: return "52428800 bytes, over the 4 MiB cap for container runtime metadata"
            }
        }
    }

    /// Before the fix: the FIFO hung `pid` and `containers` for ever and froze `exec` at the
    /// container's first exec, deaf to SIGINT; the /dev/zero link took `pid` to 19.7 GB, and under
    /// a memory limit killed it with SIGILL. Now each command answers at once with one warning.
    @Test(arguments: MetadataShape.allCases)
    func hostileMetadataIsRefusedAndEveryCommandAnswers(shape: MetadataShape) throws {
        let container = try FakeDockerContainer()
        defer { container.remove() }
        switch shape {
        case .fifo: #expect(mkfifo(container.configPath, 0o644) == 0)
        case .devZeroLink: #expect(symlink("/dev/zero", container.configPath) == 0)
        case .fiftyMegabytes: try Data(count: 50 << 20).write(to: URL(fileURLWithPath: container.configPath))
        }
        let warning = "warning: refused to read \(container.configPath): \(shape.refusal)"
        // An address-space limit turns unbounded growth into a quick death instead of a slow swap.
        let limited = ["/usr/bin/prlimit", "--as=4294967296"]

        let pid = try TracerBinary.run(["pid", String(container.pid)] + container.flags, prefix: limited, timeout: 10)
        #expect(pid.status == 0, "\(pid.stderr)")
        #expect(pid.stderr.contains("tracer pid: " + warning), "\(pid.stderr)")
        #expect(pid.stdout.contains("container:        - (docker \(container.id))"), "\(pid.stdout)")
        #expect(pid.stdout.contains("warning:          refused to read \(container.configPath)"))

        let containers = try TracerBinary.run(["containers"] + container.flags, prefix: limited, timeout: 10)
        #expect(containers.status == 0, "\(containers.stderr)")
        #expect(containers.stderr.contains("tracer containers: " + warning), "\(containers.stderr)")
        #expect(containers.lines.contains { $0.hasPrefix("docker ") && $0.contains(container.shortID) && $0.contains(String(container.pid)) },
                "\(containers.stdout)")

        // exec meets the file at each exec in the container: it goes on, tells the refusal once,
        // and stops on SIGINT.
        let exec = try TracerBinary.run(["exec"] + container.flags, prefix: limited, timeout: 15, signal: SIGINT, signalAfter: 1.5,
                                        whileRunning: { for _ in 0..<3 { try container.execInside("/bin/true") } })
        #expect(exec.status == 0, "\(exec.stderr)")
        #expect(exec.lines.filter { $0.contains(" \(container.shortID) ") && $0.hasSuffix(" /bin/true") }.count == 3, "\(exec.stdout)")
        #expect(exec.stderr.components(separatedBy: warning).count - 1 == 1, "told once: \(exec.stderr)")
        #expect(exec.stderr.contains("tracer exec: "), "no summary: \(exec.stderr)")
    }

    // MARK: defect 3: names that would drive the terminal

    /// A container name, image and pod from config.v2.json with ESC[2J, CR, BEL, a newline and
    /// U+202E, through every command that prints them.
    @Test func hostileNamesInMetadataAreEscapedByEveryCommand() throws {
        let container = try FakeDockerContainer()
        defer { container.remove() }
        let h = Self.hostileName
        let config: [String: Any] = [
            "ID": container.id, "Name": "/" + h,
            "Config": ["Image": "img" + h, "Labels": ["io.kubernetes.pod.name": "pod" + h, "io.kubernetes.pod.namespace": "ns" + h]],
            "State": ["Running": true, "Pid": Int(container.pid)],
        ]
        try JSONSerialization.data(withJSONObject: config).write(to: URL(fileURLWithPath: container.configPath))
        let t = Self.inTable

        let pid = try TracerBinary.run(["pid", String(container.pid)] + container.flags, timeout: 10)
        #expect(pid.status == 0, "\(pid.stderr)")
        expectNothingRaw(pid, "pid")
        #expect(pid.lines.contains("container:        \(t) (docker \(container.id))"), "\(pid.stdout)")
        #expect(pid.lines.contains("image:            img\(t)"))
        #expect(pid.lines.contains { $0.hasPrefix("pod:              ns\(t)/pod\(t) uid") })

        let pidJSON = try TracerBinary.run(["pid", String(container.pid), "--output", "json"] + container.flags, timeout: 10)
        let object = try #require(json(pidJSON.stdout), "not JSON: \(pidJSON.stdout)")
        let identity = try #require(object["container"] as? [String: Any])
        #expect(identity["name"] as? String == h && identity["image"] as? String == "img" + h)

        let list = try TracerBinary.run(["pid", "--container", container.shortID] + container.flags, timeout: 10)
        #expect(list.status == 0, "\(list.stderr)")
        expectNothingRaw(list, "pid --container")
        #expect(list.lines.first == "CONTAINER \(t) (docker \(container.id))", "\(list.stdout)")

        // A name that matches nothing: the error quotes the closest names, escaped for stderr.
        let unknown = try TracerBinary.run(["pid", "--container", "ev[2J\r\u{07}\nil\u{202E}X"] + container.flags, timeout: 10)
        #expect(unknown.status == 4)
        expectNothingRaw(unknown, "pid --container (no match)")
        #expect(unknown.stderr.contains(Self.inMessage), "\(unknown.stderr)")

        let containers = try TracerBinary.run(["containers"] + container.flags, timeout: 10)
        #expect(containers.status == 0)
        expectNothingRaw(containers, "containers")
        #expect(containers.lines.contains { $0.hasPrefix("docker      \(container.shortID)  \(t) img\(t) ") }, "\(containers.stdout)")
        let containersJSON = try TracerBinary.run(["containers", "--output", "json"] + container.flags, timeout: 10)
        #expect(containersJSON.lines.compactMap(json).contains { ($0["container"] as? [String: Any])?["name"] as? String == h })

        let netns = try TracerBinary.run(["netns"] + container.flags, timeout: 20)
        #expect(netns.status == 0, "\(netns.stderr)")
        expectNothingRaw(netns, "netns")
        #expect(netns.lines.contains { $0.hasPrefix("  containers: ") && $0.contains("\(t) (docker)") }, "\(netns.stdout)")

        let exec = try TracerBinary.run(["exec", "--container", container.shortID] + container.flags, timeout: 15,
                                        signal: SIGINT, signalAfter: 1.5, whileRunning: { try container.execInside("/bin/true") })
        #expect(exec.status == 0, "\(exec.stderr)")
        expectNothingRaw(exec, "exec")
        #expect(exec.lines.contains { $0.contains(" \(t) ") && $0.hasSuffix(" /bin/true") }, "\(exec.stdout)")

        let top = try TracerBinary.run(["top", "--once", "--interval", "3s", "--container", container.shortID] + container.flags,
                                       timeout: 20, whileRunning: { try container.execInside("/bin/true") })
        #expect(top.status == 0, "\(top.stderr)")
        expectNothingRaw(top, "top")
        // The CONTAINER column is 10 wide: the escaped name is cut, never the raw one.
        #expect(top.lines.contains { $0.contains(" ev\\x1b[2J… ") }, "\(top.stdout)")
    }

    /// A cgroup named `lxc.payload.<ESC>[2J<CR><BEL>il<U+202E>X` holding a real process: its name
    /// is the container's name and id for every command.
    @Test func aHostileCgroupNameIsEscapedByEveryCommand() throws {
        let cgroup = try HostileCgroup(leaf: "lxc.payload." + Self.hostileCgroupName)
        defer { cgroup.remove() }
        let t = Self.cgroupInTable

        let pid = try TracerBinary.run(["pid", String(cgroup.pid)], timeout: 10)
        #expect(pid.status == 0, "\(pid.stderr)")
        expectNothingRaw(pid, "pid")
        #expect(pid.lines.contains("container:        \(t) (lxc \(t))"), "\(pid.stdout)")
        #expect(pid.lines.contains { $0.hasPrefix("cgroup:           0::/") && $0.hasSuffix("/lxc.payload.\(t)") }, "\(pid.stdout)")

        let list = try TracerBinary.run(["pid", "--container", Self.hostileCgroupName], timeout: 10)
        #expect(list.status == 0, "\(list.stderr)")
        expectNothingRaw(list, "pid --container")
        #expect(list.lines.first == "CONTAINER \(t) (lxc \(t))", "\(list.stdout)")

        let containers = try TracerBinary.run(["containers"], timeout: 10)
        #expect(containers.status == 0)
        expectNothingRaw(containers, "containers")
        #expect(containers.lines.contains { $0.hasPrefix("lxc         \(t) \(t) ") }, "\(containers.stdout)")

        let netns = try TracerBinary.run(["netns"], timeout: 20)
        expectNothingRaw(netns, "netns")
        #expect(netns.lines.contains { $0.hasPrefix("  containers: ") && $0.contains("\(t) (lxc)") }, "\(netns.stdout)")

        let exec = try TracerBinary.run(["exec", "--container", Self.hostileCgroupName], timeout: 15,
                                        signal: SIGINT, signalAfter: 1.5, whileRunning: { try cgroup.execInside("/bin/true") })
        #expect(exec.status == 0, "\(exec.stderr)")
        expectNothingRaw(exec, "exec")
        #expect(exec.lines.contains { $0.contains(" \(t) ") && $0.hasSuffix(" /bin/true") }, "\(exec.stdout)")

        let top = try TracerBinary.run(["top", "--once", "--interval", "3s", "--container", Self.hostileCgroupName],
                                       timeout: 20, whileRunning: { try cgroup.execInside("/bin/true") })
        #expect(top.status == 0, "\(top.stderr)")
        expectNothingRaw(top, "top")
        #expect(top.lines.contains { $0.contains(" ev\\x1b[2J… ") }, "\(top.stdout)")
    }
}

/// A real cgroup under a test slice of the cgroup v2 hierarchy, with a `sleep` moved into it;
/// removed (process killed, directories removed) by `remove()`.
final class HostileCgroup {
    /// Where cgroup2 is mounted: /sys/fs/cgroup/unified on a hybrid host, /sys/fs/cgroup on v2.
    static let unifiedMount: String? = {
        guard let text = try? String(contentsOfFile: "/proc/self/mountinfo", encoding: .utf8) else { return nil }
        for line in text.split(separator: "\n") where line.contains(" - cgroup2 ") {
            let fields = line.split(separator: " ")
            if fields.count > 4, access(String(fields[4]), W_OK) == 0 { return String(fields[4]) }
        }
        return nil
    }()

    let slice: String
    let path: String
    let sleeper: Process
    var pid: Int32 { sleeper.processIdentifier }

    init(leaf: String) throws {
        let mount = try #require(Self.unifiedMount)
        slice = mount + "/tracer-hostile-\(getpid())-\(Int.random(in: 0..<1_000_000)).slice"
        path = slice + "/" + leaf
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        sleeper = try Process.run(URL(fileURLWithPath: "/bin/sleep"), arguments: ["120"])
        do {
            try String(pid).write(toFile: path + "/cgroup.procs", atomically: false, encoding: .utf8)
        } catch {
            remove()
            throw error
        }
    }

    /// Runs `program` inside the cgroup: a shell moves itself in, then execs it.
    func execInside(_ program: String) throws {
        let shell = try Process.run(URL(fileURLWithPath: "/bin/sh"),
                                    arguments: ["-c", "echo $$ > \"$0/cgroup.procs\" && exec \"$1\"", path, program])
        shell.waitUntilExit()
        #expect(shell.terminationStatus == 0, "could not exec \(program) in \(path)")
    }

    func remove() {
        kill(pid, SIGKILL)
        sleeper.waitUntilExit()
        rmdir(path)
        rmdir(slice)
    }
}

/// A docker-shaped container without docker: a process in `<slice>/docker-<id>.scope` and a
/// fixture `--docker-root` with `containers/<id>/`, whose config.v2.json each test writes.
final class FakeDockerContainer {
    let id: String
    let root: String
    let cgroup: HostileCgroup
    var pid: Int32 { cgroup.pid }
    var shortID: String { String(id.prefix(12)) }
    var configPath: String { root + "/containers/" + id + "/config.v2.json" }
    var flags: [String] { ["--docker-root", root] }

    init() throws {
        id = (0..<4).map { _ in String(format: "%016llx", UInt64.random(in: 1 << 60 ..< UInt64.max)) }.joined()
        root = NSTemporaryDirectory() + "tracer-hostile-docker-\(getpid())-\(Int.random(in: 0..<1_000_000))"
        try FileManager.default.createDirectory(atPath: root + "/containers/" + id, withIntermediateDirectories: true)
        cgroup = try HostileCgroup(leaf: "docker-\(id).scope")
    }

    func execInside(_ program: String) throws { try cgroup.execInside(program) }

    func remove() {
        cgroup.remove()
        try? FileManager.default.removeItem(atPath: root)
    }
}
