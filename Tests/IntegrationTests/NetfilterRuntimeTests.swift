import Foundation
import Glibc
import LabSupport
import Testing
@testable import TracerCore

/// A real podman (netavark, iptables backend) network, read in its own terms: podman runs inside
/// the lab netns tracerlab-podman-nfpod (tools/lab/containers.sh), which egress.sh gives an uplink.
@Suite(.serialized, .requires(EgressLab.canRunFirewall && access("/usr/bin/podman", X_OK) == 0,
                             "SKIPPED LOUDLY: needs root, podman and the egress lab tools (tools/setup.sh --test)"))
struct NetfilterRuntimeTests {
    static let containers = TestPrograms.root.appendingPathComponent("tools/lab/containers.sh").path

    @Test func podmanNetavarkRulesReadInTheirOwnTerms() throws {
        let labName = "nfpod"
        let hostNetns = "tracerlab-podman-\(labName)"
        defer {
            _ = try? shell(["/bin/bash", EgressLab.script, "down", "nfpodw"])
            _ = try? shell(["/bin/bash", Self.containers, "down", "podman", labName])
        }
        let output = try shell(["/bin/bash", Self.containers, "up", "podman", labName])
        var facts: [String: String] = [:]
        for line in output.split(separator: "\n") {
            if let eq = line.firstIndex(of: "=") { facts[String(line[..<eq])] = String(line[line.index(after: eq)...]) }
        }
        let ip = try #require(facts["container_ip"])
        let veth = try #require(facts["host_veth"])
        try shell(["/bin/bash", EgressLab.script, "uplink", "nfpodw", hostNetns])
        let hostPath = "/run/netns/\(hostNetns)"
        let endpoint = EgressPath.Endpoint(name: "podman container", netnsInode: 0, netnsPath: facts["container_netns"] ?? "",
                                           interface: "eth0", interfaceIndex: 2, ipv4: [try #require(IPPrefix(ip))], mtu: 1500)
        let path = EgressPath(endpoint: endpoint, hostNetnsInode: namespaceInode(hostPath), hostNetnsPath: hostPath, hostIsRoot: false,
                              hostVeth: .init(name: veth, index: 0), bridge: .init(name: "podman0", index: 0),
                              uplink: .init(name: "uplink0", index: 0))

        let healthy = NetfilterInspector.inspect(path: path)
        #expect(healthy.findings.filter { $0.severity == .error }.isEmpty, "\(healthy.findings)")
        let filter = try #require(healthy.ruleset.table(family: "ip", name: "filter", backend: .iptablesNft))
        let netavark = try #require(filter.chain("NETAVARK_FORWARD"))
        #expect(netavark.rules.map(\.text).contains("-A NETAVARK_FORWARD -s 10.88.0.0/16 -j ACCEPT"))
        #expect(filter.chain("FORWARD")?.rules.first?.comment == "netavark firewall plugin rules")
        let source = try #require(IPPrefix(ip.split(separator: "/")[0])).address
        let snat = try #require(ForwardEvaluator.sourceNat(in: healthy.ruleset, packet: ImaginedPacket(
            source: source, destination: nil, inInterface: "podman0", outInterface: "uplink0", ctState: "new")))
        #expect(snat.certain)
        #expect(snat.chain.hasPrefix("NETAVARK-") && snat.rule.text.hasSuffix("! -d 224.0.0.0/4 -j MASQUERADE"))

        // A FORWARD policy drop does not matter: NETAVARK_FORWARD accepts egress and (by conntrack) replies.
        try shell(["/usr/bin/nsenter", "--net=\(hostPath)", "iptables-nft", "-P", "FORWARD", "DROP"])
        let policy = NetfilterInspector.inspect(path: path)
        #expect(!policy.findings.contains { $0.code == .forwardPolicyDrop }, "\(policy.findings)")

        // A drop in netavark's own chain is named there, reached from FORWARD.
        try shell(["/usr/bin/nsenter", "--net=\(hostPath)", "iptables-nft", "-I", "NETAVARK_FORWARD", "-s", "10.88.0.0/16",
                   "-m", "comment", "--comment", "test: no egress", "-j", "DROP"])
        let ruled = NetfilterInspector.inspect(path: path)
        let drop = try #require(ruled.findings.first { $0.code == .forwardRuleDrop })
        #expect(drop.severity == .error)
        #expect(drop.message.hasPrefix("ip filter NETAVARK_FORWARD (from FORWARD) rule 1"))
        #expect(drop.message.contains("--comment \"test: no egress\""))
        #expect(drop.fix == "nsenter --net=\(hostPath) iptables-nft -t filter -D NETAVARK_FORWARD -s 10.88.0.0/16 -m comment --comment \"test: no egress\" -j DROP")
        // The fix pastes as it is and removes the finding.
        try shell(["/bin/sh", "-c", try #require(drop.fix)])
        #expect(!NetfilterInspector.inspect(path: path).findings.contains { $0.code == .forwardRuleDrop })
    }
}
