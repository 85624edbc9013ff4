import Foundation
import Glibc
import LabSupport
import Testing
@testable import TracerCore

/// Discovery and the static checks on the real egress lab (tools/lab/egress.sh): a container
/// host built inside namespaces, healthy, then broken one way at a time.
@Suite(.serialized, .requires(geteuid() == 0 && FileManager.default.isExecutableFile(atPath: "/usr/sbin/iptables-nft"),
                             "SKIPPED LOUDLY: the egress lab needs root, iproute2, iptables-nft and busybox (tools/setup.sh --test)"))
struct EgressDiagnosisTests {
    func finder() -> EgressPathFinder { EgressPathFinder(resolver: .host()) }

    @Test func discoveryPutsTheHostSideInTheLabNamespaceAndAHealthyLabHasNoErrors() throws {
        let lab = try EgressLab.up(EgressLab.uniqueName("h"), endpoints: 2)
        defer { lab.down() }
        #expect(try lab.probe(), "the healthy lab should reach its world")

        let all = try finder().paths()
        let hostInode = try #require(UInt64(lab["host_netns_inode"] ?? ""))
        for i in 1...2 {
            let path = try #require(all.first { $0.endpoint.name == "tel-\(lab.name)-c\(i)" },
                                    "c\(i) not discovered among \(all.map(\.endpoint.name))")
            #expect(path.endpoint.container == nil)
            #expect(path.endpoint.netnsInode == UInt64(lab["c\(i)_netns_inode"] ?? ""))
            #expect(path.endpoint.interface == "eth0")
            #expect(path.endpoint.ipv4.map(\.description) == ["\(lab["c\(i)_ip"] ?? "?")/16"])
            #expect(path.hostNetnsInode == hostInode)
            #expect(path.hostNetnsPath == "/run/netns/\(lab.hostNetns)")
            #expect(!path.hostIsRoot)
            #expect(path.hostVeth?.name == "veth-c\(i)")
            #expect(path.bridge?.name == "br-lab")
            #expect(path.uplink?.name == "uplink0")
            #expect(path.gateway?.description == lab["gateway"])
            // The bridge ports are read over rtnetlink (AF_BRIDGE), with their STP state.
            let state = EgressPathState.read(path, directory: NetnsDirectory())
            #expect(state.host.bridgePorts.contains { $0.name == "veth-c\(i)" && $0.state == .forwarding }, "\(state.host.bridgePorts)")
            let findings = EgressDiagnosis.findings(for: path, state: state)
            #expect(!findings.contains { $0.severity == .error }, "healthy lab: \(findings)")
            #expect(!findings.contains { $0.code == .unchecked }, "everything readable: \(findings)")
        }
        // The host side and the world route out through veths too, but they are hosts, not endpoints.
        #expect(!all.contains { $0.endpoint.name == lab.hostNetns || $0.endpoint.name == "tel-\(lab.name)-world" })

        // Selecting the host side selects every endpoint behind it.
        let behind = try finder().paths(namespaces: [lab.hostNetns])
        #expect(Set(behind.map(\.endpoint.name)) == ["tel-\(lab.name)-c1", "tel-\(lab.name)-c2"])
        let byPath = try finder().paths(namespaces: ["/run/netns/tel-\(lab.name)-c2"])
        #expect(byPath.map(\.endpoint.name) == ["tel-\(lab.name)-c2"])

