import CLibBPF
import Glibc

/// Why a BPF operation failed, with the object, program or map it concerns.
public enum BPFError: Error, CustomStringConvertible, Equatable {
    /// libbpf could not parse the embedded object.
    case open(object: String, errno: Int32, log: String)
    /// The kernel refused a program; `log` carries libbpf's messages including the verifier log.
    case load(object: String, program: String?, errno: Int32, log: String)
    case attach(program: String, target: String, errno: Int32)
    /// The tracepoint this program needs does not exist on the running kernel.
    case tracepointMissing(program: String, tracepoint: String)
    /// The kernel publishes no BTF (/sys/kernel/btf/vmlinux), so CO-RE programs cannot be relocated.
    case btfMissing
    case noSuchProgram(String)
    case noSuchMap(String)
    case noSuchVariable(String)
    /// The object and the Swift side disagree on a map's or a variable's size: a build out of step.
    case schemaMismatch(String)
    case map(name: String, operation: String, errno: Int32)
    case ringBuffer(errno: Int32)

    public var errno: Int32? {
        switch self {
        case .open(_, let e, _), .load(_, _, let e, _), .attach(_, _, let e), .map(_, _, let e), .ringBuffer(let e):
            return e
        default:
            return nil
        }
    }

    /// True when the error comes from missing privileges rather than from the kernel's features.
    public var isPermissionDenied: Bool {
        (errno == EPERM || errno == EACCES) && !isVerifierRejection
    }

    /// The verifier refused a program: it answers EACCES for an unsafe access, which is a bug
    /// (or a kernel this program does not suit), not missing privileges. libbpf prints the
    /// verifier's log when that happens.
    public var isVerifierRejection: Bool {
        guard case .load(_, _, let e, let log) = self else { return false }
        return (e == EACCES || e == EINVAL) && log.contains("BEGIN PROG LOAD LOG")
    }

    public var description: String {
        switch self {
        case .open(let object, let e, _):
            return "cannot open BPF object \(object): \(Errno(e))"
        case .load(let object, let program, let e, _):
            let what = program.map { "program \($0) of \(object)" } ?? "BPF object \(object)"
            return "kernel refused \(what): \(Errno(e))"
        case .attach(let program, let target, let e):
            return "cannot attach \(program) to \(target): \(Errno(e))"
        case .tracepointMissing(let program, let tracepoint):
            return "tracepoint \(tracepoint) needed by \(program) does not exist on this kernel"
        case .btfMissing:
            return "this kernel has no BTF (/sys/kernel/btf/vmlinux is missing), which CO-RE programs need"
        case .noSuchProgram(let name):
            return "no BPF program named \(name)"
        case .noSuchMap(let name):
            return "no BPF map named \(name)"
        case .noSuchVariable(let name):
            return "no BPF variable named \(name)"
        case .schemaMismatch(let what):
            return "BPF object out of step with tracer: \(what)"
        case .map(let name, let operation, let e):
            return "BPF map \(name): \(operation) failed: \(Errno(e))"
        case .ringBuffer(let e):
            return "ring buffer: \(Errno(e))"
        }
    }

    /// The verifier and libbpf messages behind a load failure, empty otherwise.
    public var log: String {
        switch self {
        case .open(_, _, let log), .load(_, _, _, let log): return log
        default: return ""
        }
    }
}
