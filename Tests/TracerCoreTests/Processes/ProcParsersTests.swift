import Testing
@testable import TracerCore

/// The /proc parsers, fed the bytes the kernel writes (and what a hostile process can put in them).
struct ProcParsersTests {
    @Test func statCountsFieldsFromTheLastParenthesis() throws {
        // A command name may hold spaces and parentheses: `) 1 2 (` must not shift the fields.
        let text = "4242 (evil) 1 2 (x) S 17 4242 4242 0 -1 4194560 90 0 0 0 0 0 0 0 20 0 1 0 123456 2318336 219 18446744073709551615 1 1 0 0 0 0 0 0 0 0 0 0 17 1 0 0 0 0 0\n"
        let stat = try #require(ProcStat.parse(text))
        #expect(stat.pid == 4242)
        #expect(stat.comm == "evil) 1 2 (x")
        #expect(stat.state == "S")
        #expect(stat.ppid == 17)
        #expect(stat.startTicks == 123456)
    }

    @Test(arguments: ["", "4242 comm S 1", "4242 (short) S 1 2 3", "x (comm) S 1 1 1 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0 5 0 0"])
    func malformedStatIsRejected(text: String) {
        #expect(ProcStat.parse(text) == nil)
    }

    @Test func cgroupLinesOfBothHierarchies() {
        let cgroup = ProcCgroup.parse("""
            12:memory:/docker/abc
            4:cpu,cpuacct:/docker/abc
            1:name=systemd:/system.slice/docker-abc.scope
            0::/
            bad line
            """)
        #expect(cgroup.unified == "/")
        #expect(cgroup.v1 == ["memory": "/docker/abc", "cpu,cpuacct": "/docker/abc", "name=systemd": "/system.slice/docker-abc.scope"])
        #expect(cgroup.attributionPath == "/docker/abc", "the v2 root says nothing on a hybrid host")
        #expect(cgroup.paths == ["0::/", "cpu,cpuacct,memory:/docker/abc", "name=systemd:/system.slice/docker-abc.scope"])
        #expect(ProcCgroup.parse("0::/libpod_parent/libpod-1\n").attributionPath == "/libpod_parent/libpod-1")
    }

    @Test func cmdlineKeepsEmptyArgumentsAndDropsTheLastNUL() {
        #expect(ProcCmdline.parse(Array("sh\0-c\0\0echo hi\0".utf8)) == [Array("sh".utf8), Array("-c".utf8), [], Array("echo hi".utf8)])
        #expect(ProcCmdline.parse([]) == [])
        // A process that rewrote its arguments may leave no trailing NUL.
        #expect(ProcCmdline.parse(Array("nginx: worker".utf8)) == [Array("nginx: worker".utf8)])
    }

    @Test func hostCPUTimesAndForks() throws {
        let text = """
            cpu  100 10 50 800 40 5 5 0 0 0
            cpu0 50 5 25 400 20 2 3 0 0 0
            intr 1 2 3
            processes 98765
            procs_running 2
            """
        let stat = try #require(HostCPUStat.parse(text, ticksPerSecond: 100))
        #expect(stat.totalNanoseconds == 1010 * 10_000_000)
        #expect(stat.busyNanoseconds == 170 * 10_000_000, "idle and iowait are not busy")
        #expect(stat.forks == 98765)
        #expect(HostCPUStat.parse("cpu  1 2 3\nprocesses 5\n", ticksPerSecond: 100) == nil)
        #expect(HostCPUStat.parse("cpu  1 2 3 4 5 6 7 8\n", ticksPerSecond: 100) == nil)
    }
}
