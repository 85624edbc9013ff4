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

    public func has(capability: Capability) -> Bool {
        effectiveCapabilities & (1 << UInt64(capability.rawValue)) != 0
    }
}

/// The capabilities tracing needs (numbers from linux/capability.h).
public enum Capability: Int, Sendable, CaseIterable {
    case sysAdmin = 21
    case perfmon = 38
    case bpf = 39

    public var name: String {
        switch self {
        case .sysAdmin: return "CAP_SYS_ADMIN"
        case .perfmon: return "CAP_PERFMON"
        case .bpf: return "CAP_BPF"
        }
    }
}
