import Foundation
@testable import TracerCore

/// The fixture tree in Fixtures/ and the ids its files use (sha256 of a label, so they look real).
enum Fixture {
    static let dockerWeb = "f31f384749f9115acf01fcf82f5a966b59dcc0a4cbd7c9740888c0bf32aa2bbb"
    static let dockerCRI = "2ab3400e0f4c3678982cd12ec8efcb1d17d8db7f632d2c015c7f637427885f6f"
    static let dockerCorrupt = "913a58392f135465fc88e67ed8c54eaada494365f33c71a2c477fe8393666d47"
    static let dockerMissingConfig = "0a7def1ed5f553a8398ee3c1469005244b3c1d755c5b4ca8c3415a27539437b7"
    static let podmanWeb = "f9d688036191e04636c64024ce221730446495d6568b72e14d6ebc8aa23e434f"
    static let podmanPod = "94a1b9dffb88f34d73bb91ba12beb9644f68b29e507683f542e6919982664063"
    static let crioApp = "610713dca419d7deb83a1246d0c1ee0ac2e23b81cbb29bba37147e88e1848cda"
    static let crioSandbox = "a18bfabd3cf1d74d0267b59ef276e9c1c94d4e31a9fb482340d884a4c4275b94"
    static let storageBroken = "d749821ce80674ec24c6ecf212d6fd058de7683ff049eec38dbf5098b6086604"
    static let containerdK8s = "79712fa38c5dfc8a4343ae999676aa331eed5dca567a14858c7ff8f01aa0c720"
    static let containerdSandbox = "85b013213e803c7bc39ff8937f98c8b3b8ba3ee2cf22b5c7f08dfa7dd07f0fc4"
    static let nerdctl = "aa470170773aae4a69e6e0a509eb8c1f304140b1fea1a2d55ec93a07a78e497c"
    /// An id no fixture knows.
    static let unknown = "c6142cdbbd05b7f761a73a0e6e74bcf2fa20e936985f036e0279faf6016f0104"

    static var root: URL {
        guard let url = Bundle.module.url(forResource: "Fixtures/attribution", withExtension: nil) else {
            fatalError("Fixtures missing from the test bundle")
        }
        return url
    }

    static func path(_ relative: String) -> String {
        root.appendingPathComponent(relative).path
    }

    static func resolver(at root: URL = Fixture.root) -> ContainerResolver {
        ContainerResolver(
            docker: DockerMetadata(root: root.appendingPathComponent("docker").path),
            podman: PodmanMetadata(graphRoot: root.appendingPathComponent("storage").path,
                                   runRoot: root.appendingPathComponent("run-storage").path),
            crio: CRIOMetadata(graphRoot: root.appendingPathComponent("storage").path,
                               runRoot: root.appendingPathComponent("run-storage").path),
            containerd: ContainerdMetadata(stateRoot: root.appendingPathComponent("containerd").path),
            runc: RuncState(root: root.appendingPathComponent("runc").path))
    }

    /// A private copy of the tree for tests that remove containers.
    static func scratchCopy() throws -> URL {
        let scratch = FileManager.default.temporaryDirectory
            .appendingPathComponent("attribution-\(UUID().uuidString)")
        try FileManager.default.copyItem(at: root, to: scratch)
        return scratch
    }
}
