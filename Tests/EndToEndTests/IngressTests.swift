import Foundation
import Glibc
import LabSupport
import Testing

/// `tracer ingress`, the built binary: the selections that leave nothing to trace, each with its
/// exit code and one line, and a stopped inbound flow on the egress lab's published ports.
@Suite(.serialized, .requires(TracerBinary.isRoot && FileManager.default.isExecutableFile(atPath: "/usr/sbin/nft")
                             && FileManager.default.isExecutableFile(atPath: "/usr/sbin/iptables-nft"),
                             "SKIPPED LOUDLY: tracer ingress on the lab needs root, iproute2, nftables, iptables-nft and python3 (tools/setup.sh --test)"))
struct IngressTests {
    func json(_ text: String) -> [[String: Any]] {
        text.split(separator: "\n").map { (try? JSONSerialization.jsonObject(with: Data($0.utf8))) as? [String: Any] ?? ["invalid": String($0)] }
    }

    /// The only line on stderr, nothing on stdout: a script reads the exit code, a person the line.
    func oneLine(_ result: TracerBinary.Result) -> String {
        #expect(result.stdout.isEmpty, "\(result.stdout)")
        let lines = result.stderr.split(separator: "\n")
        #expect(lines.count == 1, "one line: \(result.stderr)")
        return lines.first.map(String.init) ?? ""
    }

    /// A lab name of this process ("cli" + tag + the pid's low digits).
    static func labName(_ tag: String) -> String { "cli\(tag)\(getpid() % 10000)" }

    @Test func unknownContainerExits4AndUnknownNamespace5() throws {
        let container = try TracerBinary.run(["ingress", "--container", "nosuch-\(getpid())", "--duration", "1s"])
        #expect(container.status == 4, "exit \(container.status): \(container.stderr)")
        #expect(oneLine(container).hasPrefix("tracer ingress: no running container named or with id prefix 'nosuch-\(getpid())'"))
        let netns = try TracerBinary.run(["ingress", "--netns", "nosuch-\(getpid())", "--duration", "1s"])
        #expect(netns.status == 5, "exit \(netns.status): \(netns.stderr)")
        #expect(oneLine(netns).hasPrefix("tracer ingress: no network namespace named 'nosuch-\(getpid())'"))
        // The selection is checked before the port: an unknown container is no unpublished port.
        let both = try TracerBinary.run(["ingress", "--container", "nosuch-\(getpid())", "--port", "1", "--duration", "1s"])
        #expect(both.status == 4, "exit \(both.status): \(both.stderr)")
    }

    /// Nothing on a host publishes port 1 (tcpmux): exit 6, before anything is traced.
    @Test func aPortNothingPublishesExits6() throws {
        for (argument, named) in [("1", "port 1"), ("1/udp", "port 1/udp")] {
            let result = try TracerBinary.run(["ingress", "--port", argument, "--duration", "5s"])
            #expect(result.status == 6, "--port \(argument): exit \(result.status): \(result.stderr)")
            let line = oneLine(result)
            #expect(line.hasPrefix("tracer ingress: \(named) is not published; "), "\(line)")
            #expect(line.contains("; nothing is published") || line.contains("; published: "), "\(line)")
        }
    }

    /// Within a selection the line names the ports it does publish, each once.
    @Test func aPortTheSelectionDoesNotPublishNamesThoseItDoes() throws {
        let lab = try EgressLab.up(Self.labName("p")).publish(backend: "nft")
        defer { lab.down() }
        let result = try TracerBinary.run(["ingress", "--netns", lab.hostNetns, "--port", "1222/udp", "--duration", "5s"])
        #expect(result.status == 6, "exit \(result.status): \(result.stderr)")
        #expect(oneLine(result) == "tracer ingress: port 1222/udp is not published by the selection; published: 1222/tcp, 1253/udp, 5201/tcp")
    }

    /// The field example: the DNAT'd SYN dropped in FORWARD because an allow-list lacks its
    /// element. The flow is named as the client sent it, stops after dnat, and its finding's fix
    /// is the missing element; exit 2.
    @Test func anAllowListMissIsTheFlowsStopWithTheMissingElement() throws {
        let lab = try EgressLab.up(Self.labName("a")).publish(backend: "nft")
        defer { lab.down() }
        try lab.breakIt("dnat-allowlist-miss")
        var connected = true
        let result = try TracerBinary.run(["ingress", "--netns", lab.hostNetns, "--port", "1222/tcp", "--duration", "5s", "--output", "json"],
                                          whileRunning: {
                                              usleep(1_500_000)
                                              connected = try lab.probeInbound()
                                          })
        #expect(!connected)
        #expect(result.status == 2, "exit \(result.status): \(result.stderr)")
        let lines = json(result.stdout)
        #expect(!lines.contains { $0["invalid"] != nil }, "\(result.stdout)")
        let ports = lines.filter { $0["type"] as? String == "published_port" }
        #expect(ports.count == 1 && ports.first?["host_ports"] as? String == "1222", "\(ports)")
        let stage = try #require(lines.first { $0["type"] as? String == "stage" }, "\(result.stdout)\(result.stderr)")
        #expect(stage["direction"] as? String == "inbound")
        #expect(stage["stage"] as? String == "dnat" && stage["stopped_before"] as? String == "forward", "\(stage)")
        let traced = try #require(lines.last { $0["type"] as? String == "finding" }, "\(result.stdout)")
        #expect(traced["code"] as? String == "forward-rule-drop")
        #expect((traced["evidence"] as? String)?.hasPrefix("tcp 198.51.100.1:") == true, "\(traced)")
        #expect((traced["evidence"] as? String)?.contains(" -> 198.51.100.2:1222 dnat 172.17.0.2:22") == true, "\(traced)")
        #expect(traced["fix"] as? String == "nsenter --net=/run/netns/\(lab.hostNetns) nft add element inet filter allow_in { 172.17.0.2 . 22 }")
        let summary = try #require(lines.last, "\(result.stdout)")
        #expect(summary["type"] as? String == "summary" && summary["stopped"] as? Int == 1, "\(summary)")
        #expect(try lab.traceTables().isEmpty, "the trace table outlived the run")
    }
}
