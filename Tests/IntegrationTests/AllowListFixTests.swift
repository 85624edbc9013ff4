import Foundation
import Glibc
import LabSupport
import Testing
@testable import TracerCore

/// ingress.md's field example on the real lab (tools/lab/egress.sh `publish` and the
/// dnat-allowlist-miss modes): a world client connects to the published port 1222, DNAT'd to
/// c1:22, and dies on the drop that ends an allow-list of DNAT'd flows. The firewall's own word
/// (the nftables trace; for iptables-legacy the counters) names the rule, `NetfilterWatch` turns it
/// into the element the allow-list lacks, and running that command in the host side lets the
/// connection through. Nothing wider: the drop rule stays.
@Suite(.serialized, .requires(EgressLab.canRunFirewall && access("/usr/sbin/ipset", X_OK) == 0,
                              "SKIPPED LOUDLY: the allow-list lab needs root, nftables, iptables and ipset (tools/setup.sh --test)"))
struct AllowListFixTests {
    /// The lab published with `backend`, then broken with `mode`.
    func lab(_ tag: String, backend: String, mode: String) throws -> EgressLab {
        let lab = try EgressLab.up(EgressLab.uniqueName(tag))
        do {
            let (status, output) = try LabShell.run([EgressLab.script, "publish", lab.name, "--backend", backend])
            guard status == 0 else { throw LabShell.Failure("egress.sh publish \(lab.name) --backend \(backend) failed: \(output)") }
            #expect(connects(lab), "the published port answers before the break")
            try lab.breakIt(mode)
        } catch {
            lab.down()
            throw error
        }
        return lab
    }

    /// `egress.sh probe NAME --inbound`: one TCP connect from the world to 198.51.100.2:1222.
    func connects(_ lab: EgressLab) -> Bool {
        (try? LabShell.run([EgressLab.script, "probe", lab.name, "--inbound"]).status == 0) ?? false
    }

    /// The inbound flow as the probe keys it, from c1's side; the client's port is not known here
    /// and no fix may depend on it.
    let flow = FlowKey(endpointAddress: "172.17.0.2", remoteAddress: "198.51.100.1", endpointPort: 22, remotePort: 40000, proto: 6, direction: .inbound)

    /// The watch's verdict once a failed connect was traced (up to 5 s of polling).
    func tracedVerdict(_ watch: NetfilterWatch, _ lab: EgressLab) throws -> NetfilterWatch.Verdict {
        let path = lab.path()
        watch.sawDrop(reason: "NETFILTER_DROP", path: path)
        #expect(watch.notes.isEmpty, "\(watch.notes)")
        #expect(!connects(lab))
        let deadline = Date().addingTimeInterval(5)
        while Date() < deadline {
            watch.poll()
            if let verdict = watch.verdict(for: flow, path: path) { return verdict }
            usleep(100_000)
        }
        return try #require(watch.verdict(for: flow, path: path), "no traced drop of 172.17.0.2")
    }

    /// Runs the fix in the lab's host side as an operator would paste it.
    func apply(_ fix: RuleFix, in lab: EgressLab) throws {
        try shell(["/usr/bin/nsenter", "--net=\(lab.hostNetnsPath)", "/bin/sh", "-c", fix.command])
    }

    @Test func nftFieldExampleGetsTheMissingElement() throws {
        let lab = try lab("an", backend: "nft", mode: "dnat-allowlist-miss")
        defer { lab.down() }
        let watch = NetfilterWatch(paths: [lab.path()], nftTrace: true)
        defer { watch.stop() }
        let verdict = try tracedVerdict(watch, lab)
        // The trace names the bare drop at the end of allowed_dnats.
        #expect(verdict.text.hasPrefix("inet filter allowed_dnats handle "), "\(verdict.text)")
        #expect(verdict.text.hasSuffix(": drop"), "\(verdict.text)")
        let fix = try #require(verdict.fix)
        #expect(fix.kind == .addSetElement)
        #expect(fix.command == "nft add element inet filter allow_in { 172.17.0.2 . 22 }")
        #expect(fix.evidence.contains("the lookup ip daddr . tcp dport @allow_in in inet filter allowed_dnats"), "\(fix.evidence)")
        #expect(fix.evidence.contains("missed 172.17.0.2 . 22"))
        try apply(fix, in: lab)
        #expect(connects(lab), "the connection succeeds after \(fix.command)")
        // Nothing wider: the drop is still there, the set holds one more element.
        let chain = try lab.inHost("nft", "list", "chain", "inet", "filter", "allowed_dnats")
        #expect(chain.contains("drop"))
        let set = try lab.inHost("nft", "list", "set", "inet", "filter", "allow_in")
        #expect(set.contains("172.17.0.2 . 22") && set.contains("172.17.0.3 . 22"))
    }

    @Test func iptablesNftWithAnIpsetGetsTheIpsetElement() throws {
        let lab = try lab("ai", backend: "iptables-nft", mode: "dnat-allowlist-miss-iptables-nft")
        defer { lab.down() }
        let watch = NetfilterWatch(paths: [lab.path()], nftTrace: true)
        defer { watch.stop() }
        let verdict = try tracedVerdict(watch, lab)
        #expect(verdict.text.hasPrefix("ip filter allowed_dnats handle "), "\(verdict.text)")
        #expect(verdict.text.contains("rule 2: -A allowed_dnats -j DROP (iptables-nft)"), "\(verdict.text)")
        let fix = try #require(verdict.fix)
        #expect(fix.kind == .addSetElement)
        #expect(fix.command == "ipset add allow_in 172.17.0.2,tcp:22")
        #expect(fix.evidence.contains("the lookup -m set --match-set allow_in dst,dst in ip filter allowed_dnats (rule 1, accept) (iptables-nft) missed 172.17.0.2,tcp:22"),
                "\(fix.evidence)")
        try apply(fix, in: lab)
        #expect(connects(lab), "the connection succeeds after \(fix.command)")
        #expect(try lab.inHost("iptables-nft", "-S", "allowed_dnats").contains("-A allowed_dnats -j DROP"))
    }

    @Test func iptablesLegacyWithAnIpsetGetsTheIpsetElementFromTheCounters() throws {
        let lab = try lab("al", backend: "iptables-legacy", mode: "dnat-allowlist-miss-legacy")
        defer { lab.down() }
        // nft cannot see legacy rules: the counters taken now and after the failed connect name the rule.
        let watch = NetfilterWatch(paths: [lab.path()], nftTrace: false)
        defer { watch.stop() }
        #expect(!connects(lab))
        watch.finish()
        let verdict = try #require(watch.verdict(for: flow, path: lab.path()))
        #expect(verdict.text.hasPrefix("ip filter allowed_dnats rule 2: -A allowed_dnats -j DROP (iptables-legacy): +"), "\(verdict.text)")
        let fix = try #require(verdict.fix)
        #expect(fix.kind == .addSetElement)
        #expect(fix.command == "ipset add allow_in 172.17.0.2,tcp:22")
        #expect(fix.evidence.contains("(iptables-legacy) missed 172.17.0.2,tcp:22"), "\(fix.evidence)")
        try apply(fix, in: lab)
        #expect(connects(lab), "the connection succeeds after \(fix.command)")
        #expect(try lab.inHost("iptables-legacy", "-S", "allowed_dnats").contains("-A allowed_dnats -j DROP"))
    }
}
