import Foundation
import Testing
@testable import TracerCore

/// Published ports from DNAT rules: docker's DOCKER chain and netavark's chains as iptables-nft-save
/// printed them on the labs of RuntimePublishedPortTests, and a native nft ruleset with the
/// shapes a hand-written one takes (the field case of ingress.md, named and anonymous maps, IPv6,
/// SCTP, port ranges).
@Suite struct DNATPublishedPortTests {
    static func saved(_ name: String, family: String = "ip") throws -> Ruleset {
        Ruleset(tables: IptablesSave.parse(try FixtureFiles.text("netfilter/\(name)"), backend: .iptablesNft, family: family))
    }

    static func native() throws -> Ruleset {
        let json = try FixtureFiles.text("netfilter/dnat-native.json")
        return try #require(NftJSONRuleset.parse(json: Array(json.utf8), text: try FixtureFiles.text("netfilter/dnat-native.nft")))
    }

    @Test func dockerChain() throws {
        let ports = PublishedPort.dnatPorts(in: try Self.saved("docker-published.iptables-nft-save"))
        #expect(ports.map(\.description) == [
            "tcp 0.0.0.0:32768 -> 172.17.0.2:82 (rule-only)",
            "udp 127.0.0.1:8081 -> 172.17.0.2:81 (rule-only)",
            "tcp 0.0.0.0:8080 -> 172.17.0.2:80 (rule-only)",
        ])
        let rule = try #require(ports[2].rules.first)
        #expect(rule.chain == "DOCKER" && rule.position == 3 && rule.table == "nat" && rule.backend == .iptablesNft)
        #expect(rule.text == "-A DOCKER -p tcp -m tcp --dport 8080 -j DNAT --to-destination 172.17.0.2:80")
        #expect(rule.path == ["PREROUTING", "DOCKER"])
        // PREROUTING and OUTPUT both jump to DOCKER: one port, reached from both hooks.
        #expect(rule.hooks == ["prerouting", "output"])
        #expect(rule.target == DNATTarget(address: IPAddress(172, 17, 0, 2), ports: PortRange(80), text: "172.17.0.2:80"))
    }

    @Test func netavarkChainsCarryTheContainerIDAndShiftedRanges() throws {
        // What RulesetReader builds: iptables-nft-save's rules with nft's handles.
        let json = try FixtureFiles.text("netfilter/netavark-published.json")
        let nft = try #require(NftJSONRuleset.parse(json: Array(json.utf8)))
        let saved = try Self.saved("netavark-published.iptables-nft-save")
        let nat = RulesetReader.attachHandles(try #require(saved.table(family: "ip", name: "nat")),
                                              from: try #require(nft.table(family: "ip", name: "nat")))
        let ports = PublishedPort.dnatPorts(in: Ruleset(tables: [nat]))
        #expect(ports.map(\.description) == [
            "tcp 0.0.0.0:8080 -> 10.88.0.3:80 (rule-only)",
            "tcp 0.0.0.0:9000-9001 -> 10.88.0.3:90-91 (rule-only)",
            "tcp 0.0.0.0:35119 -> 10.88.0.3:82 (rule-only)",
            "udp 127.0.0.1:8081 -> 10.88.0.3:81 (rule-only)",
        ])
        for port in ports {
            let rule = try #require(port.rules.first)
            #expect(rule.containerID == RuntimePublishedPortTests.podmanLabID)
            #expect(rule.chain == "NETAVARK-DN-1D8721804F16F" && rule.path == ["PREROUTING", "NETAVARK-HOSTPORT-DNAT", rule.chain])
            #expect(rule.handle != nil)
        }
        #expect(ports[0].rules[0].location == "ip nat NETAVARK-DN-1D8721804F16F rule 3 (iptables-nft, handle 15)")
        // --to-destination 10.88.0.3:90-91/9000: 9000 -> 90, 9001 -> 91.
        let range = try #require(ports[1].rules.first?.target)
        #expect(range.portBase == 9000 && range.ports == PortRange(first: UInt16(90), last: UInt16(91)))
        #expect(ports[1].containerPort(forHostPort: 9000) == 90 && ports[1].containerPort(forHostPort: 9001) == 91)
        #expect(ports[1].containerPort(forHostPort: 9002) == nil)
    }

    @Test func nativeNftRulesMapsIPv6AndSCTP() throws {
        let ports = PublishedPort.dnatPorts(in: try Self.native())
        #expect(Set(ports.map(\.description)) == [
            "tcp 10.1.2.3:1222 -> 192.168.70.10:22 (rule-only)",
            "udp 10.1.2.3:5353 -> 192.168.70.10 (rule-only)",
            "tcp 10.1.2.3:2222 -> 192.168.70.11:22 (rule-only)",
            "tcp 10.1.2.3:8443 -> 192.168.70.12:443 (rule-only)",
            "tcp [2001:db8::1]:8080 -> [fd00::10]:80 (rule-only)",
            // `dnat ip to` in an inet table: IPv4 only.
            "tcp 0.0.0.0:9000-9001 -> 192.168.70.13:9000-9001 (rule-only)",
            "sctp 0.0.0.0:3868 -> 192.168.70.14:3868 (rule-only)",
            "tcp 10.1.2.3:7000 -> 192.168.70.15:70 (rule-only)",
        ])
        #expect(ports.count == 8)
        let ssh = try #require(ports.first { $0.hostPorts == PortRange(1222) })
        let rule = try #require(ssh.rules.first)
        #expect(rule.location == "inet nat prerouting handle 3" && rule.path == ["prerouting"] && rule.hooks == ["prerouting"])
        #expect(rule.text == "ip daddr 10.1.2.3 tcp dport 1222 dnat ip to 192.168.70.10:22 comment \"ssh c1\"")
        // A dnat without a port keeps the packet's.
        #expect(ports.first { $0.transport == .udp }?.containerPort(forHostPort: 5353) == 5353)
        let mapped = try #require(ports.first { $0.hostPorts == PortRange(8443) }?.rules.first?.target)
        #expect(mapped.text == "ip daddr . tcp dport map @published" && mapped.mappings.count == 2 && mapped.mapProtocol == .tcp)
        // A pool the packet's port is in keeps it.
        #expect(ports.first { $0.hostPorts.first == 9000 }?.containerPort(forHostPort: 9001) == 9001)
    }

    @Test func kubeProxyShapeGathersThePortOnTheWay() throws {
        let text = """
            *nat
            :PREROUTING ACCEPT [0:0]
            :OUTPUT ACCEPT [0:0]
            :KUBE-SERVICES - [0:0]
            :KUBE-NODEPORTS - [0:0]
            :KUBE-EXT-ABC - [0:0]
            :KUBE-SVC-ABC - [0:0]
            :KUBE-SEP-ONE - [0:0]
            :KUBE-SEP-ORPHAN - [0:0]
            -A PREROUTING -m comment --comment "kubernetes service portals" -j KUBE-SERVICES
            -A KUBE-SERVICES -d 10.96.0.10/32 -p tcp -m comment --comment "default/web:http cluster IP" -m tcp --dport 80 -j KUBE-SVC-ABC
            -A KUBE-SERVICES -m comment --comment "kubernetes service nodeports" -m addrtype --dst-type LOCAL -j KUBE-NODEPORTS
            -A KUBE-NODEPORTS -p tcp -m comment --comment "default/web:http" -m tcp --dport 30080 -j KUBE-EXT-ABC
            -A KUBE-EXT-ABC -j KUBE-SVC-ABC
            -A KUBE-SVC-ABC -m comment --comment "default/web:http -> 10.244.1.5:8080" -j KUBE-SEP-ONE
            -A KUBE-SEP-ONE -p tcp -m comment --comment "default/web:http" -m tcp -j DNAT --to-destination 10.244.1.5:8080
            -A KUBE-SEP-ORPHAN -p udp -m udp --dport 53 -j DNAT --to-destination 10.244.9.9
            COMMIT
            """
        let ports = PublishedPort.dnatPorts(in: Ruleset(tables: IptablesSave.parse(text, backend: .iptablesLegacy)))
        #expect(ports.map(\.description) == [
            "tcp 10.96.0.10:80 -> 10.244.1.5:8080 (rule-only)",
            "tcp 0.0.0.0:30080 -> 10.244.1.5:8080 (rule-only)",
            "udp 0.0.0.0:53 -> 10.244.9.9 (rule-only)",
        ])
        #expect(ports[1].rules[0].path == ["PREROUTING", "KUBE-SERVICES", "KUBE-NODEPORTS", "KUBE-EXT-ABC", "KUBE-SVC-ABC", "KUBE-SEP-ONE"])
        #expect(ports[1].rules[0].location == "ip nat KUBE-SEP-ONE rule 1 (iptables-legacy)")
        // In a chain nothing jumps to: kept, with no path and no hook.
        #expect(ports[2].rules[0].path.isEmpty && ports[2].rules[0].hooks.isEmpty)
    }

    @Test func opaqueXtDNATMakesNoPort() {
        // ip6tables-nft's DNAT as nft's JSON shows it: nothing says which port or where to.
        let chain = FirewallChain(name: "PREROUTING", hook: "prerouting", type: "nat", priority: -100, policy: "accept", rules: [
            FirewallRule(handle: 4, position: 1, text: "xt match tcp xt target DNAT", matches: [.other("xt match tcp")], verdict: .dnat(nil)),
        ])
        let table = FirewallTable(family: "ip6", name: "nat", backend: .iptablesNft, chains: [chain])
        #expect(PublishedPort.dnatPorts(in: Ruleset(tables: [table])).isEmpty)
        // The same rule read by a save tool is a port.
        var readable = table
        readable.chains[0].rules[0].matches = [.proto(["tcp"], negated: false), .destinationPort([8080...8080], negated: false)]
        readable.chains[0].rules[0].verdict = .dnat(DNATTarget(iptables: "[fd00::5]:80"))
        #expect(PublishedPort.dnatPorts(in: Ruleset(tables: [readable])).map(\.description) == ["tcp :::8080 -> [fd00::5]:80 (rule-only)"])
    }

    @Test func iptablesTargetsParse() {
        let plain = DNATTarget(iptables: "172.17.0.2:80")
        #expect(plain.address == IPAddress(172, 17, 0, 2) && plain.ports == PortRange(80) && plain.portBase == nil)
        #expect(DNATTarget(iptables: "172.17.0.2").ports == nil)
        let v6 = DNATTarget(iptables: "[fd00::10]:80")
        #expect(v6.address == IPAddress("fd00::10") && v6.ports == PortRange(80))
        #expect(DNATTarget(iptables: "fd00::10").address == IPAddress("fd00::10"))
        let shifted = DNATTarget(iptables: "10.88.0.3:90-91/9000")
        #expect(shifted.ports == PortRange(first: UInt16(90), last: UInt16(91)) && shifted.portBase == 9000)
        #expect(shifted.translatedPort(9001) == 91 && shifted.translatedPort(8999) == nil)
        let range = DNATTarget(iptables: "10.0.0.1-10.0.0.3:80")
        #expect(range.address == nil && range.ports == PortRange(80) && range.text == "10.0.0.1-10.0.0.3:80")
        #expect(PortRange(text: "9000:9001") == PortRange(first: UInt16(9000), last: UInt16(9001)))
        #expect(PortRange(text: "9001-9000") == nil && PortRange(text: "70000") == nil && PortRange(text: "") == nil)
        #expect(PortRange(text: "+80") == nil && PortRange(text: "1-2-3") == nil)
    }
}
