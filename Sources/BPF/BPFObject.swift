import CLibBPF
import Glibc

/// A BPF object opened from bytes in memory: set tunables and map sizes, load, attach.
/// Closing destroys every link first, then the object, so nothing stays in the kernel.
///
/// Loading needs CAP_BPF and CAP_PERFMON (or CAP_SYS_ADMIN) and a kernel with BTF.
public final class BPFObject {
    public let name: String
    private var handle: OpaquePointer?
    /// libbpf parses the ELF in place, so the bytes live as long as the object.
    private let image: UnsafeMutableRawBufferPointer
    private var links: [BPFLink] = []
    private var isLoaded = false

    public init(name: String, bytes: [UInt8]) throws {
        self.name = name
        image = UnsafeMutableRawBufferPointer.allocate(byteCount: bytes.count, alignment: 8)
        image.copyBytes(from: bytes)
        _ = LibbpfLog.drain()
        var options = bpf_object_open_opts()
        options.sz = MemoryLayout<bpf_object_open_opts>.size
        let object = name.withCString { cname -> OpaquePointer? in
            options.object_name = cname
            return bpf_object__open_mem(image.baseAddress, image.count, &options)
        }
        guard let object else {
            let e = errno
            image.deallocate()
            throw BPFError.open(object: name, errno: e, log: LibbpfLog.drain())
        }
        handle = object
    }

    deinit { close() }

    /// Detaches every program and frees the object. Safe to call twice.
    public func close() {
        for link in links.reversed() { link.destroy() }
        links.removeAll()
        if let handle {
            bpf_object__close(handle)
            self.handle = nil
            image.deallocate()
        }
    }

    var pointer: OpaquePointer {
        guard let handle else { preconditionFailure("BPF object \(name) used after close") }
        return handle
    }

    // MARK: before load

    /// Sets a global variable by its name in BTF: a `.rodata` one before load, a `.bss` or `.data`
    /// one before load or while loaded (libbpf maps those sections into our memory, so the write
    /// reaches the running programs). The variable must have exactly `T`'s size.
    public func setVariable<T>(_ variable: VariableSchema<T>, to value: T) throws {
        precondition(!isLoaded || variable.section != .rodata, "\(variable.name) is read-only once \(name) is loaded")
        guard let (destination, size) = variableStorage(variable.name, in: variable.section.rawValue) else {
            throw BPFError.noSuchVariable(variable.name)
        }
        guard size == MemoryLayout<T>.size else {
            throw BPFError.schemaMismatch("\(variable.name) is \(size) bytes in BPF, \(MemoryLayout<T>.size) in Swift")
        }
        withUnsafeBytes(of: value) { bytes in
            destination.copyMemory(from: bytes.baseAddress!, byteCount: bytes.count)
        }
    }

    /// Where a global variable's bytes are in our memory, and its size; nil when the section or
    /// the variable is not in the object (or a loaded `.rodata`, which is read-only).
    private func variableStorage(_ variable: String, in sectionName: String) -> (UnsafeMutableRawPointer, Int)? {
        guard let info = variableInfo(variable, in: sectionName),
              let map = bpf_object__find_map_by_name(pointer, sectionName) else { return nil }
        var size = 0
        guard let data = bpf_map__initial_value(map, &size), info.offset + info.size <= size else { return nil }
        return (UnsafeMutableRawPointer(mutating: data).advanced(by: info.offset), info.size)
    }

    /// A variable's offset and size in its data section, from the object's BTF.
    private func variableInfo(_ variable: String, in sectionName: String) -> (offset: Int, size: Int)? {
        guard let btf = bpf_object__btf(pointer) else { return nil }
        let section = btf__find_by_name_kind(btf, sectionName, btfKindDatasec)
        guard section > 0, let sectionType = btf__type_by_id(btf, UInt32(section)) else { return nil }
        // A DATASEC type is followed by vlen btf_var_secinfo records, one per variable.
        let count = Int(sectionType.pointee.info & 0xffff)
        let infos = UnsafeRawPointer(sectionType).advanced(by: MemoryLayout<btf_type>.size)
            .assumingMemoryBound(to: btf_var_secinfo.self)
        for i in 0..<count {
            let info = infos[i]
            guard let varType = btf__type_by_id(btf, info.type) else { continue }
            let nameOffset: UInt32 = varType.pointee.name_off
            if let varName = btf__name_by_offset(btf, nameOffset), String(cString: varName) == variable {
                return (Int(info.offset), Int(info.size))
            }
        }
        return nil
    }

