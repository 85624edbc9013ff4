import Testing
@testable import TracerCore

@Suite struct DockerMetadataTests {
    let docker = DockerMetadata(root: Fixture.path("docker"))

    @Test func readsRunningContainer() throws {
        let identity = try #require(docker.identity(id: Fixture.dockerWeb))
        var expected = ContainerIdentity(runtime: .docker, id: Fixture.dockerWeb, name: "web", image: "nginx:1.25", initPID: 4242)
        expected.netnsPath = "/var/run/docker/netns/9f447d269d73"
        #expect(identity == expected)
        #expect(identity.shortID == "f31f384749f9")
    }

    @Test func sandboxKeyIsTheNetnsPath() {
        #expect(docker.identity(id: Fixture.dockerWeb)?.netnsPath == "/var/run/docker/netns/9f447d269d73")
        #expect(docker.identity(id: Fixture.dockerCRI)?.netnsPath == nil)  // empty in the file
        #expect(docker.identity(id: Fixture.dockerCorrupt)?.netnsPath == nil)
        #expect(docker.identity(id: Fixture.unknown) == nil)
    }

    @Test func criDockerdLabelsGiveThePod() throws {
        let identity = try #require(docker.identity(id: Fixture.dockerCRI))
        #expect(identity.name == "coredns")
        #expect(identity.pod == PodIdentity(
            namespace: "kube-system", name: "coredns-5d78c9869d-abcde", uid: "ac04f3f2-1f2c-11e9-b015-1ebee232acfa"))
        #expect(identity.image == "registry.k8s.io/coredns/coredns:v1.11.1")
        #expect(identity.initPID == nil)  // stopped: State.Pid is 0 and Running false
    }

    @Test func corruptConfigGivesIDAndWarning() throws {
        let identity = try #require(docker.identity(id: Fixture.dockerCorrupt))
        #expect(identity.id == Fixture.dockerCorrupt)
        #expect(identity.name == nil && identity.image == nil && identity.initPID == nil)
        #expect(identity.warning?.contains("config.v2.json") == true)
    }

    @Test func missingConfigGivesIDAndWarning() throws {
        let identity = try #require(docker.identity(id: Fixture.dockerMissingConfig))
        #expect(identity.warning?.contains("missing") == true)
    }

    @Test func unknownAndUnsafeIDsAreNil() {
        #expect(docker.identity(id: Fixture.unknown) == nil)
        #expect(docker.identity(id: "..") == nil)
        #expect(docker.identity(id: "../containers") == nil)
        #expect(docker.identity(id: "") == nil)
    }

    @Test func allListsEveryContainerDirectory() {
        let ids = docker.all().map(\.id)
        #expect(ids == [Fixture.dockerMissingConfig, Fixture.dockerCRI, Fixture.dockerCorrupt, Fixture.dockerWeb])
    }

    @Test func missingRootIsEmptyNotACrash() {
        let nowhere = DockerMetadata(root: "/nonexistent/docker")
        #expect(nowhere.all().isEmpty)
        #expect(nowhere.identity(id: Fixture.dockerWeb) == nil)
    }
}