        #expect(throws: EgressPathFinder.SelectionError.self) { try finder().paths(namespaces: ["tel-\(lab.name)-c9"]) }
        do {
            _ = try finder().paths(namespaces: ["tel-\(lab.name)-c9"])
        } catch {
            guard case .unknownNamespace(_, let closest) = error else { Issue.record("wrong error \(error)"); return }
            #expect(closest.contains { $0.hasPrefix("tel-\(lab.name)-c") }, "closest: \(closest)")
        }
    }

    static let modes = EgressLab.deviceModes.map(\.mode)

    @Test(arguments: modes)
    func eachBreakIsFoundOnItsDevice(mode: String) throws {
        let expected = try #require(EgressLab.deviceModes.first { $0.mode == mode })
        let lab = try EgressLab.up(EgressLab.uniqueName("m"))
        defer { lab.down() }
        try lab.breakIt(mode)
        // The break is real: a full-size ping with DF set no longer gets through.
        #expect(try !lab.probe(size: 1400), "\(mode) did not break the lab")

        let paths = try finder().paths(namespaces: [lab.endpointNetns])
        let path = try #require(paths.first)
        #expect(path.hostNetnsPath == "/run/netns/\(lab.hostNetns)")
        let findings = EgressDiagnosis.findings(for: path, directory: NetnsDirectory())
        let finding = try #require(findings.first { $0.code.rawValue == expected.code }, "\(mode): \(findings)")
        #expect(finding.device == expected.device)
        #expect(finding.netnsInode == path.hostNetnsInode)
        // The severest finding is the cause, not a consequence of it.
        #expect(findings.first?.code.rawValue == expected.code, "\(mode): first is \(String(describing: findings.first))")
        // Fixes run in the lab's host namespace, never in the root one.
        let fix = try #require(finding.fix, "\(mode): no fix")
        #expect(fix.contains("-n \(lab.hostNetns) ") || fix.contains("--net=/run/netns/\(lab.hostNetns) ")
                    || fix.contains("-n \(lab.endpointNetns) ") || fix.contains("-n tel-\(lab.name)-world "), "\(fix)")
    }

    /// The fix printed for a break, pasted into a shell, repairs the lab.
    @Test(arguments: ["ip-forward-disabled", "bridge-down", "veth-down", "bridge-no-address", "device-forwarding-disabled",
                       "bridge-port-disabled", "uplink-no-carrier"])
    func theFixRepairsTheLab(mode: String) throws {
        let lab = try EgressLab.up(EgressLab.uniqueName("f"))
        defer { lab.down() }
        try lab.breakIt(mode)
        let path = try #require(try finder().paths(namespaces: [lab.endpointNetns]).first)
        let errors = EgressDiagnosis.findings(for: path, directory: NetnsDirectory()).filter { $0.severity == .error }
        for finding in errors {
            let fix = try #require(finding.fix)
            #expect(try LabShell.run(["-c", fix]).status == 0, "\(fix)")
        }
        // The bridge may take a moment to forward on a port that just came up.
        var reached = false
        for _ in 0..<30 where !reached {
            reached = try lab.probe()
            if !reached { usleep(100_000) }
        }
        #expect(reached, "\(mode): still broken after \(errors.compactMap(\.fix))")
        let after = EgressDiagnosis.findings(for: path, directory: NetnsDirectory())
        #expect(!after.contains { $0.severity == .error }, "\(after)")
    }

    /// Policy routing on the lab's host side: the endpoint's packets are routed by a table of their
    /// own (found, and the uplink with it), dropped by a rule (named, and its fix repairs), or sent
    /// to a table without a default route (named in the finding).
    @Test func policyRulesDecideTheUplinkAndTheirDropsAreNamed() throws {
        let lab = try EgressLab.up(EgressLab.uniqueName("p"))
        defer { lab.down() }
        func inHost(_ command: String) throws {
            #expect(try EgressLab.inNamespace(lab.hostNetns, ["sh", "-c", command]) == 0, "\(command)")
        }
        func diagnose() throws -> (path: EgressPath, findings: [Finding]) {
            let path = try #require(try finder().paths(namespaces: [lab.endpointNetns]).first)
            return (path, EgressDiagnosis.findings(for: path, directory: NetnsDirectory()))
        }
        // The default route moves to table 100, used for the containers' subnet only.
        try inHost("ip route add default via \(lab["gateway"] ?? "?") dev uplink0 table 100 && ip route del default"
                   + " && ip rule add from 172.17.0.0/16 lookup 100 priority 100")
        let rules = try RouteNetlink.inNamespace("/run/netns/\(lab.hostNetns)") { try RouteNetlink.ipv4Rules() }
        #expect(rules.contains(IPv4Rule(priority: 100, action: .lookup(table: 100), source: "172.17.0.0/16")), "\(rules)")
        #expect(try lab.probe())
        var (path, findings) = try diagnose()
        #expect(path.uplink?.name == "uplink0" && path.gateway?.description == lab["gateway"])
        #expect(!findings.contains { $0.severity == .error }, "\(findings)")

        // A blackhole rule before it: named, and its fix repairs the lab.
        try inHost("ip rule add from 172.17.0.0/16 blackhole priority 50")
        #expect(try !lab.probe())
        (path, findings) = try diagnose()
        let drop = try #require(findings.first { $0.code == .policyRuleDrop }, "\(findings)")
        #expect(drop.message.contains("50: from 172.17.0.0/16 blackhole"))
        let fix = try #require(drop.fix)
        #expect(fix == "ip -n \(lab.hostNetns) rule del priority 50")
        #expect(try LabShell.run(["-c", fix]).status == 0)
        #expect(try lab.probe())

        // Table 100 emptied: no default route where the rules look, said with the table.
        try inHost("ip route del default table 100")
        (path, findings) = try diagnose()
        let missing = try #require(findings.first { $0.code == .noDefaultRoute }, "\(findings)")
        #expect(missing.message.contains("table") && missing.message.contains("100"), "\(missing.message)")
        #expect(missing.fix?.hasSuffix("table 100") == true, "\(missing.fix ?? "-")")
    }

    // MARK: - IPv6

    static func isIPv6(_ code: FindingCode) -> Bool { code.rawValue.hasPrefix("ipv6-") || code.rawValue.hasPrefix("endpoint-ipv6-") }

    @Test func aHealthyDualStackLabHasNoIPv6Finding() throws {
        let lab = try EgressLab.up(EgressLab.uniqueName("6h"), ipv6: true)
        defer { lab.down() }
        #expect(try lab.probe(size: 1232, ipv6: true), "the healthy dual-stack lab should reach its world over IPv6")
        #expect(try lab.probe(tcp: true, ipv6: true))
        let path = try #require(try finder().paths(namespaces: [lab.endpointNetns]).first)
        let state = EgressPathState.read(path, directory: NetnsDirectory())
        // What the IPv6 checks read, really read: the addresses, the default routes, the router.
        let eth0 = try #require(state.endpoint.interfaces.first { $0.name == "eth0" })
        #expect(eth0.globalIPv6.map(\.description) == ["fd00:17::2/64"])
        #expect(eth0.tentativeIPv6.isEmpty && eth0.dadFailedIPv6.isEmpty)
        #expect(state.endpoint.ipv6Routes.first { $0.isDefault }?.gateway?.description == "fd00:17::1")
        #expect(state.host.ipv6Routes.first { $0.isDefault }?.gateway?.description == "2001:db8::1")
        #expect(state.host.ipv6Neighbours.contains { $0.address.description == "2001:db8::1" && $0.isRouter }, "\(state.host.ipv6Neighbours)")
        let findings = EgressDiagnosis.findings(for: path, state: state)
        #expect(!findings.contains { Self.isIPv6($0.code) || $0.severity == .error || $0.code == .unchecked }, "\(findings)")
        // The firewall was walked for IPv6 too: the lab's NAT66, read from ip6tables-nft-save, covers the ULA.
        #expect(!findings.contains { $0.family == .v6 }, "\(findings)")
        let eth = try #require(EgressChecks(path: path, state: state).ipv6Egress)
        #expect(eth.addresses.map(\.description) == ["fd00:17::2/64"] && eth.uplink == "uplink0")
        let report = NetfilterInspector.inspect(path: path, ipv6: eth)
        #expect(report.ruleset.table(family: "ip6", name: "nat", backend: .iptablesNft)?.chain("POSTROUTING")?.rules.first?.text
                == "-A POSTROUTING -s fd00:17::/64 -o uplink0 -j MASQUERADE", "\(report.ruleset)")
        #expect(report.unchecked.isEmpty, "\(report.unchecked)")
    }

    /// Each IPv6 break: found with its code on its device and namespace, first among the errors,
    /// and its fix, pasted into a shell, repairs the lab.
    @Test(arguments: EgressLab.ipv6Modes.map(\.mode))
    func eachIPv6BreakIsFoundAndItsFixRepairs(mode: String) throws {
        let expected = try #require(EgressLab.ipv6Modes.first { $0.mode == mode })
        let lab = try EgressLab.up(EgressLab.uniqueName("6m"), ipv6: true)
        defer { lab.down() }
        // Traffic first, as on a host in use: the neighbour caches hold the endpoint and the router.
        #expect(try lab.probe(ipv6: true))
        try lab.breakIt(mode)
        #expect(try !lab.probe(size: 1232, ipv6: true), "\(mode) did not break IPv6")
        #expect(try lab.probe(), "\(mode) should leave IPv4 alone")

        let path = try #require(try finder().paths(namespaces: [lab.endpointNetns]).first)
        let findings = EgressDiagnosis.findings(for: path, directory: NetnsDirectory())
        let finding = try #require(findings.first { $0.code.rawValue == expected.code }, "\(mode): \(findings)")
        #expect(finding.severity == .error)
        #expect(finding.device == expected.device)
        #expect(finding.netnsInode == (expected.side == "host" ? path.hostNetnsInode : path.endpoint.netnsInode))
        #expect(findings.first?.code.rawValue == expected.code, "\(mode): first is \(String(describing: findings.first))")
        #expect(findings.filter { $0.severity == .error }.count == 1, "one cause: \(findings)")

        let fix = try #require(finding.fix, "\(mode): no fix")
        #expect(!fix.contains("#"), "\(mode): the fix should be complete: \(fix)")
        #expect(fix.contains("-n \(lab.hostNetns) ") || fix.contains("--net=/run/netns/\(lab.hostNetns) ")
                    || fix.contains("-n \(lab.endpointNetns) ") || fix.contains("--net=/run/netns/\(lab.endpointNetns) "), "\(fix)")
        #expect(try LabShell.run(["-c", fix]).status == 0, "\(fix)")
        #expect(try lab.probeSettles(size: 1232, ipv6: true), "\(mode): still broken after \(fix)")
        let after = EgressDiagnosis.findings(for: path, directory: NetnsDirectory())
        #expect(!after.contains { $0.severity == .error || Self.isIPv6($0.code) }, "\(after)")
    }

    /// Each IPv6 break of the firewall, NAT66 or neighbour discovery: found with its code (the
    /// IPv4 twin's where the cause is the same), severity and device, about IPv6 packets in the
    /// host side, the fix spelled in ip6tables/nft ip6 terms; pasted, IPv6 answers again and
    /// IPv4 never stopped.
    @Test(arguments: EgressLab.ipv6FirewallModes.map(\.mode))
    func eachIPv6FirewallBreakIsFoundAndItsFixRepairs(mode: String) throws {
        let expected = try #require(EgressLab.ipv6FirewallModes.first { $0.mode == mode })
        let lab = try EgressLab.up(EgressLab.uniqueName("6f"), ipv6: true)
        defer { lab.down() }
        // Traffic first, as on a host in use: the neighbour caches hold the endpoint and the router.
        #expect(try lab.probe(ipv6: true) && lab.probe(tcp: true, ipv6: true))
        let path = try #require(try finder().paths(namespaces: [lab.endpointNetns]).first)
        let healthy = EgressDiagnosis.findings(for: path, directory: NetnsDirectory())
        #expect(!healthy.contains { $0.family == .v6 && $0.severity != .info }, "\(healthy)")

        try lab.breakIt(mode)
        #expect(try !lab.probe(ipv6: true), "\(mode) did not break IPv6")
        #expect(try lab.probe(), "\(mode) should leave IPv4 alone")
        let findings = EgressDiagnosis.findings(for: path, directory: NetnsDirectory())
        let finding = try #require(findings.first { $0.code.rawValue == expected.code && $0.family == .v6 }, "\(mode): \(findings)")
        #expect(finding.severity.rawValue == expected.severity, "\(finding)")
        #expect(finding.device == expected.device, "\(finding)")
        #expect(finding.netnsInode == path.hostNetnsInode)
        // Nothing about IPv4 is claimed broken.
        #expect(!findings.contains { $0.family == .v4 && $0.severity == .error }, "\(findings)")
        let fix = try #require(finding.fix, "\(mode): no fix")
        #expect(!fix.contains("#") && (fix.contains("--net=/run/netns/\(lab.hostNetns) ") || fix.contains("-n \(lab.hostNetns) ")), "\(fix)")
        #expect(!fix.contains("iptables-nft") || fix.contains("ip6tables-nft"), "IPv6 fixes are ip6tables': \(fix)")
        #expect(try LabShell.run(["-c", fix]).status == 0, "\(fix)")
        #expect(try lab.probeSettles(ipv6: true), "\(mode): still broken after \(fix)")
        #expect(try lab.probe(tcp: true, ipv6: true) && lab.probe(), "\(mode): TCP over IPv6 and IPv4 after \(fix)")
        let after = EgressDiagnosis.findings(for: path, directory: NetnsDirectory())
        #expect(!after.contains { $0.family == .v6 && $0.severity == .error }, "\(after)")
        #expect(!after.contains { $0.code.rawValue == expected.code && $0.family == .v6 }, "\(after)")
    }

    /// An uplink whose IPv6 default route came from a router advertisement (installed here with
    /// `proto ra`, as the kernel's RA handling tags it): with forwarding on and accept_ra 1 the
    /// route will not be renewed, a warning whose fix is accept_ra=2; forwarding off, its fix sets
    /// accept_ra=2 before turning it on.
    @Test func anRALearnedDefaultRouteNeedsAcceptRA2() throws {
        let lab = try EgressLab.up(EgressLab.uniqueName("6r"), ipv6: true)
        defer { lab.down() }
        #expect(try EgressLab.inNamespace(lab.hostNetns, ["sh", "-c",
            "ip -6 route replace default via 2001:db8::1 dev uplink0 proto ra && sysctl -qw net.ipv6.conf.uplink0.accept_ra=1"]) == 0)
        let path = try #require(try finder().paths(namespaces: [lab.endpointNetns]).first)
        var findings = EgressDiagnosis.findings(for: path, directory: NetnsDirectory())
        let warning = try #require(findings.first { $0.code == .ipv6RAIgnored }, "\(findings)")
        #expect(warning.device == "uplink0" && warning.severity == .warning)
        #expect(warning.fix == "nsenter --net=/run/netns/\(lab.hostNetns) sysctl -w net.ipv6.conf.uplink0.accept_ra=2")

        #expect(try EgressLab.inNamespace(lab.hostNetns, ["sysctl", "-qw", "net.ipv6.conf.all.forwarding=0"]) == 0)
        findings = EgressDiagnosis.findings(for: path, directory: NetnsDirectory())
        let off = try #require(findings.first { $0.code == .ipv6ForwardingDisabled }, "\(findings)")
        let fix = try #require(off.fix)
        #expect(fix.hasPrefix("nsenter --net=/run/netns/\(lab.hostNetns) sysctl -w net.ipv6.conf.uplink0.accept_ra=2 && "), "\(fix)")
        #expect(try LabShell.run(["-c", fix]).status == 0, "\(fix)")
        #expect(try lab.probe(ipv6: true))
        findings = EgressDiagnosis.findings(for: path, directory: NetnsDirectory())
        #expect(!findings.contains { Self.isIPv6($0.code) || $0.severity == .error }, "\(findings)")
    }
}
