/// /proc/PID/status: the one reader of that file. Parsing is a pure function over its text.
public struct ProcStatus: Sendable, Equatable {
    public var name: String
    public var tgid: Int32
    public var ppid: Int32
    /// Effective capabilities (CapEff), one bit per capability number.
    public var effectiveCapabilities: UInt64
    /// The thread-group id in each pid namespace, from the reader's down to the innermost.
    public var namespacePIDs: [Int32]
    public var uid: UInt32
    /// Kernel threads have no memory map, so no VmSize line.
    public var isKernelThread: Bool

    public static func read(pid: Int32, procRoot: String = "/proc") throws -> ProcStatus {
        parse(try FileSystem.readText("\(procRoot)/\(pid)/status", kind: .processFile))
    }

    public static func readSelf(procRoot: String = "/proc") throws -> ProcStatus {
        parse(try FileSystem.readText("\(procRoot)/self/status", kind: .processFile))
    }

    public static func parse(_ text: String) -> ProcStatus {
        var status = ProcStatus(name: "", tgid: 0, ppid: 0, effectiveCapabilities: 0, namespacePIDs: [], uid: 0,
                                isKernelThread: true)
        for line in text.split(separator: "\n") {
            guard let colon = line.firstIndex(of: ":") else { continue }
            let key = line[..<colon]
            let value = line[line.index(after: colon)...].trimmed
            switch key {
            case "Name": status.name = value
            case "Tgid": status.tgid = Int32(value) ?? 0
            case "PPid": status.ppid = Int32(value) ?? 0
            case "CapEff": status.effectiveCapabilities = UInt64(value, radix: 16) ?? 0
            case "NStgid": status.namespacePIDs = value.split(whereSeparator: { $0 == " " || $0 == "\t" }).compactMap { Int32($0) }
            case "Uid": status.uid = value.split(whereSeparator: { $0 == " " || $0 == "\t" }).first.flatMap { UInt32($0) } ?? 0
            case "VmSize": status.isKernelThread = false
            default: break
            }
        }
        return status
    }

    /// The tgid in each pid namespace, from the reader's down to the process's own. The kernel
    /// lists them since Linux 4.1 (NStgid); without that line only the reader's is known.
    public var pidsByNamespace: [Int32] { namespacePIDs.isEmpty ? [tgid] : namespacePIDs }

    /// The pid the process has in its own pid namespace: 1 for a container's init, what `ps`
    /// shows inside the container. The one home of "pid in container" (`tracer pid`, its
    /// `--container` listing, `tracer containers`' init): the reader's pid where the kernel does
    /// not say.
    public var pidInOwnNamespace: Int32 { namespacePIDs.last ?? tgid }

    public func has(capability: Capability) -> Bool {
        effectiveCapabilities & (1 << UInt64(capability.rawValue)) != 0
    }
}

/// The capabilities the tracer's commands ask for (numbers from linux/capability.h); see `Privileges`.
/// Declared in the order messages name them: tracing's own first.
public enum Capability: Int, Sendable, CaseIterable {
    case bpf = 39
    case perfmon = 38
    case dacReadSearch = 2
    case dacOverride = 1
    case sysAdmin = 21
    case netAdmin = 12
    case syslog = 34

    public var name: String {
        switch self {
        case .dacOverride: return "CAP_DAC_OVERRIDE"
        case .dacReadSearch: return "CAP_DAC_READ_SEARCH"
        case .netAdmin: return "CAP_NET_ADMIN"
        case .sysAdmin: return "CAP_SYS_ADMIN"
        case .syslog: return "CAP_SYSLOG"
        case .perfmon: return "CAP_PERFMON"
        case .bpf: return "CAP_BPF"
        }
    }

    /// As `setcap` spells it: "cap_dac_read_search".
    public var setcapName: String { name.lowercased() }
}
