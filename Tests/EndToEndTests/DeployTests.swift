import Foundation
import Glibc
import LabSupport
import Testing

/// The agent's deployment (issue #15): the systemd unit verified by systemd, the Kubernetes
/// manifests against the API types of the official client, and the image built with podman from
/// scratch, with a private storage and configuration so that no other podman state is touched.
@Suite(.serialized)
struct DeployTests {
    static let root = LabShell.root.path
    static let unit = "\(root)/deploy/systemd/tracer-agent.service"
    static let manifests = "\(root)/deploy/kubernetes/tracer-agent.yaml"
    static let venvPython = "/opt/tracer-test-venv/bin/python"

    /// `systemd-analyze verify` of a copy whose ExecStart is the built binary (verify wants it to
    /// exist): nothing said, and a misspelt setting is said.
    @Test func theSystemdUnitVerifiesCleanlyAndIsHardened() throws {
        let text = try String(contentsOfFile: Self.unit, encoding: .utf8)
        for setting in ["ProtectSystem=strict", "NoNewPrivileges=yes", "CapabilityBoundingSet=CAP_BPF CAP_PERFMON CAP_SYS_ADMIN CAP_NET_ADMIN",
                        "ExecStart=/usr/local/bin/tracer agent --metrics-address 0.0.0.0:2113"] {
            #expect(text.contains(setting), "\(setting)")
        }
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("tracer-unit-\(getpid())").path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        func verify(_ unitText: String) throws -> (status: Int32, output: String) {
            let path = "\(dir)/tracer-agent.service"
            try unitText.replacingOccurrences(of: "/usr/local/bin/tracer", with: TracerBinary.path).write(toFile: path, atomically: true, encoding: .utf8)
            return try LabShell.run(["-c", "systemd-analyze verify \"$0\" 2>&1", path])
        }
        let clean = try verify(text)
        #expect(clean.status == 0 && clean.output.isEmpty, "\(clean.output)")
        let broken = try verify(text.replacingOccurrences(of: "NoNewPrivileges=yes", with: "NoNewPrivilege=yes"))
        #expect(broken.output.contains("Unknown key 'NoNewPrivilege'"), "\(broken.output)")
    }

    /// The unit's capability bounding set is enough to name another user's process's
    /// namespaces (CAP_SYS_PTRACE: /proc/PID/ns of another uid), as the agent must for drops.
    @Test(.requires(geteuid() == 0 && access("/usr/bin/setpriv", X_OK) == 0, Comment(rawValue: "SKIPPED LOUDLY: needs root and setpriv")))
    func theUnitsCapabilitiesReadAnotherUsersNamespaces() throws {
        let text = try String(contentsOfFile: Self.unit, encoding: .utf8)
        let line = try #require(text.split(separator: "\n").first { $0.hasPrefix("CapabilityBoundingSet=") })
        let bounding = "-all," + line.dropFirst("CapabilityBoundingSet=".count).split(separator: " ")
            .map { "+" + $0.dropFirst("CAP_".count).lowercased() }.joined(separator: ",")
        let sleeper = try ChildProcess.spawn(["/usr/bin/setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", "/bin/sleep", "30"])
        defer { kill(sleeper.pid, SIGKILL); _ = sleeper.wait() }
        usleep(200_000)
        let pid = try LabShell.run(["-c", "setpriv --bounding-set=\"$0\" --inh-caps=-all \"$1\" pid \"$2\" 2>&1", bounding, TracerBinary.path, String(sleeper.pid)])
        #expect(pid.status == 0, "\(pid.output)")
        #expect(pid.output.contains("net:4026"), "bounding set \(bounding): \(pid.output)")
    }

