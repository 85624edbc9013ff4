import Foundation
import Testing
@testable import TracerCore

@Suite struct ContainerResolverTests {
    let resolver = Fixture.resolver()

    @Test func dockerCgroupfsAndSystemd() {
        var web = ContainerIdentity(runtime: .docker, id: Fixture.dockerWeb, name: "web", image: "nginx:1.25", initPID: 4242)
        web.netnsPath = "/var/run/docker/netns/9f447d269d73"
        let expected = Attribution.container(web)
        #expect(resolver.resolve(cgroupPath: "/docker/\(Fixture.dockerWeb)") == expected)
        #expect(resolver.resolve(cgroupPath: "/system.slice/docker-\(Fixture.dockerWeb).scope") == expected)
        #expect(resolver.resolve(leaf: Fixture.dockerWeb, parent: "docker") == expected)
    }

    @Test func podmanCgroupfsAsSeenHere() throws {
        guard case .container(let identity) = resolver.resolve(cgroupPath: "/libpod_parent/libpod-\(Fixture.podmanWeb)") else {
            Issue.record("podman container not resolved")
            return
        }
        #expect(identity.runtime == .podman)
        #expect(identity.name == "webapp")
        #expect(resolver.resolve(leaf: "container", parent: "libpod-\(Fixture.podmanWeb).scope") == .container(identity))
    }

    @Test func crioUnderKubepods() throws {
        let path = "/kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod63b3ebfc_2890_11e9_8154_16bf8ef8d9dc.slice/crio-\(Fixture.crioApp).scope"
        guard case .container(let identity) = resolver.resolve(cgroupPath: path) else {
            Issue.record("CRI-O container not resolved")
            return
        }
        #expect(identity.runtime == .crio)
        #expect(identity.name == "app")
        #expect(identity.pod?.namespace == "shop")
        let conmon = resolver.resolve(cgroupPath: path.replacingOccurrences(of: "crio-", with: "crio-conmon-"))
        guard case .notAContainer(let reason) = conmon else {
            Issue.record("conmon resolved as \(conmon)")
            return
        }
        #expect(reason.contains("crio-conmon"))
    }

    @Test func containerdUnderKubepodsIncludingMisconfiguredLiteral() {
        let systemd = resolver.resolve(cgroupPath:
            "/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod8f2a6b1c_4d3e_4f5a_9b8c_7d6e5f4a3b2c.slice/cri-containerd-\(Fixture.containerdK8s).scope")
        let literal = resolver.resolve(cgroupPath:
            "/kubepods-burstable-pod8f2a6b1c_4d3e_4f5a_9b8c_7d6e5f4a3b2c.slice:cri-containerd:\(Fixture.containerdK8s)")
        guard case .container(let identity) = systemd else {
            Issue.record("containerd container not resolved")
            return
        }
        #expect(identity.name == "redis")
        #expect(identity.pod?.name == "cache-0")
        #expect(literal == systemd)
    }

    @Test func truncatedLiteralLeafResolvesToFullID() {
        let literal = "kubepods-burstable-pod8f2a6b1c_4d3e_4f5a_9b8c_7d6e5f4a3b2c.slice:cri-containerd:\(Fixture.containerdK8s)"
        let captured = String(literal.utf8.prefix(127))!
        guard case .container(let identity) = resolver.resolve(leaf: captured, parent: "") else {
            Issue.record("truncated leaf not resolved")
            return
        }
        #expect(identity.id == Fixture.containerdK8s)
        #expect(identity.name == "redis")
    }

    @Test func criDockerdBareIDUnderPodFallsBackToDocker() {
        let attribution = resolver.resolve(cgroupPath: "/kubepods/besteffort/podac04f3f2-1f2c-11e9-b015-1ebee232acfa/\(Fixture.dockerCRI)")
        guard case .container(let identity) = attribution else {
            Issue.record("cri-dockerd container not resolved")
            return
        }
        #expect(identity.runtime == .docker)
        #expect(identity.name == "coredns")
    }

