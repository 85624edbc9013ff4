import Testing
@testable import TracerCore

@Suite struct ContainerdMetadataTests {
    let containerd = ContainerdMetadata(stateRoot: Fixture.path("containerd"))

    @Test func criAnnotationsGiveTheKubernetesIdentity() throws {
        let identity = try #require(containerd.identity(namespace: "k8s.io", id: Fixture.containerdK8s))
        #expect(identity == ContainerIdentity(
            runtime: .containerd, id: Fixture.containerdK8s, name: "redis", image: "docker.io/library/redis:7",
            pod: PodIdentity(namespace: "data", name: "cache-0", uid: "8f2a6b1c-4d3e-4f5a-9b8c-7d6e5f4a3b2c"),
            initPID: 9001))
    }

    @Test func sandboxIsNamedPOD() throws {
        let identity = try #require(containerd.identity(id: Fixture.containerdSandbox))
        #expect(identity.name == "POD")
        #expect(identity.initPID == 8999)
        #expect(identity.image == nil)
    }

    @Test func ctrContainerHasIDAndPID() throws {
        let identity = try #require(containerd.identity(namespace: "default", id: "redis"))
        #expect(identity == ContainerIdentity(runtime: .containerd, id: "redis", name: "redis", initPID: 7777))
        #expect(identity.shortID == "redis")
    }

    @Test func nerdctlNameAnnotation() throws {
        let identity = try #require(containerd.identity(id: Fixture.nerdctl))
        #expect(identity.name == "nginx-nerd")
        #expect(containerd.namespace(ofID: Fixture.nerdctl) == "default")
    }

    @Test func corruptSpecGivesIDPIDAndWarning() throws {
        let identity = try #require(containerd.identity(namespace: "default", id: "broken"))
        #expect(identity.name == nil)
        #expect(identity.initPID == 7778)
        #expect(identity.warning?.contains("config.json") == true)
    }

    @Test func dockerTasksAreLabelledAndSkippable() throws {
        #expect(containerd.namespace(ofID: Fixture.dockerWeb) == ContainerdMetadata.dockerNamespace)
        #expect(containerd.identity(id: Fixture.dockerWeb)?.runtime == .docker)
        let nonDocker = containerd.all().filter { $0.namespace != ContainerdMetadata.dockerNamespace }
        #expect(nonDocker.count == 5)
        #expect(!nonDocker.contains { $0.identity.id == Fixture.dockerWeb })
        #expect(containerd.namespaces() == ["default", "k8s.io", "moby"])
    }

    @Test func truncatedIDMatchesByUniquePrefix() throws {
        let truncated = String(Fixture.containerdK8s.prefix(40))
        #expect(containerd.identity(id: truncated)?.id == Fixture.containerdK8s)
        #expect(containerd.identity(id: String(Fixture.containerdK8s.prefix(8))) == nil)  // too short to trust
    }

    @Test func unknownIsNil() {
        #expect(containerd.identity(namespace: "default", id: "nope") == nil)
        #expect(containerd.identity(id: Fixture.unknown) == nil)
        #expect(containerd.identity(namespace: "..", id: "redis") == nil)
        #expect(!containerd.taskExists(namespace: "default", id: "nope"))
    }
}
