import Foundation
import Glibc
import LabSupport
import Testing

/// `tracer egress` and `tracer drops`, the built binary, on the egress lab broken in every way
/// egress.md lists, and on a real podman network.
@Suite(.serialized, .requires(TracerBinary.isRoot && FileManager.default.isExecutableFile(atPath: "/usr/sbin/iptables-nft")
                             && FileManager.default.isExecutableFile(atPath: "/usr/bin/ping"),
                             "SKIPPED LOUDLY: tracer egress on the lab needs root, iproute2, iptables-nft, ping and busybox (tools/setup.sh --test)"))
struct EgressTests {
    func json(_ text: String) -> [[String: Any]] {
        text.split(separator: "\n").map { (try? JSONSerialization.jsonObject(with: Data($0.utf8))) as? [String: Any] ?? ["invalid": String($0)] }
    }

    /// A break, what the diagnosis must say, and what the stages must show.
    struct Case: CustomStringConvertible, Sendable {
        var mode: String
        var code: String
        /// The last stage the packets reached, or nil when none was reached (an unanswered ARP).
        var lastStage: String?
        /// The kernel's reason on the stopped flow, nil when the kernel drops nothing on the host.
        var reason: String?
        var size = 56
        /// Whether the finding carries a fix (nothing on this host can fix a dead gateway).
        var fixable = true
        var description: String { mode }
    }

    static let cases: [Case] = [
        Case(mode: "ip-forward-disabled", code: "ip-forward-disabled", lastStage: "bridge-rx", reason: "IP_INADDRERRORS"),
        Case(mode: "device-forwarding-disabled", code: "device-forwarding-disabled", lastStage: "reply-uplink-rx", reason: "IP_INADDRERRORS"),
        Case(mode: "forward-policy-drop", code: "forward-policy-drop", lastStage: "bridge-rx", reason: "NETFILTER_DROP"),
        Case(mode: "forward-rule-drop", code: "forward-rule-drop", lastStage: "bridge-rx", reason: "NETFILTER_DROP"),
        Case(mode: "legacy-iptables-drop", code: "legacy-iptables-drop", lastStage: "bridge-rx", reason: "NETFILTER_DROP"),
        Case(mode: "masquerade-missing", code: "masquerade-missing", lastStage: "uplink-queue", reason: nil),
        Case(mode: "veth-down", code: "veth-down", lastStage: nil, reason: "NEIGH_FAILED"),
        Case(mode: "bridge-no-address", code: "bridge-no-address", lastStage: nil, reason: "NEIGH_FAILED"),
        Case(mode: "bridge-down", code: "bridge-down", lastStage: nil, reason: "NEIGH_FAILED"),
        Case(mode: "uplink-down", code: "uplink-down", lastStage: "bridge-rx", reason: "IP_INNOROUTES"),
        Case(mode: "no-default-route", code: "no-default-route", lastStage: "bridge-rx", reason: "IP_INNOROUTES"),
        // The packets wait for the gateway's ARP on the uplink, masqueraded already, and die
        // of NEIGH_FAILED about 3 s after the first probe: their conntrack entry names the flow.
        Case(mode: "uplink-no-carrier", code: "uplink-no-carrier", lastStage: "bridge-rx", reason: "NEIGH_FAILED"),
        Case(mode: "mtu-mismatch", code: "mtu-mismatch", lastStage: "bridge-rx", reason: "PKT_TOO_BIG", size: 1400),
        // Not in egress.md's catalogue: an `ip rule` blackholing the subnet (ip_error gives no reason).
        Case(mode: "policy-blackhole", code: "policy-rule-drop", lastStage: "bridge-rx", reason: "NOT_SPECIFIED"),
        // Nor is a rule dropping in prerouting, which no static check of the forward path sees:
        // the trace names it and the fix is an accept for the flow alone just before it (the rule
        // drops a whole subnet's traffic to a /24: deleting it would be wider than the flow).
        Case(mode: "prerouting-drop", code: "netfilter-drop", lastStage: "host-veth-rx", reason: "NETFILTER_DROP"),
        // A default route via an address nobody holds: the gateway is named, the ARP entry as evidence.
        Case(mode: "gateway-unanswered", code: "neighbour-failed", lastStage: "bridge-rx", reason: "NEIGH_FAILED", fixable: false),
    ]

