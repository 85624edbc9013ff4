import Testing
@testable import TracerCore

@Suite struct RuncStateTests {
    let runc = RuncState(root: Fixture.path("runc"))

    @Test func readsStateAndSpecCgroupPath() throws {
        let web = try #require(runc.container(id: "web"))
        #expect(web == RuncContainer(id: "web", initPID: 12345, cgroupPath: "/tracer-test/web", bundle: "/srv/bundles/web"))
        #expect(web.identity == ContainerIdentity(runtime: .runc, id: "web", name: "web", initPID: 12345))
    }

    @Test func cgroupPathFromV1MountedPaths() throws {
        #expect(try #require(runc.container(id: "legacy")).cgroupPath == "/batch/legacy")
    }

    @Test func systemdDriverSpecIsExpanded() throws {
        #expect(try #require(runc.container(id: "sd")).cgroupPath == "/system.slice/runc-sd.scope")
        #expect(SystemdCgroupSpec.path("machine-app.slice:libpod:x") == "/machine.slice/machine-app.slice/libpod-x.scope")
        #expect(SystemdCgroupSpec.path(":runc:x") == "/system.slice/runc-x.scope")
        #expect(SystemdCgroupSpec.path("/plain/path") == nil)
    }

    @Test func corruptStateGivesIDAndWarning() throws {
        let broken = try #require(runc.container(id: "broken"))
        #expect(broken.cgroupPath == nil && broken.initPID == nil)
        #expect(broken.warning?.contains("state.json") == true)
        #expect(runc.identity(id: "broken")?.warning != nil)
    }

    @Test func matchesByCgroupPath() {
        #expect(runc.container(cgroupPath: "/tracer-test/web")?.id == "web")
        #expect(runc.container(cgroupPath: "/tracer-test/web/")?.id == "web")
        #expect(runc.container(cgroupPath: "/tracer-test/web/container")?.id == "web")
        #expect(runc.container(cgroupPath: "/tracer-test/webby") == nil)
        #expect(runc.container(cgroupPath: "/tracer-test") == nil)
        #expect(runc.container(cgroupPath: "/batch/legacy")?.id == "legacy")
    }

    @Test func matchesByLeafAndParent() {
        #expect(runc.container(leaf: "web", parent: "tracer-test")?.id == "web")
        #expect(runc.container(leaf: "web", parent: "other") == nil)
        #expect(runc.container(leaf: "runc-sd.scope", parent: "system.slice")?.id == "sd")
    }

    @Test func listsAll() {
        #expect(runc.all().map(\.id) == ["broken", "legacy", "sd", "web"])
        #expect(runc.container(id: "absent") == nil)
        #expect(RuncState(root: "/nonexistent").all().isEmpty)
    }
}
