import Foundation
import Glibc
import LabSupport

/// A real container started by tools/lab/containers.sh inside a network namespace of its own.
/// `down` removes everything `up` made, including daemons and the namespace.
struct ContainerLab {
    let runtime: String
    let name: String
    let facts: [String: String]

    static let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("tools/lab/containers.sh").path

    /// `command`, podman only: the container runs `sh -c COMMAND` instead of `sleep 3600`.
    /// `publish` (podman, docker): the `-p` specs, as TRACERLAB_PUBLISH takes them ("8080:80 127.0.0.1:8081:81/udp").
    /// `ipv6` (podman, docker): on a dual-stack network of its own (podman 10.89.6.0/24 and
    /// fd00:d6::/64, docker 10.89.7.0/24 and fd00:d7::/64), masqueraded by the runtime (NAT66).
    static func up(_ runtime: String, name: String, command: String? = nil, publish: String? = nil, ipv6: Bool = false) throws -> ContainerLab {
        let environment = (command.map { ["TRACERLAB_COMMAND=\($0)"] } ?? []) + (publish.map { ["TRACERLAB_PUBLISH=\($0)"] } ?? [])
            + (ipv6 ? ["TRACERLAB_IPV6=1"] : [])
        let (status, output) = try shell([script, "up", runtime, name], environment: environment)
        guard status == 0 else { throw LabError(message: "containers.sh up \(runtime) \(name) failed: \(output)") }
        return ContainerLab(runtime: runtime, name: name, facts: LabShell.facts(output))
    }

    func down() {
        _ = try? ContainerLab.shell([ContainerLab.script, "down", runtime, name])
    }

    /// Runs CMD inside the container with the runtime's own exec.
    func exec(_ command: [String]) throws -> Int32 {
        try ContainerLab.shell([ContainerLab.script, "exec", runtime, name, "--"] + command).status
    }

    var initPID: Int32 { Int32(facts["init_pid"] ?? "") ?? 0 }
    var id: String { facts["id"] ?? "" }

    /// The flags that point tracer at this lab's runtime state.
    var tracerFlags: [String] {
        var flags: [String] = []
        if let v = facts["docker_root"] { flags += ["--docker-root", v] }
        if let v = facts["podman_graphroot"] { flags += ["--podman-root", v] }
        if let v = facts["podman_runroot"] { flags += ["--podman-runroot", v] }
        if let v = facts["containerd_state"] { flags += ["--containerd-state", v + "/io.containerd.runtime.v2.task"] }
        if runtime == "runc", let v = facts["runc_root"] { flags += ["--runc-root", v] }
        return flags
    }

    struct LabError: Error, CustomStringConvertible {
        let message: String
        var description: String { message }
    }

    @discardableResult
    static func shell(_ argv: [String], environment: [String] = []) throws -> (status: Int32, output: String) {
        try LabShell.run(argv, environment: environment)
    }
}
