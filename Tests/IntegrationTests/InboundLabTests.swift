import Foundation
import Glibc
import LabSupport
import Testing

/// The egress lab's inbound half (tools/lab/egress.sh publish, probe --inbound and ingress.md's
/// break modes): the lab itself, not the tracer. Every backend publishes the same ports; each
/// mode breaks a flow that worked, in the lab's namespaces only; the fix a mode names repairs it;
/// `down` leaves no listener behind.
@Suite(.serialized, .requires(EgressLab.canRunFirewall && access("/usr/sbin/ipset", X_OK) == 0 && access("/usr/sbin/conntrack", X_OK) == 0
                                  && access("/usr/bin/python3", X_OK) == 0,
                              "SKIPPED LOUDLY: the egress lab's inbound half needs root, nftables, iptables, ipset, conntrack and python3 (tools/setup.sh --test)"))
struct InboundLabTests {
    static let stateRoot = ProcessInfo.processInfo.environment["TRACER_EGRESS_LAB_ROOT"] ?? "/tmp/tracer-egress-lab"

    /// The DNAT rules of the lab's host side in `backend` (none where the table is absent).
    static func dnatRules(_ lab: EgressLab, _ backend: String) throws -> [String] {
        let list = backend == "nft" ? "nft list chain inet nat prerouting" : "\(backend)-save -t nat"
        let output = try LabShell.run(["-c", "nsenter --net=/run/netns/\"$0\" \(list) 2>/dev/null", lab.hostNetns]).output
        return output.split(separator: "\n").map(String.init).filter { $0.contains("dnat") || $0.contains("DNAT --to") }
    }

    /// What the root namespace would show if a mode leaked out of the lab.
    static func rootState() throws -> String {
        try LabShell.run(["-c", "ipset list -n; sysctl -n net.ipv4.conf.all.rp_filter; ip -o link show | awk '{print $2}' | grep -E '^(uplink|wan)[01]'"]).output
    }

    @Test(arguments: ["nft", "iptables-nft", "iptables-legacy"])
    func everyBackendPublishesThePortsAndDownStopsTheListeners(backend: String) throws {
        let name = EgressLab.uniqueName("p")
        let lab = try EgressLab.up(name, endpoints: 2).publish(backend: backend)
        defer { lab.down() }
        #expect(lab["publish_backend"] == backend)
        #expect(lab["publish_ip"] == "198.51.100.2" && lab["publish_port"] == "1222", "\(lab.facts)")
        #expect(lab["publish_target_ip"] == "172.17.0.2" && lab["publish_target_port"] == "22", "\(lab.facts)")
        #expect(lab["publish_udp_port"] == "1253" && lab["publish_udp_target_port"] == "53" && lab["publish_iperf_port"] == "5201")
        #expect(lab["publish_client_ip"] == "198.51.100.1" && lab["publish_udp_client_port"] == "40053")

        for probe in [EgressLab.InboundProbe.tcp, .udp, .remote, .hairpin, .init(endpoint: "c2")] {
            #expect(try lab.probeInbound(probe), "probe \(probe) with \(backend)")
        }
        // c1's listener answers one connection after another.
        for i in 0..<5 { #expect(try lab.probeInbound(), "connection \(i)") }
        // Published, but nothing serves 5201 until the benchmark starts iperf3: refused, not connected.
        #expect(try !lab.probeInbound(.init(port: 5201)))
        let rules = try Self.dnatRules(lab, backend)
        #expect(rules.count == 3, "\(rules)")

        // Publishing again (here with another backend, then back) leaves the same three rules.
        let other = backend == "nft" ? "iptables-nft" : "nft"
        _ = try lab.publish(backend: other)
        #expect(try Self.dnatRules(lab, backend).isEmpty, "the \(backend) rules stay after publishing with \(other)")
        _ = try lab.publish(backend: backend)
        let again = try Self.dnatRules(lab, backend)
        #expect(again.count == 3, "\(again)")
        #expect(try lab.probeInbound(.udp))
        #expect(try lab.probeInbound(.tcp))

        let pids = ["c1-tcp", "c1-udp"].compactMap { try? String(contentsOfFile: "\(Self.stateRoot)/\(name)/\($0).pid", encoding: .utf8) }
            .compactMap { pid_t($0.trimmingCharacters(in: .whitespacesAndNewlines)) }
        #expect(pids.count == 2)
        lab.down()
        for pid in pids {
            var gone = false
            for _ in 0..<50 where !gone {
                // Gone, or a zombie not reaped yet (the lab's shell has exited: init reaps it).
                let stat = (try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8)) ?? ""
                gone = stat.isEmpty || stat.contains(") Z ")
                if !gone { usleep(100_000) }
            }
            #expect(gone, "c1's listener \(pid) outlived down")
        }
        #expect(access("/run/netns/tel-\(name)-c1", F_OK) != 0 && access("/run/netns/tel-\(name)-host", F_OK) != 0)
    }

    @Test(arguments: EgressLab.inboundModes.map(\.mode))
    func eachInboundModeBreaksWhatWorkedInTheLabOnly(mode: String) throws {
        let entry = try #require(EgressLab.inboundModes.first { $0.mode == mode })
        let root = try Self.rootState()
        let lab = try EgressLab.up(EgressLab.uniqueName("b"), endpoints: 2).publish()
        defer { lab.down() }
        #expect(try lab.probeInbound(), "the published lab answers on 1222 before \(mode)")
        #expect(try lab.probeInbound(entry.probe), "probe \(entry.probe) before \(mode)")

        try lab.breakIt(mode)
        #expect(try !lab.probeInbound(entry.probe), "probe \(entry.probe) still works after \(mode)")
        // A retry fails the same way (the listener, the entry, the rule are still what broke it).
        #expect(try !lab.probeInbound(entry.probe), "probe \(entry.probe) works on its second try after \(mode)")
        #expect(try Self.rootState() == root, "\(mode) changed the root namespace")

        if let fix = entry.fix {
            #expect(try EgressLab.inNamespace(lab.hostNetns, fix) == 0, "\(fix)")
            #expect(try lab.probeInbound(entry.probe), "probe \(entry.probe) after the fix \(fix.joined(separator: " "))")
        }
    }

    @Test func inboundModesNeedAPublishedLabAndTheListIsTheScripts() throws {
        let lab = try EgressLab.up(EgressLab.uniqueName("n"))
        defer { lab.down() }
        let (status, output) = try LabShell.run([EgressLab.script, "break", lab.name, "dnat-missing"])
        #expect(status == 2 && output.contains("needs a published lab"), "\(status): \(output)")
        #expect(lab["publish_backend"] == nil)
        let bad = try LabShell.run([EgressLab.script, "publish", lab.name, "--backend", "pf"])
        #expect(bad.status == 2 && bad.output.contains("--backend must be"), "\(bad)")

        let listed = try LabShell.run([EgressLab.script, "modes", "--inbound"]).output.split(separator: "\n").map(String.init)
        #expect(listed == EgressLab.inboundModes.map(\.mode))
    }
}
