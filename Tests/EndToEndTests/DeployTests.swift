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
    /// capabilities instead of privileged, a read-only root, tracefs and the cgroup tree mounted
    /// read-only, the runtime's state at its own path): its metrics name a lab container whose
    /// shell runs short-lived children, as `tracer exec` on the host names it; SIGTERM ends it with 0.
    @Test(.requires(geteuid() == 0 && access("/usr/bin/podman", X_OK) == 0, Comment(rawValue: "SKIPPED LOUDLY: needs root and podman")),
          arguments: ["podman", "docker"])
    func theImageRunAsTheDaemonSetNamesALabContainer(runtime: String) throws {
        let name = "dsburn\(runtime.prefix(2))\(getpid() % 10000)"
        let lab = try ContainerLab.up(runtime, name: name, command: runtime == "podman" ? "while true; do /bin/true; sleep 0.1; done" : nil)
        defer { lab.down() }
        if runtime == "docker" {
            // docker's lab container runs sleep: its children come from docker exec, in a loop of the test's.
            let loop = try LabShell.run(["-c", "( for i in $(seq 40); do \"$0\" exec docker \"$1\" -- /bin/true; sleep 0.2; done ) >/dev/null 2>&1 &",
                                         ContainerLab.script, name])
            #expect(loop.status == 0)
        }
        let podman = try PrivatePodman()
        defer { podman.remove() }
        let image = "localhost/tracer-agent:ds\(getpid())"
        let built = try LabShell.run(["-c", "\"$0\" \"$1\" 2>&1", "\(Self.root)/tools/image.sh", image],
                                     environment: podman.environment + ["TRACER_BINARY=\(TracerBinary.path)"])
        try #require(built.status == 0, "\(built.output)")
        let port = try HTTPGet.freePort()
        let state = try #require(lab.facts["state_dir"])
        let capabilities = "BPF,PERFMON,SYS_ADMIN,NET_ADMIN,DAC_READ_SEARCH,SYS_RESOURCE"
        let run = ["podman", "run", "-d", "--name", "agent\(getpid())", "--pid=host", "--network=host", "--read-only", "--cap-drop=all",
                   "--cap-add=\(capabilities)", "-v", "/sys/kernel/tracing:/sys/kernel/tracing:ro", "-v", "/sys/fs/cgroup:/sys/fs/cgroup:ro,rbind",
                   "-v", "\(state):\(state):ro", image, "--metrics-address", "127.0.0.1:\(port)", "--interval", "1s"] + lab.tracerFlags
        let started = try LabShell.run(["-c", "\"$@\" 2>&1", "run"] + run, environment: podman.environment)
        try #require(started.status == 0, "\(started.output)")
        defer { _ = try? LabShell.run(["-c", "podman rm -f \"$0\" >/dev/null 2>&1", "agent\(getpid())"], environment: podman.environment) }
        // The manifest asks for the same capabilities.
        let manifest = try String(contentsOfFile: Self.manifests, encoding: .utf8)
        #expect(manifest.contains("add: [\"" + capabilities.split(separator: ",").joined(separator: "\", \"") + "\"]"))

        var execs: [String] = []
        for _ in 0..<30 where execs.isEmpty {
            Thread.sleep(forTimeInterval: 1)
            guard let scrape = try? HTTPGet.get(port: port, path: "/metrics") else { continue }
            execs = scrape.body.split(separator: "\n").map(String.init)
                .filter { $0.hasPrefix("tracer_execs_total{container=\"\(name)\"") && $0.contains("runtime=\"\(runtime)\"") && $0.contains("command=\"true\"") }
        }
        let logs = try LabShell.run(["-c", "podman logs \"$0\" 2>&1 | tail -5", "agent\(getpid())"], environment: podman.environment)
        let series = try #require(execs.first, "no tracer_execs_total for \(name): \(logs.output)")
        #expect((Double(series.split(separator: " ").last ?? "") ?? 0) >= 1, "\(series)")
        #expect(try HTTPGet.get(port: port, path: "/healthz").status == 200)

        // The same identity from tracer exec on the host.
        let host = try TracerBinary.run(["exec", "--duration", "3s", "--output", "json"] + lab.tracerFlags, timeout: 30)
        let names = host.lines.compactMap { line -> (String, String)? in
            guard let object = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any],
                  let container = object["container"] as? [String: Any], let n = container["name"] as? String,
                  let r = container["runtime"] as? String else { return nil }
            return (n, r)
        }
        #expect(names.contains { $0 == (name, runtime) }, "\(names.prefix(5))")

        // Only the exit code is read: podman may warn on stderr while it stops a container ("unable to freeze").
        let stopped = try LabShell.run(["-c", "podman stop -t 10 \"$0\" >/dev/null 2>&1 && podman inspect --format '{{.State.ExitCode}}' \"$0\" 2>/dev/null",
                                        "agent\(getpid())"],
                                       environment: podman.environment)
        #expect(stopped.output.trimmingCharacters(in: .whitespacesAndNewlines) == "0", "\(stopped.output)")
    }
}

/// podman with its storage, run root and configuration in a directory of the test's own (as
/// tools/lab/containers.sh does), removed afterwards.
struct PrivatePodman {
    let dir: String
    var environment: [String] {
        ["CONTAINERS_CONF=\(dir)/containers.conf", "CONTAINERS_STORAGE_CONF=\(dir)/storage.conf",
         "CONTAINERS_REGISTRIES_CONF=\(dir)/registries.conf", "TMPDIR=\(dir)/tmp"]
    }

    init() throws {
        dir = "/tmp/tracer-podman-\(getpid())"
        for sub in ["storage", "runroot", "tmp", "netconf"] {
            try FileManager.default.createDirectory(atPath: "\(dir)/\(sub)", withIntermediateDirectories: true)
        }
        try """
            [containers]
            default_ulimits = ["nofile=20000:20000", "nproc=4096:4096"]
            [engine]
            runtime = "runc"
            cgroup_manager = "cgroupfs"
            events_logger = "file"
            events_logfile_path = "\(dir)/tmp/events.log"
            tmp_dir = "\(dir)/tmp"
            [network]
            network_backend = "netavark"
            network_config_dir = "\(dir)/netconf"
            """.write(toFile: "\(dir)/containers.conf", atomically: true, encoding: .utf8)
        try """
            [storage]
            driver = "overlay"
            graphroot = "\(dir)/storage"
            runroot = "\(dir)/runroot"
            """.write(toFile: "\(dir)/storage.conf", atomically: true, encoding: .utf8)
        try "".write(toFile: "\(dir)/registries.conf", atomically: true, encoding: .utf8)
    }

    func remove() {
        _ = try? LabShell.run(["-c", "podman rmi -a -f >/dev/null 2>&1; podman system reset -f >/dev/null 2>&1; umount -R \"$0\"/storage/overlay 2>/dev/null; rm -rf \"$0\"", dir],
                              environment: environment)
    }
}
