import Foundation
import Glibc
import LabSupport
import Testing

/// `tracer netns` and `tracer pid`, the built binary, on the dual-stack egress lab: c1's IPv6
/// address and its IPv6 default route beside IPv4, in the tables and in the JSON; `tracer
/// containers` on a real podman container on an IPv6 network.
// iptables-nft stands for the iptables package, which brings ip6tables-nft too (the lab's NAT66).
@Suite(.requires(TracerBinary.isRoot && FileManager.default.isExecutableFile(atPath: "/usr/sbin/iptables-nft"),
                 "SKIPPED LOUDLY: the dual-stack lab needs root, iproute2 and iptables (tools/setup.sh --test)"))
struct DualStackTests {
    func json(_ text: String) -> [[String: Any]] {
        text.split(separator: "\n").map { (try? JSONSerialization.jsonObject(with: Data($0.utf8))) as? [String: Any] ?? ["invalid": String($0)] }
    }

    /// A `sleep` in c1's namespace, so that `tracer pid` has a process there; killed by its pid.
    func sleeper(in lab: EgressLab) throws -> ChildProcess {
        let child = try ChildProcess.spawn(["/usr/bin/nsenter", "--net=/run/netns/\(lab.endpointNetns)", "/bin/sleep", "120"])
        // nsenter execs sleep in place: the same pid, once it is inside.
        var st = stat()
        for _ in 0..<100 {
            if stat("/proc/\(child.pid)/ns/net", &st) == 0, String(st.st_ino) == lab["c1_netns_inode"],
               (try? String(contentsOfFile: "/proc/\(child.pid)/comm", encoding: .utf8)) == "sleep\n" { break }
            usleep(20_000)
        }
        return child
    }

    @Test func netnsAndPidShowC1sIPv6AddressAndDefaultRoute() throws {
        let lab = try EgressLab.up("d6n\(getpid() % 100000)", ipv6: true)
        defer { lab.down() }
        let sleep = try sleeper(in: lab)
        defer {
            kill(sleep.pid, SIGKILL)
            sleep.wait()
        }
        let netnsPath = "/run/netns/\(lab.endpointNetns)"

        // tracer netns: c1's block, then its object.
        let table = try TracerBinary.run(["netns"], timeout: 60)
        #expect(table.status == 0, "\(table.stderr)")
        let blocks = table.stdout.components(separatedBy: "\n\n")
        let block = try #require(blocks.first { $0.hasPrefix("netns \(lab["c1_netns_inode"] ?? "?")  \(netnsPath)") }, "\(table.stdout)")
        let eth0 = try #require(block.split(separator: "\n").first { $0.hasPrefix("  eth0 ") }, "\(block)")
        #expect(eth0.contains(" 172.17.0.2/16 fd00:17::2/64  peer veth-c1 "), "\(eth0)")
        #expect(!eth0.contains("fe80:"), "link-local is left to the JSON")
        #expect(block.contains("\n  default route: via 172.17.0.1 dev eth0\n  ipv6 default route: via fd00:17::1 dev eth0\n"), "\(block)")

        let netns = try TracerBinary.run(["netns", "--output", "json"], timeout: 60)
        #expect(netns.status == 0, "\(netns.stderr)")
        let objects = json(netns.stdout)
        #expect(!objects.contains { $0["invalid"] != nil }, "\(netns.stdout)")
        let c1 = try #require(objects.first { ($0["names"] as? [String])?.contains(netnsPath) == true }, "\(netns.stdout)")
        try expectDualStack(c1, "tracer netns")

        // tracer pid on the sleep inside c1.
        let pid = try TracerBinary.run(["pid", String(sleep.pid)])
        #expect(pid.status == 0, "\(pid.stderr)")
        let eth0Row = try #require(pid.lines.first { $0.hasPrefix("  eth0:") }, "\(pid.stdout)")
        #expect(eth0Row.contains(" 172.17.0.2/16 fd00:17::2/64  peer veth-c1 ") && !eth0Row.contains("fe80:"), "\(eth0Row)")
        #expect(pid.lines.contains("default route:    via 172.17.0.1 dev eth0"), "\(pid.stdout)")
        #expect(pid.lines.contains("ipv6 default route: via fd00:17::1 dev eth0"), "\(pid.stdout)")

        let report = try TracerBinary.run(["pid", String(sleep.pid), "--output", "json"])
        #expect(report.status == 0, "\(report.stderr)")
        let object = try #require(json(report.stdout).first)
        #expect(object["invalid"] == nil, "\(report.stdout)")
        let netnsObject = try #require(object["netns"] as? [String: Any], "\(report.stdout)")
        #expect((netnsObject["names"] as? [String])?.contains(netnsPath) == true)
        try expectDualStack(netnsObject, "tracer pid")
    }

