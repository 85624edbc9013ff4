import BPF
import BPFPrograms
import Testing
@testable import TracerCore

/// Every name and size the probes use, checked against the embedded objects without privileges:
/// libbpf opens an object from memory without the kernel (bpf_object__open_mem), and the maps'
/// sizes and the variables' BTF are known before load.
@Suite struct ObjectSchemaTests {
    static let objects: [(String, EmbeddedBPFObject, ObjectSchema)] = [
        ("exec", EmbeddedBPF.exec, ExecObject.schema),
        ("net", EmbeddedBPF.net, NetObject.schema),
        ("top", EmbeddedBPF.top, TopObject.schema),
    ]

    @Test(arguments: objects.map(\.0))
    func theSwiftSideMatchesTheObject(name: String) throws {
        let (_, embedded, schema) = try #require(Self.objects.first { $0.0 == name })
        let object = try BPFObject(name: name, bytes: embedded.bytes)
        defer { object.close() }
        #expect(object.mismatches(with: schema) == [])
        #expect(!schema.maps.isEmpty && !schema.programs.isEmpty && !schema.variables.isEmpty)
    }

    /// Every program of an object is named by its schema: a new program cannot go unchecked.
    @Test(arguments: objects.map(\.0))
    func everyProgramIsNamed(name: String) throws {
        let (_, embedded, schema) = try #require(Self.objects.first { $0.0 == name })
        let object = try BPFObject(name: name, bytes: embedded.bytes)
        defer { object.close() }
        #expect(Set(object.programNames) == Set(schema.programs))
    }

    @Test func aWrongNameOrSizeIsReported() throws {
        var schema = ObjectSchema()
        schema.add(MapSchema<UInt32, UInt32>("lost_events"))      // value is a u64
        schema.add(MapSchema<UInt32, UInt64>("no_such_map"))
        schema.add([ProgramSchema("no_such_program")])
        schema.add(VariableSchema<UInt32>("exec_config", in: .rodata))  // a 24-byte struct
        schema.add(VariableSchema<UInt64>("no_such_variable", in: .bss))
        let object = try BPFObject(name: "exec", bytes: EmbeddedBPF.exec.bytes)
        defer { object.close() }
        #expect(object.mismatches(with: schema) == [
            "map lost_events: value is 8 bytes, Swift uses 4",
            "no map no_such_map",
            "no program no_such_program",
            "variable exec_config: 24 bytes, Swift uses 4",
            "no variable no_such_variable in .bss",
        ])
    }

    @Test func aMapOfTheWrongTypesIsRefused() throws {
        let object = try BPFObject(name: "exec", bytes: EmbeddedBPF.exec.bytes)
        defer { object.close() }
        #expect(throws: BPFError.schemaMismatch("map lost_events has 4-byte keys and 8-byte values; Swift uses 4 and 4")) {
            _ = try object.map(MapSchema<UInt32, UInt32>("lost_events"))
        }
    }
}
