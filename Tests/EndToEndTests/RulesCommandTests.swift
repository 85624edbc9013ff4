import Foundation
import Glibc
import LabSupport
import Testing

/// `tracer rules` through the binary on kube-proxy's iptables shape in a lab namespace: the
/// report's records, the counts that grow with the services, JSON for scripts, and bad input.
@Suite(.serialized, .requires(KubeProxyLab.canRun, Comment(rawValue: KubeProxyLab.reason)))
struct RulesCommandTests {
    static func records(_ text: String) -> [[String: Any]] {
        text.split(separator: "\n").map { (try? JSONSerialization.jsonObject(with: Data($0.utf8))) as? [String: Any] ?? ["invalid": String($0)] }
    }

    @Test func everyServiceIsCountedAndTheLinearChainIsAFinding() throws {
        let lab = try KubeProxyLab.up(KubeProxyLab.uniqueName("r"), services: 300, endpoints: 1, mode: "iptables")
        defer { _ = try? lab.down() }
        let result = try TracerBinary.run(["rules", "--netns", lab.netns, "--threshold", "300", "--interval", "200ms", "--output", "json"], timeout: 60)
        #expect(result.status == 0, "\(result.stderr)")
        let records = Self.records(result.stdout)
        #expect(!records.contains { $0["invalid"] != nil }, "\(result.stdout.prefix(2000))")
        let destinations = records.filter { $0["type"] as? String == "destination" }
        #expect(destinations.count == 300)
        func cost(_ fact: String) throws -> [String: Any] {
            let address = try #require(lab[fact])
            return try #require(destinations.first { $0["destination"] as? String == address }, "\(address)")
        }
        let first = try cost("first_service"), last = try cost("last_service")
        #expect(first["service"] as? String == "ns/svc1:http")
        // One rule more per Service ahead in KUBE-SERVICES; one endpoint: the count is exact at prerouting.
        let firstRules = try #require(first["rules_evaluated"] as? Int), lastRules = try #require(last["rules_evaluated"] as? Int)
        #expect(lastRules - firstRules == 299)
        #expect(first["rules_evaluated_traced"] is NSNull)
        let dispatch = try #require(records.first { $0["type"] as? String == "dispatch" })
        #expect(dispatch["chain"] as? String == "KUBE-SERVICES" && dispatch["owner"] as? String == "kube-proxy" && dispatch["destinations"] as? Int == 300)
        #expect(records.contains { $0["type"] as? String == "finding" && $0["code"] as? String == "linear-service-chain" })
        let chain = try #require(records.first { $0["type"] as? String == "chain" && $0["chain"] as? String == "PREROUTING" })
        #expect(chain["hook"] as? String == "prerouting" && chain["backend"] as? String == "iptables-nft")
        let estimate = try #require(records.first { $0["type"] as? String == "estimate" })
        #expect(estimate["new_connections_per_second"] is Double || estimate["new_connections_per_second"] is Int)
        #expect(records.contains { $0["type"] as? String == "recommendation" && $0["data_plane"] as? String == "nftables" })
        #expect(records.last?["type"] as? String == "summary")

        // The table: the costliest destination first.
        let table = try TracerBinary.run(["rules", "--netns", lab.netns, "--interval", "100ms"], timeout: 60)
        #expect(table.status == 0)
        let header = try #require(table.lines.firstIndex { $0.hasPrefix("DESTINATION") })
        #expect(table.lines[header + 1].hasPrefix(try #require(lab["last_service"])), "\(table.stdout.prefix(3000))")
    }

    @Test func anAddressNoServiceUsesIsSaidAndItsWalkShown() throws {
        let lab = try KubeProxyLab.up(KubeProxyLab.uniqueName("u"), services: 50, endpoints: 1, mode: "iptables")
        defer { _ = try? lab.down() }
        let result = try TracerBinary.run(["rules", "--netns", lab.netns, "--to", "10.99.0.1:53/udp", "--interval", "100ms"], timeout: 60)
        #expect(result.status == 0, "\(result.stderr)")
        let row = try #require(result.lines.first { $0.hasPrefix("10.99.0.1:53/udp") }, "\(result.stdout)")
        #expect(row.contains("(no service uses it)"))
        // It walks every rule of KUBE-SERVICES (50 Services, the NodePort check) after PREROUTING's jump.
        #expect(row.split(separator: " ").contains("52"), "\(row)")
    }

    /// Interrupted while it waits for a connection to trace: the trace table goes, the report still comes.
    @Test func anInterruptedTraceLeavesNoTable() throws {
        let lab = try KubeProxyLab.up(KubeProxyLab.uniqueName("i"), services: 20, endpoints: 1, mode: "iptables")
        defer { _ = try? lab.down() }
        let address = try #require(lab["last_service"])
        let result = try TracerBinary.run(["rules", "--netns", lab.netns, "--to", address, "--trace", "60s", "--output", "json"],
                                          timeout: 30, signal: SIGINT, signalAfter: 1.5)
        #expect(result.status == 0, "\(result.stderr)")
        let records = Self.records(result.stdout)
        let destination = try #require(records.first { $0["type"] as? String == "destination" })
        #expect(destination["rules_evaluated_traced"] is NSNull)
        #expect(records.contains { $0["type"] as? String == "untraced" })
        let tables = try lab.inNamespace("nft list tables")
        #expect(!tables.contains("tracer_trace_"), "\(tables)")
    }

    /// iptables-nft-save missing (hidden in a mount namespace of the test's own): the rules are
    /// counted from nft's view of the same tables, and the report says what it could not read.
    @Test func aMissingBackendToolIsSaidAndTheRestCounted() throws {
        let lab = try KubeProxyLab.up(KubeProxyLab.uniqueName("m"), services: 30, endpoints: 1, mode: "iptables")
        defer { _ = try? lab.down() }
        let hide = ["/usr/bin/unshare", "--mount", "--propagation", "private", "sh", "-c",
                    "mount --bind /dev/null /usr/sbin/iptables-nft-save && exec \"$0\" \"$@\""]
        let result = try TracerBinary.run(["rules", "--netns", lab.netns, "--interval", "100ms"], prefix: hide, timeout: 60)
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout.contains("not counted: iptables-nft: iptables-nft-save not found"), "\(result.stdout.prefix(1500))")
        #expect(result.stdout.contains("ip nat KUBE-SERVICES (iptables-nft, kube-proxy): 30 destinations"), "\(result.stdout.prefix(3000))")
        #expect(result.stdout.contains("30 destinations counted"))
    }

    @Test func badInputIsOneLineAndItsExitCode() throws {
        let badDestination = try TracerBinary.run(["rules", "--to", "10.96.0.1:80"])
        #expect(badDestination.status == 64)
        #expect(badDestination.stderr.contains("ADDRESS:PORT/PROTOCOL"))
        let traceAlone = try TracerBinary.run(["rules", "--trace", "1s"])
        #expect(traceAlone.status == 64)
        #expect(traceAlone.stderr.contains("--to"))
        let unknown = try TracerBinary.run(["rules", "--netns", "no-such-namespace-here"])
        #expect(unknown.status == 5)
        #expect(unknown.stderr.contains("no network namespace named 'no-such-namespace-here'"))
        let notANamespace = try TracerBinary.run(["rules", "--netns", "/etc/hostname"])
        #expect(notANamespace.status == 5)
        #expect(notANamespace.stderr.contains("/etc/hostname is not a network namespace"), "\(notANamespace.stderr)")
        #expect(notANamespace.stderr.split(separator: "\n").count == 1)
    }
}
