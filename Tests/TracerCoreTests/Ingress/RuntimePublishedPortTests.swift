import Foundation
import Testing
@testable import TracerCore

/// Published ports from the runtimes' metadata: docker's files and podman's BoltDB copied from
/// real lab containers (tools/lab/containers.sh with TRACERLAB_PUBLISH='8080:80
/// 127.0.0.1:8081:81/udp 82 [::1]:8083:83' on docker 20.10, '8080:80 127.0.0.1:8081:81/udp 82
/// 9000-9001:90-91' on podman 4.3.1), and hand-written layouts this machine cannot produce:
/// docker 28 with IPv6, nerdctl's annotation.
@Suite struct RuntimePublishedPortTests {
    static let dockerLabID = "ce6f5ff27f507e6fed9c080b4d33289547ef447bd1d1a0db6b19eb033850c044"
    static let podmanLabID = "22b16b82ee686b07f5e897a4bebf6f4b4affb23f5a27f16645dd87e8ea2a5b12"

    static func root(_ name: String) -> String { FixtureFiles.path("ingress/\(name)") }

    @Test func dockerBoundPortsAndTheOneItDidNotBind() throws {
        let reading = DockerMetadata(root: Self.root("docker")).publishedPorts()
        #expect(reading.unchecked.isEmpty)
        let ports = reading.ports
        #expect(ports.map(\.description) == [
            "tcp 0.0.0.0:8080 -> 172.17.0.2:80 (pp1, runtime-only)",
            "udp 127.0.0.1:8081 -> 172.17.0.2:81 (pp1, runtime-only)",
            "tcp 0.0.0.0:32768 -> 172.17.0.2:82 (pp1, runtime-only)",
            "tcp [::1]:8083 -> ?:83 (pp1, runtime-only)",
        ])
        // `-p 82` got its host port from dockerd: only config.v2.json has it.
        #expect(ports[2].runtimeRecords.map(\.field) == ["NetworkSettings.Ports"])
        #expect(ports[2].runtimeRecords[0].path.hasSuffix("/\(Self.dockerLabID)/config.v2.json"))
        // docker 20.10 skips an IPv6 HostIp on a network without IPv6: asked for, never bound.
        #expect(ports[3].runtimeRecords.map(\.field) == ["PortBindings"])
        #expect(ports[3].note?.contains("docker did not bind it") == true)
        #expect(ports[0].note == nil)
        #expect(ports[0].container?.id == Self.dockerLabID && ports[0].container?.runtime == .docker)
    }

    @Test func docker28WritesBothFamiliesAndAStoppedContainerPublishesNothing() {
        let ports = DockerMetadata(root: Self.root("docker28")).publishedPorts().ports
        #expect(ports.map(\.description) == [
            "udp 0.0.0.0:32769 -> 172.18.0.5:53 (web, runtime-only)",
            "udp :::32769 -> [fd00:dead::5]:53 (web, runtime-only)",
            "tcp 0.0.0.0:8080 -> 172.18.0.5:80 (web, runtime-only)",
            "tcp :::8080 -> [fd00:dead::5]:80 (web, runtime-only)",
        ])
        #expect(ports.allSatisfy { $0.note == nil })
        #expect(!ports.contains { $0.container?.name == "stopped" })
    }

    @Test func podmanPortsComeFromItsBoltDatabase() throws {
        let reading = PodmanMetadata(graphRoot: Self.root("podman")).publishedPorts()
        #expect(reading.unchecked.isEmpty)
        #expect(reading.ports.map(\.description) == [
            "tcp *:8080 -> 10.88.0.3:80 (pp2, runtime-only)",
            "tcp *:9000-9001 -> 10.88.0.3:90-91 (pp2, runtime-only)",
            "tcp *:35119 -> 10.88.0.3:82 (pp2, runtime-only)",
            "udp 127.0.0.1:8081 -> 10.88.0.3:81 (pp2, runtime-only)",
        ])
        let container = try #require(reading.ports.first?.container)
        #expect(container.id == Self.podmanLabID && container.runtime == .podman)
        #expect(container.image == "localhost/tracerlab-busybox:latest" && container.initPID == 21545)
        #expect(container.netnsPath == "/run/netns/netns-cf2f55ce-1a04-09ea-aa12-39f276ea425a")
        #expect(reading.ports[0].runtimeRecords.first?.field == "ctr/\(Self.podmanLabID)/config newPortMappings")
        #expect(reading.ports[1].containerPort(forHostPort: 9001) == 91)
    }

    @Test func podmanWithoutABoltDatabaseSaysWhy() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("pp-sqlite-\(getpid())")
        defer { try? FileManager.default.removeItem(at: directory) }
        try FileManager.default.createDirectory(at: directory.appendingPathComponent("libpod"), withIntermediateDirectories: true)
        #expect(PodmanMetadata(graphRoot: directory.path).publishedPorts() == PublishedPortReading())
        #expect(FileManager.default.createFile(atPath: directory.appendingPathComponent("libpod/db.sql").path, contents: Data("SQLite format 3\0".utf8)))
        let reading = PodmanMetadata(graphRoot: directory.path).publishedPorts()
        #expect(reading.ports.isEmpty)
        #expect(reading.unchecked.count == 1 && reading.unchecked[0].contains("SQLite database is not read"))
        try Data(repeating: 0x41, count: 8192).write(to: directory.appendingPathComponent("libpod/bolt_state.db"))
        #expect(PodmanMetadata(graphRoot: directory.path).publishedPorts().unchecked.first?.contains("not a BoltDB file") == true)
    }

    @Test func boltReaderFallsBackToTheOtherMetaAndRefusesTwoTornOnes() throws {
        let bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: Self.root("podman/libpod/bolt_state.db"))))
        let good = try #require(BoltDatabase(bytes: bytes))
        #expect(good.pageSize == 4096)
        let names = good.entries(of: good.root).map { String(decoding: $0.key, as: UTF8.self) }
        #expect(names.contains("ctr") && names.contains("name-registry") && names == names.sorted())
        let registry = try #require(good.bucket("name-registry", in: good.root))
        #expect(good.value("pp2", in: registry).map { String(decoding: $0, as: UTF8.self) } == Self.podmanLabID)

        // The newer meta (page 0 here, txid 8) torn: the older copy (page 1) is used.
        var torn = bytes
        torn[16 + 40] ^= 0xff
        let older = try #require(BoltDatabase(bytes: torn))
        #expect(older.entries(of: older.root).count > 0)
        torn[4096 + 16 + 40] ^= 0xff
        #expect(BoltDatabase(bytes: torn) == nil)
        #expect(BoltDatabase(bytes: Array(bytes.prefix(70))) == nil)  // page 0's meta cut short
        // Every page but the metas cut off: the tree is not there, and nothing is made up.
        let cut = try #require(BoltDatabase(bytes: Array(bytes.prefix(8192))))
        #expect(cut.entries(of: cut.root).isEmpty)
        #expect(PodmanMetadata.publishedPorts(cut, path: "cut").ports.isEmpty)
    }

    @Test func boltReaderSurvivesGarbagePages() throws {
        var bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: Self.root("podman/libpod/bolt_state.db"))))
        // Scribble over every page past the metas with a pattern that looks like huge counts and offsets.
        var state: UInt64 = 0x9e37_79b9_7f4a_7c15
        for i in 8192..<bytes.count {
            state = state &* 6364136223846793005 &+ 1442695040888963407
            bytes[i] = UInt8(truncatingIfNeeded: state >> 56)
        }
        let db = try #require(BoltDatabase(bytes: bytes))
        _ = db.entries(of: db.root)
        #expect(PodmanMetadata.publishedPorts(db, path: "garbage").ports.isEmpty)
    }

    @Test func nerdctlAnnotationGivesPortsAndDockerNamespaceIsLeftToDocker() throws {
        let reading = ContainerdMetadata(stateRoot: Self.root("containerd")).publishedPorts()
        #expect(reading.unchecked.isEmpty)
        #expect(reading.ports.map(\.description) == [
            "tcp 0.0.0.0:8080 -> ?:80 (web1, runtime-only)",
            "udp 127.0.0.1:69 -> ?:69 (web1, runtime-only)",
        ])
        #expect(reading.ports[0].container?.runtime == .containerd)
        #expect(reading.ports[0].runtimeRecords.first?.field == "annotations.nerdctl/ports")
        let identity = ContainerIdentity(runtime: .containerd, id: "x")
        #expect(ContainerdMetadata.nerdctlPorts("not json", container: identity, path: "p") == nil)
        #expect(ContainerdMetadata.nerdctlPorts(#"[{"HostPort":70000,"ContainerPort":80}]"#, container: identity, path: "p") == [])
    }
}
