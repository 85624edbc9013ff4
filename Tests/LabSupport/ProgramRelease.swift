import BPF
import Glibc

/// The programs of `ids` the kernel still holds after waiting up to `seconds`.
/// A closed program is freed after an RCU grace period, later still on a loaded machine,
/// so a test that checks the tracer let go waits for the kernel instead of reading at once.
public func programsStillLoaded(_ ids: [UInt32], within seconds: Double = 5) -> [UInt32] {
    var left = ids
    let steps = Int(seconds / 0.02)
    for _ in 0..<steps where !left.isEmpty {
        left = left.filter { BPFKernelObjects.programExists(id: $0) }
        if !left.isEmpty { usleep(20_000) }
    }
    return left
}