    @Test(.requires(access(venvPython, X_OK) == 0, Comment(rawValue: "SKIPPED LOUDLY: the kubernetes client's virtualenv is missing: tools/setup.sh --test")))
    func theManifestsMatchTheKubernetesTypes() throws {
        let check = "\(Self.root)/tools/check-manifests.py"
        let good = try LabShell.run(["-c", "\"$0\" \"$1\" \"$2\" 2>&1", Self.venvPython, check, Self.manifests])
        #expect(good.status == 0 && good.output.isEmpty, "\(good.output)")
        // The check can fail: a misspelt field and a port given as text.
        let text = try String(contentsOfFile: Self.manifests, encoding: .utf8)
        let bad = FileManager.default.temporaryDirectory.appendingPathComponent("tracer-bad-\(getpid()).yaml").path
        defer { unlink(bad) }
        try text.replacingOccurrences(of: "hostPID: true", with: "hostPid: true")
            .replacingOccurrences(of: "containerPort: 2113", with: "containerPort: \"2113\"").write(toFile: bad, atomically: true, encoding: .utf8)
        let refused = try LabShell.run(["-c", "\"$0\" \"$1\" \"$2\" 2>&1", Self.venvPython, check, bad])
        #expect(refused.status == 1)
        #expect(refused.output.contains("V1PodSpec has no field 'hostPid'"), "\(refused.output)")
        #expect(refused.output.contains("containerPort: expected an integer"), "\(refused.output)")
    }

    /// tools/image.sh of the test build: FROM scratch with the binary and what it links, and it runs.
    @Test(.requires(geteuid() == 0 && access("/usr/bin/podman", X_OK) == 0, Comment(rawValue: "SKIPPED LOUDLY: needs root and podman")))
    func theImageIsBuiltFromScratchAndRuns() throws {
        let podman = try PrivatePodman()
        defer { podman.remove() }
        let image = "localhost/tracer-agent:test\(getpid())"
        let built = try LabShell.run(["-c", "\"$0\" \"$1\" 2>&1", "\(Self.root)/tools/image.sh", image],
                                     environment: podman.environment + ["TRACER_BINARY=\(TracerBinary.path)"])
        #expect(built.status == 0, "\(built.output)")
        let history = try LabShell.run(["-c", "podman image inspect --format '{{len .RootFS.Layers}} {{.Config.Entrypoint}}' \"$0\" 2>&1", image],
                                       environment: podman.environment)
        #expect(history.output.hasPrefix("1 [/usr/bin/tracer agent]"), "\(history.output)")
        let run = try LabShell.run(["-c", "podman run --rm --network none --entrypoint /usr/bin/tracer \"$0\" --version 2>&1", image],
                                   environment: podman.environment)
        let version = try TracerBinary.run(["--version"]).stdout
        #expect(run.status == 0 && run.output == version, "\(run.output)")
        // No shell in it.
        let shell = try LabShell.run(["-c", "podman run --rm --network none --entrypoint /bin/sh \"$0\" -c true 2>&1", image],
                                     environment: podman.environment)
        #expect(shell.status != 0)
    }
}

