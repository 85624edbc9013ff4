import Testing
import TracerABI
@testable import TracerCore

/// The decoder against bytes laid out by the C header, the same header the BPF program uses.
struct ProcessEventDecoderTests {
    @Test func layoutMatchesTheCHeader() {
        #expect(MemoryLayout<tracer_process_keys>.size == 32 + 4 * Int(TRACER_CGROUP_NAME_LEN))
        #expect(MemoryLayout<tracer_exec_event>.size == 72 + MemoryLayout<tracer_process_keys>.size + 16)
        #expect(MemoryLayout<tracer_exec_event>.offset(of: \tracer_exec_event.timestamp_ns) == 24)
        #expect(MemoryLayout<tracer_exec_event>.offset(of: \tracer_exec_event.keys) == 72)
        #expect(MemoryLayout<tracer_exit_event>.size == 88)
        #expect(MemoryLayout<tracer_exit_event>.offset(of: \tracer_exit_event.comm) == 72)
        #expect(MemoryLayout<tracer_exec_config>.size == 24)
    }

    func record(args: [[UInt8]], filename: String, flags: UInt32 = 0, kind: tracer_event_kind = TRACER_EVENT_EXEC) -> [UInt8] {
        var raw = tracer_exec_event()
        raw.kind = UInt32(kind.rawValue)
        raw.pid = 100
        raw.tid = 101
        raw.ppid = 1
        raw.ret = kind == TRACER_EVENT_EXEC_FAILED ? -13 : 0
        raw.timestamp_ns = 5
        raw.start_time_ns = 4
        withUnsafeMutableBytes(of: &raw.comm) { $0.copyBytes(from: Array("sh".utf8)) }
        withUnsafeMutableBytes(of: &raw.keys.cgroup_name) { $0.copyBytes(from: Array("libpod-abc".utf8)) }
        raw.keys.cgroup_id = 77
        raw.keys.pid_in_ns = 1
        let argBytes: [UInt8] = args.flatMap { $0 + [UInt8(0)] }
        raw.args_len = UInt32(argBytes.count)
        raw.filename_len = UInt32(filename.utf8.count)
        raw.flags = flags
        return withUnsafeBytes(of: raw) { Array($0) } + argBytes + Array(filename.utf8)
    }

    @Test func decodesExecWithArgsAndFilename() throws {
        let bytes = record(args: [Array("sh".utf8), [], Array("-c".utf8)], filename: "/bin/sh",
                           flags: UInt32(TRACER_EXEC_ARGS_TRUNCATED.rawValue))
        let event = try bytes.withUnsafeBytes { try ProcessEventDecoder.decode($0) }
        guard case .exec(let e) = event else { Issue.record("not an exec"); return }
        #expect(e.args == [Array("sh".utf8), [], Array("-c".utf8)])
        #expect(e.filename == Array("/bin/sh".utf8))
        #expect(e.argsTruncated)
        #expect(!e.failed)
        #expect(e.comm == Array("sh".utf8))
        #expect(e.keys.cgroupName == "libpod-abc")
        #expect(e.keys.cgroupID == 77)
        #expect(e.tid == 101)
    }

    @Test func failedExecKeepsItsErrno() throws {
        let bytes = record(args: [], filename: "/x", kind: TRACER_EVENT_EXEC_FAILED)
        guard case .exec(let e) = try bytes.withUnsafeBytes({ try ProcessEventDecoder.decode($0) }) else { return }
        #expect(e.failed && e.ret == -13)
        #expect(e.args.isEmpty)
    }

    @Test func truncatedAndUnknownRecordsAreErrorsNotCrashes() {
        let bytes = record(args: [Array("a".utf8)], filename: "/a")
        #expect(throws: ProcessEventDecoder.DecodeError.self) {
            try bytes.dropLast(3).withUnsafeBytes { try ProcessEventDecoder.decode($0) }
        }
        #expect(throws: ProcessEventDecoder.DecodeError.unknownKind(99)) {
            try [99, 0, 0, 0].withUnsafeBytes { try ProcessEventDecoder.decode($0) }
        }
        #expect(throws: ProcessEventDecoder.DecodeError.self) {
            try [1, 0].withUnsafeBytes { try ProcessEventDecoder.decode($0) }
        }
    }

    @Test func exitStatusIsSplitIntoCodeSignalAndCore() {
        func exit(_ status: UInt32) -> ExitEvent {
            ExitEvent(pid: 1, ppid: 0, uid: 0, timestamp: 10, startTime: 4, cpuNanoseconds: 0, userNanoseconds: 0,
                      systemNanoseconds: 0, maxRSSKilobytes: 0, status: status, comm: [])
        }
        #expect(exit(3 << 8).exitCode == 3)
        #expect(exit(3 << 8).signal == nil)
        #expect(exit(11 | 0x80).signal == 11)
        #expect(exit(11 | 0x80).coreDumped)
        #expect(exit(0).exitCode == 0)
        #expect(exit(0).lifetimeNanoseconds == 6)
    }
}
