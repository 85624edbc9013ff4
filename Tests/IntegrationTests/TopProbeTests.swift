import Foundation
import Glibc
import LabSupport
import Testing
import BPF
import TracerCore

/// The top probe on the real kernel: known numbers of real execs, failed execs and exits,
/// counted exactly, and the CPU of a busy child against the kernel's rusage.
@Suite(.requires(Privilege.canTrace, Privilege.reason))
struct TopProbeTests {
    /// This process's command, which the kernel names as the parent of every child we spawn.
    let ourComm = Array((try! String(contentsOfFile: "/proc/self/comm", encoding: .utf8)).dropLast().utf8)

    /// A copy of a system program under a name no other process on the host uses.
    func program(_ system: String, named prefix: String) throws -> (path: String, comm: [UInt8]) {
        let name = "\(prefix)\(getpid())"
        let path = FileManager.default.temporaryDirectory.appendingPathComponent(name).path
        try? FileManager.default.removeItem(atPath: path)
        try Executables.copy(system, to: path)
        return (path, Array(name.utf8.prefix(15)))
    }

    /// A child is counted at its final context switch, which may follow its parent's wait by microseconds.
    func settle() { usleep(20_000) }

    func find(_ interval: TopInterval, comm: [UInt8]) -> (TopGroup, TopCounts)? {
        interval.counts.first { $0.key.comm == comm }.map { ($0.key, $0.value) }
    }

