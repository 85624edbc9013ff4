import Foundation
import Glibc
import LabSupport
import Testing

/// `tracer diagnose`, the built binary, on the egress lab and on real podman and docker networks.
@Suite(.serialized, .requires(TracerBinary.isRoot && FileManager.default.isExecutableFile(atPath: "/usr/sbin/iptables-nft"),
                             "SKIPPED LOUDLY: tracer diagnose on the labs needs root, iproute2, iptables-nft and busybox (tools/setup.sh --test)"))
struct DiagnoseTests {
    func json(_ text: String) -> [[String: Any]] {
        text.split(separator: "\n").map { (try? JSONSerialization.jsonObject(with: Data($0.utf8))) as? [String: Any] ?? ["invalid": String($0)] }
    }

    @Test func brokenLabGivesAFindingInJSONAndExitTwo() throws {
        let lab = try EgressLab.up(EgressLab.uniqueName("e"))
        defer { lab.down() }
        let healthy = try TracerBinary.run(["diagnose", "--netns", lab.endpointNetns])
        #expect(healthy.status == 0, "\(healthy.stdout)\(healthy.stderr)")
        #expect(healthy.stdout.contains("-> veth-c1 -> br-lab -> uplink0"), "\(healthy.stdout)")
        #expect(!healthy.stdout.contains("ERROR"))

        try lab.breakIt("bridge-down")
        let result = try TracerBinary.run(["diagnose", "--netns", lab.endpointNetns, "--output", "json"])
        #expect(result.status == 2, "\(result.stderr)")
        let lines = json(result.stdout)
        #expect(!lines.contains { $0["invalid"] != nil }, "\(result.stdout)")
        let path = try #require(lines.first { $0["type"] as? String == "path" })
        #expect(path["endpoint"] as? String == lab.endpointNetns)
        #expect(path["host_netns_path"] as? String == "/run/netns/\(lab.hostNetns)")
        #expect(path["bridge"] as? String == "br-lab")
        let finding = try #require(lines.first { $0["code"] as? String == "bridge-down" }, "\(result.stdout)")
        #expect(finding["type"] as? String == "finding")
        #expect(finding["severity"] as? String == "error")
        #expect(finding["device"] as? String == "br-lab")
        #expect(finding["container"] is NSNull)
        #expect(finding["endpoint"] as? String == lab.endpointNetns)
        #expect(finding["netns_path"] as? String == "/run/netns/\(lab.hostNetns)")
        #expect(finding["fix"] as? String == "ip -n \(lab.hostNetns) link set br-lab up")
        let summary = try #require(lines.last)
        #expect(summary["type"] as? String == "summary")
        #expect((summary["errors"] as? Int ?? 0) >= 1)

        // The host side selects the endpoints behind it; the table names the finding and its fix.
        let table = try TracerBinary.run(["diagnose", "--netns", lab.hostNetns])
        #expect(table.status == 2)
        #expect(table.stdout.contains("ERROR    bridge-down"), "\(table.stdout)")
        #expect(table.stdout.contains("fix:      ip -n \(lab.hostNetns) link set br-lab up"))
    }

    @Test func unknownContainerAndNamespaceExitWithTheirCodes() throws {
        let container = try TracerBinary.run(["diagnose", "--container", "no-such-container-\(getpid())"])
        #expect(container.status == 4)
        #expect(container.stderr.contains("no running container named or with id prefix 'no-such-container-"))
        #expect(container.stderr.split(separator: "\n").count == 1, "one line: \(container.stderr)")
        let lab = try EgressLab.up(EgressLab.uniqueName("u"))
        defer { lab.down() }
        let netns = try TracerBinary.run(["diagnose", "--netns", "tel-\(lab.name)-c7"])
        #expect(netns.status == 5)
        #expect(netns.stderr.contains("no network namespace named 'tel-\(lab.name)-c7'; closest:"), "\(netns.stderr)")
        #expect(netns.stderr.contains("tel-\(lab.name)-c1"))
        let usage = try TracerBinary.run(["diagnose", "--output", "yaml"])
        #expect(usage.status == 64)
    }

