import Foundation
import Glibc
import LabSupport
import Testing

/// `tracer egress --container` on a real podman and a real docker container on IPv6 networks
/// (issue #14): each container's IPv6 flow to a world behind its runtime lab's namespace
/// (`egress.sh uplink NAME HOSTNS --ipv6`) is followed to its reply through the runtime's own
/// NAT66; with IPv6 forwarding off in that namespace (never the root one) the flow stops at the
/// bridge, the finding is ipv6-forwarding-disabled and names the container, and its fix, pasted,
/// lets the container's ping through again.
@Suite(.serialized, .requires(TracerBinary.isRoot && FileManager.default.isExecutableFile(atPath: "/usr/sbin/iptables-nft"),
                             "SKIPPED LOUDLY: tracer egress on real IPv6 containers needs root, iproute2, iptables, podman, docker.io and busybox (tools/setup.sh --test)"))
struct DualStackEgressTests {
    func json(_ text: String) -> [[String: Any]] {
        text.split(separator: "\n").map { (try? JSONSerialization.jsonObject(with: Data($0.utf8))) as? [String: Any] ?? ["invalid": String($0)] }
    }

    static let runtimes = (ProcessInfo.processInfo.environment["TRACER_LAB_RUNTIMES"]?.split(separator: ",").map(String.init)
        ?? ["podman", "docker"]).filter { $0 == "podman" || $0 == "docker" }

    /// The container's TCP flow to the world's listener, as the stage lines give it.
    func tcpStage(_ lines: [[String: Any]], to world: String) -> [String: Any]? {
        lines.first {
            let tuple = $0["tuple"] as? [String: Any]
            return $0["type"] as? String == "stage" && tuple?["proto"] as? String == "tcp" && tuple?["dst"] as? String == world
        }
    }

    func containerName(_ line: [String: Any]?) -> String? { (line?["container"] as? [String: Any])?["name"] as? String }