    @Test func execsFailedExecsAndExitsAreCountedExactly() throws {
        let probe = try TopProbe()
        defer { probe.close() }
        let truth = try program("/bin/true", named: "toptrue")
        let falsity = try program("/bin/false", named: "topfalse")
        defer { unlink(truth.path); unlink(falsity.path) }
        let missing = "/nonexistent-\(getpid())/topmiss\(getpid())"

        for _ in 0..<200 { #expect(try ChildProcess.spawn([truth.path, "first arg"]).wait().status == 0) }
        for _ in 0..<50 { #expect(throws: (any Error).self) { try ChildProcess.spawn([missing]) } }
        for _ in 0..<7 { #expect(try ChildProcess.spawn([falsity.path]).wait().status == 1 << 8) }
        settle()
        let interval = try probe.read()

        let (trueGroup, trueCounts) = try #require(find(interval, comm: truth.comm))
        #expect(trueGroup.parentComm == ourComm)
        #expect(trueCounts.execs == 200)
        #expect(trueCounts.exits == 200)
        #expect(trueCounts.failedExecs == 0)
        #expect(trueCounts.failedExits == 0)
        #expect(trueCounts.maxLifetimeNanoseconds > 0)
        #expect(trueCounts.maxLifetimeNanoseconds >= trueCounts.averageLifetimeNanoseconds)
        #expect(interval.failedExitStatuses[trueGroup] == nil)
        let detail = try #require(interval.details[trueGroup])
        #expect(detail.args == [Array(truth.path.utf8), Array("first arg".utf8)])
        #expect(detail.keys.cgroupID == trueGroup.cgroupID)
        var st = stat()
        stat("/proc/self/ns/mnt", &st)
        #expect(UInt64(detail.keys.mountNamespace) == UInt64(st.st_ino))

        let (missGroup, missCounts) = try #require(find(interval, comm: Array("topmiss\(getpid())".utf8.prefix(15))))
        #expect(missCounts.failedExecs == 50)
        #expect(missCounts.execs == 0)
        #expect(missGroup.parentComm == ourComm)
        #expect(interval.details[missGroup]?.args == [Array(missing.utf8)])

        let (falseGroup, falseCounts) = try #require(find(interval, comm: falsity.comm))
        #expect(falseCounts.exits == 7)
        #expect(falseCounts.failedExits == 7)
        #expect(interval.failedExitStatuses[falseGroup] == [1 << 8: 7])
        #expect(interval.lost == TopLosses())

        // Nothing new happened to these groups: the next interval does not list them.
        let next = try probe.read()
        #expect(find(next, comm: truth.comm) == nil)
        #expect(find(next, comm: falsity.comm) == nil)
        #expect(next.start == interval.end)
    }

    @Test func cpuAndLifetimeOfABusyChildMatchTheKernel() throws {
        let busy = try TestPrograms.path("busy")
        let probe = try TopProbe()
        defer { probe.close() }
        let started = BootClock.now
        let child = try ChildProcess.spawn([busy, "300"])
        let (status, kernelCPU) = child.wait()
        let wall = BootClock.now - started
        #expect(status == 0)
        settle()
        let interval = try probe.read()
        let comm = Array(URL(fileURLWithPath: busy).lastPathComponent.utf8.prefix(15))
        let (_, counts) = try #require(find(interval, comm: comm))
        #expect(counts.exits == 1)
        let ratio = Double(counts.cpuNanoseconds) / Double(kernelCPU)
        #expect(abs(ratio - 1) <= 0.10, "CPU \(counts.cpuNanoseconds) ns vs rusage \(kernelCPU) ns")
        #expect(counts.lifetimeNanoseconds >= counts.cpuNanoseconds * 9 / 10)
        #expect(counts.lifetimeNanoseconds <= wall)
        #expect(counts.maxLifetimeNanoseconds == counts.lifetimeNanoseconds)
    }

    /// Processes that live a few ticks and never read their own CPU clock (which would bring the
    /// scheduler's books up to date): their CPU must include the slice still running at exit.
    @Test func cpuOfManyShortChildrenMatchesTheirRusage() throws {
        let hasher = try program("/usr/bin/sha256sum", named: "topsha")
        defer { unlink(hasher.path) }
        let probe = try TopProbe()
        defer { probe.close() }
        var kernelCPU: UInt64 = 0
        for _ in 0..<40 { kernelCPU += try ChildProcess.spawn([hasher.path, "/bin/bash"]).wait().cpuNanoseconds }
        settle()
        let interval = try probe.read()
        let (_, counts) = try #require(find(interval, comm: hasher.comm))
        #expect(counts.exits == 40)
        let ratio = Double(counts.cpuNanoseconds) / Double(kernelCPU)
        #expect(abs(ratio - 1) <= 0.10, "CPU \(counts.cpuNanoseconds) ns vs rusage \(kernelCPU) ns over 40 children")
    }

    @Test func aSignalIsAFailedExitWithItsNumber() throws {
        let sleeper = try program("/bin/sleep", named: "topsleep")
        defer { unlink(sleeper.path) }
        let probe = try TopProbe()
        defer { probe.close() }
        let child = try ChildProcess.spawn([sleeper.path, "30"])
        usleep(100_000)
        kill(child.pid, SIGKILL)
        child.wait()
        settle()
        let interval = try probe.read()
        let (group, counts) = try #require(find(interval, comm: sleeper.comm))
        #expect(counts.exits == 1)
        #expect(counts.failedExits == 1)
        #expect(interval.failedExitStatuses[group] == [UInt32(SIGKILL): 1])
        #expect(counts.maxLifetimeNanoseconds >= 100_000_000)
    }

    /// A failed exec whose file name cannot be read has no command, so no group: it is still one
    /// of the host's failed execs, counted in (other), the counters of what has no group.
    @Test func aFailedExecWithoutAReadableFileNameIsCountedInOther() throws {
        let probe = try TopProbe()
        defer { probe.close() }
        _ = try probe.read()
        let unreadable = UnsafePointer<CChar>(bitPattern: 1)!
        let noArguments: [UnsafeMutablePointer<CChar>?] = [nil]
        for _ in 0..<25 {
            // glibc's execve passes the pointer straight to the kernel, which cannot read it.
            #expect(execve(unreadable, noArguments, noArguments) == -1 && errno == EFAULT)
        }
        let interval = try probe.read()
        #expect(interval.other.failedExecs == 25)
        #expect(interval.other.execs == 0, "the group map is far from full: every exec has its group")
        #expect(interval.otherFailedExitStatuses.isEmpty)
    }

    @Test func idleGroupsAreEvictedWhenTheMapsFillAndComeBackFromZero() throws {
        // Any group at all is "too many", and idle after 150 ms.
        let probe = try TopProbe(eviction: .init(above: 0, idleNanoseconds: 150_000_000))
        defer { probe.close() }
        let falsity = try program("/bin/false", named: "topevict")
        defer { unlink(falsity.path) }
        for _ in 0..<3 { _ = try ChildProcess.spawn([falsity.path]).wait() }
        settle()
        let first = try probe.read()
        let (group, counts) = try #require(find(first, comm: falsity.comm))
        #expect(counts.execs == 3 && counts.failedExits == 3)
        #expect(first.failedExitStatuses[group] == [256: 3])

        usleep(300_000)
        _ = try probe.read() // the group has been idle long enough: gone from the kernel's maps
        // Had the kernel kept its counters, this read would see all 3 again as new.
        let afterEviction = try probe.read()
        #expect(find(afterEviction, comm: falsity.comm) == nil)

        // It runs again: counted from zero, exactly, with its exit statuses and argv.
        for _ in 0..<2 { _ = try ChildProcess.spawn([falsity.path]).wait() }
        settle()
        let again = try probe.read()
        let (_, recount) = try #require(find(again, comm: falsity.comm))
        #expect(recount.execs == 2 && recount.exits == 2 && recount.failedExits == 2)
        #expect(again.failedExitStatuses[group] == [256: 2])
        #expect(again.details[group]?.args == [Array(falsity.path.utf8)])
    }

    @Test func closingLeavesNoProgramBehind() throws {
        let probe = try TopProbe()
        let ids = probe.programIDs
        #expect(ids.count == 8, "\(ids)")
        #expect(ids.allSatisfy { BPFKernelObjects.programExists(id: $0) })
        probe.close()
        let left = programsStillLoaded(ids)
        #expect(left.isEmpty, "programs still loaded: \(left)")
    }
}
