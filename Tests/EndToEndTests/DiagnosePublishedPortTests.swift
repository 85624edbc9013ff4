import Foundation
import Glibc
import LabSupport
import Testing

/// `tracer diagnose`'s published-port checks, the built binary, on the egress lab's inbound half
/// (`egress.sh publish` and its break modes) and on real docker and podman containers with `-p`.
@Suite(.serialized, .requires(TracerBinary.isRoot && FileManager.default.isExecutableFile(atPath: "/usr/sbin/iptables-nft"),
                             "SKIPPED LOUDLY: tracer diagnose on the labs needs root, iproute2, iptables-nft, conntrack and busybox (tools/setup.sh --test)"))
struct DiagnosePublishedPortTests {
    func json(_ text: String) -> [[String: Any]] {
        text.split(separator: "\n").map { (try? JSONSerialization.jsonObject(with: Data($0.utf8))) as? [String: Any] ?? ["invalid": String($0)] }
    }

    func ports(_ lines: [[String: Any]]) -> [[String: Any]] { lines.filter { $0["type"] as? String == "published_port" } }

    func findings(_ lines: [[String: Any]], port: String) -> [[String: Any]] {
        lines.filter { $0["type"] as? String == "finding" && $0["published_port"] as? String == port }
    }

    static func publish(_ lab: EgressLab) throws {
        let (status, output) = try LabShell.run([EgressLab.script, "publish", lab.name])
        guard status == 0 else { throw LabShell.Failure("egress.sh publish \(lab.name) failed: \(output)") }
    }