    /// A real podman container on a network made with `podman network create --ipv6`: `tracer
    /// containers` names it with its IPv6 address, in the IPV6 column and in the JSON.
    @Test(.runtimesInstalled) func containersShowsAPodmanContainersIPv6Address() throws {
        let name = "d6pod\(getpid() % 100000)"
        let lab = try ContainerLab.up("podman", name: name, ipv6: true)
        defer { lab.down() }
        let ip6 = try #require(lab.facts["container_ip6"], "\(lab.facts)")
        #expect(ip6 == "fd00:d6::2/64")

        let table = try TracerBinary.run(["containers"] + lab.tracerFlags)
        #expect(table.status == 0, "\(table.stderr)")
        let header = try #require(table.lines.first)
        let row = try #require(table.lines.first { $0.hasPrefix("podman") && $0.contains(" \(name) ") }, "\(table.stdout)")
        #expect(row.hasSuffix(" \(lab.facts["container_ip"] ?? "?")       \(ip6)"), "\(row)")
        #expect(!row.contains("fe80:"), "link-local is left to the JSON")
        #expect(header.hasSuffix(" IPV4               IPV6"), "\(header)")

        let listing = try TracerBinary.run(["containers", "--output", "json"] + lab.tracerFlags)
        #expect(listing.status == 0, "\(listing.stderr)")
        let objects = json(listing.stdout)
        #expect(!objects.contains { $0["invalid"] != nil }, "\(listing.stdout)")
        let entry = try #require(objects.first { ($0["container"] as? [String: Any])?["name"] as? String == name }, "\(listing.stdout)")
        let ipv6 = entry["ipv6"] as? [String] ?? []
        #expect(ipv6.first == ip6 && ipv6.dropFirst().allSatisfy { $0.hasPrefix("fe80:") } && ipv6.count == 2, "\(entry)")
        #expect(entry["ipv4"] as? [String] == [lab.facts["container_ip"] ?? "?"], "\(entry)")

        // tracer pid on its init: the IPv6 default route netavark gave it, via the network's gateway.
        let pid = try TracerBinary.run(["pid", String(lab.initPID)] + lab.tracerFlags)
        #expect(pid.lines.contains("ipv6 default route: via fd00:d6::1 dev eth0"), "\(pid.stdout)")
    }

    /// eth0 with fd00:17::2/64 and its link-local address, both default routes by eth0.
    func expectDualStack(_ object: [String: Any], _ command: String) throws {
        let interfaces = try #require(object["interfaces"] as? [[String: Any]], "\(command): \(object)")
        let eth0 = try #require(interfaces.first { $0["name"] as? String == "eth0" }, "\(command): \(interfaces)")
        let ipv6 = eth0["ipv6"] as? [String] ?? []
        #expect(ipv6.contains("fd00:17::2/64"), "\(command): \(eth0)")
        #expect(ipv6.contains { $0.hasPrefix("fe80:") }, "\(command): the link-local address is kept in JSON: \(eth0)")
        #expect(eth0["ipv4"] as? [String] == ["172.17.0.2/16"], "\(command): \(eth0)")
        let v6 = try #require(object["ipv6_default_route"] as? [String: Any], "\(command): \(object)")
        #expect(v6["gateway"] as? String == "fd00:17::1" && v6["device"] as? String == "eth0", "\(command): \(v6)")
        let v4 = try #require(object["default_route"] as? [String: Any], "\(command): \(object)")
        #expect(v4["gateway"] as? String == "172.17.0.1" && v4["device"] as? String == "eth0", "\(command): \(v4)")
    }
}
