import CLibBPF
import Glibc

/// A map of a loaded object: lookups, updates and iteration by raw bytes, with typed helpers.
public struct BPFMap {
    let handle: OpaquePointer
    public let name: String
    /// Keeps the object (and so the map's descriptor) alive while the map is used.
    let owner: BPFObject

    public var keySize: Int { Int(bpf_map__key_size(handle)) }
    public var valueSize: Int { Int(bpf_map__value_size(handle)) }
    var fd: Int32 { bpf_map__fd(handle) }

    private var isPerCPU: Bool {
        switch bpf_map__type(handle) {
        case BPF_MAP_TYPE_PERCPU_ARRAY, BPF_MAP_TYPE_PERCPU_HASH, BPF_MAP_TYPE_LRU_PERCPU_HASH:
            return true
        default:
            return false
        }
    }

    /// The value bytes (for per-CPU maps, every CPU's value, each padded to 8 bytes).
    public func lookup(key: [UInt8]) throws -> [UInt8]? {
        precondition(key.count == keySize, "key of \(name) is \(keySize) bytes")
        let count = isPerCPU ? Int(libbpf_num_possible_cpus()) * ((valueSize + 7) & ~7) : valueSize
        var value = [UInt8](repeating: 0, count: count)
        let rc = bpf_map_lookup_elem(fd, key, &value)
        if rc == 0 { return value }
        if errno == ENOENT { return nil }
        throw BPFError.map(name: name, operation: "lookup", errno: errno)
    }

    public func update(key: [UInt8], value: [UInt8]) throws {
        let rc = bpf_map_update_elem(fd, key, value, UInt64(BPF_ANY))
        if rc != 0 { throw BPFError.map(name: name, operation: "update", errno: errno) }
    }

    public func delete(key: [UInt8]) throws {
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

    /// The sum over CPUs of a per-CPU counter (or the value of a plain one), read as `T`.
    public func sum<T: FixedWidthInteger>(key: [UInt8], as: T.Type = UInt64.self) throws -> T {
        guard let bytes = try lookup(key: key) else { return 0 }
        let stride = isPerCPU ? (valueSize + 7) & ~7 : valueSize
        var total: T = 0
        bytes.withUnsafeBytes { raw in
            var offset = 0
            while offset + MemoryLayout<T>.size <= raw.count {
                total &+= raw.loadUnaligned(fromByteOffset: offset, as: T.self)
                offset += stride
            }
        }
        return total
    }
}

extension FixedWidthInteger {
    /// The integer's bytes in host order, as a map key or value.
    public var bpfBytes: [UInt8] { withUnsafeBytes(of: self) { Array($0) } }
}
