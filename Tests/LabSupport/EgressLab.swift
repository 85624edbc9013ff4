import Foundation

/// A container host's egress path built by tools/lab/egress.sh inside namespaces: endpoint
/// netns tel-NAME-c1, host side tel-NAME-host (br-lab, uplink0), world tel-NAME-world.
/// `down` removes everything, whatever state a test left it in.
public struct EgressLab {
    public let name: String
    public let facts: [String: String]

    public static let script = LabShell.script("egress.sh")

    /// The non-netfilter break modes of egress.md, and egress.sh's extra bridge-port-disabled,
    /// each with the code and the device the finding must name (nil: none).
    public static let deviceModes: [(mode: String, code: String, device: String?)] = [
        ("ip-forward-disabled", "ip-forward-disabled", nil),
        ("device-forwarding-disabled", "device-forwarding-disabled", "uplink0"),
        ("veth-down", "veth-down", "veth-c1"),
        ("bridge-no-address", "bridge-no-address", "br-lab"),
        ("bridge-down", "bridge-down", "br-lab"),
        ("uplink-down", "uplink-down", "uplink0"),
        ("no-default-route", "no-default-route", "uplink0"),
        ("uplink-no-carrier", "uplink-no-carrier", "uplink0"),
        ("mtu-mismatch", "mtu-mismatch", "uplink0"),
        ("bridge-port-disabled", "bridge-port-not-forwarding", "veth-c1"),
    ]

    /// The IPv6 break modes of a lab up with `ipv6`, each with the code, the namespace the finding
    /// is about ("host" or "endpoint") and the device it names (nil: none).
    public static let ipv6Modes: [(mode: String, code: String, side: String, device: String?)] = [
        ("ipv6-forwarding-disabled", "ipv6-forwarding-disabled", "host", nil),
        ("ipv6-disabled-on-veth", "ipv6-disabled", "endpoint", "eth0"),
        ("ipv6-no-default-route", "endpoint-ipv6-no-default-route", "endpoint", "eth0"),
        ("ipv6-host-no-default-route", "ipv6-no-default-route", "host", "uplink0"),
        ("ipv6-dad-failed", "ipv6-dad-failed", "endpoint", "eth0"),
        ("ipv6-mtu-too-small", "ipv6-mtu-too-small", "host", "veth-c1"),
    ]

    /// `egress.sh up NAME`: a healthy lab; dual stack with `ipv6`.
    public static func up(_ name: String, endpoints: Int = 1, ipv6: Bool = false) throws -> EgressLab {
        let (status, output) = try LabShell.run([script, "up", name, "--endpoints", String(endpoints)] + (ipv6 ? ["--ipv6"] : []))
        guard status == 0 else { throw LabShell.Failure("egress.sh up \(name) failed: \(output)") }
        return EgressLab(name: name, facts: LabShell.facts(output))
    }

    /// `egress.sh uplink NAME HOSTNS`: a world behind an existing namespace (a runtime lab's).
    public static func uplink(_ name: String, hostNetns: String) throws -> EgressLab {
        let (status, output) = try LabShell.run([script, "uplink", name, hostNetns])
        guard status == 0 else { throw LabShell.Failure("egress.sh uplink \(name) \(hostNetns) failed: \(output)") }
        return EgressLab(name: name, facts: LabShell.facts(output))
    }

    public func breakIt(_ mode: String) throws {
        let (status, output) = try LabShell.run([EgressLab.script, "break", name, mode])
        guard status == 0 else { throw LabShell.Failure("egress.sh break \(name) \(mode) failed: \(output)") }
    }

    /// One ping (DF set, `size` bytes of payload), or with `tcp` one TCP connection, from c1 to the
    /// world: true when answered.
    public func probe(size: Int = 56, tcp: Bool = false, ipv6: Bool = false) throws -> Bool {
        try LabShell.run([EgressLab.script, "probe", name, "--size", String(size)] + (tcp ? ["--tcp"] : []) + (ipv6 ? ["--ipv6"] : [])).status == 0
    }

    public func down() { _ = try? LabShell.run([EgressLab.script, "down", name]) }

    public var hostNetns: String { facts["host_netns"] ?? "" }
    public var hostNetnsPath: String { "/run/netns/tel-\(name)-host" }
    public var endpointNetns: String { facts["c1_netns"] ?? "" }
    public subscript(key: String) -> String? { facts[key] }

    /// Runs a command inside one of the lab's namespaces (nsenter, not `ip netns exec`).
    public static func inNamespace(_ netns: String, _ command: [String]) throws -> Int32 {
        try LabShell.run(["-c", "exec nsenter --net=/run/netns/\"$0\" \"$@\"", netns] + command).status
    }

    /// The nftables trace tables `tracer egress` has added in the lab's host side now.
    public func traceTables() throws -> [String] {
        let (_, tables) = try LabShell.run(["-c", "nsenter --net=/run/netns/\"$0\" nft list tables", hostNetns])
        return tables.split(separator: "\n").filter { $0.contains("tracer_trace_") }.map(String.init)
    }

    /// A lab name unique to this test process: "dg" + a tag + the pid's low digits.
    public static func uniqueName(_ tag: String) -> String { "dg\(tag)\(getpid() % 100000)" }
}
