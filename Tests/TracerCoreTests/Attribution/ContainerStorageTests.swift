import Testing
@testable import TracerCore

@Suite struct PodmanMetadataTests {
    let podman = PodmanMetadata(graphRoot: Fixture.path("storage"), runRoot: Fixture.path("run-storage"))

    @Test func metadataStringIsParsed() throws {
        let identity = try #require(podman.identity(id: Fixture.podmanWeb))
        #expect(identity == ContainerIdentity(
            runtime: .podman, id: Fixture.podmanWeb, name: "webapp",
            image: "docker.io/library/nginx:latest", initPID: 31337))
    }

    @Test func metadataObjectAndRunRootPidfile() throws {
        let identity = try #require(podman.identity(id: Fixture.podmanPod))
        #expect(identity.name == "mypod-db")
        #expect(identity.image == "docker.io/library/postgres:16")
        #expect(identity.initPID == 2024)  // only under the run root
        // Its config.json is truncated: what containers.json said is kept, with a warning.
        #expect(identity.warning?.contains("config.json") == true)
    }

    @Test func corruptMetadataStringFallsBackToNames() throws {
        let identity = try #require(podman.identity(id: Fixture.storageBroken))
        #expect(identity.name == "brokenbundle")
        // The image name was in the broken metadata; the storage image id is what is left.
        #expect(identity.image == "7d0d35a084dbb203966802c86d98162deaeda49d82494afde6d7a75fda6da3c5")
        #expect(identity.warning?.contains("metadata") == true)
    }

    @Test func leavesCRIOContainersToCRIO() {
        #expect(podman.identity(id: Fixture.crioApp) == nil)
        #expect(podman.identity(id: Fixture.crioSandbox) == nil)
        #expect(Set(podman.all().map(\.id)) == [Fixture.podmanWeb, Fixture.podmanPod, Fixture.storageBroken])
    }

    @Test func corruptIndexStillFindsContainerDirectories() throws {
        let broken = PodmanMetadata(graphRoot: Fixture.path("storage-corrupt"), runRoot: nil)
        let identity = try #require(broken.identity(id: Fixture.podmanWeb))
        #expect(identity.id == Fixture.podmanWeb)
        #expect(identity.name == nil)
        #expect(identity.warning?.contains("containers.json") == true)
        #expect(broken.all().map(\.id) == [Fixture.podmanWeb])
        #expect(broken.identity(id: Fixture.unknown) == nil)
    }

    @Test func unknownIDIsNil() {
        #expect(podman.identity(id: Fixture.unknown) == nil)
        #expect(podman.identity(id: "..") == nil)
    }
}

@Suite struct CRIOMetadataTests {
    let crio = CRIOMetadata(graphRoot: Fixture.path("storage"), runRoot: Fixture.path("run-storage"))

    @Test func annotationsGiveTheKubernetesIdentity() throws {
        let identity = try #require(crio.identity(id: Fixture.crioApp))
        #expect(identity == ContainerIdentity(
            runtime: .crio, id: Fixture.crioApp, name: "app", image: "quay.io/shop/frontend:2.1",
            pod: PodIdentity(namespace: "shop", name: "frontend-7d4b9c", uid: "63b3ebfc-2890-11e9-8154-16bf8ef8d9dc"),
            initPID: 5150))
    }

    @Test func sandboxIsNamedPOD() throws {
        let identity = try #require(crio.identity(id: Fixture.crioSandbox))
        #expect(identity.name == "POD")
        #expect(identity.image == "registry.k8s.io/pause:3.9")
        #expect(identity.pod?.name == "frontend-7d4b9c")
    }

    @Test func leavesPodmanContainersToPodman() {
        #expect(crio.identity(id: Fixture.podmanWeb) == nil)
        #expect(crio.all().map(\.id) == [Fixture.crioApp, Fixture.crioSandbox])
    }

    @Test func kubeletNameIsTheLastResort() {
        let stored = ContainerStorage.StoredContainer(
            id: Fixture.crioApp, names: ["k8s_app_frontend-7d4b9c_shop_63b3ebfc-2890-11e9-8154-16bf8ef8d9dc_1"])
        let identity = CRIOMetadata.identity(stored)
        #expect(identity.name == "app")
        #expect(identity.pod == PodIdentity(namespace: "shop", name: "frontend-7d4b9c", uid: "63b3ebfc-2890-11e9-8154-16bf8ef8d9dc"))
    }

    @Test func kubeletNameParser() {
        #expect(KubernetesContainerName("k8s_POD_p_ns_uid_0")?.container == "POD")
        #expect(KubernetesContainerName("/k8s_c_p_ns_uid_3")?.namespace == "ns")
        #expect(KubernetesContainerName("web") == nil)
        #expect(KubernetesContainerName("k8s_c_p_ns_uid") == nil)
    }
}
