import Testing
@testable import TracerCore

struct SystemFileTests {
    @Test func statusOfAContainerProcess() throws {
        let status = ProcStatus.parse(try FixtureFiles.text("status-nginx.txt"))
        #expect(status.name == "nginx")
        #expect(status.tgid == 48213)
        #expect(status.ppid == 48190)
        #expect(status.uid == 101)
        #expect(status.namespacePIDs == [48213, 1])
        #expect(!status.isKernelThread)
        #expect(!status.has(capability: .sysAdmin)) // docker default set a80425fb lacks bit 21
        #expect(!status.has(capability: .bpf))
    }

    @Test func kernelThreadsHaveNoMemoryMap() throws {
        let status = ProcStatus.parse(try FixtureFiles.text("status-kthreadd.txt"))
        #expect(status.isKernelThread)
        #expect(status.has(capability: .bpf) && status.has(capability: .perfmon))
    }

    @Test func hybridCgroupLayoutFromMountinfo() throws {
        let mounts = MountTable.parse(try FixtureFiles.text("mountinfo-hybrid.txt"))
        let layout = CgroupLayout(mounts: mounts)
        #expect(layout.kind == .hybrid)
        #expect(layout.unifiedMount == "/sys/fs/cgroup/unified")
        #expect(layout.v1Mounts["memory"] == "/sys/fs/cgroup/memory")
        #expect(layout.v1Mounts["name=systemd"] == "/sys/fs/cgroup/systemd")
        #expect(layout.v1Mounts["cpuacct"] == "/sys/fs/cgroup/cpu,cpuacct")
        #expect(mounts.mounts(ofType: "tracefs").first?.mountPoint == "/sys/kernel/tracing")
        #expect(mounts.mounts.contains { $0.mountPoint == "/mnt/with space" })
    }

    @Test func v2OnlyLayout() {
        let mounts = MountTable.parse("30 23 0:26 / /sys/fs/cgroup rw,nosuid - cgroup2 cgroup2 rw,nsdelegate,memory_recursiveprot\n")
        #expect(CgroupLayout(mounts: mounts).kind == .v2)
        #expect(CgroupLayout(mounts: MountTable.parse("")).kind == .none)
    }
}

struct MountTableFilterTests {
    @Test func onlyTheAskedTypesAreParsed() throws {
        let text = try FixtureFiles.text("mountinfo-hybrid.txt")
            + "50 27 0:4 net:[4026532246] /run/netns/web rw shared:5 - nsfs nsfs rw\n"
        let table = MountTable.parse(text, types: ["nsfs"])
        #expect(table.mounts.count == 1)
        #expect(table.networkNamespaceNames[4026532246] == ["/run/netns/web"])
        #expect(MountTable.parse(text).mounts.count == 10)
    }
}
