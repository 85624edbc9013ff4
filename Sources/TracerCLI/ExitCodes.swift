import BPF
import Glibc
import TracerCore

/// The distinct exit codes, documented in the README and in `tracer --help`.
enum TracerExit {
    static let failure = ExitCode(1)
    static let errorFound = ExitCode(2)    // `tracer diagnose` found a problem at error severity
    static let noSuchProcess = ExitCode(3)
    static let unknownContainer = ExitCode(4)
    static let unknownNamespace = ExitCode(5) // or one that is no endpoint (`--netns` of diagnose, egress)
    static let unknownPort = ExitCode(6)      // `tracer ingress --port`: not published by the selection
    static let usage = ExitCode(64)       // EX_USAGE: bad command line
    static let unavailable = ExitCode(69) // EX_UNAVAILABLE: the kernel lacks a feature
    static let noPermission = ExitCode(77) // EX_NOPERM: `Privileges.require` names what is missing
    // A tracing command stopped by SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2 or SIGALRM: 128 + signo (`StopSignal`).
}

/// Prints one line naming the problem and returns the exit code it deserves.
func fail(_ error: Error, command: String) -> ExitCode {
    if let bpf = error as? BPFError {
        if bpf.isVerifierRejection {
            printError("tracer \(command): the kernel's verifier rejected \(bpf) (the verifier's log with --verbose; please report it with `tracer check --output json`)")
            return TracerExit.unavailable
        }
        if bpf.isPermissionDenied {
            // The capabilities were checked before loading (`Privileges.require`): what refuses
            // now is a user namespace or a security module, or a capability lost since.
            printError("tracer \(command): \(bpf): permission denied although CAP_BPF and CAP_PERFMON are held (a user namespace or a security module refuses); run `tracer check`")
            return TracerExit.noPermission
        }
        if case .btfMissing = bpf {
            printError("tracer \(command): \(bpf); run `tracer check`")
            return TracerExit.unavailable
        }
        if case .tracepointMissing = bpf {
            printError("tracer \(command): \(bpf); run `tracer check`")
            return TracerExit.unavailable
        }
        printError("tracer \(command): \(bpf)" + (bpf.log.isEmpty ? "" : " (details with --verbose)"))
        return TracerExit.unavailable
    }
    if let query = error as? ContainerQueryError {
        printError("tracer \(command): \(query)")
        return TracerExit.unknownContainer
    }
    printError("tracer \(command): \(error)")
    return TracerExit.failure
}

/// One line on stderr, its control characters escaped: messages quote arguments and names.
func printError(_ message: String) {
    let line = ByteText.controlsEscaped(message) + "\n"
    _ = line.withCString { write(2, $0, strlen($0)) }
}