    @Test(.runtimesInstalled, arguments: runtimes)
    func aRealContainersIPv6FlowIsFollowedAndItsForwardingFixed(runtime: String) throws {
        let name = "r6\(runtime.prefix(3))\(getpid() % 10000)"
        let lab = try ContainerLab.up(runtime, name: name, ipv6: true)
        defer { lab.down() }
        let labNetns = try #require(lab.facts["netns"].map { URL(fileURLWithPath: $0).lastPathComponent }, "\(lab.facts)")
        let world = try EgressLab.uplink("r6w\(runtime.prefix(1))\(getpid() % 10000)", hostNetns: labNetns, ipv6: true)
        defer { world.down() }
        let address = try #require(lab.facts["container_ip6"]?.split(separator: "/").first.map(String.init), "\(lab.facts)")
        #expect(address == (runtime == "docker" ? "fd00:d7::2" : "fd00:d6::2"))
        let world6 = try #require(world["world_ip6"]), nat6 = try #require(world["uplink_ip6"])
        // The runtime masquerades its ULA itself: the lab added no NAT66 of its own.
        #expect(world["nat66"] == "runtime", "\(world.facts)")
        let connect = ["nc", "-w", "1", world6, "8080"]
        let ping = ["ping", "-6", "-c", "1", "-W", "1", world6]
        #expect(try lab.exec(connect) == 0, "the container cannot reach [\(world6)]:8080 before any break")
        // tracer egress on the container while it connects to the world twice: on a loaded
        // machine the tracer may attach after the first connection.
        let trace = {
            try TracerBinary.run(["egress", "--container", name, "--duration", "8s", "--output", "json"] + lab.tracerFlags,
                                 timeout: 60, whileRunning: {
                                     usleep(1_500_000)
                                     _ = try lab.exec(connect)
                                     usleep(500_000)
                                     _ = try lab.exec(connect)
                                 })
        }

        // Healthy: the flow is complete, the container's, masqueraded to the uplink's address.
        let healthy = try trace()
        #expect(healthy.status == 0, "\(healthy.stdout)\(healthy.stderr)")
        let lines = json(healthy.stdout)
        #expect(!lines.contains { $0["invalid"] != nil }, "\(healthy.stdout)")
        let path = try #require(lines.first { $0["type"] as? String == "path" }, "\(healthy.stdout)\(healthy.stderr)")
        #expect(containerName(path) == name && path["endpoint"] as? String == name, "\(path)")
        #expect((path["ipv6"] as? [String])?.contains(lab.facts["container_ip6"] ?? "?") == true, "\(path)")
        #expect(path["host_netns_path"] as? String == "/run/netns/\(labNetns)", "\(path)")
        let flow = try #require(tcpStage(lines, to: world6), "no IPv6 flow to \(world6): \(healthy.stdout)\(healthy.stderr)")
        #expect(flow["complete"] as? Bool == true, "\(flow)")
        #expect(flow["stage"] as? String == "reply-endpoint-rx", "\(flow)")
        #expect(flow["nat"] as? String == nat6, "NAT66 to the uplink's address: \(flow)")
        #expect((flow["tuple"] as? [String: Any])?["src"] as? String == address, "\(flow)")
        #expect(containerName(flow) == name && flow["endpoint"] as? String == name, "\(flow)")
        let stages = (flow["stages"] as? [[String: Any]] ?? []).map { $0["packets"] as? Int ?? 0 }
        #expect(stages.count == 8 && stages.allSatisfy { $0 >= 1 }, "\(flow)")
        #expect(!lines.contains { $0["type"] as? String == "finding" }, "\(healthy.stdout)")

        // IPv6 forwarding off in the runtime lab's namespace.
        try world.breakIt("ipv6-forwarding-disabled")
        let broken = try trace()
        #expect(broken.status == 2, "\(broken.stdout)\(broken.stderr)")
        let after = json(broken.stdout)
        let stopped = try #require(tcpStage(after, to: world6), "no IPv6 flow to \(world6): \(broken.stdout)\(broken.stderr)")
        #expect(stopped["complete"] as? Bool == false && stopped["stage"] as? String == "bridge-rx", "\(stopped)")
        #expect(stopped["reason"] as? String == "IP_INADDRERRORS" && stopped["location"] as? String == "ip6_forward", "\(stopped)")
        #expect((stopped["tuple"] as? [String: Any])?["src"] as? String == address, "\(stopped)")
        #expect(containerName(stopped) == name, "\(stopped)")
        let drop = try #require(after.first { $0["type"] as? String == "drop" }, "\(broken.stdout)")
        #expect(containerName(drop) == name && drop["endpoint"] as? String == name, "\(drop)")
        let finding = try #require(after.first { $0["type"] as? String == "finding" }, "\(broken.stdout)\(broken.stderr)")
        #expect(finding["code"] as? String == "ipv6-forwarding-disabled" && finding["severity"] as? String == "error", "\(finding)")
        #expect(finding["endpoint"] as? String == name, "\(finding)")
        let container = try #require(finding["container"] as? [String: Any], "\(finding)")
        #expect(container["name"] as? String == name && container["runtime"] as? String == runtime && container["id"] as? String == lab.id,
                "\(container)")
        #expect(finding["netns_path"] as? String == "/run/netns/\(labNetns)", "\(finding)")
        let fix = try #require(finding["fix"] as? String, "\(finding)")
        #expect(fix == "nsenter --net=/run/netns/\(labNetns) sysctl -w net.ipv6.conf.all.forwarding=1", "\(fix)")
        #expect(try lab.exec(ping) != 0, "the ping got through with IPv6 forwarding off")

        // The fix, pasted, lets the container's ping (and its connection) through again.
        let pasted = try LabShell.run(["-c", fix])
        #expect(pasted.status == 0, "\(fix): \(pasted.output)")
        #expect(try lab.exec(ping) == 0, "still broken after \(fix)")
        #expect(try lab.exec(connect) == 0, "still broken after \(fix)")
    }
}
