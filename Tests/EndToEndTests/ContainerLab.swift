import Foundation
import Glibc

/// A real container started by tools/lab/containers.sh inside a network namespace of its own.
/// `down` removes everything `up` made, including daemons and the namespace.
struct ContainerLab {
    let runtime: String
    let name: String
    let facts: [String: String]

    static let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("tools/lab/containers.sh").path

    /// `command`, podman only: the container runs `sh -c COMMAND` instead of `sleep 3600`.
    static func up(_ runtime: String, name: String, command: String? = nil) throws -> ContainerLab {
        let (status, output) = try shell([script, "up", runtime, name], environment: command.map { ["TRACERLAB_COMMAND=\($0)"] } ?? [])
        guard status == 0 else { throw LabError(message: "containers.sh up \(runtime) \(name) failed: \(output)") }
        var facts: [String: String] = [:]
        for line in output.split(separator: "\n") {
            guard let eq = line.firstIndex(of: "=") else { continue }
            facts[String(line[..<eq])] = String(line[line.index(after: eq)...])
        }
        return ContainerLab(runtime: runtime, name: name, facts: facts)
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
        // Output goes to a file, not a pipe: a runtime's monitor (conmon) keeps the inherited
        // descriptors open for the container's life, so a pipe would never reach end of file.
        // posix_spawn and waitpid, not Process: Process did not notice this child's exit.
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("tracer-lab-\(getpid())-\(UUID().uuidString)").path
        defer { unlink(path) }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, path, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        posix_spawn_file_actions_adddup2(&actions, 1, 2)
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var all = sigset_t()
        sigfillset(&all)
        var none = sigset_t()
        sigemptyset(&none)
        posix_spawnattr_setsigdefault(&attributes, &all)
        posix_spawnattr_setsigmask(&attributes, &none)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK))
        let full = ["/bin/bash"] + argv
        var cArgs: [UnsafeMutablePointer<CChar>?] = full.map { strdup($0) } + [nil]
        defer { cArgs.forEach { free($0) } }
        var env: [UnsafeMutablePointer<CChar>?] = environment.map { strdup($0) }
        var inherited = environ
        while let entry = inherited.pointee { env.append(strdup(entry)); inherited += 1 }
        env.append(nil)
        defer { env.forEach { free($0) } }
        var pid: pid_t = 0
        let rc = posix_spawn(&pid, "/bin/bash", &actions, &attributes, &cArgs, &env)
        guard rc == 0 else { throw LabError(message: "cannot start bash: \(rc)") }
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
        let data = FileManager.default.contents(atPath: path) ?? Data()
        let exitStatus = (status & 0x7f) == 0 ? (status >> 8) & 0xff : 128 + (status & 0x7f)
        return (exitStatus, String(decoding: data, as: UTF8.self))
    }
}
