/// The kinds of file the tracer reads, each with the most it will read of one.
///
/// A cap sits far above what such a file holds on a busy host and far below what would hurt the
/// tracer; a file over it is refused whole, since a cut JSON document or table would be misread.
/// It is what keeps a metadata file linked to /dev/zero, or grown by a hostile user, from taking
/// the tracer's memory (before the caps, `tracer pid` reached 19.7 GB in 20 s on such a link).
enum FileKind: Sendable, Equatable {
    /// One container's file: docker config.v2.json, OCI config.json, runc state.json, a pidfile.
    /// A few KiB to a few dozen in practice (hundreds of labels and variables stay under 1 MiB).
    case runtimeMetadata
    /// containers.json of podman and CRI-O storage: every container of the store in one file,
    /// about 1 KiB each, so the cap holds some 60,000 containers. Also podman's bolt_state.db,
    /// with some 16 KiB of configuration and state a container (4,000 containers).
    case runtimeIndex
    /// /proc/PID files. cmdline is the largest: execve takes at most 6 MiB of arguments and
    /// environment (a quarter of the stack limit, capped at 3/4 of 8 MiB since Linux 4.13).
    case processFile
    /// Kernel tables that grow with the host: /proc/kallsyms (about 5 MiB, more with many modules),
    /// /proc/self/mountinfo (about 150 bytes a mount), /proc/stat.
    case kernelTable
    /// One kernel setting or description: /proc/sys and /sys values, a tracefs event format.
    case kernelSetting

    var cap: Int {
        switch self {
        case .runtimeMetadata: return 4 << 20
        case .runtimeIndex: return 64 << 20
        case .processFile: return 8 << 20
        case .kernelTable: return 64 << 20
        case .kernelSetting: return 1 << 20
        }
    }

    /// What a refusal calls it.
    var name: String {
        switch self {
        case .runtimeMetadata: return "container runtime metadata"
        case .runtimeIndex: return "a container storage index"
        case .processFile: return "/proc/PID files"
        case .kernelTable: return "kernel tables"
        case .kernelSetting: return "kernel settings"
        }
    }

    /// "4 MiB".
    var capText: String { "\(cap >> 20) MiB" }
}
