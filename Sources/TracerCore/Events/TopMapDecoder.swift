import TracerABI

/// Reads the top probe's map entries (bpf/include/tracer/top_counts.h): the only code that
/// knows their byte layout.
enum TopMapDecoder {
    static let keySize = MemoryLayout<tracer_top_key>.size
    static let countsSize = MemoryLayout<tracer_top_counts>.size
    static let detailSize = MemoryLayout<tracer_top_detail>.size
    static let exitKeySize = MemoryLayout<tracer_top_exit_key>.size
    static let otherSize = MemoryLayout<tracer_top_other>.size

    static func group(_ bytes: [UInt8]) -> TopGroup {
        precondition(bytes.count == keySize, "top key is \(keySize) bytes")
        var raw = bytes.withUnsafeBytes { $0.loadUnaligned(as: tracer_top_key.self) }
        return group(&raw)
    }

    /// The kernel's key for a group (comms zero-padded, as the kernel writes them): for lookups and deletes.
    static func keyBytes(_ group: TopGroup) -> [UInt8] {
        var key = tracer_top_key()
        key.cgroup_id = group.cgroupID
        key.cgroup_v1_id = group.cgroupV1ID
        withUnsafeMutableBytes(of: &key.parent_comm) { $0.copyBytes(from: group.parentComm.prefix($0.count - 1)) }
        withUnsafeMutableBytes(of: &key.comm) { $0.copyBytes(from: group.comm.prefix($0.count - 1)) }
        return withUnsafeBytes(of: key) { Array($0) }
    }

    static func group(_ raw: inout tracer_top_key) -> TopGroup {
        TopGroup(cgroupID: raw.cgroup_id, cgroupV1ID: raw.cgroup_v1_id,
                 parentComm: ProcessEventDecoder.cString(&raw.parent_comm), comm: ProcessEventDecoder.cString(&raw.comm))
    }

    /// The sum over CPUs of a per-CPU counts value (each CPU's copy padded to 8 bytes), with the
    /// largest lifetime any CPU saw in `interval`.
    static func counts(perCPU bytes: [UInt8], interval: UInt64) -> TopCounts {
        let stride = (countsSize + 7) & ~7
        var total = TopCounts()
        bytes.withUnsafeBytes { raw in
            var offset = 0
            while offset + countsSize <= raw.count {
                add(raw.loadUnaligned(fromByteOffset: offset, as: tracer_top_counts.self), interval: interval, to: &total)
                offset += stride
            }
        }
        return total
    }

    /// The sum over CPUs of the per-CPU counters of the groups the map had no room for, with the
    /// wait statuses of their failed exits. Cumulative, like the groups' counts.
    static func other(perCPU bytes: [UInt8], interval: UInt64) -> (counts: TopCounts, failedExitStatuses: [UInt32: UInt64]) {
        let stride = (otherSize + 7) & ~7
        var total = TopCounts()
        var slots = [UInt64](repeating: 0, count: Int(TRACER_TOP_STATUS_SLOTS))
        bytes.withUnsafeBytes { raw in
            var offset = 0
            while offset + otherSize <= raw.count {
                add(raw.loadUnaligned(fromByteOffset: offset, as: tracer_top_counts.self), interval: interval, to: &total)
                let histogram = offset + countsSize // right after the counts (pinned in top_counts.h)
                for slot in slots.indices {
                    slots[slot] &+= raw.loadUnaligned(fromByteOffset: histogram + 8 * slot, as: UInt64.self)
                }
                offset += stride
            }
        }
        var statuses: [UInt32: UInt64] = [:]
        for (slot, count) in slots.enumerated() where count > 0 { statuses[status(ofSlot: slot)] = count }
        return (total, statuses)
    }

    /// The wait status a histogram slot stands for (the inverse of `tracer_top_status_slot`).
    static func status(ofSlot slot: Int) -> UInt32 {
        slot < 256 ? UInt32(slot) << 8 : UInt32(slot - 256)
    }

    /// Adds one CPU's counters, with its lifetime maximum if it is that of `interval`.
    private static func add(_ c: tracer_top_counts, interval: UInt64, to total: inout TopCounts) {
        total.execs &+= c.execs
        total.failedExecs &+= c.failed_execs
        total.exits &+= c.exits
        total.failedExits &+= c.failed_exits
        total.cpuNanoseconds &+= c.cpu_ns
        total.lifetimeNanoseconds &+= c.lifetime_ns
        let slot = Int(interval & 1)
        let (maxima, intervals) = (c.max_lifetime_ns, c.max_interval)
        let slotMax = slot == 0 ? maxima.0 : maxima.1
        let slotInterval = slot == 0 ? intervals.0 : intervals.1
        if slotInterval == interval { total.maxLifetimeNanoseconds = max(total.maxLifetimeNanoseconds, slotMax) }
    }

    static func detail(_ bytes: [UInt8]) -> TopGroupDetail {
        precondition(bytes.count >= detailSize, "top detail is \(detailSize) bytes")
        return bytes.withUnsafeBytes { raw in
            var d = raw.loadUnaligned(as: tracer_top_detail.self)
            let length = min(Int(d.args_len), Int(TRACER_TOP_ARGS_LEN))
            let argsOffset = detailSize - Int(TRACER_TOP_ARGS_LEN)
            let argBytes = raw[argsOffset..<argsOffset + length]
            var args = argBytes.split(separator: 0, omittingEmptySubsequences: false).map(Array.init)
            // Every complete argument ends with NUL, leaving one empty piece after the last.
            if args.last?.isEmpty == true { args.removeLast() }
            return TopGroupDetail(keys: ProcessEventDecoder.keys(&d.keys), args: args,
                                  argsTruncated: d.flags & UInt32(TRACER_EXEC_ARGS_TRUNCATED.rawValue) != 0)
        }
    }

    static func exitKey(_ bytes: [UInt8]) -> (group: TopGroup, status: UInt32) {
        precondition(bytes.count == exitKeySize, "top exit key is \(exitKeySize) bytes")
        var raw = bytes.withUnsafeBytes { $0.loadUnaligned(as: tracer_top_exit_key.self) }
        return (group(&raw.group), raw.status)
    }
}