    @Test func ctrShapeIsConfirmedAgainstContainerd() {
        #expect(resolver.resolve(cgroupPath: "/default/redis")
            == .container(ContainerIdentity(runtime: .containerd, id: "redis", name: "redis", initPID: 7777)))
        #expect(resolver.resolve(leaf: "redis", parent: "default")
            == .container(ContainerIdentity(runtime: .containerd, id: "redis", name: "redis", initPID: 7777)))
        guard case .notAContainer(let reason) = resolver.resolve(cgroupPath: "/process_api/worker") else {
            Issue.record("an unconfirmed two-level path was called a container")
            return
        }
        #expect(reason.contains("/process_api/worker"))
    }

    @Test func runcIsMatchedByItsSpecCgroupPath() {
        let web = Attribution.container(ContainerIdentity(runtime: .runc, id: "web", name: "web", initPID: 12345))
        // Looks like ctr's /<ns>/<id>, but runc's state claims it first.
        #expect(resolver.resolve(cgroupPath: "/tracer-test/web") == web)
        #expect(resolver.resolve(leaf: "web", parent: "tracer-test") == web)
        #expect(resolver.resolve(cgroupPath: "/batch/legacy")
            == .container(ContainerIdentity(runtime: .runc, id: "legacy", name: "legacy", initPID: 23456)))
        #expect(resolver.resolve(cgroupPath: "/system.slice/runc-sd.scope")
            == .container(ContainerIdentity(runtime: .runc, id: "sd", name: "sd", initPID: 34567)))
    }

    @Test func hostHelpersAndUnknown() {
        #expect(resolver.resolve(cgroupPath: "/") == .host)
        #expect(resolver.resolve(cgroupPath: "/user.slice/user-0.slice/session-3.scope") == .host)
        #expect(resolver.resolve(cgroupPath: "/system.slice/docker.service") == .host)
        #expect(resolver.resolve(leaf: "cron.service", parent: "system.slice") == .host)
        guard case .notAContainer(let conmon) = resolver.resolve(cgroupPath: "/libpod_parent/conmon"),
              case .notAContainer(let unknown) = resolver.resolve(cgroupPath: "/a/b/c")
        else {
            Issue.record("helpers or unknown paths were attributed")
            return
        }
        #expect(conmon.contains("conmon"))
        #expect(unknown.contains("/a/b/c"))
    }

    @Test func bareIDUnderUnknownParentIsLookedUpEverywhere() {
        guard case .container(let identity) = resolver.resolve(cgroupPath: "/custom/parent/\(Fixture.dockerWeb)") else {
            Issue.record("known id under --cgroup-parent not resolved")
            return
        }
        #expect(identity.name == "web")
        if case .container = resolver.resolve(cgroupPath: "/custom/parent/\(Fixture.unknown)") {
            Issue.record("unknown id under an unknown parent was called a container")
        }
    }

    @Test func matchedContainerWithoutMetadataKeepsCgroupFacts() {
        let attribution = resolver.resolve(cgroupPath: "/kubepods/besteffort/pod63b3ebfc-2890-11e9-8154-16bf8ef8d9dc/crio-\(Fixture.unknown)")
        guard case .container(let identity) = attribution else {
            Issue.record("definite CRI-O cgroup not reported as a container")
            return
        }
        #expect(identity.runtime == .crio)
        #expect(identity.id == Fixture.unknown)
        #expect(identity.pod?.uid == "63b3ebfc-2890-11e9-8154-16bf8ef8d9dc")
        #expect(identity.warning != nil)
    }

    @Test func lxcAndNspawnNeedNoMetadata() {
        #expect(resolver.resolve(cgroupPath: "/lxc.payload.web1")
            == .container(ContainerIdentity(runtime: .lxc, id: "web1", name: "web1")))
        #expect(resolver.resolve(leaf: "payload", parent: "systemd-nspawn@debian.service")
            == .container(ContainerIdentity(runtime: .nspawn, id: "debian", name: "debian")))
    }

    @Test func corruptMetadataIsReportedNotFatal() {
        guard case .container(let identity) = resolver.resolve(cgroupPath: "/docker/\(Fixture.dockerCorrupt)") else {
            Issue.record("corrupt docker container not reported")
            return
        }
        #expect(identity.id == Fixture.dockerCorrupt)
        #expect(identity.warning != nil)
    }

    @Test func cacheKeepsContainersThatWentAway() throws {
        let scratch = try Fixture.scratchCopy()
        defer { try? FileManager.default.removeItem(at: scratch) }
        let resolver = Fixture.resolver(at: scratch)
        let dockerPath = "/docker/\(Fixture.dockerWeb)"
        let before = resolver.resolve(cgroupPath: dockerPath)
        let ctrBefore = resolver.resolve(cgroupPath: "/default/redis")
        let runcBefore = resolver.resolve(cgroupPath: "/tracer-test/web")

        try FileManager.default.removeItem(at: scratch.appendingPathComponent("docker/containers/\(Fixture.dockerWeb)"))
        try FileManager.default.removeItem(at: scratch.appendingPathComponent("containerd/default/redis"))
        try FileManager.default.removeItem(at: scratch.appendingPathComponent("runc/web"))

        // A fresh resolver on the same tree no longer knows them...
        let fresh = Fixture.resolver(at: scratch)
        #expect(fresh.resolve(cgroupPath: dockerPath) != before)
        if case .container = fresh.resolve(cgroupPath: "/default/redis") { Issue.record("ctr task still found") }
        // ...but the one that saw them running still does.
        guard case .container(let identity) = before else {
            Issue.record("docker container not resolved before removal")
            return
        }
        #expect(identity.name == "web")
        #expect(resolver.resolve(cgroupPath: dockerPath) == before)
        #expect(resolver.resolve(leaf: Fixture.dockerWeb, parent: "docker") == before)
        #expect(resolver.resolve(cgroupPath: "/default/redis") == ctrBefore)
        #expect(resolver.resolve(cgroupPath: "/tracer-test/web") == runcBefore)
    }

    @Test func cacheEvictsOldestBeyondCapacity() {
        let cache = IdentityCache(capacity: 2)
        for id in ["a", "b", "c"] { cache.store(ContainerIdentity(runtime: .runc, id: id), for: [id]) }
        #expect(cache.count == 2)
        #expect(cache.identity(for: "a") == nil)
        #expect(cache.identity(for: "c")?.id == "c")
    }

    @Test func resolverIsUsableFromManyTasks() async {
        let resolver = Fixture.resolver()
        let path = "/docker/\(Fixture.dockerWeb)"
        let results = await withTaskGroup(of: Attribution.self) { group in
            for _ in 0..<32 { group.addTask { resolver.resolve(cgroupPath: path) } }
            return await group.reduce(into: [Attribution]()) { $0.append($1) }
        }
        #expect(Set(results.map { "\($0)" }).count == 1)
        #expect(results.count == 32)
    }
}
