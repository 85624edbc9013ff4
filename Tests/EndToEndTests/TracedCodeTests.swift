import Foundation
import Glibc
import LabSupport
import Testing

/// The property over the static checks (issue #13): on each breakage of `TracedCodes`, the static
/// code `tracer diagnose` reads is the code `tracer egress` traces, and the two agree on the same
/// host. Cases run concurrently, each on its own lab.
@Suite(.requires(TracerBinary.isRoot && FileManager.default.isExecutableFile(atPath: "/usr/sbin/iptables-nft")
                 && FileManager.default.isExecutableFile(atPath: "/usr/sbin/conntrack"),
                 "SKIPPED LOUDLY: the traced-code property needs root, iproute2, iptables-nft, conntrack, ping and busybox (tools/setup.sh --test)"))
struct TracedCodeTests {
    func json(_ text: String) -> [[String: Any]] {
        text.split(separator: "\n").map { (try? JSONSerialization.jsonObject(with: Data($0.utf8))) as? [String: Any] ?? ["invalid": String($0)] }
    }

    @Test(arguments: TracedCodes.breakages)
    func theTracedCodeIsTheStaticCode(_ breakage: TracedCodes.Breakage) throws {
        let index = TracedCodes.breakages.firstIndex { $0.mode == breakage.mode } ?? 0
        let lab = try EgressLab.up("tc\(index)x\(getpid() % 100000)", ipv6: breakage.ipv6)
        defer { lab.down() }
        try lab.breakIt(breakage.mode)

        let firewall = breakage.firewall
        let traced = try TracerBinary.run(["egress", "--netns", lab.endpointNetns, "--duration", breakage.duration, "--output", "json"],
                                          whileRunning: {
                                              usleep(800_000)
                                              _ = try lab.probe(size: breakage.size, ipv6: breakage.ipv6)
                                              // A firewall drop starts the nftables trace: the probe after it is named.
                                              for _ in 0..<5 where firewall {
                                                  if try !lab.traceTables().isEmpty { break }
                                                  usleep(100_000)
                                                  _ = try lab.probe(size: breakage.size, ipv6: breakage.ipv6)
                                              }
                                              _ = try lab.probe(size: breakage.size, ipv6: breakage.ipv6)
                                          })
        #expect(traced.status == 2, "\(breakage): \(traced.stdout)\(traced.stderr)")
        // Diagnosed after the trace: the gateway's neighbour entry fails only once a probe asked for it.
        let diagnosed = try TracerBinary.run(["diagnose", "--netns", lab.endpointNetns, "--output", "json"])
        let statics = json(diagnosed.stdout).filter { $0["type"] as? String == "finding" && $0["severity"] as? String != "info" }
        // Warnings (a firewall rule that may drop, an MTU, a gateway's failed ARP) exit 0; errors 2.
        #expect(diagnosed.status == (statics.contains { $0["severity"] as? String == "error" } ? 2 : 0), "\(breakage): \(diagnosed.stdout)\(diagnosed.stderr)")
        #expect(statics.contains { $0["code"] as? String == breakage.code }, "\(breakage): diagnose says \(statics.map { $0["code"] ?? "" })")

        let findings = json(traced.stdout).filter { $0["type"] as? String == "finding" }
        try expectAgreement(traced: findings, statics: statics, code: breakage.code, "\(breakage): egress")
    }

    /// The trace's first finding is `code`, an error; every code the trace gives on this host is
    /// one the static checks gave, and none is `unexplained`.
    func expectAgreement(traced findings: [[String: Any]], statics: [[String: Any]], code: String, _ label: String) throws {
        let finding = try #require(findings.first, "\(label): no finding")
        #expect(finding["code"] as? String == code, "\(label) says \(finding)")
        #expect(finding["severity"] as? String == "error")
        for other in findings {
            let code = other["code"] as? String ?? ""
            #expect(statics.contains { $0["code"] as? String == code }, "\(label) says \(code), diagnose does not: \(other)")
            #expect(code != "unexplained", "\(label): \(other)")
        }
    }

