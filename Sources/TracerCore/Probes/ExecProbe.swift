import BPF
import BPFPrograms
import TracerABI

/// What the exec probe should capture, set before it is loaded.
public struct ExecProbeOptions: Sendable, Equatable {
    /// argv bytes per exec, from `minArgsSize` to `maxArgsSize`.
    public var argsSize: Int = Int(TRACER_ARGS_DEFAULT)
    public var pid: UInt32?
    public var ppid: UInt32?
    public var uid: UInt32?
    /// Only these cgroup v2 ids, when not nil.
    public var cgroupIDs: Set<UInt64>?
    public var reportExits = false
    public var reportFailedExecs = true
    /// Ring buffer bytes: a power of two, at least one page.
    public var ringBufferSize: Int = 4 << 20

    public static let maxArgsSize = Int(TRACER_ARGS_MAX)
    /// Fewer bytes would not hold a command's path: at 0 no argv was read at all and the table fell
    /// back to the file name, looking like a whole argv. From 64 up a cut argv is marked truncated.
    public static let minArgsSize = 64

    public init() {}
}

/// The loaded and attached exec probe (bpf/exec.bpf.c): events through `poll`, losses through `lostEvents`.
///
/// Needs CAP_BPF and CAP_PERFMON (or CAP_SYS_ADMIN), BTF, and the sched and syscalls tracepoints.
public final class ExecProbe {
    private let object: BPFObject
    private var ring: RingBuffer?
    private let lostMap: TypedMap<UInt32, UInt64>
    private var pending: [ProcessEvent] = []
    /// Records the decoder could not read; a broken ABI, never expected.
    public private(set) var undecodable = 0

    public init(options: ExecProbeOptions) throws {
        TraceFS.mountIfNeeded()
        object = try BPFObject(name: "exec", bytes: EmbeddedBPF.exec.bytes)
        var config = tracer_exec_config()
        config.args_size = UInt32(min(max(options.argsSize, 0), ExecProbeOptions.maxArgsSize))
        config.target_pid = options.pid ?? 0
        config.target_ppid = options.ppid ?? 0
        config.target_uid = options.uid ?? 0
        config.filter_uid = options.uid == nil ? 0 : 1
        config.filter_cgroup = options.cgroupIDs == nil ? 0 : 1
        config.report_exits = options.reportExits ? 1 : 0
        config.report_failed = options.reportFailedExecs ? 1 : 0
        config.wakeup_bytes = UInt32(options.ringBufferSize / 4)
        try object.setVariable(ExecObject.config, to: config)
        try object.setMaxEntries(ExecObject.events, UInt32(options.ringBufferSize))
        try object.setMaxEntries(ExecObject.scratch, UInt32(max(1, possibleCPUCount())))
        if !options.reportExits { try object.setAutoload(ExecObject.exitProgram, false) }
        if !options.reportFailedExecs {
            for program in ExecObject.failedExecPrograms { try object.setAutoload(program, false) }
        }
        try object.load()
        if let ids = options.cgroupIDs {
            let filter = try object.map(ExecObject.cgroupFilter)
            for id in ids { try filter.update(id, 1) }
        }
        lostMap = try object.map(ExecObject.lostEvents)
        let events = try object.map(ExecObject.events)
        try object.attachAll()
        ring = try RingBuffer(map: events) { [unowned self] bytes in
            do {
                pending.append(try ProcessEventDecoder.decode(bytes))
            } catch {
                undecodable += 1
            }
        }
    }

    /// Waits up to `timeoutMilliseconds` and returns the events that arrived, in arrival order.
    /// The kernel wakes us only for a large backlog, so whatever is queued is taken after the wait.
    public func poll(timeoutMilliseconds: Int32) throws -> [ProcessEvent] {
        try ring?.poll(timeoutMilliseconds: timeoutMilliseconds)
        try ring?.drain()
        defer { pending.removeAll(keepingCapacity: true) }
        return pending
    }

    /// Events the kernel could not put in the ring buffer since load, over all CPUs.
    public func lostEvents() throws -> UInt64 {
        try lostMap.sum(0)
    }

    public var programIDs: [UInt32] { object.programIDs }

    /// Detaches every program and frees the maps.
    public func close() {
        ring?.close()
        ring = nil
        object.close()
    }

    deinit { close() }
}
