import BPF
import TracerABI

/// Everything `TopProbe` names in bpf/top.bpf.c, with the types it reads and writes.
enum TopObject {
    /// The interval the kernel records lifetime maxima for; written while the programs run.
    static let interval = VariableSchema<UInt64>("interval", in: .bss)
    static let counts = MapSchema<tracer_top_key, tracer_top_counts>("counts")
    static let details = MapSchema<tracer_top_key, tracer_top_detail>("details")
    static let exitCodes = MapSchema<tracer_top_exit_key, UInt64>("exit_codes")
    static let other = MapSchema<UInt32, tracer_top_other>("other")
    static let lost = MapSchema<UInt32, UInt64>("lost")
    static let programs = ["handle_fork", "handle_exec", "handle_execve_enter", "handle_execveat_enter",
                           "handle_execve_exit", "handle_execveat_exit", "handle_exit", "handle_switch"].map(ProgramSchema.init)

    static var schema: ObjectSchema {
        var schema = ObjectSchema()
        schema.add(interval)
        schema.add(counts)
        schema.add(details)
        schema.add(exitCodes)
        schema.add(other)
        schema.add(lost)
        schema.add(programs)
        return schema
    }
}