    /// What in `schema` this object does not have, or has with other sizes: one line each.
    /// Needs no privilege (the object need not be loaded).
    public func mismatches(with schema: ObjectSchema) -> [String] {
        var problems: [String] = []
        for expected in schema.maps {
            guard let m = bpf_object__find_map_by_name(pointer, expected.name) else {
                problems.append("no map \(expected.name)")
                continue
            }
            let keySize = Int(bpf_map__key_size(m)), valueSize = Int(bpf_map__value_size(m))
            if let size = expected.keySize, size != keySize {
                problems.append("map \(expected.name): key is \(keySize) bytes, Swift uses \(size)")
            }
            if let size = expected.valueSize, size != valueSize {
                problems.append("map \(expected.name): value is \(valueSize) bytes, Swift uses \(size)")
            }
        }
        for program in schema.programs where bpf_object__find_program_by_name(pointer, program) == nil {
            problems.append("no program \(program)")
        }
        for variable in schema.variables {
            guard let info = variableInfo(variable.name, in: variable.section) else {
                problems.append("no variable \(variable.name) in \(variable.section)")
                continue
            }
            if info.size != variable.size {
                problems.append("variable \(variable.name): \(info.size) bytes, Swift uses \(variable.size)")
            }
        }
        return problems
    }

    /// Changes a map's size before load (ring buffer bytes, hash entries, one slot per CPU).
    public func setMaxEntries(map: String, _ entries: UInt32) throws {
        guard let m = bpf_object__find_map_by_name(pointer, map) else { throw BPFError.noSuchMap(map) }
        let rc = bpf_map__set_max_entries(m, entries)
        if rc < 0 { throw BPFError.map(name: map, operation: "set max entries to \(entries)", errno: -rc) }
    }

    public func setMaxEntries(_ map: OpaqueMapSchema, _ entries: UInt32) throws {
        try setMaxEntries(map: map.name, entries)
    }

    public func setMaxEntries<K, V>(_ map: MapSchema<K, V>, _ entries: UInt32) throws {
        try setMaxEntries(map: map.name, entries)
    }

    /// Keeps a program out of the load, for programs a mode does not need.
    public func setAutoload(_ program: ProgramSchema, _ autoload: Bool) throws {
        try setAutoload(program: program.name, autoload)
    }

    /// Keeps a program out of the load, for programs a mode does not need.
    public func setAutoload(program: String, _ autoload: Bool) throws {
        let prog = try programPointer(program)
        bpf_program__set_autoload(prog, autoload)
    }

    public var programNames: [String] {
        var names: [String] = []
        var prog = bpf_object__next_program(pointer, nil)
        while let p = prog {
            names.append(String(cString: bpf_program__name(p)))
            prog = bpf_object__next_program(pointer, p)
        }
        return names
    }

    // MARK: load and attach

    /// Loads every autoloaded program and creates the maps. A refusal names the program,
    /// the errno and carries the verifier log.
    public func load() throws {
        if access("/sys/kernel/btf/vmlinux", R_OK) != 0 { throw BPFError.btfMissing }
        _ = LibbpfLog.drain()
        let rc = bpf_object__load(pointer)
        guard rc < 0 else {
            isLoaded = true
            return
        }
        let log = LibbpfLog.drain()
        throw BPFError.load(object: name, program: failingProgram(in: log), errno: -rc, log: log)
    }

    /// Attaches a loaded program where its section says: `tp/CATEGORY/NAME`,
    /// `raw_tp/NAME`, `tp_btf/NAME` (or any other kind libbpf knows).
    @discardableResult
    public func attach(_ program: ProgramSchema) throws -> BPFLink {
        try attach(program: program.name)
    }

    @discardableResult
    public func attach(program: String) throws -> BPFLink {
        let prog = try programPointer(program)
        let section = String(cString: bpf_program__section_name(prog))
        let parts = section.split(separator: "/", maxSplits: 2).map(String.init)
        let link: OpaquePointer?
        let target: String
        switch parts.first {
        case "tp", "tracepoint":
            guard parts.count == 3 else { throw BPFError.attach(program: program, target: section, errno: EINVAL) }
            target = "tracepoint \(parts[1])/\(parts[2])"
            if !TraceFS.hasTracepoint(category: parts[1], name: parts[2]) {
                throw BPFError.tracepointMissing(program: program, tracepoint: "\(parts[1])/\(parts[2])")
            }
            link = bpf_program__attach_tracepoint(prog, parts[1], parts[2])
        case "raw_tp", "raw_tracepoint":
            target = "raw tracepoint \(parts.dropFirst().joined(separator: "/"))"
            link = bpf_program__attach_raw_tracepoint(prog, parts.dropFirst().joined(separator: "/"))
        case "tp_btf":
            target = "BTF tracepoint \(parts.dropFirst().joined(separator: "/"))"
            link = bpf_program__attach_trace(prog)
        default:
            target = section
            link = bpf_program__attach(prog)
        }
        guard let link else {
            let e = errno
            _ = LibbpfLog.drain()
            throw BPFError.attach(program: program, target: target, errno: e)
        }
        let wrapped = BPFLink(handle: link, program: program)
        links.append(wrapped)
        return wrapped
    }

