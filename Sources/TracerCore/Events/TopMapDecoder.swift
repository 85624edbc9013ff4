import TracerABI

/// Reads the top probe's map entries (bpf/include/tracer/top_counts.h): the only code that
/// knows their byte layout.
enum TopMapDecoder {
    /// The kernel's key for a group (comms zero-padded, as the kernel writes them): for lookups and deletes.
    static func key(_ group: TopGroup) -> tracer_top_key {
        var key = tracer_top_key()
        key.cgroup_id = group.cgroupID
        key.cgroup_v1_id = group.cgroupV1ID
        withUnsafeMutableBytes(of: &key.parent_comm) { $0.copyBytes(from: group.parentComm.prefix($0.count - 1)) }
        withUnsafeMutableBytes(of: &key.comm) { $0.copyBytes(from: group.comm.prefix($0.count - 1)) }
        return key
    }

    static func group(_ key: tracer_top_key) -> TopGroup {
        var raw = key
        return TopGroup(cgroupID: raw.cgroup_id, cgroupV1ID: raw.cgroup_v1_id,
                        parentComm: ProcessEventDecoder.cString(&raw.parent_comm), comm: ProcessEventDecoder.cString(&raw.comm))
    }

    /// The sum of every CPU's copy of a group's counts, with the largest lifetime any CPU saw in `interval`.
    static func counts(_ copies: [tracer_top_counts], interval: UInt64) -> TopCounts {
        var total = TopCounts()
        for copy in copies { add(copy, interval: interval, to: &total) }
        return total
    }

    /// The sum over CPUs of the counters of the groups the map had no room for, with the wait
    /// statuses of their failed exits. Cumulative, like the groups' counts.
    static func other(_ copies: [tracer_top_other], interval: UInt64) -> (counts: TopCounts, failedExitStatuses: [UInt32: UInt64]) {
        var total = TopCounts()
        var slots = [UInt64](repeating: 0, count: Int(TRACER_TOP_STATUS_SLOTS))
        for var copy in copies {
            add(copy.counts, interval: interval, to: &total)
            withUnsafeBytes(of: &copy.failed_exit_statuses) { histogram in
                for (slot, count) in histogram.bindMemory(to: UInt64.self).enumerated() where slot < slots.count {
                    slots[slot] &+= count
                }
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

    static func detail(_ raw: tracer_top_detail) -> TopGroupDetail {
        var d = raw
        let length = min(Int(d.args_len), Int(TRACER_TOP_ARGS_LEN))
        let argBytes = withUnsafeBytes(of: &d.args) { Array($0.prefix(length)) }
        var args = argBytes.split(separator: 0, omittingEmptySubsequences: false).map(Array.init)
        // Every complete argument ends with NUL, leaving one empty piece after the last.
        if args.last?.isEmpty == true { args.removeLast() }
        return TopGroupDetail(keys: ProcessEventDecoder.keys(&d.keys), args: args,
                              argsTruncated: d.flags & UInt32(TRACER_EXEC_ARGS_TRUNCATED.rawValue) != 0)
    }

    static func exitKey(_ raw: tracer_top_exit_key) -> (group: TopGroup, status: UInt32) {
        (group(raw.group), raw.status)
    }
}