    /// The dual-stack lab through the binary: healthy, no IPv6 finding and exit 0; each IPv6 break
    /// an error with its code in JSON and exit 2; the printed fix, pasted, brings exit 0 back.
    @Test(arguments: EgressLab.ipv6Modes.map(\.mode))
    func ipv6BreaksThroughTheBinary(mode: String) throws {
        let expected = try #require(EgressLab.ipv6Modes.first { $0.mode == mode })
        let lab = try healthyDualStackLab("6e")
        defer { lab.down() }
        try lab.breakIt(mode)
        let broken = try TracerBinary.run(["diagnose", "--netns", lab.endpointNetns, "--output", "json"])
        #expect(broken.status == 2, "\(mode): \(broken.stdout)")
        let lines = json(broken.stdout)
        #expect(!lines.contains { $0["invalid"] != nil }, "\(broken.stdout)")
        let finding = try #require(lines.first { $0["code"] as? String == expected.code }, "\(mode): \(broken.stdout)")
        #expect(finding["severity"] as? String == "error")
        #expect(finding["netns_path"] as? String == "/run/netns/\(expected.side == "host" ? lab.hostNetns : lab.endpointNetns)")
        #expect(finding["device"] as? String == expected.device)
        let fix = try #require(finding["fix"] as? String)
        #expect(try LabShell.run(["-c", fix]).status == 0, "\(fix)")
        var repaired = false
        for _ in 0..<40 where !repaired {
            repaired = try TracerBinary.run(["diagnose", "--netns", lab.endpointNetns]).status == 0 && (try lab.probe(size: 1232, ipv6: true))
            if !repaired { usleep(100_000) }
        }
        #expect(repaired, "\(mode): still broken after \(fix)")
    }

