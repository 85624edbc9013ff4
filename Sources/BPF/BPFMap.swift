import CLibBPF
import Glibc

/// A map of a loaded object: lookups, updates and iteration by raw bytes, each checked against
/// the map's key and value sizes. Probes reach maps through `TypedMap` (`BPFObject.map(_:)` with a
/// `MapSchema`), which checks the sizes once.
public struct BPFMap {
    let handle: OpaquePointer
    public let name: String
    /// Keeps the object (and so the map's descriptor) alive while the map is used.
    let owner: BPFObject

    public var keySize: Int { Int(bpf_map__key_size(handle)) }
    public var valueSize: Int { Int(bpf_map__value_size(handle)) }
    var fd: Int32 { bpf_map__fd(handle) }

    public var isPerCPU: Bool {
        switch bpf_map__type(handle) {
        case BPF_MAP_TYPE_PERCPU_ARRAY, BPF_MAP_TYPE_PERCPU_HASH, BPF_MAP_TYPE_LRU_PERCPU_HASH:
            return true
        default:
            return false
        }
    }

    /// The kernel pads each CPU's copy of a per-CPU value to 8 bytes; this is the one place that knows.
    public var perCPUStride: Int { (valueSize + 7) & ~7 }

    /// Bytes a lookup returns: one value, or every possible CPU's copy.
    var lookupSize: Int { isPerCPU ? possibleCPUCount() * perCPUStride : valueSize }

    /// The value bytes (for per-CPU maps, every CPU's value, each `perCPUStride` bytes apart).
    public func lookup(key: [UInt8]) throws -> [UInt8]? {
        precondition(key.count == keySize, "key of \(name) is \(keySize) bytes, not \(key.count)")
        var value = [UInt8](repeating: 0, count: lookupSize)
        let rc = bpf_map_lookup_elem(fd, key, &value)
        if rc == 0 { return value }
        if errno == ENOENT { return nil }
        throw BPFError.map(name: name, operation: "lookup", errno: errno)
    }

    public func update(key: [UInt8], value: [UInt8]) throws {
        precondition(key.count == keySize, "key of \(name) is \(keySize) bytes, not \(key.count)")
        precondition(value.count == lookupSize, "value of \(name) is \(lookupSize) bytes, not \(value.count)")
        let rc = bpf_map_update_elem(fd, key, value, UInt64(BPF_ANY))
        if rc != 0 { throw BPFError.map(name: name, operation: "update", errno: errno) }
    }

    public func delete(key: [UInt8]) throws {
        precondition(key.count == keySize, "key of \(name) is \(keySize) bytes, not \(key.count)")
        let rc = bpf_map_delete_elem(fd, key)
        if rc != 0 && errno != ENOENT { throw BPFError.map(name: name, operation: "delete", errno: errno) }
    }

    /// Every key present now. Entries deleted during the walk may be skipped, as with any map walk.
    public func keys() throws -> [[UInt8]] {
        var result: [[UInt8]] = []
        var next = [UInt8](repeating: 0, count: keySize)
        var rc = bpf_map_get_next_key(fd, nil, &next)
        while rc == 0 {
            result.append(next)
            let current = next
            rc = bpf_map_get_next_key(fd, current, &next)
        }
        if errno != ENOENT { throw BPFError.map(name: name, operation: "iterate", errno: errno) }
        return result
    }

    /// Each CPU's copy in the bytes of a per-CPU lookup (or the one value of a plain map).
    public func copies<T: BitwiseCopyable>(in bytes: [UInt8], as: T.Type) -> [T] {
        let size = MemoryLayout<T>.size
        let stride = isPerCPU ? perCPUStride : valueSize
        var result: [T] = []
        var offset = 0
        bytes.withUnsafeBytes { raw in
            while offset + size <= raw.count {
                result.append(raw.loadUnaligned(fromByteOffset: offset, as: T.self))
                offset += stride
            }
        }
        return result
    }

    /// The sum over CPUs of a per-CPU counter (or the value of a plain one), read as `T`.
    public func sum<T: FixedWidthInteger & BitwiseCopyable>(key: [UInt8], as: T.Type = UInt64.self) throws -> T {
        guard let bytes = try lookup(key: key) else { return 0 }
        return copies(in: bytes, as: T.self).reduce(0, &+)
    }
}

/// A map reached through its `MapSchema`: keys and values are Swift values of the schema's types,
/// whose sizes were checked against the map when it was opened.
public struct TypedMap<Key: BitwiseCopyable, Value: BitwiseCopyable> {
    public let map: BPFMap

    init(map: BPFMap) { self.map = map }

    /// The value of a plain map (for a per-CPU map, use `copies`).
    public func lookup(_ key: Key) throws -> Value? {
        try map.lookup(key: bytes(of: key)).flatMap { map.copies(in: $0, as: Value.self).first }
    }

    /// Every possible CPU's copy of a per-CPU value (one element for a plain map).
    public func copies(_ key: Key) throws -> [Value]? {
        try map.lookup(key: bytes(of: key)).map { map.copies(in: $0, as: Value.self) }
    }

    /// Sets a plain map's value, or every CPU's copy of a per-CPU one to the same value.
    public func update(_ key: Key, _ value: Value) throws {
        var bytes = [UInt8](repeating: 0, count: map.lookupSize)
        let one = self.bytes(of: value)
        var offset = 0
        while offset + one.count <= bytes.count {
            bytes.replaceSubrange(offset..<offset + one.count, with: one)
            offset += map.isPerCPU ? map.perCPUStride : map.valueSize
        }
        try map.update(key: self.bytes(of: key), value: bytes)
    }

    public func delete(_ key: Key) throws {
        try map.delete(key: bytes(of: key))
    }

    public func keys() throws -> [Key] {
        try map.keys().map { $0.withUnsafeBytes { $0.loadUnaligned(as: Key.self) } }
    }

    private func bytes<T>(of value: T) -> [UInt8] { withUnsafeBytes(of: value) { Array($0) } }
}

extension TypedMap where Value: FixedWidthInteger {
    /// The sum over CPUs of a per-CPU counter, or the value of a plain one; 0 when absent.
    public func sum(_ key: Key) throws -> Value {
        try copies(key)?.reduce(0, &+) ?? 0
    }
}

extension FixedWidthInteger {
    /// The integer's bytes in host order, as a map key or value.
    public var bpfBytes: [UInt8] { withUnsafeBytes(of: self) { Array($0) } }
}
