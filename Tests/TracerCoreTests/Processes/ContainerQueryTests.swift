import Testing
@testable import TracerCore

/// `--container` queries, the selection they make for the kernel filter, and the one home of
/// "pid in container".
struct ContainerQueryTests {
    @Test func pidInItsOwnNamespaceIsTheLastOfNStgidOrTheTgid() {
        #expect(ProcStatus.parse("Tgid:\t4300\nNStgid:\t4300\t12\t7\n").pidInOwnNamespace == 7)
        #expect(ProcStatus.parse("Tgid:\t4300\nNStgid:\t4300\t12\t7\n").pidsByNamespace == [4300, 12, 7])
        // A kernel before 4.1 does not say: the reader's pid stands in, never 0.
        #expect(ProcStatus.parse("Tgid:\t4300\n").pidInOwnNamespace == 4300)
        #expect(ProcStatus.parse("Tgid:\t4300\n").pidsByNamespace == [4300])
    }

    @Test func theInventoryKeepsEachProcessesPidInside() throws {
        let proc = try FakeProc.webAndHost()
        let inventory = ContainerInventory.scan(resolver: Fixture.resolver(), procRoot: proc.path)
        let web = try inventory.container("web")
        #expect(web.members == [.init(pid: 4242, pidInContainer: 1), .init(pid: 4300, pidInContainer: 7)])
        #expect(web.pids == [4242, 4300])
        #expect(web.initPID == 4242)
        #expect(inventory.containers.count == 1, "the host's bash is in no container")
    }

    @Test func aQueryThatNamesNothingSaysWhatIsClosest() throws {
        let proc = try FakeProc.webAndHost()
        let inventory = ContainerInventory.scan(resolver: Fixture.resolver(), procRoot: proc.path)
        #expect(throws: ContainerQueryError.noMatch(query: "wbe", closest: ["web"])) { try inventory.container("wbe") }
        #expect(throws: ContainerQueryError.noMatch(query: "wbe", closest: ["web"])) { try inventory.containers(matching: ["web", "wbe"]) }
        #expect(ContainerQueryError.noMatch(query: "wbe", closest: ["web"]).description
            == "no running container named or with id prefix 'wbe'; closest: web")
        #expect(ContainerQueryError.noMatch(query: "x", closest: []).description
            == "no running container named or with id prefix 'x' (no containers found)")
        #expect(ContainerQueryError.ambiguous(query: "f", matches: ["web", "db"]).description == "'f' matches 2 containers: web, db")
        // Diagnose and egress say it in the same words.
        #expect(EgressPathFinder.SelectionError.unknownContainer("wbe", closest: ["web"]).description
            == ContainerQueryError.noMatch(query: "wbe", closest: ["web"]).description)
    }

    @Test func anIdPrefixSelectsTheContainerAndItsCgroupForTheKernel() throws {
        let proc = try FakeProc.webAndHost()
        let inventory = ContainerInventory.scan(resolver: Fixture.resolver(), procRoot: proc.path)
        var asked: [String] = []
        let selection = try ContainerSelection([String(Fixture.dockerWeb.prefix(6))], in: inventory, unifiedMount: "/sys/fs/cgroup") { path in
            asked.append(path)
            return 77
        }
        #expect(selection.ids == [Fixture.dockerWeb])
        #expect(selection.cgroupIDs == [77])
        #expect(asked == ["/sys/fs/cgroup/system.slice/docker-\(Fixture.dockerWeb).scope"])
        // Without cgroup v2 only user space can filter.
        let v1 = try ContainerSelection(["web"], in: inventory, unifiedMount: nil) { _ in 77 }
        #expect(v1.ids == [Fixture.dockerWeb] && v1.cgroupIDs == nil)
        #expect(throws: ContainerQueryError.self) { try ContainerSelection(["nope"], in: inventory, unifiedMount: nil) }
    }
}