extension DeployTests {
    /// The image run as the DaemonSet runs it (host PID and network namespaces, the manifest's
    /// capabilities instead of privileged, a read-only root, the host's / read-only at /host with
    /// HOST_ROOT=/host, tracefs in place): its metrics name a lab container whose shell runs
    /// short-lived children, and the same container while its egress is dropped (forwarding off
    /// in its lab's host side), as `tracer exec` and `tracer drops` on the host name it. The lab's
    /// runtime roots are passed as the host's paths: the agent reads them under /host. SIGTERM
    /// ends it with 0.
    @Test(.requires(geteuid() == 0 && access("/usr/bin/podman", X_OK) == 0, Comment(rawValue: "SKIPPED LOUDLY: needs root and podman")),
          arguments: ["podman", "docker"])
    func theImageRunAsTheDaemonSetNamesALabContainer(runtime: String) throws {
        let name = "dsburn\(runtime.prefix(2))\(getpid() % 10000)"
        let lab = try ContainerLab.up(runtime, name: name, command: runtime == "podman" ? "while true; do /bin/true; sleep 0.1; done" : nil)
        defer { lab.down() }
        // Egress dropped: a world behind the lab's host side, which forwards nothing.
        let labNetns = try #require(lab.facts["netns"].map { URL(fileURLWithPath: $0).lastPathComponent })
        let world = try EgressLab.uplink("dsw\(runtime.prefix(1))\(getpid() % 10000)", hostNetns: labNetns)
        defer { world.down() }
        #expect(try EgressLab.inNamespace(labNetns, ["sysctl", "-qw", "net.ipv4.ip_forward=0"]) == 0)
        // Connections out of the container (each SYN dropped), and for docker, whose lab container
        // runs sleep, children from docker exec: loops of the test's own that end by themselves.
        let children = runtime == "docker" ? "\"$0\" exec docker \"$1\" -- /bin/true; " : ""
        let loop = try LabShell.run(["-c", "( for i in $(seq 150); do \(children)\"$0\" exec \"$2\" \"$1\" -- nc -w 1 203.0.113.10 8080; sleep 0.2; done ) >/dev/null 2>&1 &",
                                     ContainerLab.script, name, runtime])
        #expect(loop.status == 0)
        let podman = try PrivatePodman()
        defer { podman.remove() }
        let image = "localhost/tracer-agent:ds\(getpid())"
        let built = try LabShell.run(["-c", "\"$0\" \"$1\" 2>&1", "\(Self.root)/tools/image.sh", image],
                                     environment: podman.environment + ["TRACER_BINARY=\(TracerBinary.path)"])
        try #require(built.status == 0, "\(built.output)")
        let port = try HTTPGet.freePort()
        let capabilities = "BPF,PERFMON,SYS_ADMIN,NET_ADMIN,DAC_READ_SEARCH,SYS_PTRACE,SYS_RESOURCE"
        // A cgroup namespace of its own, as Kubernetes gives a pod on cgroup v2 (podman does too there).
        let asTheDaemonSet = ["--cgroupns=private", "--pid=host", "--network=host", "--read-only", "--cap-drop=all", "--cap-add=\(capabilities)",
                              "-v", "/:/host:ro,rslave", "-e", "HOST_ROOT=/host", "-v", "/sys/kernel/tracing:/sys/kernel/tracing:ro"]
        let run = ["podman", "run", "-d", "--name", "agent\(getpid())"] + asTheDaemonSet
            + [image, "--metrics-address", "127.0.0.1:\(port)", "--interval", "1s"] + lab.tracerFlags
        let started = try LabShell.run(["-c", "\"$@\" 2>&1", "run"] + run, environment: podman.environment)
        try #require(started.status == 0, "\(started.output)")
        defer { _ = try? LabShell.run(["-c", "podman rm -f \"$0\" >/dev/null 2>&1", "agent\(getpid())"], environment: podman.environment) }
        // The manifest asks for the same capabilities, and mounts and names the host's root as the run does.
        let manifest = try String(contentsOfFile: Self.manifests, encoding: .utf8)
        #expect(manifest.contains("add: [\"" + capabilities.split(separator: ",").joined(separator: "\", \"") + "\"]"))
        #expect(manifest.contains("- name: HOST_ROOT\n              value: /host"))
        #expect(manifest.contains("mountPath: /host\n              readOnly: true\n              mountPropagation: HostToContainer"))

        let labels = "container=\"\(name)\",pod_namespace=\"\",pod=\"\",runtime=\"\(runtime)\""
        let execs = "tracer_execs_total{\(labels),command=\"true\"}"
        let drops = "tracer_drops_total{\(labels),reason=\"IP_INADDRERRORS\",direction=\"egress\"}"
        var samples: [String: Double] = [:]
        for _ in 0..<40 where (samples[execs] ?? 0) < 1 || (samples[drops] ?? 0) < 1 {
            Thread.sleep(forTimeInterval: 1)
            samples = (try? HTTPGet.get(port: port, path: "/metrics"))?.samples ?? samples
        }
        let logs = try LabShell.run(["-c", "podman logs \"$0\" 2>&1 | tail -5", "agent\(getpid())"], environment: podman.environment)
        let ours = samples.keys.filter { $0.contains(name) || $0.hasPrefix("tracer_drops_total") }.sorted()
        #expect((samples[execs] ?? 0) >= 1, "no \(execs): \(ours) \(logs.output)")
        #expect((samples[drops] ?? 0) >= 1, "no \(drops): \(ours) \(logs.output)")
        #expect(try HTTPGet.get(port: port, path: "/healthz").status == 200)

        // The same identity from tracer exec and tracer drops on the host.
        func identities(_ result: TracerBinary.Result, type: String) -> [(String, String)] {
            result.lines.compactMap { line -> (String, String)? in
                guard let object = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any],
                      object["type"] as? String == type,
                      let container = object["container"] as? [String: Any], let n = container["name"] as? String,
                      let r = container["runtime"] as? String else { return nil }
                return (n, r)
            }
        }
        let hostExecs = try TracerBinary.run(["exec", "--duration", "3s", "--output", "json"] + lab.tracerFlags, timeout: 30)
        #expect(identities(hostExecs, type: "exec").contains { $0 == (name, runtime) }, "\(identities(hostExecs, type: "exec").prefix(5))")
        let hostDrops = try TracerBinary.run(["drops", "--duration", "4s", "--output", "json"] + lab.tracerFlags, timeout: 30)
        let dropped = identities(hostDrops, type: "drop")
        #expect(dropped.contains { $0 == (name, runtime) }, "\(dropped.prefix(5)) \(hostDrops.stderr)")

