import Foundation
import Testing
@testable import TracerCore

@Suite struct ContainerIdentityTests {
    @Test func shortIDCutsOnlyHexIDs() {
        #expect(ContainerIdentity(runtime: .docker, id: Fixture.dockerWeb).shortID == "f31f384749f9")
        #expect(ContainerIdentity(runtime: .lxc, id: "my-long-container-name").shortID == "my-long-container-name")
        #expect(ContainerIdentity(runtime: .containerd, id: "redis").shortID == "redis")
        #expect(ContainerIdentity(runtime: .docker, id: "abc123").shortID == "abc123")
    }

    @Test func codableRoundTripUsesRuntimeNames() throws {
        let identity = ContainerIdentity(
            runtime: .crio, id: Fixture.crioApp, name: "app", image: "quay.io/shop/frontend:2.1",
            pod: PodIdentity(namespace: "shop", name: "frontend", uid: "63b3ebfc-2890-11e9-8154-16bf8ef8d9dc"),
            initPID: 5150, warning: nil)
        let data = try JSONEncoder().encode(identity)
        #expect(String(decoding: data, as: UTF8.self).contains("\"cri-o\""))
        #expect(try JSONDecoder().decode(ContainerIdentity.self, from: data) == identity)
    }

    @Test func runtimeRawValues() {
        #expect(ContainerRuntime.allCases.map(\.rawValue) == ["docker", "podman", "containerd", "cri-o", "runc", "lxc", "nspawn"])
    }
}
