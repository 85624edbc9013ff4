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
        let lab = try EgressLab.up("tc\(index)x\(getpid() % 100000)")
        defer { lab.down() }
        try lab.breakIt(breakage.mode)

        let firewall = breakage.firewall
        let traced = try TracerBinary.run(["egress", "--netns", lab.endpointNetns, "--duration", breakage.duration, "--output", "json"],
                                          whileRunning: {
                                              usleep(800_000)
                                              _ = try lab.probe(size: breakage.size)
                                              // A firewall drop starts the nftables trace: the probe after it is named.
                                              for _ in 0..<5 where firewall {
                                                  if try !lab.traceTables().isEmpty { break }
                                                  usleep(100_000)
                                                  _ = try lab.probe(size: breakage.size)
                                              }
                                              _ = try lab.probe(size: breakage.size)
                                          })
        #expect(traced.status == 2, "\(breakage): \(traced.stdout)\(traced.stderr)")
        // Diagnosed after the trace: the gateway's neighbour entry fails only once a probe asked for it.
        let diagnosed = try TracerBinary.run(["diagnose", "--netns", lab.endpointNetns, "--output", "json"])
        let statics = json(diagnosed.stdout).filter { $0["type"] as? String == "finding" && $0["severity"] as? String != "info" }
        // Warnings (a firewall rule that may drop, an MTU, a gateway's failed ARP) exit 0; errors 2.
        #expect(diagnosed.status == (statics.contains { $0["severity"] as? String == "error" } ? 2 : 0), "\(breakage): \(diagnosed.stdout)\(diagnosed.stderr)")
        #expect(statics.contains { $0["code"] as? String == breakage.code }, "\(breakage): diagnose says \(statics.map { $0["code"] ?? "" })")

        let findings = json(traced.stdout).filter { $0["type"] as? String == "finding" }
        let finding = try #require(findings.first, "\(breakage): no finding: \(traced.stdout)\(traced.stderr)")
        #expect(finding["code"] as? String == breakage.code, "\(breakage): egress says \(finding)")
        #expect(finding["severity"] as? String == "error")
        // Agreement: every code the trace gives on this host is one the static checks gave.
        for other in findings {
            let code = other["code"] as? String ?? ""
            #expect(statics.contains { $0["code"] as? String == code }, "\(breakage): egress says \(code), diagnose does not: \(other)")
            #expect(code != "unexplained", "\(breakage): \(other)")
        }
    }
}