    /// Attaches every program that was loaded.
    public func attachAll() throws {
        var prog = bpf_object__next_program(pointer, nil)
        while let p = prog {
            if bpf_program__autoload(p) {
                try attach(program: String(cString: bpf_program__name(p)))
            }
            prog = bpf_object__next_program(pointer, p)
        }
    }

    /// A map through its schema: the key and value sizes are checked here, once.
    public func map<K, V>(_ schema: MapSchema<K, V>) throws -> TypedMap<K, V> {
        let raw = try map(schema.name)
        guard raw.keySize == schema.keySize, raw.valueSize == schema.valueSize else {
            throw BPFError.schemaMismatch("map \(schema.name) has \(raw.keySize)-byte keys and \(raw.valueSize)-byte values; Swift uses \(schema.keySize) and \(schema.valueSize)")
        }
        return TypedMap(map: raw)
    }

    public func map(_ opaque: OpaqueMapSchema) throws -> BPFMap {
        try map(opaque.name)
    }

    public func map(_ name: String) throws -> BPFMap {
        guard let m = bpf_object__find_map_by_name(pointer, name) else { throw BPFError.noSuchMap(name) }
        return BPFMap(handle: m, name: name, owner: self)
    }

    /// Ids of the loaded programs, for tests that check nothing stays behind after `close()`.
    public var programIDs: [UInt32] {
        var ids: [UInt32] = []
        var prog = bpf_object__next_program(pointer, nil)
        while let p = prog {
            let fd = bpf_program__fd(p)
            if fd >= 0 {
                var info = bpf_prog_info()
                var length = UInt32(MemoryLayout<bpf_prog_info>.size)
                if bpf_obj_get_info_by_fd(fd, &info, &length) == 0 { ids.append(info.id) }
            }
            prog = bpf_object__next_program(pointer, p)
        }
        return ids
    }

    private func programPointer(_ name: String) throws -> OpaquePointer {
        guard let prog = bpf_object__find_program_by_name(pointer, name) else { throw BPFError.noSuchProgram(name) }
        return prog
    }

    /// libbpf names the refused program in its log as "prog 'NAME': ... failed to load".
    private func failingProgram(in log: String) -> String? {
        for line in log.split(separator: "\n") where line.contains("failed to load") {
            let quoted = line.split(separator: "'", omittingEmptySubsequences: false)
            if line.hasPrefix("libbpf: prog '"), quoted.count >= 3 { return String(quoted[1]) }
        }
        return nil
    }
}

/// An attached program. Destroyed by its object's `close()`, or earlier by `destroy()`.
public final class BPFLink {
    private var handle: OpaquePointer?
    public let program: String

    init(handle: OpaquePointer, program: String) {
        self.handle = handle
        self.program = program
    }

    public func destroy() {
        if let handle {
            bpf_link__destroy(handle)
            self.handle = nil
        }
    }

    /// The kernel's id for the link, for tests that check it is gone after close.
    public var id: UInt32? {
        guard let handle else { return nil }
        let fd = bpf_link__fd(handle)
        guard fd >= 0 else { return nil }
        var info = bpf_link_info()
        var length = UInt32(MemoryLayout<bpf_link_info>.size)
        return bpf_obj_get_info_by_fd(fd, &info, &length) == 0 ? info.id : nil
    }
}

/// BTF_KIND_DATASEC from linux/btf.h; the name is imported twice (uapi and libbpf) and so ambiguous in Swift.
private let btfKindDatasec: UInt32 = 15

/// Kernel-wide views used to prove that closing leaves nothing behind.
public enum BPFKernelObjects {
    /// True while a program with this id is loaded anywhere in the kernel.
    public static func programExists(id: UInt32) -> Bool {
        let fd = bpf_prog_get_fd_by_id(id)
        if fd >= 0 {
            Glibc.close(fd)
            return true
        }
        return errno != ENOENT
    }
}
