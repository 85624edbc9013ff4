import BPF

/// Everything `tracer check` names in bpf/check.bpf.c: one tiny program per attach type.
enum CheckObject {
    static let tracepoint = ProgramSchema("check_tracepoint")
    static let rawTracepoint = ProgramSchema("check_raw_tracepoint")
    static let btfTracepoint = ProgramSchema("check_btf_tracepoint")
    static let ringBuffer = ProgramSchema("check_ring_buffer")
    static let kprobe = ProgramSchema("check_kprobe")
    static let fentry = ProgramSchema("check_fentry")
    static let ring = OpaqueMapSchema("check_ring")

    static var schema: ObjectSchema {
        var schema = ObjectSchema()
        schema.add(ring)
        schema.add([tracepoint, rawTracepoint, btfTracepoint, ringBuffer, kprobe, fentry])
        return schema
    }
}
