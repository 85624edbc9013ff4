import Foundation
import Testing
@testable import TracerCore

/// The published-port checks on hand-built host sides, with the rules of the egress lab's
/// `publish` (iptables-nft, captured from it) and the field example's nft allow-list
/// (`nft -j -a list table inet filter` on the lab after `break dnat-allowlist-miss`).
@Suite struct IngressChecksTests {
    static let c1 = IPAddress(172, 17, 0, 2)
    static let published = IPAddress(198, 51, 100, 2)

    static let labNat = """
    *nat
    :PREROUTING ACCEPT [0:0]
    :INPUT ACCEPT [0:0]
    :OUTPUT ACCEPT [0:0]
    :POSTROUTING ACCEPT [0:0]
    :DOCKER - [0:0]
    -A PREROUTING -m addrtype --dst-type LOCAL -j DOCKER
    -A POSTROUTING -s 172.17.0.0/16 -o uplink0 -j MASQUERADE
    -A POSTROUTING -s 172.17.0.0/16 -o br-lab -m conntrack --ctstate DNAT -j MASQUERADE
    -A DOCKER -d 198.51.100.2/32 -p tcp -m tcp --dport 1222 -j DNAT --to-destination 172.17.0.2:22
    -A DOCKER -d 198.51.100.2/32 -p udp -m udp --dport 1253 -j DNAT --to-destination 172.17.0.2:53
    COMMIT
    """

    static func path(_ name: String = "c1", ip: String = "172.17.0.2/16", veth: String = "veth-c1", index: Int32 = 5) -> EgressPath {
        EgressPath(endpoint: .init(name: name, netnsInode: 10 + UInt64(index), netnsPath: "/run/netns/tel-x-\(name)", interface: "eth0",
                                   interfaceIndex: 2, ipv4: [IPPrefix(ip)!], mtu: 1500),
                   hostNetnsInode: 99, hostNetnsPath: "/run/netns/tel-x-host", hostIsRoot: false,
                   hostVeth: .init(name: veth, index: index), bridge: .init(name: "br-lab", index: 3),
                   uplink: .init(name: "uplink0", index: 4), gateway: IPAddress(198, 51, 100, 1))
    }

    static func host(_ tables: [FirewallTable], hairpin: Bool = true) -> IngressHostState {
        var state = IngressHostState(netnsInode: 99, reading: RulesetReading(ruleset: Ruleset(tables: tables), unchecked: []),
                                     interfaces: [NetworkInterface(index: 1, name: "lo", ipv4: [IPPrefix("127.0.0.1/8")]),
                                                  NetworkInterface(index: 3, name: "br-lab", kind: "bridge", ipv4: [IPPrefix("172.17.0.1/16")]),
                                                  NetworkInterface(index: 4, name: "uplink0", kind: "veth", ipv4: [IPPrefix("198.51.100.2/24")])],
                                     bridgePorts: [BridgePort(index: 5, name: "veth-c1", masterIndex: 3, state: .forwarding, hairpin: hairpin)])
        state.set("net/ipv4/ip_forward", "1")
        state.set("net/ipv4/conf/uplink0/forwarding", "1")
        state.set("net/ipv4/conf/br-lab/route_localnet", "0")
        state.set("net/bridge/bridge-nf-call-iptables", "1")
        return state
    }

    static func allowlist() throws -> FirewallTable {
        let json = try FixtureFiles.text("netfilter/dnat-allowlist.json")
        let parsed = try #require(NftJSONRuleset.parse(json: Array(json.utf8), text: try FixtureFiles.text("netfilter/dnat-allowlist.nft")))
        return try #require(parsed.tables.first)
    }

    static func reports(_ host: IngressHostState, runtime: [PublishedPort] = [], paths: [EgressPath] = [path()]) -> [PublishedPortReport] {
        let ports = IngressDiagnosis.publishedPorts(runtime: runtime, paths: paths, hosts: [99: host])
        return IngressDiagnosis.check(ports, paths: paths, hosts: [99: host])
    }

