import Glibc
import Testing
import TracerABI
@testable import TracerCore

/// The top probe's "(other)" counters against bytes laid out by the C header the BPF program uses.
struct TopMapDecoderTests {
    @Test func otherLayoutMatchesTheCHeader() {
        #expect(MemoryLayout<tracer_top_other>.size == 80 + 8 * Int(TRACER_TOP_STATUS_SLOTS))
        #expect(MemoryLayout<tracer_top_other>.offset(of: \tracer_top_other.failed_exit_statuses) == 80)
        #expect(TRACER_TOP_LOSS_KINDS.rawValue == 3)
    }

    /// Every status the kernel can report lands in its own slot, and the decoder reads it back.
    @Test func statusSlotsRoundTrip() {
        var statuses: [UInt32] = (0...255).map { UInt32($0) << 8 }
        statuses += (1...64).flatMap { [UInt32($0), UInt32($0) | 0x80] }
        var slots = Set<UInt32>()
        for status in statuses {
            let slot = tracer_top_status_slot(status)
            #expect(slot < TRACER_TOP_STATUS_SLOTS)
            slots.insert(slot)
            #expect(TopMapDecoder.status(ofSlot: Int(slot)) == status)
        }
        #expect(slots.count == statuses.count)
    }

    /// Two CPUs' copies: counts and statuses add up, and the maximum is that of the closed interval.
    @Test func otherIsSummedOverCPUs() {
        func cpu(execs: UInt64, maxLifetime: UInt64, maxInterval: UInt64, statuses: [UInt32: UInt64]) -> tracer_top_other {
            var raw = tracer_top_other()
            raw.counts.execs = execs
            raw.counts.exits = execs
            raw.counts.failed_exits = statuses.values.reduce(0, +)
            raw.counts.cpu_ns = 1000 * execs
            raw.counts.max_lifetime_ns = (maxLifetime, 0)
            raw.counts.max_interval = (maxInterval, 0)
            withUnsafeMutableBytes(of: &raw.failed_exit_statuses) { slots in
                for (status, count) in statuses {
                    slots.storeBytes(of: count, toByteOffset: 8 * Int(tracer_top_status_slot(status)), as: UInt64.self)
                }
            }
            return raw
        }
        let copies = [cpu(execs: 10, maxLifetime: 7, maxInterval: 4, statuses: [1 << 8: 2, UInt32(SIGKILL): 1]),
                      cpu(execs: 5, maxLifetime: 99, maxInterval: 2, statuses: [1 << 8: 3, UInt32(SIGSEGV) | 0x80: 1])]
        let (counts, statuses) = TopMapDecoder.other(copies, interval: 4)
        #expect(counts.execs == 15 && counts.exits == 15 && counts.failedExits == 7 && counts.cpuNanoseconds == 15_000)
        #expect(counts.maxLifetimeNanoseconds == 7, "99 is an older interval's")
        #expect(statuses == [1 << 8: 5, UInt32(SIGKILL): 1, UInt32(SIGSEGV) | 0x80: 1])
    }
}