        // `tracer pid` of the container's init in the image as the DaemonSet runs it: the same
        // container, namespace names, cgroup path and veth peers as on the host.
        let inside = try LabShell.run(["-c", "\"$@\" 2>/dev/null", "run", "podman", "run", "--rm"] + asTheDaemonSet
            + ["--entrypoint=/usr/bin/tracer", image, "pid", "--output", "json", String(lab.initPID)] + lab.tracerFlags,
            environment: podman.environment)
        let outside = try TracerBinary.run(["pid", "--output", "json", String(lab.initPID)] + lab.tracerFlags)
        func seen(_ output: String) -> [String] {
            guard let object = try? JSONSerialization.jsonObject(with: Data(output.utf8)) as? [String: Any],
                  let netns = object["netns"] as? [String: Any] else { return [] }
            let interfaces = (netns["interfaces"] as? [[String: Any]] ?? []).map { interface in
                "\(interface["name"] ?? "") peer \((interface["peer"] as? [String: Any]).map { "\($0["name"] ?? "") \($0["netns"] ?? "") \($0["bridge"] ?? "")" } ?? "none")"
            }
            let container = object["container"] as? [String: Any]
            let cgroup = (object["cgroup"] as? [String: Any])?["path"] as? String ?? ""
            return ["\(container?["name"] ?? "") \(container?["runtime"] ?? "") \(container?["id"] ?? "")", "\(netns["names"] ?? "")", cgroup]
                + interfaces
        }
        #expect(inside.status == 0 && outside.status == 0, "\(inside.output) \(outside.stderr)")
        #expect(seen(inside.output) == seen(outside.stdout))
        #expect(seen(outside.stdout).first == "\(name) \(runtime) \(lab.id)" && seen(outside.stdout).contains { $0.contains(" peer ") && !$0.hasSuffix("none") },
                "\(seen(outside.stdout))")

        // Only the exit code is read: podman may warn on stderr while it stops a container ("unable to freeze").
        let stopped = try LabShell.run(["-c", "podman stop -t 10 \"$0\" >/dev/null 2>&1 && podman inspect --format '{{.State.ExitCode}}' \"$0\" 2>/dev/null",
                                        "agent\(getpid())"],
                                       environment: podman.environment)
        #expect(stopped.output.trimmingCharacters(in: .whitespacesAndNewlines) == "0", "\(stopped.output)")
    }
}

/// podman with its storage, run root and configuration in a directory of the test's own
/// (tools/lib/podman.sh, as tools/lab/containers.sh), removed afterwards.
struct PrivatePodman {
    let dir: String
    var environment: [String] {
        ["CONTAINERS_CONF=\(dir)/containers.conf", "CONTAINERS_STORAGE_CONF=\(dir)/storage.conf",
         "CONTAINERS_REGISTRIES_CONF=\(dir)/registries.conf", "TMPDIR=\(dir)/tmp"]
    }

    init() throws {
        dir = "/tmp/tracer-podman-\(getpid())"
        let written = try LabShell.run(["-c", ". \"$0\"/tools/lib/podman.sh && podman_private_config \"$1\" \"$1\" 2>&1", DeployTests.root, dir])
        guard written.status == 0 else { throw LabShell.Failure("podman_private_config: \(written.output)") }
    }

    func remove() {
        _ = try? LabShell.run(["-c", "podman rmi -a -f >/dev/null 2>&1; podman system reset -f >/dev/null 2>&1; umount -R \"$0\"/storage/overlay 2>/dev/null; rm -rf \"$0\"", dir],
                              environment: environment)
    }
}
