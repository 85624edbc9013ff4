import Foundation
import Glibc
import Testing
@testable import TracerCore

/// Host paths mapped under a mounted host root (the DaemonSet's /host), on a scratch tree.
struct HostRootTests {
    /// A scratch host root: proc/, a Debian-style var/run -> /run link and docker's netns directory.
    static func scratchRoot() throws -> TemporaryDirectory {
        let root = try TemporaryDirectory()
        for directory in ["proc/1/ns", "run/docker/netns", "var", "etc/alt"] {
            try FileManager.default.createDirectory(atPath: "\(root.path)/\(directory)", withIntermediateDirectories: true)
        }
        try FileManager.default.createSymbolicLink(atPath: "\(root.path)/var/run", withDestinationPath: "/run")
        try FileManager.default.createSymbolicLink(atPath: "\(root.path)/etc/up", withDestinationPath: "../run/docker")
        try FileManager.default.createSymbolicLink(atPath: "\(root.path)/proc/1/ns/net", withDestinationPath: "net:[4026531840]")
        return root
    }

    @Test func theHostsOwnRootMapsEveryPathToItself() throws {
        let root = try HostRoot.resolve(flag: nil, environment: nil)
        #expect(root == .identity && root.isIdentity)
        #expect(root.path("/var/run/docker/netns/abc") == "/var/run/docker/netns/abc")
        #expect(root.proc == "/proc")
        #expect(try HostRoot.resolve(flag: nil, environment: "") == .identity, "an empty HOST_ROOT is no host root")
        #expect(try HostRoot(directory: "/") == .identity)
    }

    @Test func absolutePathsAreReadUnderTheRoot() throws {
        let scratch = try Self.scratchRoot()
        let root = try HostRoot(directory: scratch.path + "//")
        #expect(root.directory == scratch.path, "trailing slashes are dropped")
        #expect(root.proc == scratch.path + "/proc")
        #expect(root.path("/proc/42/cgroup") == scratch.path + "/proc/42/cgroup")
        #expect(root.path("/") == scratch.path)
        #expect(root.path("/var/lib/docker") == scratch.path + "/var/lib/docker", "a path that does not exist is still mapped")
        #expect(root.path("relative/dir") == "relative/dir", "a relative path is read where it is")
    }

    /// Debian's /var/run is an absolute link to /run: followed inside the root, not into the
    /// container's own /run. The last component is left to open(2), as /proc/PID/ns/net must be.
    @Test func linksOnTheWayAreFollowedInsideTheRoot() throws {
        let scratch = try Self.scratchRoot()
        let root = try HostRoot(directory: scratch.path)
        #expect(root.path("/var/run/docker/netns/abc") == scratch.path + "/run/docker/netns/abc")
        #expect(root.path("/etc/up/netns/abc") == scratch.path + "/run/docker/netns/abc", "a relative link")
        #expect(root.path("/var/run/../etc/alt") == scratch.path + "/etc/alt")
        #expect(root.path("/../../proc/1") == scratch.path + "/proc/1", "never above the root")
        #expect(root.path("/proc/1/ns/net") == scratch.path + "/proc/1/ns/net")
        #expect(root.path("/var/run") == scratch.path + "/var/run")
    }

    @Test func aRootThatIsNoHostsIsRefused() throws {
        let scratch = try TemporaryDirectory()
        #expect(throws: HostRoot.Failure.notADirectory("/nonexistent/tracer-root")) { try HostRoot(directory: "/nonexistent/tracer-root") }
        let file = scratch.path + "/file"
        try Data().write(to: URL(fileURLWithPath: file))
        #expect(throws: HostRoot.Failure.notADirectory(file)) { try HostRoot(directory: file) }
        #expect(throws: HostRoot.Failure.noProc(scratch.path)) { try HostRoot(directory: scratch.path) }
        #expect("\(HostRoot.Failure.noProc(scratch.path))".hasPrefix("\(scratch.path) has no proc/ under it"))
        // The flag wins: a bad HOST_ROOT beside a good flag is not read.
        let good = try Self.scratchRoot()
        #expect(try HostRoot.resolve(flag: good.path, environment: "/nonexistent/tracer-root").directory == good.path)
        #expect(throws: HostRoot.Failure.notADirectory("/nonexistent/tracer-root")) {
            try HostRoot.resolve(flag: nil, environment: "/nonexistent/tracer-root")
        }
    }

    /// The fixture's docker container and its processes found through a host root, as the host
    /// itself finds them: /proc and /var/lib/docker under it.
    @Test func theInventoryReadsProcAndMetadataUnderTheRoot() throws {
        let scratch = try TemporaryDirectory()
        let proc = try FakeProc.webAndHost()
        try FileManager.default.createDirectory(atPath: scratch.path + "/var/lib", withIntermediateDirectories: true)
        try FileManager.default.createSymbolicLink(atPath: scratch.path + "/proc", withDestinationPath: proc.path)
        try FileManager.default.createSymbolicLink(atPath: scratch.path + "/var/lib/docker", withDestinationPath: Fixture.path("docker"))
        let root = try HostRoot(directory: scratch.path)
        let resolver = ContainerResolver.host(root)
        #expect(resolver.hostRoot == root)
        #expect(resolver.docker.root == scratch.path + "/var/lib/docker")
        let inventory = ContainerInventory.scan(resolver: resolver)
        let expected = try #require(Fixture.resolver().docker.identity(id: Fixture.dockerWeb))
        let web = try #require(inventory.containers.first { $0.identity.id == Fixture.dockerWeb }, "\(inventory.containers.map(\.identity))")
        #expect(web.identity.name == expected.name && web.identity.name != nil)
        #expect(web.pids == [4242, 4300])
        // Without the root, the same resolver's /proc is the real one: no such container there.
        #expect(!ContainerInventory.scan(resolver: Fixture.resolver()).containers.contains { $0.identity.id == Fixture.dockerWeb })
    }
}
