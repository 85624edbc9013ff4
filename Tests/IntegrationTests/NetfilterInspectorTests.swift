import Foundation
import Glibc
import LabSupport
import Testing
@testable import TracerCore

/// The static netfilter checks on the real egress lab: healthy, then each netfilter break.
/// Each test builds its own lab (names nf1..nf4 are this suite's) and removes it, also on failure.
@Suite(.serialized, .requires(EgressLab.canRunFirewall, EgressLab.firewallReason))
struct NetfilterInspectorTests {
    @Test func healthyLabHasNoNetfilterErrors() throws {
        let lab = try EgressLab.up("nf1")
        defer { lab.down() }
        let report = NetfilterInspector.inspect(path: lab.path())
        #expect(report.findings.filter { $0.severity == .error }.isEmpty, "\(report.findings)")
        #expect(!report.findings.contains { $0.code == .masqueradeMissing })
        // The lab's MASQUERADE is an iptables-nft rule, read in iptables' terms.
        let nat = try #require(report.ruleset.table(family: "ip", name: "nat", backend: .iptablesNft))
        let rule = try #require(nat.chain("POSTROUTING")?.rules.first)
        #expect(rule.verdict == .masquerade)
        #expect(rule.text == "-A POSTROUTING -s 172.17.0.0/16 -o uplink0 -j MASQUERADE")
        #expect(rule.handle != nil)
        let natPacket = ImaginedPacket(source: .v4(0xAC11_0002), destination: nil, inInterface: "br-lab", outInterface: "uplink0", ctState: "new")
        let snat = try #require(ForwardEvaluator.sourceNat(in: report.ruleset, packet: natPacket))
        #expect(snat.certain)
        #expect(lab.answers())
    }

    @Test func forwardPolicyDropIsNamed() throws {
        let lab = try EgressLab.up("nf2")
        defer { lab.down() }
        try lab.breakIt("forward-policy-drop")
        #expect(!lab.answers())
        let report = NetfilterInspector.inspect(path: lab.path())
        let finding = try #require(report.findings.first { $0.code == .forwardPolicyDrop })
        #expect(finding.severity == .error)
        #expect(finding.message.hasPrefix("ip filter FORWARD policy drop (iptables-nft) drops egress 172.17.0.2"))
        #expect(finding.fix == "nsenter --net=\(lab.hostNetnsPath) iptables-nft -t filter -P FORWARD ACCEPT")
        #expect(!report.findings.contains { $0.code == .legacyIptablesDrop || $0.code == .masqueradeMissing })
        try shell(["/bin/sh", "-c", try #require(finding.fix)])
        #expect(lab.answers())
    }

    @Test func forwardRuleDropNamesRuleAndComment() throws {
        let lab = try EgressLab.up("nf3")
        defer { lab.down() }
        try lab.breakIt("forward-rule-drop")
        let report = NetfilterInspector.inspect(path: lab.path())
        let finding = try #require(report.findings.first { $0.code == .forwardRuleDrop })
        let rule = try #require(report.ruleset.table(family: "inet", name: "labfilter")?.chain("forward")?.rules.first)
        let handle = try #require(rule.handle)
        #expect(finding.message.contains(
            "inet labfilter forward handle \(handle): ip saddr 172.17.0.0/16 ip daddr 203.0.113.0/24 counter drop comment \"lab: block container egress\""))
        #expect(finding.fix == "nsenter --net=\(lab.hostNetnsPath) nft delete rule inet labfilter forward handle \(handle)")
        // Towards "any internet address" the rule only may apply; towards the lab's world it surely does.
        #expect(finding.severity == .warning)
        let aimed = NetfilterInspector.inspect(path: lab.path(), destination: "203.0.113.10")
        #expect(aimed.findings.contains { $0.code == .forwardRuleDrop && $0.severity == .error })
        #expect(!aimed.findings.contains { $0.code == .forwardPolicyDrop })
        try shell(["/bin/sh", "-c", try #require(finding.fix)])
        #expect(lab.answers())
    }

    @Test func legacyPolicyDropAndMixedBackends() throws {
        let lab = try EgressLab.up("nf4")
        defer { lab.down() }
        try lab.breakIt("legacy-iptables-drop")
        #expect(!lab.answers())
        let report = NetfilterInspector.inspect(path: lab.path())
        let finding = try #require(report.findings.first { $0.code == .legacyIptablesDrop })
        #expect(finding.severity == .error)
        #expect(finding.message.hasPrefix("ip filter FORWARD policy drop (iptables-legacy)"))
        #expect(finding.fix == "nsenter --net=\(lab.hostNetnsPath) iptables-legacy -t filter -P FORWARD ACCEPT")
        #expect(report.findings.contains { $0.code == .iptablesBackendsMixed })
        #expect(!report.findings.contains { $0.code == .forwardPolicyDrop })
        try shell(["/bin/sh", "-c", try #require(finding.fix)])
        #expect(lab.answers())
    }

    @Test func masqueradeMissingIsFound() throws {
        let lab = try EgressLab.up("nf5")
        defer { lab.down() }
        try lab.breakIt("masquerade-missing")
        let report = NetfilterInspector.inspect(path: lab.path())
        let finding = try #require(report.findings.first { $0.code == .masqueradeMissing })
        #expect(finding.message.contains("172.17.0.0/16"))
        #expect(finding.message.contains("uplink0"))
        #expect(finding.fix == "nsenter --net=\(lab.hostNetnsPath) iptables-nft -t nat -A POSTROUTING -s 172.17.0.0/16 -o uplink0 -j MASQUERADE")
        #expect(!report.findings.contains { $0.code == .forwardPolicyDrop || $0.code == .forwardRuleDrop })
        try shell(["/bin/sh", "-c", try #require(finding.fix)])
        #expect(lab.answers())
    }

    @Test func missingNamespaceIsReportedUnchecked() {
        var path = EgressLab.path(of: "nfnone")
        path.hostNetnsPath = "/run/netns/tel-nfnone-does-not-exist"
        let report = NetfilterInspector.inspect(path: path)
        #expect(report.findings.isEmpty)
        #expect(report.unchecked.contains { $0.contains("network namespace /run/netns/tel-nfnone-does-not-exist") })
    }
}
