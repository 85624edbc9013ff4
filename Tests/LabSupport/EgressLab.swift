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

    /// The IPv6 breaks of a dual-stack lab that the firewall, NAT66 and neighbour discovery checks
    /// find (issue #14), each with the code (the IPv4 checks' own where the cause is the same),
    /// its severity and the device it names. Every finding is about the host side and IPv6.
    public static let ipv6FirewallModes: [(mode: String, code: String, severity: String, device: String)] = [
        ("ipv6-forward-policy-drop", "forward-policy-drop", "error", "br-lab"),
        ("ipv6-forward-rule-drop", "forward-rule-drop", "error", "br-lab"),
        ("ipv6-legacy-drop", "legacy-iptables-drop", "error", "br-lab"),
        ("ipv6-masquerade-missing", "masquerade-missing", "error", "uplink0"),
        ("icmpv6-dropped", "icmpv6-dropped", "error", "br-lab"),
        ("ipv6-gateway-unanswered", "neighbour-failed", "warning", "uplink0"),
        ("ipv6-ndp-proxy-missing", "ipv6-ndp-proxy-missing", "error", "uplink0"),
    ]

    /// Who an inbound probe (`egress.sh probe NAME --inbound`) comes from and what it sends.
    public struct InboundProbe: Sendable, Equatable, CustomStringConvertible {
        /// An endpoint ("c1": to its own published port, the hairpin) instead of the world.
        public var endpoint: String?
        /// A datagram from 198.51.100.1:40053 to 198.51.100.2:1253 (c1's echo on 53), not a TCP connect.
        public var udp: Bool
        /// From the world's 203.0.113.10 (behind the gateway), not from 198.51.100.1 on uplink0's subnet.
        public var remote: Bool
        /// The published TCP port (default 1222; 5201 for iperf3).
        public var port: Int?
        /// Over IPv6, to [2001:db8::2] (a lab up with `ipv6`, published): TCP only.
        public var ipv6: Bool

        public init(endpoint: String? = nil, udp: Bool = false, remote: Bool = false, port: Int? = nil, ipv6: Bool = false) {
            self.endpoint = endpoint
            self.udp = udp
            self.remote = remote
            self.port = port
            self.ipv6 = ipv6
        }

        public static let tcp = InboundProbe()
        public static let udp = InboundProbe(udp: true)
        public static let remote = InboundProbe(remote: true)
        public static let hairpin = InboundProbe(endpoint: "c1")
        public static let tcp6 = InboundProbe(ipv6: true)

        public var arguments: [String] {
            (endpoint.map { [$0] } ?? []) + ["--inbound"] + (udp ? ["--udp"] : []) + (remote ? ["--remote"] : [])
                + (port.map { ["--port", String($0)] } ?? []) + (ipv6 ? ["--ipv6"] : [])
        }
        public var description: String { arguments.joined(separator: " ") }
    }

    /// ingress.md's failures as `egress.sh break` reproduces them on a published lab: the probe that
    /// works before and fails after, the stage where the flow dies (uplink-rx: on arrival, at the
    /// routing decision; dnat: no DNAT happened, the host itself refused it; forward: the DNAT'd
    /// packet in FORWARD; reply: the container's answer on its way back; endpoint-rx: in the
    /// container) and the kernel's drop reason there (nil: none), as `tracer drops --all` showed them
    /// on this lab (6.18); and, where there is one, the fix (run in the host side) that makes the
    /// probe work again.
    public static let inboundModes: [(mode: String, probe: InboundProbe, stage: String, reason: String?, fix: [String]?)] = [
        ("dnat-allowlist-miss", .tcp, "forward", "NETFILTER_DROP", ["nft", "add", "element", "inet", "filter", "allow_in", "{ 172.17.0.2 . 22 }"]),
        ("dnat-allowlist-miss-iptables-nft", .tcp, "forward", "NETFILTER_DROP", ["ipset", "add", "allow_in", "172.17.0.2,tcp:22"]),
        ("dnat-allowlist-miss-legacy", .tcp, "forward", "NETFILTER_DROP", ["ipset", "add", "allow_in", "172.17.0.2,tcp:22"]),
        ("dnat-forward-drop", .tcp, "forward", "NETFILTER_DROP", nil),
        ("dnat-replies-dropped", .tcp, "reply", "NETFILTER_DROP", nil),
        ("dnat-missing", .tcp, "dnat", "NO_SOCKET", nil),
        ("rp-filter-strict", .remote, "uplink-rx", "IP_RPFILTER", nil),
        ("hairpin", .hairpin, "endpoint-rx", "IP_LOCAL_SOURCE", nil),
        ("stale-conntrack", .udp, "dnat", "NO_SOCKET", ["conntrack", "-D", "-p", "udp", "--orig-port-dst", "1253"]),
        ("nothing-listening", .tcp, "endpoint-rx", "NO_SOCKET", nil),
    ]

    /// `egress.sh up NAME`: a healthy lab; dual stack with `ipv6`.
    public static func up(_ name: String, endpoints: Int = 1, ipv6: Bool = false) throws -> EgressLab {
        let (status, output) = try LabShell.run([script, "up", name, "--endpoints", String(endpoints)] + (ipv6 ? ["--ipv6"] : []))
        guard status == 0 else { throw LabShell.Failure("egress.sh up \(name) failed: \(output)") }
        return EgressLab(name: name, facts: LabShell.facts(output))
    }

    /// `egress.sh uplink NAME HOSTNS`: a world behind an existing namespace (a runtime lab's);
    /// reachable over IPv6 too with `ipv6` (2001:db8:ffff::10, the runtime's NAT66 or the lab's).
    public static func uplink(_ name: String, hostNetns: String, ipv6: Bool = false) throws -> EgressLab {
        let (status, output) = try LabShell.run([script, "uplink", name, hostNetns] + (ipv6 ? ["--ipv6"] : []))
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

    /// `probe` every 100 ms for up to 4 s, until it is answered: after a fix, a re-added address
    /// goes through duplicate address detection (about a second) and a neighbour is solicited again.
    public func probeSettles(size: Int = 56, ipv6: Bool = false) throws -> Bool {
        for _ in 0..<40 {
            if try probe(size: size, ipv6: ipv6) { return true }
            usleep(100_000)
        }
        return false
    }

    /// `egress.sh publish NAME`: c1's ports published on 198.51.100.2 (tcp 1222 -> 22, 5201, udp
    /// 1253 -> 53) with `backend` (nft, iptables-nft, iptables-legacy); returns the lab with the
    /// publish_* facts.
    public func publish(backend: String = "iptables-nft") throws -> EgressLab {
        let (status, output) = try LabShell.run([EgressLab.script, "publish", name, "--backend", backend])
        guard status == 0 else { throw LabShell.Failure("egress.sh publish \(name) --backend \(backend) failed: \(output)") }
        return EgressLab(name: name, facts: LabShell.facts(output))
    }

    /// One inbound probe to a published port: true when it connected (TCP) or was echoed (UDP).
    public func probeInbound(_ probe: InboundProbe = .tcp) throws -> Bool {
        try LabShell.run([EgressLab.script, "probe", name] + probe.arguments).status == 0
    }

    /// c1's published tcp 1222 -> 22 recorded as dockerd records a running container's port, in
    /// `root`/containers (for `--docker-root root`): container "web", its pid c1's listener.
    public func recordDockerPort(root: String) throws {
        let state = ProcessInfo.processInfo.environment["TRACER_EGRESS_LAB_ROOT"] ?? "/tmp/tracer-egress-lab"
        let pidText = try String(contentsOfFile: "\(state)/\(name)/c1-tcp.pid", encoding: .utf8)
        guard let pid = Int(pidText.trimmingCharacters(in: .whitespacesAndNewlines)) else {
            throw LabShell.Failure("\(state)/\(name)/c1-tcp.pid: no pid (publish the lab first)")
        }
        let directory = "\(root)/containers/0123456789ab\(name)"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let config = """
            {"ID":"0123456789ab\(name)","Name":"/web","Config":{"Image":"lab"},"State":{"Running":true,"Pid":\(pid)},
             "NetworkSettings":{"SandboxKey":"/run/netns/\(endpointNetns)","Networks":{"bridge":{"IPAddress":"\(facts["c1_ip"] ?? "")"}},
              "Ports":{"22/tcp":[{"HostIp":"\(facts["uplink_ip"] ?? "")","HostPort":"1222"}]}}}
            """
        try config.write(toFile: "\(directory)/config.v2.json", atomically: true, encoding: .utf8)
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
