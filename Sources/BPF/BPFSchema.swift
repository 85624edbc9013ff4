/// What the Swift side names in a BPF object, with the sizes it assumes: maps (key and value
/// types), programs and global variables. Each probe declares its object's schema once; the probe
/// reaches the object only through it, and a test opens every embedded object (no privilege
/// needed) and checks every name and size against the ELF, so a rename in `bpf/` fails a unit
/// test instead of a root-only one.

/// A hash or array map whose keys are `Key` and whose values are `Value` (one CPU's value, for
/// per-CPU maps).
public struct MapSchema<Key: BitwiseCopyable, Value: BitwiseCopyable>: Sendable {
    public let name: String
    public init(_ name: String) { self.name = name }

    public var keySize: Int { MemoryLayout<Key>.size }
    public var valueSize: Int { MemoryLayout<Value>.size }
}

/// A map whose keys and values the Swift side never reads or writes (a ring buffer, the kernel's
/// scratch space): only its name and size are used.
public struct OpaqueMapSchema: Sendable {
    public let name: String
    public init(_ name: String) { self.name = name }
}

/// A program, by its function name in the object.
public struct ProgramSchema: Sendable, Hashable {
    public let name: String
    public init(_ name: String) { self.name = name }
}

/// A global variable: `const volatile` in `.rodata` (set before load), or a plain global in
/// `.bss`/`.data` (also written while loaded).
public struct VariableSchema<Value: BitwiseCopyable>: Sendable {
    public enum Section: String, Sendable { case rodata = ".rodata", bss = ".bss", data = ".data" }
    public let name: String
    public let section: Section
    public init(_ name: String, in section: Section) {
        self.name = name
        self.section = section
    }
}

/// Every name of an object the Swift side uses, with the sizes it assumes, for the check against
/// the ELF (`BPFObject.mismatches(with:)`).
public struct ObjectSchema: Sendable {
    public struct Map: Sendable { public let name: String; public let keySize: Int?; public let valueSize: Int? }
    public struct Variable: Sendable { public let name: String; public let section: String; public let size: Int }

    public var maps: [Map] = []
    public var programs: [String] = []
    public var variables: [Variable] = []

    public init() {}

    public mutating func add<K, V>(_ map: MapSchema<K, V>) {
        maps.append(Map(name: map.name, keySize: map.keySize, valueSize: map.valueSize))
    }

    public mutating func add(_ map: OpaqueMapSchema) {
        maps.append(Map(name: map.name, keySize: nil, valueSize: nil))
    }

    public mutating func add(_ programs: [ProgramSchema]) {
        self.programs += programs.map(\.name)
    }

    public mutating func add<T>(_ variable: VariableSchema<T>) {
        variables.append(Variable(name: variable.name, section: variable.section.rawValue, size: MemoryLayout<T>.size))
    }
}
