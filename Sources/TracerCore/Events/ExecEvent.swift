/// One exec, successful or failed, as captured by the exec probe.
/// Byte strings stay bytes: process names and arguments need not be UTF-8.
public struct ExecEvent: Sendable, Equatable {
    public var pid: UInt32
    /// The thread that called exec; differs from `pid` when a non-leader thread exec'd.
    public var tid: UInt32
    public var ppid: UInt32
    public var uid: UInt32
    /// 0, or the negative errno of a failed exec.
    public var ret: Int32
    /// CLOCK_BOOTTIME nanoseconds.
    public var timestamp: UInt64
    /// Process start, CLOCK_BOOTTIME nanoseconds: with `pid`, the identity of the process.
    public var startTime: UInt64
    public var comm: [UInt8]
    public var parentComm: [UInt8]
    public var filename: [UInt8]
    public var args: [[UInt8]]
    public var argsTruncated: Bool
    public var filenameTruncated: Bool
    public var viaExecveat: Bool
    public var keys: ProcessKeys
    /// The container, set by enrichment (`ExecAttributor`); nil until then.
    public var attribution: Attribution?

    public var failed: Bool { ret < 0 }

    public init(pid: UInt32, tid: UInt32, ppid: UInt32, uid: UInt32, ret: Int32, timestamp: UInt64, startTime: UInt64,
                comm: [UInt8], parentComm: [UInt8], filename: [UInt8], args: [[UInt8]], argsTruncated: Bool = false,
                filenameTruncated: Bool = false, viaExecveat: Bool = false, keys: ProcessKeys = ProcessKeys()) {
        self.pid = pid
        self.tid = tid
        self.ppid = ppid
        self.uid = uid
        self.ret = ret
        self.timestamp = timestamp
        self.startTime = startTime
        self.comm = comm
        self.parentComm = parentComm
        self.filename = filename
        self.args = args
        self.argsTruncated = argsTruncated
        self.filenameTruncated = filenameTruncated
        self.viaExecveat = viaExecveat
        self.keys = keys
    }
}

/// The last thread of a traced process exited.
public struct ExitEvent: Sendable, Equatable {
    public var pid: UInt32
    public var ppid: UInt32
    public var uid: UInt32
    public var timestamp: UInt64
    public var startTime: UInt64
    public var cpuNanoseconds: UInt64
    public var userNanoseconds: UInt64
    public var systemNanoseconds: UInt64
    public var maxRSSKilobytes: UInt64
    /// Wait-status layout: exit code << 8, or the signal number, | 0x80 for a core dump.
    public var status: UInt32
    public var comm: [UInt8]

    public init(pid: UInt32, ppid: UInt32, uid: UInt32, timestamp: UInt64, startTime: UInt64, cpuNanoseconds: UInt64,
                userNanoseconds: UInt64, systemNanoseconds: UInt64, maxRSSKilobytes: UInt64, status: UInt32, comm: [UInt8]) {
        self.pid = pid
        self.ppid = ppid
        self.uid = uid
        self.timestamp = timestamp
        self.startTime = startTime
        self.cpuNanoseconds = cpuNanoseconds
        self.userNanoseconds = userNanoseconds
        self.systemNanoseconds = systemNanoseconds
        self.maxRSSKilobytes = maxRSSKilobytes
        self.status = status
        self.comm = comm
    }

    public var lifetimeNanoseconds: UInt64 { timestamp >= startTime ? timestamp - startTime : 0 }
    /// The signal that ended the process, or nil for a normal exit.
    public var signal: Int32? { WaitStatus(status).signal }
    public var exitCode: Int32? { WaitStatus(status).exitCode }
    public var coreDumped: Bool { WaitStatus(status).coreDumped }
}

/// What the exec probe delivers.
public enum ProcessEvent: Sendable, Equatable {
    case exec(ExecEvent)
    case exit(ExitEvent)

    public var timestamp: UInt64 {
        switch self {
        case .exec(let e): return e.timestamp
        case .exit(let e): return e.timestamp
        }
    }
}
