import TracerABI

/// Turns the exec probe's ring-buffer records into events. The only code that knows
/// the byte layout, which comes from bpf/include/tracer/exec_event.h.
public enum ProcessEventDecoder {
    public enum DecodeError: Error, Equatable, CustomStringConvertible {
        case tooShort(kind: UInt32, size: Int)
        case unknownKind(UInt32)

        public var description: String {
            switch self {
            case .tooShort(let kind, let size): return "event of kind \(kind) truncated at \(size) bytes"
            case .unknownKind(let kind): return "unknown event kind \(kind)"
            }
        }
    }

    public static func decode(_ bytes: UnsafeRawBufferPointer) throws -> ProcessEvent {
        guard bytes.count >= 4 else { throw DecodeError.tooShort(kind: 0, size: bytes.count) }
        let kind = bytes.loadUnaligned(as: UInt32.self)
        switch kind {
        case UInt32(TRACER_EVENT_EXEC.rawValue), UInt32(TRACER_EVENT_EXEC_FAILED.rawValue):
            return .exec(try decodeExec(bytes, kind: kind))
        case UInt32(TRACER_EVENT_EXIT.rawValue):
            guard bytes.count >= MemoryLayout<tracer_exit_event>.size else {
                throw DecodeError.tooShort(kind: kind, size: bytes.count)
            }
            let raw = bytes.loadUnaligned(as: tracer_exit_event.self)
            var comm = raw.comm
            return .exit(ExitEvent(
                pid: raw.pid, ppid: raw.ppid, uid: raw.uid, timestamp: raw.timestamp_ns, startTime: raw.start_time_ns,
                cpuNanoseconds: raw.cpu_ns, userNanoseconds: raw.user_ns, systemNanoseconds: raw.system_ns,
                maxRSSKilobytes: raw.max_rss_kb, status: raw.exit_status, comm: cString(&comm)))
        default:
            throw DecodeError.unknownKind(kind)
        }
    }

    private static func decodeExec(_ bytes: UnsafeRawBufferPointer, kind: UInt32) throws -> ExecEvent {
        let headerSize = MemoryLayout<tracer_exec_event>.size
        guard bytes.count >= headerSize else { throw DecodeError.tooShort(kind: kind, size: bytes.count) }
        var raw = bytes.loadUnaligned(as: tracer_exec_event.self)
        let argsLength = Int(raw.args_len)
        let filenameLength = Int(raw.filename_len)
        guard bytes.count >= headerSize + argsLength + filenameLength else {
            throw DecodeError.tooShort(kind: kind, size: bytes.count)
        }
        let argsBytes = UnsafeRawBufferPointer(rebasing: bytes[headerSize..<headerSize + argsLength])
        let filename = Array(bytes[headerSize + argsLength..<headerSize + argsLength + filenameLength])
        var args = argsBytes.split(separator: 0, omittingEmptySubsequences: false).map(Array.init)
        // Every argument ends with NUL, so a complete argv leaves one empty piece after the last.
        if args.last?.isEmpty == true { args.removeLast() }
        let flags = raw.flags
        return ExecEvent(
            pid: raw.pid, tid: raw.tid, ppid: raw.ppid, uid: raw.uid, ret: raw.ret,
            timestamp: raw.timestamp_ns, startTime: raw.start_time_ns,
            comm: cString(&raw.comm), parentComm: cString(&raw.pcomm), filename: filename, args: args,
            argsTruncated: flags & UInt32(TRACER_EXEC_ARGS_TRUNCATED.rawValue) != 0,
            filenameTruncated: flags & UInt32(TRACER_EXEC_FILENAME_TRUNCATED.rawValue) != 0,
            viaExecveat: flags & UInt32(TRACER_EXEC_VIA_EXECVEAT.rawValue) != 0,
            keys: keys(&raw.keys))
    }

    static func keys(_ raw: inout tracer_process_keys) -> ProcessKeys {
        ProcessKeys(
            cgroupID: raw.cgroup_id, cgroupV1ID: raw.cgroup_v1_id, mountNamespace: raw.mnt_ns,
            networkNamespace: raw.net_ns, pidNamespace: raw.pid_ns, pidInNamespace: raw.pid_in_ns,
            cgroupName: String(decoding: cString(&raw.cgroup_name), as: UTF8.self),
            cgroupParent: String(decoding: cString(&raw.cgroup_parent), as: UTF8.self),
            cgroupV1Name: String(decoding: cString(&raw.cgroup_v1_name), as: UTF8.self),
            cgroupV1Parent: String(decoding: cString(&raw.cgroup_v1_parent), as: UTF8.self))
    }

    /// The bytes of a fixed C char array up to its first NUL.
    static func cString<T>(_ tuple: inout T) -> [UInt8] {
        withUnsafeBytes(of: &tuple) { raw in
            let end = raw.firstIndex(of: 0) ?? raw.count
            return Array(raw[..<end])
        }
    }
}
