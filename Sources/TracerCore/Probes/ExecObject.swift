import BPF
import TracerABI

/// Everything `ExecProbe` names in bpf/exec.bpf.c, with the types it reads and writes.
enum ExecObject {
    static let config = VariableSchema<tracer_exec_config>("exec_config", in: .rodata)
    static let events = OpaqueMapSchema("events")
    /// One slot per possible CPU, sized by the loader.
    static let scratch = OpaqueMapSchema("scratch")
    static let lostEvents = MapSchema<UInt32, UInt64>("lost_events")
    static let cgroupFilter = MapSchema<UInt64, UInt8>("cgroup_filter")
    static let execProgram = ProgramSchema("handle_exec")
    static let exitProgram = ProgramSchema("handle_exit")
    /// The syscall programs that see failed execs, left out when those are not reported.
    static let failedExecPrograms = ["handle_execve_enter", "handle_execveat_enter", "handle_execve_exit", "handle_execveat_exit"]
        .map(ProgramSchema.init)

    static var schema: ObjectSchema {
        var schema = ObjectSchema()
        schema.add(config)
        schema.add(events)
        schema.add(scratch)
        schema.add(lostEvents)
        schema.add(cgroupFilter)
        schema.add([execProgram, exitProgram] + failedExecPrograms)
        return schema
    }
}
