import Foundation
import Glibc
import LabSupport
import Testing
@testable import TracerCore

/// Real docker and podman containers with published ports (tools/lab/containers.sh with
/// TRACERLAB_PUBLISH, each runtime in a network namespace of its own): the ports read from the
/// runtime's files on disk and from the DNAT rules of the lab's namespace agree, and the host
/// port a runtime chose for `-p 82` is the one its own CLI reports.
@Suite(.serialized, .requires(EgressLab.canRunFirewall, EgressLab.firewallReason))
struct PublishedPortLabTests {
    static let containers = TestPrograms.root.appendingPathComponent("tools/lab/containers.sh").path

    static func up(_ runtime: String, _ name: String, publish: String) throws -> [String: String] {
        let (status, output) = try LabShell.run([containers, "up", runtime, name], environment: ["TRACERLAB_PUBLISH=\(publish)"])
        guard status == 0 else { throw LabShell.Failure("containers.sh up \(runtime) \(name): \(output)") }
        return LabShell.facts(output)
    }

    static func down(_ runtime: String, _ name: String) {
        _ = try? LabShell.run([containers, "down", runtime, name])
    }

    @Test(.requires(access("/usr/sbin/dockerd", X_OK) == 0, "SKIPPED LOUDLY: needs dockerd (tools/setup.sh --test)"))
    func dockerMetadataAndRulesAgree() throws {
        defer { Self.down("docker", "ppd") }
        let facts = try Self.up("docker", "ppd", publish: "8080:80 127.0.0.1:8081:81/udp 82")
        let root = try #require(facts["docker_root"])
        let netns = try #require(facts["netns"])
        let id = try #require(facts["id"])

        let runtime = DockerMetadata(root: root).publishedPorts()
        #expect(runtime.unchecked.isEmpty)
        let reading = RulesetReader.read(netnsPath: netns)
        let rules = PublishedPort.dnatPorts(in: reading.ruleset)
        let merged = PublishedPort.merged(runtime: runtime.ports, rules: rules)

        let random = try #require(runtime.ports.first { $0.containerPorts == PortRange(82) })
        // The port dockerd chose, as docker's own CLI tells it.
        let host = try #require(facts["docker_host"])
        let cli = try shell(["/usr/bin/docker", "-H", host, "port", "ppd", "82/tcp"])
        #expect(cli.split(separator: "\n").first.map(String.init) == "0.0.0.0:\(random.hostPorts)")

        #expect(merged.count == 3, "\(merged)")
        #expect(merged.allSatisfy { $0.agreement == .runtimeAndRule && $0.container?.id == id }, "\(merged)")
        let ip = try #require(facts["container_ip"])
        let address = try #require(IPPrefix(ip)).address
        #expect(merged.allSatisfy { $0.containerAddress == address })
        let web = try #require(merged.first { $0.hostPorts == PortRange(8080) })
        #expect(web.rules.map(\.chain) == ["DOCKER"] && web.rules[0].hooks.contains("prerouting"))
        #expect(web.rules[0].backend == .iptablesNft && web.rules[0].handle != nil)
        #expect(merged.first { $0.transport == .udp }?.hostAddress == .address(IPAddress(127, 0, 0, 1)))

        // A firewall reload that drops docker's chain leaves what the runtime meant, and says so.
        try shell(["/usr/bin/nsenter", "--net=\(netns)", "iptables-nft", "-t", "nat", "-F", "DOCKER"])
        let flushed = PublishedPort.merged(runtime: runtime.ports, rules: PublishedPort.dnatPorts(in: RulesetReader.read(netnsPath: netns).ruleset))
        #expect(flushed.count == 3 && flushed.allSatisfy { $0.agreement == .runtimeOnly }, "\(flushed)")
    }

    @Test(.requires(access("/usr/bin/podman", X_OK) == 0, "SKIPPED LOUDLY: needs podman (tools/setup.sh --test)"))
    func podmanDatabaseAndNetavarkRulesAgree() throws {
        defer { Self.down("podman", "ppp") }
        let facts = try Self.up("podman", "ppp", publish: "8080:80 127.0.0.1:8081:81/udp 82 9000-9001:90-91")
        let graphRoot = try #require(facts["podman_graphroot"])
        let netns = try #require(facts["netns"])
        let id = try #require(facts["id"])

        let runtime = PodmanMetadata(graphRoot: graphRoot).publishedPorts()
        #expect(runtime.unchecked.isEmpty)
        #expect(runtime.ports.count == 4, "\(runtime.ports)")
        let rules = PublishedPort.dnatPorts(in: RulesetReader.read(netnsPath: netns).ruleset)
        let merged = PublishedPort.merged(runtime: runtime.ports, rules: rules)
        #expect(merged.count == 4, "\(merged)")
        #expect(merged.allSatisfy { $0.agreement == .runtimeAndRule && $0.container?.id == id && $0.container?.name == "ppp" }, "\(merged)")
        // netavark names the container in its comments: the rules alone know whose port it is.
        #expect(rules.allSatisfy { $0.rules.first?.containerID == id }, "\(rules)")
        let ip = try #require(facts["container_ip"])
        let address = try #require(IPPrefix(ip)).address
        #expect(merged.allSatisfy { $0.containerAddress == address })
        let range = try #require(merged.first { $0.hostPorts.first == 9000 })
        #expect(range.hostPorts.count == 2 && range.containerPort(forHostPort: 9001) == 91)

        // The port podman chose for `-p 82`, as podman's own CLI tells it.
        let random = try #require(runtime.ports.first { $0.containerPorts == PortRange(82) })
        let conf = try #require(facts["podman_containers_conf"])
        let storage = try #require(facts["podman_storage_conf"])
        let (status, cli) = try LabShell.run(["-c", "podman port ppp 82/tcp"],
                                             environment: ["CONTAINERS_CONF=\(conf)", "CONTAINERS_STORAGE_CONF=\(storage)"])
        #expect(status == 0)
        #expect(cli.split(separator: "\n").first.map(String.init) == "0.0.0.0:\(random.hostPorts)")
    }
}