    /// A dual-stack lab whose IPv6 answers, as diagnose sees it: exit 0, no IPv6 finding, nothing
    /// on standard error. Taken down by the caller.
    func healthyDualStackLab(_ tag: String) throws -> EgressLab {
        let lab = try EgressLab.up(EgressLab.uniqueName(tag), ipv6: true)
        #expect(try lab.probe(ipv6: true))
        let healthy = try TracerBinary.run(["diagnose", "--netns", lab.endpointNetns, "--output", "json"])
        #expect(healthy.status == 0, "\(healthy.stdout)")
        #expect(!healthy.stdout.contains("\"code\":\"ipv6-") && !healthy.stdout.contains("endpoint-ipv6-")
                    && !healthy.stdout.contains("\"family\":\"ipv6\""), "\(healthy.stdout)")
        // The lab's NAT66 is an ip6tables-nft MASQUERADE that libxtables cannot translate: its own
        // "XT target MASQUERADE not found" is taken from standard error, not shown.
        #expect(!healthy.stderr.contains("XT target"), "\(healthy.stderr)")
        return lab
    }

    /// The IPv6 firewall, NAT66 and neighbour breaks through the binary: the finding in JSON with
    /// `family` ipv6 and its severity (exit 2 for an error, 0 for the gateway's warning), no IPv4
    /// finding at error, and the printed fix, pasted, makes IPv6 answer again with IPv4 untouched.
    @Test(arguments: EgressLab.ipv6FirewallModes.map(\.mode))
    func ipv6FirewallBreaksThroughTheBinary(mode: String) throws {
        let expected = try #require(EgressLab.ipv6FirewallModes.first { $0.mode == mode })
        let lab = try healthyDualStackLab("6w")
        defer { lab.down() }
        try lab.breakIt(mode)
        #expect(try !lab.probe(ipv6: true), "\(mode) did not break IPv6")
        let broken = try TracerBinary.run(["diagnose", "--netns", lab.endpointNetns, "--output", "json"])
        #expect(broken.status == (expected.severity == "error" ? 2 : 0), "\(mode): \(broken.stdout)\(broken.stderr)")
        let lines = json(broken.stdout)
        #expect(!lines.contains { $0["invalid"] != nil }, "\(broken.stdout)")
        let finding = try #require(lines.first { $0["code"] as? String == expected.code && $0["family"] as? String == "ipv6" },
                                   "\(mode): \(broken.stdout)")
        #expect(finding["severity"] as? String == expected.severity)
        #expect(finding["device"] as? String == expected.device)
        #expect(finding["netns_path"] as? String == "/run/netns/\(lab.hostNetns)")
        #expect(!lines.contains { $0["family"] as? String == "ipv4" && $0["severity"] as? String == "error" }, "\(broken.stdout)")
        let fix = try #require(finding["fix"] as? String)
        #expect(try LabShell.run(["-c", fix]).status == 0, "\(fix)")
        #expect(try lab.probeSettles(ipv6: true), "\(mode): still broken after \(fix)")
        #expect(try lab.probe(), "\(mode): IPv4 after \(fix)")
        let after = try TracerBinary.run(["diagnose", "--netns", lab.endpointNetns, "--output", "json"])
        #expect(after.status == 0 && !after.stdout.contains("\"family\":\"ipv6\""), "\(mode) after \(fix): \(after.stdout)")
    }

    /// The lab's world is reached through the host side's uplink: checked as an endpoint it got
    /// errors whose fixes would add a default route and a MASQUERADE there. It is said to be no
    /// endpoint instead, by diagnose and egress alike, with the unknown-namespace exit code.
    @Test func aNamespaceUpstreamOfAHostSideIsNoEndpoint() throws {
        let lab = try EgressLab.up(EgressLab.uniqueName("w"))
        defer { lab.down() }
        let world = "tel-\(lab.name)-world"
        for command in ["diagnose", "egress"] {
            let result = try TracerBinary.run([command, "--netns", world, "--duration", "1s"].filter { command == "egress" || ($0 != "--duration" && $0 != "1s") })
            #expect(result.status == 5, "\(command): exit \(result.status): \(result.stdout)\(result.stderr)")
            let lines = result.stderr.split(separator: "\n")
            #expect(lines.count == 1, "\(result.stderr)")
            #expect(result.stderr.hasPrefix("tracer \(command): \(world) is not an endpoint: its veth wan0 leads to uplink0 in \(lab.hostNetns)"), "\(result.stderr)")
            #expect(result.stderr.contains("upstream of that host side"))
            #expect(!result.stdout.contains("MASQUERADE") && !result.stdout.contains("route add default"), "\(result.stdout)")
        }
        // Its host side still selects the endpoint behind it.
        let host = try TracerBinary.run(["diagnose", "--netns", lab.hostNetns, "--output", "json"])
        #expect(host.status == 0, "\(host.stderr)")
        #expect(host.stdout.contains("\"endpoint\":\"\(lab.endpointNetns)\""), "\(host.stdout)")
    }

    static let runtimes = (ProcessInfo.processInfo.environment["TRACER_LAB_RUNTIMES"]?.split(separator: ",").map(String.init)
        ?? ["podman", "docker"]).filter { $0 == "podman" || $0 == "docker" }

    /// The runtime's own bridge network (netavark's podman0, dockerd's docker0) in its lab netns,
    /// with a world behind it: healthy, then broken there; the finding names the container.
    @Test(.requires(FileManager.default.fileExists(atPath: "/usr/bin/runc"), "SKIPPED LOUDLY: needs podman, docker.io and runc (tools/setup.sh --test)"),
          arguments: runtimes)
    func runtimeBridgeNetworks(runtime: String) throws {
        let name = "dg\(runtime.prefix(3))\(getpid() % 10000)"
        let lab = try ContainerLab.up(runtime, name: name)
        defer { lab.down() }
        let labNetns = try #require(lab.facts["netns"].map { URL(fileURLWithPath: $0).lastPathComponent })
        let world = try EgressLab.uplink("dgw\(runtime.prefix(1))\(getpid() % 10000)", hostNetns: labNetns)
        defer { world.down() }
        let bridge = runtime == "podman" ? "podman0" : "docker0"

        let healthy = try TracerBinary.run(["diagnose", "--container", name, "--output", "json"] + lab.tracerFlags)
        let lines = json(healthy.stdout)
        #expect(healthy.status == 0, "\(healthy.stdout)\(healthy.stderr)")
        let path = try #require(lines.first { $0["type"] as? String == "path" }, "\(healthy.stdout)\(healthy.stderr)")
        #expect((path["container"] as? [String: Any])?["name"] as? String == name)
        #expect(path["host_netns_path"] as? String == "/run/netns/\(labNetns)")
        #expect(path["host_veth"] as? String == lab.facts["host_veth"])
        #expect(path["bridge"] as? String == bridge)
        #expect(path["uplink"] as? String == "uplink0")
        #expect(!lines.contains { $0["severity"] as? String == "error" }, "\(healthy.stdout)")

        // Broken in the lab netns, the way an operator would break it.
        let (breakage, code, device): ([String], String, String?) = runtime == "podman"
            ? (["sysctl", "-qw", "net.ipv4.ip_forward=0"], "ip-forward-disabled", nil)
            : (["ip", "link", "set", bridge, "down"], "bridge-down", bridge)
        #expect(try EgressLab.inNamespace(labNetns, breakage) == 0)
        let broken = try TracerBinary.run(["diagnose", "--container", name, "--output", "json"] + lab.tracerFlags)
        #expect(broken.status == 2, "\(broken.stdout)\(broken.stderr)")
        let finding = try #require(json(broken.stdout).first { $0["code"] as? String == code }, "\(broken.stdout)")
        #expect((finding["container"] as? [String: Any])?["name"] as? String == name)
        #expect((finding["container"] as? [String: Any])?["runtime"] as? String == runtime)
        #expect(finding["device"] as? String == device)
        #expect(finding["netns_path"] as? String == "/run/netns/\(labNetns)")
    }
}