    /// The lab's three ports, healthy; then a FORWARD drop of new connections from the uplink
    /// (the same code a trace gives), the uplink's forwarding off, and a stale UDP entry.
    @Test func egressLabPortsAndTheirBreakages() throws {
        let lab = try EgressLab.up(EgressLab.uniqueName("pp"))
        defer { lab.down() }
        try Self.publish(lab)
        let healthy = try TracerBinary.run(["diagnose", "--netns", lab.hostNetns, "--output", "json"])
        #expect(healthy.status == 0, "\(healthy.stdout)\(healthy.stderr)")
        let lines = json(healthy.stdout)
        #expect(!lines.contains { $0["invalid"] != nil })
        let listed = ports(lines).map { "\($0["transport"] ?? "") \($0["host_address"] ?? ""):\($0["host_ports"] ?? "") -> \($0["container_address"] ?? ""):\($0["container_ports"] ?? "")" }
        #expect(Set(listed) == ["tcp 198.51.100.2:1222 -> 172.17.0.2:22", "tcp 198.51.100.2:5201 -> 172.17.0.2:5201",
                                "udp 198.51.100.2:1253 -> 172.17.0.2:53"], "\(healthy.stdout)")
        #expect(ports(lines).allSatisfy { $0["agreement"] as? String == "rule-only" && $0["endpoint"] as? String == lab.endpointNetns })
        #expect(lines.filter { $0["published_port"] != nil }.isEmpty, "\(healthy.stdout)")
        #expect(lines.last?["published_ports"] as? Int == 3)

        try lab.breakIt("stale-conntrack")
        let stale = try TracerBinary.run(["diagnose", "--netns", lab.hostNetns, "--output", "json"])
        let entry = try #require(findings(json(stale.stdout), port: "udp 198.51.100.2:1253").first { $0["code"] as? String == "stale-conntrack" },
                                 "\(stale.stdout)")
        #expect((entry["message"] as? String)?.contains("lead to 198.51.100.2, not 172.17.0.2") == true, "\(entry)")
        let fix = try #require(entry["fix"] as? String)
        #expect(fix == "nsenter --net=/run/netns/\(lab.hostNetns) conntrack -D -p udp --orig-port-dst 1253 --reply-src 198.51.100.2")
        // The fix, pasted, clears it.
        #expect(try LabShell.run(["-c", fix]).status == 0)
        let cleared = try TracerBinary.run(["diagnose", "--netns", lab.hostNetns, "--output", "json"])
        #expect(!cleared.stdout.contains("stale-conntrack"), "\(cleared.stdout)")

        try lab.breakIt("dnat-forward-drop")
        let dropped = try TracerBinary.run(["diagnose", "--netns", lab.hostNetns, "--output", "json"])
        #expect(dropped.status == 2, "\(dropped.stdout)\(dropped.stderr)")
        let drop = try #require(findings(json(dropped.stdout), port: "tcp 198.51.100.2:1222").first, "\(dropped.stdout)")
        #expect(drop["code"] as? String == "forward-rule-drop" && drop["severity"] as? String == "error", "\(drop)")
        #expect((drop["message"] as? String)?.contains("drops inbound tcp 198.51.100.2:1222 -> 172.17.0.2:22") == true, "\(drop)")
        // The endpoint's own egress is not what that rule drops.
        #expect(!json(dropped.stdout).contains { $0["type"] as? String == "finding" && $0["published_port"] == nil && $0["code"] as? String == "forward-rule-drop" },
                "\(dropped.stdout)")

        #expect(try EgressLab.inNamespace(lab.hostNetns, ["sysctl", "-qw", "net.ipv4.conf.uplink0.forwarding=0"]) == 0)
        let table = try TracerBinary.run(["diagnose", "--netns", lab.hostNetns])
        #expect(table.stdout.contains("published tcp 198.51.100.2:1222 -> 172.17.0.2:22"), "\(table.stdout)")
        #expect(table.stdout.contains("ERROR    device-forwarding-disabled  uplink0      forwarding is off on uplink0 in \(lab.hostNetns): connections to tcp 198.51.100.2:1222"),
                "\(table.stdout)")
    }

    /// The field example: the allow-list of DNAT'd flows no longer "may drop egress" of the endpoint.
    @Test func theFieldAllowListIsNoEgressFinding() throws {
        let lab = try EgressLab.up(EgressLab.uniqueName("pa"))
        defer { lab.down() }
        try Self.publish(lab)
        try lab.breakIt("dnat-allowlist-miss")
        let result = try TracerBinary.run(["diagnose", "--netns", lab.hostNetns, "--output", "json"])
        let lines = json(result.stdout)
        let endpointDrops = lines.filter { $0["type"] as? String == "finding" && $0["published_port"] == nil
            && ($0["message"] as? String)?.contains("allowed_dnats") == true }
        #expect(endpointDrops.isEmpty, "\(result.stdout)")
        let inbound = try #require(findings(lines, port: "tcp 198.51.100.2:1222").first, "\(result.stdout)")
        #expect(inbound["code"] as? String == "forward-rule-drop")
        #expect((inbound["message"] as? String)?.hasPrefix("inet filter allowed_dnats (from forward) handle") == true, "\(inbound)")
    }

    static let runtimes = (ProcessInfo.processInfo.environment["TRACER_LAB_RUNTIMES"]?.split(separator: ",").map(String.init)
        ?? ["podman", "docker"]).filter { $0 == "podman" || $0 == "docker" }

    /// A real container of `runtime` with `-p 8080:80` in its lab namespace, and a world behind
    /// that namespace's uplink to connect from. The caller takes both down.
    static func publishedLab(_ runtime: String, prefix: String) throws -> (name: String, lab: ContainerLab, netns: String, world: EgressLab) {
        let name = "\(prefix)\(runtime.prefix(3))\(getpid() % 10000)"
        let lab = try ContainerLab.up(runtime, name: name, publish: "8080:80")
        guard let netns = lab.facts["netns"].map({ URL(fileURLWithPath: $0).lastPathComponent }) else {
            lab.down()
            throw LabShell.Failure("the \(runtime) lab named no netns: \(lab.facts)")
        }
        do {
            return (name, lab, netns, try EgressLab.uplink("\(prefix)w\(runtime.prefix(1))\(getpid() % 10000)", hostNetns: netns))
        } catch {
            lab.down()
            throw error
        }
    }

    /// A real container with `-p 8080:80`: listed with its container and runtime+rule; with the
    /// runtime's DNAT rules flushed in the lab's namespace (never the root one), the finding says
    /// so: dnat-missing, or the userland proxy that answers instead (docker-proxy).
    @Test(.runtimesInstalled, arguments: runtimes)
    func runtimePublishedPorts(runtime: String) throws {
        let (name, lab, labNetns, world) = try Self.publishedLab(runtime, prefix: "pp")
        defer { world.down(); lab.down() }

        let healthy = try TracerBinary.run(["diagnose", "--container", name, "--output", "json"] + lab.tracerFlags)
        let lines = json(healthy.stdout)
        let port = try #require(ports(lines).first { $0["host_ports"] as? String == "8080" && $0["transport"] as? String == "tcp" },
                                "\(healthy.stdout)\(healthy.stderr)")
        #expect(port["agreement"] as? String == "runtime+rule", "\(port)")
        #expect(port["container_ports"] as? String == "80")
        #expect((port["container"] as? [String: Any])?["name"] as? String == name)
        #expect(port["host_netns_path"] as? String == "/run/netns/\(labNetns)")
        #expect(port["container_address"] as? String == lab.facts["container_ip"].flatMap { $0.split(separator: "/").first.map(String.init) })
        let table = try TracerBinary.run(["diagnose", "--container", name] + lab.tracerFlags)
        #expect(table.stdout.contains("published tcp "), "\(table.stdout)")
        #expect(table.stdout.contains(":8080 -> \(port["container_address"] as? String ?? "?"):80  \(name) (\(runtime) "), "\(table.stdout)")

        // A firewall reload that lost the runtime's DNAT rules, inside the lab's namespace.
        let flush = runtime == "docker" ? ["iptables-nft", "-t", "nat", "-F", "DOCKER"] : ["iptables-nft", "-t", "nat", "-F", "NETAVARK-HOSTPORT-DNAT"]
        #expect(try EgressLab.inNamespace(labNetns, flush) == 0)
        let broken = try TracerBinary.run(["diagnose", "--container", name, "--output", "json"] + lab.tracerFlags)
        let after = json(broken.stdout)
        let flushed = ports(after).filter { $0["host_ports"] as? String == "8080" && $0["transport"] as? String == "tcp" }
        #expect(!flushed.isEmpty, "\(broken.stdout)")
        let codes = Set(after.filter { ($0["published_port"] as? String)?.hasSuffix(":8080") == true }.compactMap { $0["code"] as? String })
        if runtime == "docker" {
            #expect(flushed.allSatisfy { $0["agreement"] as? String == "runtime-only" }, "\(broken.stdout)")
            #expect(codes.contains("dnat-missing") || codes.contains("userland-proxy"), "\(broken.stdout)")
        } else {
            // netavark's per-container chain keeps its DNAT rule, but nothing jumps to it any more.
            #expect(codes == ["dnat-missing"], "\(broken.stdout)")
            let missing = try #require(after.first { $0["code"] as? String == "dnat-missing" })
            #expect((missing["evidence"] as? String)?.contains("in a chain no nat base chain reaches") == true, "\(missing)")
        }
        print("runtimePublishedPorts(\(runtime)): flushed: \(codes.sorted())")
        if codes.contains("dnat-missing") { #expect(broken.status == 2) }
        if let proxy = after.first(where: { $0["code"] as? String == "userland-proxy" }) {
            #expect((proxy["message"] as? String)?.contains("docker-proxy (pid ") == true, "\(proxy)")
        }
    }

    /// The field example on a real container's published port: the runtime's own DNAT and FORWARD
    /// chains, plus the operator's allow-list that misses the container. `tracer ingress` traces
    /// the client's SYN to its drop and gives the element; pasted, the SYN reaches the container
    /// (nothing listens on 80 there: it answers a reset instead of the timeout).
    @Test(.runtimesInstalled, arguments: runtimes)
    func anAllowListMissOnARealContainersPortIsTracedWithItsElement(runtime: String) throws {
        let (name, lab, labNetns, world) = try Self.publishedLab(runtime, prefix: "pa")
        defer { world.down(); lab.down() }
        let address = try #require(lab.facts["container_ip"].flatMap { $0.split(separator: "/").first.map(String.init) })
        let allowList = """
            table inet filter {
              set allow_in { type ipv4_addr . inet_service; }
              chain forward { type filter hook forward priority 0; policy accept; ct state established,related accept; ct status dnat jump allowed_dnats; }
              chain allowed_dnats { ip daddr . tcp dport @allow_in accept; drop; }
            }
            """
        let added = try LabShell.run(["-c", "ip netns exec \(labNetns) nft -f - <<'EOF'\n\(allowList)\nEOF"])
        #expect(added.status == 0, "\(added.output)")
        let client = try #require(world["world_netns"]), published = try #require(world["uplink_ip"])
        let connect = "ip netns exec \(client) timeout 2 bash -c 'exec 3<>/dev/tcp/\(published)/8080'"

        let traced = try TracerBinary.run(["ingress", "--container", name, "--port", "8080", "--duration", "8s", "--output", "json"] + lab.tracerFlags,
                                          whileRunning: {
                                              usleep(1_500_000)
                                              for _ in 0..<2 { _ = try LabShell.run(["-c", connect]) }
                                          })
        #expect(traced.status == 2, "\(traced.stdout)\(traced.stderr)")
        let lines = json(traced.stdout)
        let stage = try #require(lines.first { $0["type"] as? String == "stage" }, "\(traced.stdout)\(traced.stderr)")
        #expect(stage["direction"] as? String == "inbound", "\(stage)")
        #expect((stage["tuple"] as? [String: Any])?["dport"] as? Int == 8080, "\(stage)")
        #expect((stage["dnat"] as? [String: Any])?["address"] as? String == address, "\(stage)")
        let lastStage = lines.lastIndex { $0["type"] as? String == "stage" } ?? 0
        let finding = try #require(lines[lastStage...].first { $0["type"] as? String == "finding" }, "\(traced.stdout)")
        #expect(finding["code"] as? String == "forward-rule-drop", "\(finding)")
        let fix = try #require(finding["fix"] as? String)
        #expect(fix.hasSuffix("nft add element inet filter allow_in { \(address) . 80 }"), "\(fix)")

        #expect(try LabShell.run(["-c", connect]).status == 124, "the allow-list did not drop the SYN")
        #expect(try LabShell.run(["-c", fix]).status == 0, "\(fix)")
        #expect(try LabShell.run(["-c", connect]).status != 124, "still dropped after \(fix)")
    }
}

extension Trait where Self == Prerequisite {
    /// The real runtimes of the published-port tests.
    static var runtimesInstalled: Self {
        .requires(FileManager.default.fileExists(atPath: "/usr/bin/runc"), "SKIPPED LOUDLY: needs podman, docker.io and runc (tools/setup.sh --test)")
    }
}
