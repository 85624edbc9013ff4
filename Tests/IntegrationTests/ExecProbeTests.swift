import Foundation
import Glibc
import LabSupport
import Testing
import BPF
import TracerCore

/// The exec probe on the real kernel: each test starts real processes and checks the exact fields.
@Suite(.requires(Privilege.canTrace, Privilege.reason))
struct ExecProbeTests {
    func probe(_ configure: (inout ExecProbeOptions) -> Void = { _ in }) throws -> ExecProbe {
        var options = ExecProbeOptions()
        options.ppid = UInt32(getpid())
        configure(&options)
        return try ExecProbe(options: options)
    }

    @Test func argvArrivesExactlyWithAwkwardBytes() throws {
        let probe = try probe()
        defer { probe.close() }
        let argv: [[UInt8]] = [Array("/bin/echo".utf8), Array("with space".utf8), Array("line\nbreak".utf8), [],
                               [0xFF, 0xFE, 0x41], Array("tab\tand\u{1B}[31m".utf8)]
        let child = try ChildProcess.spawn(argv)
        child.wait()
        let events = try waitForEvents(probe) { !$0.execs(pid: child.pid).isEmpty }
        let exec = try #require(events.execs(pid: child.pid).first)
        #expect(exec.args == argv)
        #expect(exec.argsTruncated == false)
        #expect(exec.filename == Array("/bin/echo".utf8))
        #expect(exec.comm == Array("echo".utf8))
        #expect(exec.ppid == UInt32(getpid()))
        #expect(exec.tid == exec.pid)
        #expect(exec.ret == 0)
        #expect(exec.uid == getuid())
        var st = stat()
        stat("/proc/self/ns/mnt", &st)
        #expect(UInt64(exec.keys.mountNamespace) == UInt64(st.st_ino))
        stat("/proc/self/ns/net", &st)
        #expect(UInt64(exec.keys.networkNamespace) == UInt64(st.st_ino))
        stat("/proc/self/ns/pid", &st)
        #expect(UInt64(exec.keys.pidNamespace) == UInt64(st.st_ino))
        #expect(exec.keys.pidInNamespace == exec.pid)
        #expect(exec.keys.cgroupID != 0)
    }

    @Test func thousandsOfArgumentsFitTheLargeBufferAndTruncationIsMarked() throws {
        let argv = ["/bin/true"] + (0..<3000).map { "arg-\($0)" }
        let large = try probe { $0.argsSize = ExecProbeOptions.maxArgsSize }
        defer { large.close() }
        let small = try probe()
        defer { small.close() }
        let child = try ChildProcess.spawn(argv)
        child.wait()

        let full = try #require(try waitForEvents(large) { !$0.execs(pid: child.pid).isEmpty }.execs(pid: child.pid).first)
        #expect(full.args.map { String(decoding: $0, as: UTF8.self) } == argv)
        #expect(!full.argsTruncated)

        let cut = try #require(try waitForEvents(small) { !$0.execs(pid: child.pid).isEmpty }.execs(pid: child.pid).first)
        #expect(cut.argsTruncated)
        let bytes = cut.args.reduce(0) { $0 + $1.count + 1 }
        #expect(bytes <= 4096 + 1)
        #expect(cut.args.count > 100)
        #expect(Array(cut.args.dropLast().map { String(decoding: $0, as: UTF8.self) }) == Array(argv.prefix(cut.args.count - 1)))
    }

    @Test func failedExecsReportErrno() throws {
        let probe = try probe()
        defer { probe.close() }
        let missing = "/nonexistent-\(getpid())/program"
        let notExecutable = FileManager.default.temporaryDirectory.appendingPathComponent("tracer-noexec-\(getpid())").path
        FileManager.default.createFile(atPath: notExecutable, contents: Data("#!/bin/sh\n".utf8), attributes: [.posixPermissions: 0o644])
        defer { unlink(notExecutable) }
        #expect(throws: (any Error).self) { try ChildProcess.spawn([missing, "first-arg"]) }
        #expect(throws: (any Error).self) { try ChildProcess.spawn([notExecutable, "second-arg"]) }

        func failed(_ path: String) -> ([ProcessEvent]) -> ExecEvent? {
            { events in
                events.lazy.compactMap { if case .exec(let e) = $0, e.failed, e.filename == Array(path.utf8) { return e } else { return nil } }.first
            }
        }
        let events = try waitForEvents(probe) { failed(missing)($0) != nil && failed(notExecutable)($0) != nil }
        let enoent = try #require(failed(missing)(events))
        #expect(enoent.ret == -ENOENT)
        #expect(enoent.args == [Array(missing.utf8), Array("first-arg".utf8)])
        #expect(!enoent.viaExecveat)
        let eacces = try #require(failed(notExecutable)(events))
        #expect(eacces.ret == -EACCES)
    }