    @Test(arguments: cases)
    func eachBreakIsFoundAtItsStageWithItsCode(_ breakage: Case) throws {
        let lab = try EgressLab.up(EgressLab.uniqueName("eg"))
        defer { lab.down() }
        try lab.breakIt(breakage.mode)
        // A firewall drop starts the nftables trace, and the probe after it is named by the trace.
        // On a loaded machine the tracer may attach after the first probe: probe until the trace
        // table is there (so the tracer saw a drop), then once more.
        let firewall = breakage.reason == "NETFILTER_DROP"
        // A packet waiting for an ARP answer that never comes dies of NEIGH_FAILED after the
        // kernel's three tries (about 3 s after the probe): on a loaded machine that is past 5 s.
        let duration = firewall ? "9s" : breakage.reason == "NEIGH_FAILED" ? "8s" : "5s"
        let result = try TracerBinary.run(["egress", "--netns", lab.endpointNetns, "--duration", duration, "--output", "json"],
                                          whileRunning: {
                                              usleep(800_000)
                                              _ = try lab.probe(size: breakage.size)
                                              for _ in 0..<5 where firewall {
                                                  if try !lab.traceTables().isEmpty { break }
                                                  usleep(100_000)
                                                  _ = try lab.probe(size: breakage.size)
                                              }
                                              _ = try lab.probe(size: breakage.size)
                                          })
        #expect(result.status == 2, "\(result.stdout)\(result.stderr)")
        let lines = json(result.stdout)
        #expect(!lines.contains { $0["invalid"] != nil }, "\(result.stdout)")
        let finding = try #require(lines.first { $0["type"] as? String == "finding" }, "\(result.stdout)\(result.stderr)")
        #expect(finding["code"] as? String == breakage.code, "\(result.stdout)")
        #expect(finding["severity"] as? String == "error")
        if breakage.fixable {
            #expect((finding["fix"] as? String)?.contains("tel-\(lab.name)-") == true, "\(finding)")
        }
        if breakage.mode == "gateway-unanswered" {
            #expect((finding["message"] as? String)?.contains("198.51.100.99") == true, "\(finding)")
        }
        if breakage.mode == "forward-rule-drop" {
            // The firewall itself named the rule, with its comment.
            #expect((finding["message"] as? String)?.contains("seen dropping: inet labfilter forward handle") == true, "\(finding)")
            #expect((finding["message"] as? String)?.contains("lab: block container egress") == true)
        }
        if breakage.mode == "prerouting-drop" {
            let fix = finding["fix"] as? String ?? ""
            #expect(fix.contains("nft insert rule inet labpre prerouting position "), "\(finding)")
            #expect(fix.hasSuffix(" ip daddr 203.0.113.10 meta l4proto icmp accept") && !fix.contains("delete"), "\(finding)")
            #expect((finding["message"] as? String)?.contains("lab: raw prerouting drop") == true, "\(finding)")
        }
        #expect(finding["endpoint"] as? String == lab.endpointNetns)
        let stage = try #require(lines.first { $0["type"] as? String == "stage" && ($0["tuple"] as? [String: Any])?["proto"] as? String == "icmp" },
                                 "\(result.stdout)")
        #expect(stage["complete"] as? Bool == false)
        #expect(stage["stage"] as? String == breakage.lastStage, "\(stage)")
        #expect(stage["reason"] as? String == breakage.reason, "\(stage)")
        #expect((stage["tuple"] as? [String: Any])?["dst"] as? String == "203.0.113.10")
        let summary = try #require(lines.last)
        #expect(summary["type"] as? String == "summary")
        #expect(summary["lost"] as? Int == 0)
    }

    /// The trace table is removed on exit, and one left by a killed run is removed by the next.
    @Test func traceTablesDoNotOutliveTheirRun() throws {
        let lab = try EgressLab.up(EgressLab.uniqueName("et"))
        defer { lab.down() }
        // pid 4194303 is above pid_max here: certainly not running.
        let stale = "tracer_trace_4194303_1"
        #expect(try EgressLab.inNamespace(lab.hostNetns, ["nft", "add", "table", "inet", stale]) == 0)
        let result = try TracerBinary.run(["egress", "--netns", lab.endpointNetns, "--duration", "1s"])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stderr.contains("removed trace table inet \(stale) left by a run that was killed"), "\(result.stderr)")
        let (_, tables) = try LabShell.run(["-c", "nsenter --net=/run/netns/\(lab.hostNetns) nft list tables"])
        #expect(!tables.contains("tracer_trace_"), "\(tables)")
        let quiet = try TracerBinary.run(["egress", "--netns", lab.endpointNetns, "--duration", "1s", "--no-nft-trace"])
        #expect(quiet.status == 0)
        #expect(!quiet.stderr.contains("removed trace table"))
    }

    @Test func aHealthyPathIsFollowedToTheReplyAndMasqueraded() throws {
        let lab = try EgressLab.up(EgressLab.uniqueName("eh"))
        defer { lab.down() }
        let result = try TracerBinary.run(["egress", "--netns", lab.endpointNetns, "--duration", "3s", "--output", "json"],
                                          whileRunning: {
                                              usleep(800_000)
                                              _ = try lab.probe()
                                          })
        #expect(result.status == 0, "\(result.stdout)\(result.stderr)")
        let lines = json(result.stdout)
        let path = try #require(lines.first, "\(result.stdout)")
        #expect(path["type"] as? String == "path" && path["endpoint"] as? String == lab.endpointNetns, "the path comes first: \(path)")
        let stage = try #require(lines.first { $0["type"] as? String == "stage" }, "\(result.stdout)")
        #expect(stage["complete"] as? Bool == true)
        #expect(stage["stage"] as? String == "reply-endpoint-rx")
        #expect(stage["nat"] as? String == lab["uplink_ip"])
        let stages = (stage["stages"] as? [[String: Any]] ?? []).map { ($0["stage"] as? String ?? "", $0["packets"] as? Int ?? 0) }
        #expect(stages.count == 8 && stages.allSatisfy { $0.1 >= 1 }, "\(stages)")
        #expect(!lines.contains { $0["type"] as? String == "finding" }, "\(result.stdout)")
    }

    @Test func dropsNamesTheReasonTheNamespaceAndTheEndpoint() throws {
        let lab = try EgressLab.up(EgressLab.uniqueName("ed"))
        defer { lab.down() }
        try lab.breakIt("no-default-route")
        let result = try TracerBinary.run(["drops", "--duration", "3s", "--output", "json"], whileRunning: {
            usleep(800_000)
            _ = try lab.probe()
        })
        #expect(result.status == 0, "\(result.stderr)")
        let lines = json(result.stdout)
        #expect(!lines.contains { $0["invalid"] != nil }, "\(result.stdout)")
        let drop = try #require(lines.first { $0["type"] as? String == "drop" && $0["netns"] as? String == lab.hostNetns }, "\(result.stdout)")
        #expect(drop["reason"] as? String == "IP_INNOROUTES")
        #expect(drop["location"] as? String == "ip_error")
        #expect(drop["device"] as? String == "br-lab")
        #expect(drop["endpoint"] as? String == lab.endpointNetns)
        #expect(drop["direction"] as? String == "egress")
        #expect((drop["tuple"] as? [String: Any])?["src"] as? String == lab["c1_ip"])
        let counts = try #require(lines.first { $0["type"] as? String == "counts" }?["counts"] as? [[String: Any]])
        let row = try #require(counts.first { $0["reason"] as? String == "IP_INNOROUTES" && $0["netns"] as? String == lab.hostNetns })
        #expect((row["count"] as? Int ?? 0) >= 1)
        #expect((row["containers"] as? [String])?.contains(lab.endpointNetns) == true)
    }

    @Test func badInputGetsItsExitCode() throws {
        let unknown = try TracerBinary.run(["egress", "--container", "no-such-container-xyz", "--duration", "1s"])
        #expect(unknown.status == 4, "\(unknown.stderr)")
        #expect(unknown.stderr.contains("no-such-container-xyz"))
        let drops = try TracerBinary.run(["drops", "--container", "no-such-container-xyz", "--duration", "1s"])
        #expect(drops.status == 4, "\(drops.stderr)")
        let duration = try TracerBinary.run(["egress", "--duration", "soon"])
        #expect(duration.status == 64)
    }

    static let runtimes = (ProcessInfo.processInfo.environment["TRACER_LAB_RUNTIMES"]?.split(separator: ",").map(String.init)
        ?? ["podman"]).filter { $0 == "podman" || $0 == "docker" }

    /// A real runtime network with forwarding off in its lab netns: the finding and the drops
    /// name the container by its runtime name.
    @Test(.requires(FileManager.default.fileExists(atPath: "/usr/bin/runc"), "SKIPPED LOUDLY: needs podman and runc (tools/setup.sh --test)"),
          arguments: runtimes)
    func aRuntimeContainerIsNamedInTheDiagnosis(runtime: String) throws {
        let name = "eg\(runtime.prefix(3))\(getpid() % 10000)"
        let lab = try ContainerLab.up(runtime, name: name)
        defer { lab.down() }
        let labNetns = try #require(lab.facts["netns"].map { URL(fileURLWithPath: $0).lastPathComponent })
        let world = try EgressLab.uplink("egw\(runtime.prefix(1))\(getpid() % 10000)", hostNetns: labNetns)
        defer { world.down() }
        #expect(try EgressLab.inNamespace(labNetns, ["sysctl", "-qw", "net.ipv4.ip_forward=0"]) == 0)
        let result = try TracerBinary.run(["egress", "--container", name, "--duration", "5s", "--output", "json"] + lab.tracerFlags,
                                          whileRunning: {
                                              usleep(1_500_000)
                                              _ = try lab.exec(["nc", "-w", "1", "203.0.113.10", "8080"])
                                          })
        #expect(result.status == 2, "\(result.stdout)\(result.stderr)")
        let lines = json(result.stdout)
        let finding = try #require(lines.first { $0["type"] as? String == "finding" }, "\(result.stdout)\(result.stderr)")
        #expect(finding["code"] as? String == "ip-forward-disabled")
        #expect((finding["container"] as? [String: Any])?["name"] as? String == name)
        let drop = try #require(lines.first { $0["type"] as? String == "drop" }, "\(result.stdout)")
        #expect(drop["reason"] as? String == "IP_INADDRERRORS")
        #expect((drop["container"] as? [String: Any])?["name"] as? String == name)
        let stage = try #require(lines.first { $0["type"] as? String == "stage" && ($0["tuple"] as? [String: Any])?["proto"] as? String == "tcp" })
        #expect(stage["stage"] as? String == "bridge-rx")
    }
}
