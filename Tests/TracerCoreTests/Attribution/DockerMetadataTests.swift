import Foundation
import Glibc
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

/// config.v2.json as a hostile user could leave it: a FIFO, a link to /dev/zero, 50 MB. Each
/// gives the container with its id and a warning naming the file, at once.
@Suite struct HostileDockerMetadataTests {
    enum Shape: String, CaseIterable { case fifo, devZero, fiftyMegabytes }

    @Test(arguments: Shape.allCases)
    func hostileConfigGivesIDAndWarningAtOnce(shape: Shape) throws {
        let root = try TemporaryDirectory()
        let id = Fixture.dockerWeb
        let directory = root.path + "/containers/" + id
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let config = directory + "/config.v2.json"
        switch shape {
        case .fifo: #expect(mkfifo(config, 0o644) == 0)
        case .devZero: #expect(symlink("/dev/zero", config) == 0)
        case .fiftyMegabytes: try Data(repeating: 0x20, count: 50_000_000).write(to: URL(fileURLWithPath: config))
        }
        let docker = DockerMetadata(root: root.path)
        let found = finishing(within: 5) { docker.identity(id: id) }
        try #require(found != nil, "reading \(shape) config.v2.json did not finish in 5 s")
        let identity = try #require(found!)
        #expect(identity.id == id && identity.name == nil && identity.image == nil)
        let why = [Shape.fifo: "a FIFO, not a regular file", .devZero: "a character device, not a regular file",
                   .fiftyMegabytes: "50000000 bytes, over the 4 MiB cap for container runtime metadata"][shape]!
        #expect(identity.warning == "refused to read \(config): \(why)")
        #expect(RefusedFiles.wasRefused(config))
    }
}