    @Test func execveatIsTracedBothWays() throws {
        let helper = try TestPrograms.path("execveat")
        let probe = try probe()
        defer { probe.close() }
        let child = try ChildProcess.spawn([helper, "/bin/echo", "echo", "via-execveat"])
        child.wait()
        let events = try waitForEvents(probe) { $0.execs(pid: child.pid).count >= 2 }
        let exec = try #require(events.execs(pid: child.pid).first { $0.comm == Array("echo".utf8) })
        #expect(exec.args == [Array("echo".utf8), Array("via-execveat".utf8)])
        #expect(exec.ret == 0)

        // A failing execveat (the target is not executable) is reported with its errno and marked.
        let plain = FileManager.default.temporaryDirectory.appendingPathComponent("tracer-plain-\(getpid())").path
        FileManager.default.createFile(atPath: plain, contents: Data("data\n".utf8), attributes: [.posixPermissions: 0o644])
        defer { unlink(plain) }
        let failing = try ChildProcess.spawn([helper, plain, "hostname", "x"])
        failing.wait()
        let more = try waitForEvents(probe) { $0.execs(pid: failing.pid).contains { $0.failed } }
        let failed = try #require(more.execs(pid: failing.pid).first { $0.failed })
        #expect(failed.viaExecveat)
        #expect(failed.ret == -EACCES)
        #expect(failed.args == [Array("hostname".utf8), Array("x".utf8)])
    }

    @Test func execFromANonLeaderThread() throws {
        let helper = try TestPrograms.path("thread_exec")
        let probe = try probe()
        defer { probe.close() }
        let child = try ChildProcess.spawn([helper, "/bin/echo", "echo", "from-thread"])
        child.wait()
        let events = try waitForEvents(probe) { $0.execs(pid: child.pid).contains { $0.comm == Array("echo".utf8) } }
        let exec = try #require(events.execs(pid: child.pid).first { $0.comm == Array("echo".utf8) })
        #expect(exec.args == [Array("echo".utf8), Array("from-thread".utf8)])
        #expect(exec.tid != exec.pid, "the exec'ing thread keeps its own id in the record")
    }

    @Test func shebangScriptShowsScriptAndInterpreter() throws {
        let script = FileManager.default.temporaryDirectory.appendingPathComponent("tracer-script-\(getpid()).sh").path
        try Executables.write("#!/bin/sh\nexit 0\n", to: script)
        defer { unlink(script) }
        let probe = try probe()
        defer { probe.close() }
        let child = try ChildProcess.spawn([script, "script-arg"])
        child.wait()
        let exec = try #require(try waitForEvents(probe) { !$0.execs(pid: child.pid).isEmpty }.execs(pid: child.pid).first)
        #expect(exec.filename == Array(script.utf8))
        #expect(exec.args == [Array("/bin/sh".utf8), Array(script.utf8), Array("script-arg".utf8)])
    }

    @Test func exitsCarryCodeSignalLifetimeAndCPU() throws {
        let busy = try TestPrograms.path("busy")
        let probe = try probe { $0.reportExits = true }
        defer { probe.close() }

        let code = try ChildProcess.spawn(["/bin/sh", "-c", "exit 7"])
        let killed = try ChildProcess.spawn(["/bin/sh", "-c", "kill -TERM $$"])
        let sleeperSpawned = DispatchTime.now().uptimeNanoseconds
        let sleeper = try ChildProcess.spawn(["/bin/sleep", "0.2"])
        let burner = try ChildProcess.spawn([busy, "300"])
        code.wait()
        killed.wait()
        sleeper.wait()
        let sleeperWall = DispatchTime.now().uptimeNanoseconds - sleeperSpawned
        let kernelCPU = burner.wait().cpuNanoseconds

        let events = try waitForEvents(probe) { e in [code, killed, sleeper, burner].allSatisfy { !e.exits(pid: $0.pid).isEmpty } }
        let codeExit = try #require(events.exits(pid: code.pid).first)
        #expect(codeExit.exitCode == 7)
        #expect(codeExit.signal == nil)

        let killedExit = try #require(events.exits(pid: killed.pid).first)
        #expect(killedExit.signal == SIGTERM)
        #expect(killedExit.exitCode == nil)
        #expect(!killedExit.coreDumped)

        let sleepExit = try #require(events.exits(pid: sleeper.pid).first)
        // Between the 200 ms it sleeps and what we saw from outside: a loaded CI machine may stretch it.
        #expect(sleepExit.lifetimeNanoseconds >= 200_000_000, "sleep 0.2 lived \(sleepExit.lifetimeNanoseconds) ns")
        #expect(sleepExit.lifetimeNanoseconds <= sleeperWall, "lived \(sleepExit.lifetimeNanoseconds) ns, seen \(sleeperWall) ns")
        #expect(sleepExit.maxRSSKilobytes > 0)

        let busyExit = try #require(events.exits(pid: burner.pid).first)
        let ratio = Double(busyExit.cpuNanoseconds) / Double(kernelCPU)
        #expect(abs(ratio - 1) <= 0.10, "CPU \(busyExit.cpuNanoseconds) ns vs kernel's rusage \(kernelCPU) ns")
        #expect(busyExit.userNanoseconds > busyExit.systemNanoseconds)
        #expect(busyExit.userNanoseconds + busyExit.systemNanoseconds == busyExit.cpuNanoseconds)
    }

    @Test func closingLeavesNoProgramBehind() throws {
        let probe = try probe { $0.reportExits = true }
        let ids = probe.programIDs
        #expect(ids.count == 6)
        #expect(ids.allSatisfy { BPFKernelObjects.programExists(id: $0) })
        probe.close()
        let left = programsStillLoaded(ids)
        #expect(left.isEmpty, "programs still loaded: \(left)")
    }
}