    static func codes(_ report: PublishedPortReport?) -> [String] { report?.findings.map(\.code.rawValue) ?? ["no report"] }

    @Test func ctStatusDnatIsParsedFromNftAndIptables() throws {
        let forward = try #require(try Self.allowlist().chain("forward"))
        #expect(forward.rules[1].matches == [.ctStatus(["dnat"], negated: false)])
        #expect(forward.rules[1].verdict == .jump("allowed_dnats"))
        let rules = IptablesSave.parse("""
        *filter
        :FORWARD ACCEPT [0:0]
        -A FORWARD -m conntrack --ctstate DNAT -j allowed_dnats
        -A FORWARD -m conntrack --ctstatus DNAT -j allowed_dnats
        -A FORWARD -m conntrack --ctstate NEW,DNAT -j ACCEPT
        COMMIT
        """, backend: .iptablesNft)
        let matches = try #require(rules.first?.chain("FORWARD")?.rules.map(\.matches))
        #expect(matches == [[.ctStatus(["dnat"], negated: false)], [.ctStatus(["dnat"], negated: false)],
                            [.ctState(["new", "dnat"], negated: false)]])
        // The mixed state matches a DNAT'd established packet by its status bit.
        let established = ImaginedPacket(source: nil, destination: Self.c1, inInterface: "uplink0", outInterface: "br-lab",
                                         ctState: "established", dnat: true)
        #expect(ForwardEvaluator.match(matches[2], established, sets: []) == .yes)
        #expect(ForwardEvaluator.match(matches[0], ImaginedPacket(source: Self.c1, destination: nil, inInterface: "br-lab",
                                                                   outInterface: "uplink0", ctState: "new"), sets: []) == .no)
    }

    /// Issue 13's false alarm: the allow-list of DNAT'd flows no longer "may drop egress" of every endpoint.
    @Test func theFieldAllowListDropsNoEgress() throws {
        let path = Self.path()
        let report = NetfilterInspector.inspect(path: path, reading: RulesetReading(ruleset: Ruleset(tables: [try Self.allowlist()]), unchecked: []))
        #expect(!report.findings.contains { $0.code == .forwardRuleDrop }, "\(report.findings)")
        // The DNAT'd flow does go through it: the set lookup is not modelled here yet, so "may drop".
        let inbound = ImaginedPacket(source: nil, destination: Self.c1, inInterface: "uplink0", outInterface: "br-lab", ctState: "new",
                                     proto: "tcp", destinationPort: 22, dnat: true)
        let drops = ForwardEvaluator.drops(in: Ruleset(tables: [try Self.allowlist()]), hook: "forward", packet: inbound)
        #expect(drops.map { "\($0.chain) \($0.rule?.handle ?? 0)" } == ["allowed_dnats 7"])
    }

    @Test func healthyLabPortsHaveNoFindingsAndLeadToC1() throws {
        let nat = IptablesSave.parse(Self.labNat, backend: .iptablesNft)
        let reports = Self.reports(Self.host(nat))
        #expect(reports.map(\.port.description) == ["tcp 198.51.100.2:1222 -> 172.17.0.2:22 (rule-only)",
                                                    "udp 198.51.100.2:1253 -> 172.17.0.2:53 (rule-only)"])
        #expect(reports.allSatisfy { $0.path?.endpoint.name == "c1" && $0.findings.isEmpty }, "\(reports.map(\.findings))")
    }

    @Test func forwardDropsOfTheInboundFlowAndItsRepliesUseTheEgressCodes() throws {
        let nat = IptablesSave.parse(Self.labNat, backend: .iptablesNft)
        // DOCKER-USER as dnat-replies-dropped makes it: tcp to c1:22 returns, everything else dropped.
        let filter = IptablesSave.parse("""
        *filter
        :FORWARD ACCEPT [0:0]
        :DOCKER-USER - [0:0]
        -A FORWARD -j DOCKER-USER
        -A DOCKER-USER -d 172.17.0.2/32 -p tcp -m tcp --dport 22 -j RETURN
        -A DOCKER-USER -j DROP
        COMMIT
        """, backend: .iptablesNft)
        let reports = Self.reports(Self.host(nat + filter))
        let ssh = try #require(reports.first { $0.port.transport == .tcp })
        #expect(Self.codes(ssh) == ["forward-rule-drop"])
        let drop = try #require(ssh.findings.first)
        #expect(drop.severity == .error && drop.message.contains("drops the replies of tcp 198.51.100.2:1222 -> 172.17.0.2:22"), "\(drop.message)")
        // The replies' own accept, not the drop's deletion (that would open every port of the host).
        #expect(drop.fix == "nsenter --net=/run/netns/tel-x-host iptables-nft -I DOCKER-USER 2 -s 172.17.0.2/32 -i br-lab -p tcp -m tcp --sport 22 -m conntrack --ctstate ESTABLISHED -j ACCEPT")
        let dns = try #require(reports.first { $0.port.transport == .udp })
        #expect(dns.findings.contains { $0.message.contains("drops inbound udp 198.51.100.2:1253") }, "\(dns.findings)")
    }

    @Test func forwardingOffOnTheUplink() throws {
        var host = Self.host(IptablesSave.parse(Self.labNat, backend: .iptablesNft))
        host.set("net/ipv4/conf/uplink0/forwarding", "0")
        let finding = try #require(Self.reports(host).first?.findings.first)
        #expect(finding.code == .deviceForwardingDisabled && finding.device == "uplink0")
        #expect(finding.fix == "nsenter --net=/run/netns/tel-x-host sysctl -w net.ipv4.conf.uplink0.forwarding=1")
    }

    /// Strict rp_filter on the uplink matters only with a network routed out of another device.
    @Test func strictReversePathFilterWithANetworkRoutedElsewhere() throws {
        var host = Self.host(IptablesSave.parse(Self.labNat, backend: .iptablesNft))
        host.interfaces.append(NetworkInterface(index: 6, name: "uplink1", kind: "veth", ipv4: [IPPrefix("192.0.2.2/24")]))
        host.routes = [IPv4Route(destination: IPPrefix("0.0.0.0/0"), gateway: IPAddress(198, 51, 100, 1), outputIndex: 4),
                       IPv4Route(destination: IPPrefix("172.17.0.0/16"), outputIndex: 3)]
        host.set("net/ipv4/conf/all/rp_filter", "1")
        #expect(!Self.codes(Self.reports(host).first).contains("rp-filter-drop"), "no network routed elsewhere")

        host.routes.append(IPv4Route(destination: IPPrefix("203.0.113.0/24"), gateway: IPAddress(192, 0, 2, 1), outputIndex: 6))
        let finding = try #require(Self.reports(host).first?.findings.first { $0.code == .rpFilterDrop })
        #expect(finding.severity == .warning && finding.device == "uplink0")
        #expect(finding.message.contains("203.0.113.0/24"))
        #expect(finding.evidence.contains("203.0.113.0/24 via 192.0.2.1 dev uplink1"))
        #expect(finding.fix == "nsenter --net=/run/netns/tel-x-host sysctl -w net.ipv4.conf.all.rp_filter=2 && nsenter --net=/run/netns/tel-x-host sysctl -w net.ipv4.conf.uplink0.rp_filter=2")

        host.set("net/ipv4/conf/all/rp_filter", "2")
        #expect(!Self.codes(Self.reports(host).first).contains("rp-filter-drop"), "loose mode passes a client with any route back")
    }

    @Test func runtimePortWithoutDNATIsMissingOrServedByAProxy() throws {
        let docker = ContainerIdentity(runtime: .docker, id: String(repeating: "ab", count: 32), name: "web")
        let runtime = PublishedPort(hostAddress: .unspecified(.v4), hostPorts: PortRange(8080), transport: .tcp, containerAddress: Self.c1,
                                    containerPorts: PortRange(80), container: docker,
                                    sources: [.runtime(RuntimePortRecord(runtime: .docker, path: "/var/lib/docker/containers/ab/config.v2.json",
                                                                         field: "NetworkSettings.Ports"))])
        var path = Self.path()
        path.endpoint.container = docker
        let missing = Self.reports(Self.host([]), runtime: [runtime], paths: [path])
        #expect(Self.codes(missing.first) == ["dnat-missing"])
        let finding = try #require(missing.first?.findings.first)
        #expect(finding.severity == .error)
        #expect(finding.fix?.hasPrefix("nsenter --net=/run/netns/tel-x-host iptables-nft -t nat -A PREROUTING -p tcp --dport 8080 -j DNAT --to-destination 172.17.0.2:80") == true,
                "\(finding.fix ?? "nil")")

        var proxied = Self.host([])
        proxied.listeners = [ListeningSocket(transport: .tcp, address: IPAddress(0, 0, 0, 0), port: 8080, inode: 77,
                                             owners: [.init(pid: 4242, program: "docker-proxy", commandLine: "/usr/bin/docker-proxy -proto tcp -host-port 8080")])]
        let served = Self.reports(proxied, runtime: [runtime], paths: [path])
        #expect(Self.codes(served.first) == ["userland-proxy"])
        #expect(served.first?.findings.first?.message.contains("docker-proxy (pid 4242)") == true)
    }

    @Test func hairpinNeedsTheBridgePortsModeAndAMasquerade() throws {
        let withMasquerade = IptablesSave.parse(Self.labNat, backend: .iptablesNft)
        let off = Self.reports(Self.host(withMasquerade, hairpin: false))
        #expect(Self.codes(off.first) == ["hairpin-mode-off"])
        #expect(off.first?.findings.first?.fix == "bridge -n tel-x-host link set dev veth-c1 hairpin on")

        let without = IptablesSave.parse(Self.labNat.replacingOccurrences(of: "-A POSTROUTING -s 172.17.0.0/16 -o br-lab -m conntrack --ctstate DNAT -j MASQUERADE\n", with: ""),
                                          backend: .iptablesNft)
        let finding = try #require(Self.reports(Self.host(without)).first?.findings.first)
        #expect(finding.code == .hairpinMasqueradeMissing && finding.severity == .warning)
        #expect(finding.fix == "nsenter --net=/run/netns/tel-x-host iptables-nft -t nat -A POSTROUTING -s 172.17.0.2 -d 172.17.0.2 -o br-lab -p tcp --dport 22 -j MASQUERADE")
    }

    @Test func localhostPublishingNeedsRouteLocalnetAndAMasquerade() throws {
        let nat = IptablesSave.parse("""
        *nat
        :PREROUTING ACCEPT [0:0]
        :OUTPUT ACCEPT [0:0]
        :POSTROUTING ACCEPT [0:0]
        :DOCKER - [0:0]
        -A PREROUTING -j DOCKER
        -A OUTPUT -j DOCKER
        -A DOCKER -d 127.0.0.1/32 -p tcp -m tcp --dport 8081 -j DNAT --to-destination 172.17.0.2:81
        COMMIT
        """, backend: .iptablesNft)
        let report = try #require(Self.reports(Self.host(nat)).first)
        #expect(Self.codes(report) == ["localhost-route-localnet-off", "localhost-masquerade-missing"])
        #expect(report.findings[0].fix == "nsenter --net=/run/netns/tel-x-host sysctl -w net.ipv4.conf.br-lab.route_localnet=1")

        var proxied = Self.host(nat)
        proxied.listeners = [ListeningSocket(transport: .tcp, address: IPAddress(127, 0, 0, 1), port: 8081, inode: 9)]
        #expect(Self.reports(proxied).first?.findings.isEmpty == true)
    }

    @Test func staleConntrackEntriesOfThePort() throws {
        var host = Self.host(IptablesSave.parse(Self.labNat, backend: .iptablesNft))
        host.conntrack = ConntrackEntry.parse("""
        ipv4     2 udp      17 28 src=198.51.100.1 dst=198.51.100.2 sport=40053 dport=1253 [UNREPLIED] src=198.51.100.2 dst=198.51.100.1 sport=1253 dport=40053 mark=0 zone=0 use=2
        ipv4     2 udp      17 28 src=198.51.100.1 dst=198.51.100.2 sport=40054 dport=1253 src=172.17.0.2 dst=198.51.100.1 sport=53 dport=40054 mark=0 zone=0 use=2
        ipv4     2 tcp      6 431999 ESTABLISHED src=198.51.100.1 dst=198.51.100.2 sport=5000 dport=1222 src=172.17.0.2 dst=198.51.100.1 sport=22 dport=5000 [ASSURED] mark=0 zone=0 use=2
        """)
        #expect(host.conntrack?.count == 3)
        let udp = try #require(Self.reports(host).first { $0.port.transport == .udp })
        #expect(Self.codes(udp) == ["stale-conntrack"])
        let finding = try #require(udp.findings.first)
        #expect(finding.message.hasPrefix("1 conntrack entry for udp 198.51.100.2:1253 -> 172.17.0.2:53 (c1) lead to 198.51.100.2"), "\(finding.message)")
        #expect(finding.fix == "nsenter --net=/run/netns/tel-x-host conntrack -D -p udp --orig-port-dst 1253 --reply-src 198.51.100.2")
        #expect(Self.reports(host).first { $0.port.transport == .tcp }?.findings.isEmpty == true)
    }

    @Test func listeningSocketsAndAddressesFromProc() {
        let tcp = """
          sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode
           0: 0100007F:1F91 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 31337 1 0000000000000000 100 0 0 10 0
           1: 0100007F:1F92 0200007F:0050 01 00000000:00000000 00:00000000 00000000     0        0 31338 1 0000000000000000 100 0 0 10 0
        """
        #expect(ListeningSocket.parse(tcp, transport: .tcp) == [ListeningSocket(transport: .tcp, address: IPAddress(127, 0, 0, 1), port: 8081, inode: 31337)])
        let tcp6 = """
          sl  local_address                         remote_address                        st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode
           0: 00000000000000000000000000000000:1F90 00000000000000000000000000000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 555 1 0000000000000000 100 0 0 10 0
        """
        let any = ListeningSocket.parse(tcp6, transport: .tcp)
        #expect(any.first?.port == 8080 && any.first?.answers(IPAddress(198, 51, 100, 2), port: 8080, transport: .tcp) == true)
    }

    @Test func ownersAreFoundThroughProcFileDescriptors() throws {
        // This test process's own listening socket, found by its inode in /proc/self/fd.
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var address = sockaddr_in(sin_family: sa_family_t(AF_INET), sin_port: 0, sin_addr: in_addr(s_addr: UInt32(0x7F00_0001).bigEndian), sin_zero: (0, 0, 0, 0, 0, 0, 0, 0))
        let bound = withUnsafePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) } }
        #expect(bound == 0 && listen(fd, 1) == 0)
        var statBuffer = stat()
        #expect(fstat(fd, &statBuffer) == 0)
        let socket = ListeningSocket(transport: .tcp, address: IPAddress(127, 0, 0, 1), port: 1, inode: UInt64(statBuffer.st_ino))
        let owned = ListeningSocket.withOwners([socket])
        #expect(owned.first?.owners.contains { $0.pid == getpid() } == true, "\(owned)")
    }
}
