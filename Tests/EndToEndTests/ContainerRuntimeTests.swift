import LabSupport
import Foundation
import Glibc
import Testing

/// tracer against real containers of each runtime, each in a network namespace made for the test.
@Suite(.requires(TracerBinary.isRoot && FileManager.default.fileExists(atPath: "/usr/bin/runc"),
                "SKIPPED LOUDLY: needs root and the runtimes from tools/setup.sh --test (podman, runc, docker.io, containerd)"))
struct ContainerRuntimeTests {
    /// TRACER_LAB_RUNTIMES=podman,runc narrows the run while working on one runtime.
    static let runtimes = ProcessInfo.processInfo.environment["TRACER_LAB_RUNTIMES"]?.split(separator: ",").map(String.init)
        ?? ["podman", "docker", "containerd", "runc"]

    func json(_ text: String) -> [[String: Any]] {
        text.split(separator: "\n").compactMap { try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] }
    }

    @Test(arguments: runtimes)
    func pidContainersAndExecAttributeTheContainer(runtime: String) throws {
        let name = "t\(runtime.prefix(3))\(getpid() % 10000)"
        let lab = try ContainerLab.up(runtime, name: name)
        defer { lab.down() }
        #expect(lab.initPID > 0)

        // tracer pid on the container's init process.
        let pid = try TracerBinary.run(["pid", String(lab.initPID), "--output", "json"] + lab.tracerFlags)
        #expect(pid.status == 0, "\(pid.stderr)")
        let report = try #require(json(pid.stdout).first)
        let container = try #require(report["container"] as? [String: Any], "no container in \(pid.stdout)")
        #expect(container["name"] as? String == name)
        #expect(container["id"] as? String == lab.id)
        #expect(container["runtime"] as? String == (runtime == "runc" ? "runc" : runtime))
        #expect(report["pid_in_container"] as? Int == 1)
        #expect(report["init_pid"] as? Int == Int(lab.initPID))
        let netns = try #require(report["netns"] as? [String: Any])
        #expect(String(netns["inode"] as? Int ?? 0) == lab.facts["container_netns_inode"])
        // Named by the runtime's bind mount: /run/netns for podman and ctr, docker's SandboxKey in its exec root.
        let bindMount = try #require(lab.facts["container_netns"])
        if !bindMount.hasPrefix("/proc/") {
            #expect((netns["names"] as? [String])?.contains(bindMount) == true, "names \(netns["names"] ?? "none"), lab says \(bindMount)")
        }
        // The container's veth is mapped to its host side, which lives in the lab namespace, not the root one.
        let interfaces = try #require(netns["interfaces"] as? [[String: Any]])
        let peers = interfaces.compactMap { ($0["peer"] as? [String: Any])?["name"] as? String }
        #expect(peers.contains(lab.facts["host_veth"] ?? "?"), "peers \(peers), lab says \(lab.facts["host_veth"] ?? "?")")
        #expect(interfaces.contains { ($0["ipv4"] as? [String])?.contains(lab.facts["container_ip"] ?? "?") == true })

        // A process started inside with the runtime's exec: listed by --container, then looked up by pid.
        _ = try lab.exec(["sh", "-c", "sleep 25 </dev/null >/dev/null 2>&1 &"])
        let members = try TracerBinary.run(["pid", "--container", name, "--output", "json"] + lab.tracerFlags)
        #expect(members.status == 0, "\(members.stderr)")
        let sleeper = try #require(json(members.stdout).first { ($0["cmdline"] as? [String]) == ["sleep", "25"] },
                                   "no exec'd sleep among \(members.stdout)")
        let sleeperPID = try #require(sleeper["pid"] as? Int)
        #expect((sleeper["pid_in_container"] as? Int ?? 1) > 1)
        let inner = try TracerBinary.run(["pid", String(sleeperPID), "--output", "json"] + lab.tracerFlags)
        let innerReport = try #require(json(inner.stdout).first)
        #expect((innerReport["container"] as? [String: Any])?["name"] as? String == name)
        #expect(innerReport["init_pid"] as? Int == Int(lab.initPID))
        #expect(innerReport["pid_in_container"] as? Int == sleeper["pid_in_container"] as? Int)

        // tracer containers lists it.
        let list = try TracerBinary.run(["containers", "--output", "json"] + lab.tracerFlags)
        let listed = json(list.stdout).compactMap { $0["container"] as? [String: Any] }
        #expect(listed.contains { $0["id"] as? String == lab.id && $0["name"] as? String == name })
        let entry = json(list.stdout).first { ($0["container"] as? [String: Any])?["id"] as? String == lab.id }
        #expect((entry?["host_veths"] as? [String])?.contains(lab.facts["host_veth"] ?? "?") == true)

        // A short-lived process run inside with the runtime's exec is attributed to the container.
        let marker = "marker-\(runtime)-\(getpid())"
        let traced = try TracerBinary.run(["exec", "--output", "json", "--duration", "6s"] + lab.tracerFlags, timeout: 60, whileRunning: {
            _ = try lab.exec(["sh", "-c", "echo \(marker) >/dev/null"])
        })
        // The process inside is `sh -c ...`; the host's own `containers.sh exec ...` carries the marker too.
        let execs = json(traced.stdout).filter { ($0["args"] as? [String])?.first == "sh" && ($0["args"] as? [String])?.contains { $0.contains(marker) } == true }
        let exec = try #require(execs.first, "no exec with \(marker) in \(traced.stdout.prefix(2000))")
        let execContainer = try #require(exec["container"] as? [String: Any], "exec not attributed: \(exec)")
        #expect(execContainer["name"] as? String == name)
        #expect(exec["pid_in_namespace"] as? Int != exec["pid"] as? Int, "pid inside the container differs from the host pid")

        // --container keeps the container's execs (kernel filter by cgroup) and drops the host's.
        let filtered = try TracerBinary.run(["exec", "--output", "json", "--duration", "6s", "--container", name] + lab.tracerFlags, timeout: 60, whileRunning: {
            _ = try lab.exec(["sh", "-c", "echo \(marker)-2 >/dev/null"])
            try Process.run(URL(fileURLWithPath: "/bin/echo"), arguments: ["\(marker)-host"]).waitUntilExit()
        })
        let all = json(filtered.stdout).filter { $0["type"] as? String == "exec" }
        #expect(all.contains { ($0["args"] as? [String])?.first == "sh" && ($0["args"] as? [String])?.contains { $0.contains("\(marker)-2") } == true })
        #expect(!all.contains { ($0["args"] as? [String])?.contains("\(marker)-host") == true })
        #expect(all.allSatisfy { ($0["container"] as? [String: Any])?["name"] as? String == name })
    }

    @Test func unknownContainerListsTheClosestNames() throws {
        let result = try TracerBinary.run(["pid", "--container", "no-such-container-\(getpid())"])
        #expect(result.status == 4)
        #expect(result.stderr.contains("no running container"))
    }

    @Test func pidBadInput() throws {
        #expect(try TracerBinary.run(["pid", "abc"]).status == 64)
        #expect(try TracerBinary.run(["pid", "0"]).status == 64)
        #expect(try TracerBinary.run(["pid", "-5"]).status == 64)
        #expect(try TracerBinary.run(["pid", "99999999"]).status == 64)
        // A pid below pid_max that is not running.
        var free: Int32 = 30000
        while kill(free, 0) == 0 || errno != ESRCH { free -= 1 }
        let gone = try TracerBinary.run(["pid", String(free)])
        #expect(gone.status == 3)
        #expect(gone.stderr.contains("no such process"))
        let kthread = try TracerBinary.run(["pid", "2"])
        #expect(kthread.stdout.contains("kernel thread"))
    }
}