    /// The same property for flows into a published port: on each of ingress.md's breakages
    /// `tracer ingress` traces the code `tracer diagnose` reads, and names no other.
    @Test(arguments: TracedCodes.inboundBreakages)
    func theTracedInboundCodeIsTheStaticCode(_ breakage: TracedCodes.InboundBreakage) throws {
        let index = TracedCodes.inboundBreakages.firstIndex { $0.mode == breakage.mode } ?? 0
        let lab = try EgressLab.up("ti\(index)x\(getpid() % 100000)", ipv6: breakage.probe.ipv6).publish(backend: breakage.backend)
        let dockerRoot = NSTemporaryDirectory() + "tracer-docker-\(lab.name)"
        defer {
            lab.down()
            try? FileManager.default.removeItem(atPath: dockerRoot)
        }
        var runtime: [String] = []
        if breakage.dockerRecord {
            try lab.recordDockerPort(root: dockerRoot)
            runtime = ["--docker-root", dockerRoot]
        }
        #expect(try lab.probeInbound(breakage.probe), "\(breakage): the port did not work before the break")
        try lab.breakIt(breakage.mode)

        let traced = try TracerBinary.run(["ingress", "--netns", lab.endpointNetns, "--port", String(breakage.port),
                                           "--duration", "9s", "--output", "json"] + runtime,
                                          whileRunning: {
                                              usleep(1_500_000)
                                              // A firewall drop starts the nftables trace: the probes after it are named.
                                              for _ in 0..<3 { _ = try lab.probeInbound(breakage.probe) }
                                          })
        #expect(traced.status == 2, "\(breakage): \(traced.stdout)\(traced.stderr)")
        let diagnosed = try TracerBinary.run(["diagnose", "--netns", lab.endpointNetns, "--output", "json"] + runtime)
        let statics = json(diagnosed.stdout).filter { $0["type"] as? String == "finding" && $0["severity"] as? String != "info" }
        #expect(statics.contains { $0["code"] as? String == breakage.code }, "\(breakage): diagnose says \(statics.map { $0["code"] ?? "" })")

        let lines = json(traced.stdout)
        // The flow is the client's, to the published port: never a reply, never reversed.
        let stage = try #require(lines.first { $0["type"] as? String == "stage" }, "\(breakage): no flow: \(traced.stdout)\(traced.stderr)")
        // Its replies' stop ("inbound-reply") is still the inbound flow's.
        #expect((stage["direction"] as? String)?.hasPrefix("inbound") == true, "\(breakage): \(stage)")
        #expect((stage["tuple"] as? [String: Any])?["dst"] as? String == lab[breakage.probe.ipv6 ? "publish_ip6" : "publish_ip"], "\(breakage): \(stage)")
        #expect((stage["tuple"] as? [String: Any])?["dport"] as? Int == breakage.port, "\(breakage): \(stage)")
        #expect(stage["complete"] as? Bool == false, "\(breakage): \(stage)")
        // The flow's findings come after its stages: the static ones printed first are not the trace's.
        let lastStage = lines.lastIndex { $0["type"] as? String == "stage" } ?? 0
        let findings = lines[lastStage...].filter { $0["type"] as? String == "finding" }
        try expectAgreement(traced: findings, statics: statics, code: breakage.code, "\(breakage): ingress")

        // The fix, pasted, repairs the flow and opens nothing else: the other port's probe does
        // what it did before.
        let fix = try #require(findings.first?["fix"] as? String, "\(breakage): no fix: \(findings)")
        #expect(!fix.contains("delete rule") && !fix.contains(" -D FORWARD") && !fix.contains("policy accept"), "\(breakage): \(fix)")
        let other: EgressLab.InboundProbe = breakage.probe.udp ? .tcp : .udp
        let otherBefore = try lab.probeInbound(other)
        let pasted = try LabShell.run(["-c", fix])
        #expect(pasted.status == 0, "\(breakage): \(fix): \(pasted.output)")
        #expect(try lab.probeInbound(breakage.probe), "\(breakage): still broken after \(fix)")
        #expect(try lab.probeInbound(other) == otherBefore, "\(breakage): \(fix) changed \(other)")
    }
}
