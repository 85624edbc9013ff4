import Foundation
import Testing
@testable import TracerCore

/// What the runtimes meant against what the kernel will do, on the fixtures of the lab containers.
@Suite struct PublishedPortMergeTests {
    @Test func dockerMetadataAndItsRulesAgreeExceptWhereDockerDidNotBind() throws {
        let runtime = DockerMetadata(root: RuntimePublishedPortTests.root("docker")).publishedPorts().ports
        let rules = PublishedPort.dnatPorts(in: try DNATPublishedPortTests.saved("docker-published.iptables-nft-save"))
        let merged = PublishedPort.merged(runtime: runtime, rules: rules)
        #expect(merged.map(\.description) == [
            "tcp 0.0.0.0:8080 -> 172.17.0.2:80 (pp1, runtime+rule)",
            "tcp [::1]:8083 -> ?:83 (pp1, runtime-only)",
            "tcp 0.0.0.0:32768 -> 172.17.0.2:82 (pp1, runtime+rule)",
            "udp 127.0.0.1:8081 -> 172.17.0.2:81 (pp1, runtime+rule)",
        ])
        #expect(merged[0].rules.map(\.position) == [3] && merged[0].runtimeRecords.count == 1)
    }

    @Test func podmanDatabaseAndNetavarkRulesAgree() throws {
        let runtime = PodmanMetadata(graphRoot: RuntimePublishedPortTests.root("podman")).publishedPorts().ports
        let rules = PublishedPort.dnatPorts(in: try DNATPublishedPortTests.saved("netavark-published.iptables-nft-save"))
        let merged = PublishedPort.merged(runtime: runtime, rules: rules)
        #expect(merged.count == 4)
        #expect(merged.allSatisfy { $0.agreement == .runtimeAndRule && $0.container?.name == "pp2" }, "\(merged)")
    }

    @Test func ruleToAnAddressNoRuntimeClaimsAndAStaleRuleStayVisible() throws {
        let runtime = DockerMetadata(root: RuntimePublishedPortTests.root("docker")).publishedPorts().ports
        var text = try FixtureFiles.text("netfilter/docker-published.iptables-nft-save")
        // The rule for 8080 still leads to the container's old address; someone added a rule by hand.
        text = text.replacingOccurrences(of: "--dport 8080 -j DNAT --to-destination 172.17.0.2:80",
                                         with: "--dport 8080 -j DNAT --to-destination 172.17.0.9:80")
        text = text.replacingOccurrences(of: "[0:0] -A DOCKER -d 127.0.0.1/32", with: "[0:0] -A DOCKER -d 203.0.113.1/32 -p tcp -m tcp --dport 1222 -j DNAT --to-destination 172.17.0.7:22\n[0:0] -A DOCKER -d 127.0.0.1/32")
        let rules = PublishedPort.dnatPorts(in: Ruleset(tables: IptablesSave.parse(text, backend: .iptablesLegacy)))
        let other = ContainerIdentity(runtime: .docker, id: "0123456789abcdef", name: "sshd")
        let merged = PublishedPort.merged(runtime: runtime, rules: rules, containers: [IPAddress(172, 17, 0, 7): other])
        let by = Dictionary(grouping: merged, by: { $0.hostPorts.first })
        #expect(by[8080]?.map(\.description).sorted() == [
            "tcp 0.0.0.0:8080 -> 172.17.0.2:80 (pp1, runtime-only)",
            "tcp 0.0.0.0:8080 -> 172.17.0.9:80 (rule-only)",
        ])
        #expect(by[1222]?.map(\.description) == ["tcp 203.0.113.1:1222 -> 172.17.0.7:22 (sshd, rule-only)"])
        #expect(by[32768]?.first?.agreement == .runtimeAndRule)
    }

    @Test func ruleNamingAContainerIsAttributedByItsID() throws {
        let runtime = PodmanMetadata(graphRoot: RuntimePublishedPortTests.root("podman")).publishedPorts().ports
        let text = try FixtureFiles.text("netfilter/netavark-published.iptables-nft-save")
            .replacingOccurrences(of: "--to-destination 10.88.0.3:82", with: "--to-destination 10.88.0.3:83")
        let rules = PublishedPort.dnatPorts(in: Ruleset(tables: IptablesSave.parse(text, backend: .iptablesNft)))
        let merged = PublishedPort.merged(runtime: runtime, rules: rules)
        let stale = try #require(merged.first { $0.agreement == .ruleOnly })
        #expect(stale.description == "tcp 0.0.0.0:35119 -> 10.88.0.3:83 (pp2, rule-only)")
        #expect(merged.filter { $0.agreement == .runtimeOnly }.map(\.description) == ["tcp *:35119 -> 10.88.0.3:82 (pp2, runtime-only)"])
    }

    @Test func docker28BothFamiliesMatchRulesOfTheirOwnFamily() throws {
        let runtime = DockerMetadata(root: RuntimePublishedPortTests.root("docker28")).publishedPorts().ports
        let v4 = IptablesSave.parse("""
            *nat
            :PREROUTING ACCEPT [0:0]
            :DOCKER - [0:0]
            -A PREROUTING -m addrtype --dst-type LOCAL -j DOCKER
            -A DOCKER ! -i br-web -p tcp -m tcp --dport 8080 -j DNAT --to-destination 172.18.0.5:80
            COMMIT
            """, backend: .iptablesNft)
        let v6 = IptablesSave.parse("""
            *nat
            :PREROUTING ACCEPT [0:0]
            :DOCKER - [0:0]
            -A PREROUTING -m addrtype --dst-type LOCAL -j DOCKER
            -A DOCKER ! -i br-web -p tcp -m tcp --dport 8080 -j DNAT --to-destination [fd00:dead::5]:80
            COMMIT
            """, backend: .iptablesNft, family: "ip6")
        let merged = PublishedPort.merged(runtime: runtime, rules: PublishedPort.dnatPorts(in: Ruleset(tables: v4 + v6)))
        #expect(merged.filter { $0.hostPorts == PortRange(8080) }.map(\.description) == [
            "tcp 0.0.0.0:8080 -> 172.18.0.5:80 (web, runtime+rule)",
            "tcp :::8080 -> [fd00:dead::5]:80 (web, runtime+rule)",
        ])
        #expect(merged.filter { $0.transport == .udp }.allSatisfy { $0.agreement == .runtimeOnly })
    }
}
