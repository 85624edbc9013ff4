import Foundation
import Glibc

/// kube-proxy-shaped data planes built by tools/lab/kubeproxy.sh in one namespace, tkp-NAME:
/// the ruleset kube-proxy would program for `services` ClusterIP Services of `endpoints` endpoints
/// each, in one of its modes. With `serve`, a client namespace tkp-NAME-cl and an endpoints namespace
/// tkp-NAME-ep (one listener on :8080 for every endpoint address) around it, so that connections go
/// through the Services. `down` removes the namespaces, the listener and the state, whatever a test left.
public struct KubeProxyLab: Sendable {
    public let name: String
    public let facts: [String: String]

    public init(name: String, facts: [String: String]) {
        self.name = name
        self.facts = facts
    }

    public static let script = LabShell.script("kubeproxy.sh")

    /// Root, and what every mode runs (iproute2, nsenter, python3 for the generator, iptables-nft).
    public static let canRun = geteuid() == 0 && access("/usr/sbin/ip", X_OK) == 0 && access("/usr/bin/nsenter", X_OK) == 0
        && access("/usr/bin/python3", X_OK) == 0 && access("/usr/sbin/iptables-nft", X_OK) == 0
    public static let reason = "SKIPPED LOUDLY: the kube-proxy lab needs root, iproute2, util-linux, python3 and iptables (tools/setup.sh --test)"

    /// tools/bench/connect-latency.py: times connect() to each address given, run in the client namespace.
    public static let connectLatency = LabShell.root.appendingPathComponent("tools/bench/connect-latency.py").path

    /// `kubeproxy.sh up NAME --services N --endpoints K --mode MODE [--serve]`.
    public static func up(_ name: String, services: Int = 100, endpoints: Int = 2, mode: String, serve: Bool = false) throws -> KubeProxyLab {
        let (status, output) = try LabShell.run([script, "up", name, "--services", String(services), "--endpoints", String(endpoints),
                                                 "--mode", mode] + (serve ? ["--serve"] : []))
        guard status == 0 else { throw LabShell.Failure("kubeproxy.sh up \(name) --mode \(mode) failed (\(status)): \(output)") }
        return KubeProxyLab(name: name, facts: LabShell.facts(output))
    }

    /// `kubeproxy.sh info NAME`: its status and output.
    public func info() throws -> (status: Int32, output: String) { try LabShell.run([KubeProxyLab.script, "info", name]) }

    /// `kubeproxy.sh down NAME`: its status and output.
    @discardableResult
    public func down() throws -> (status: Int32, output: String) { try LabShell.run([KubeProxyLab.script, "down", name]) }

    public var netns: String { "tkp-\(name)" }
    /// With `serve`: the client's namespace, and the one that owns every endpoint address.
    public var clientNetns: String { "\(netns)-cl" }
    public var endpointsNetns: String { "\(netns)-ep" }
    public subscript(key: String) -> String? { facts[key] }

    /// The output of a shell command line run inside the lab's (the node's) namespace (nsenter).
    public func inNamespace(_ commandLine: String) throws -> String { try Self.run(commandLine, in: netns) }

    /// The output of a shell command line run inside the client's namespace (with `serve`).
    public func inClient(_ commandLine: String) throws -> String { try Self.run(commandLine, in: clientNetns) }

    private static func run(_ commandLine: String, in netns: String) throws -> String {
        try LabShell.run(["-c", "nsenter --net=/run/netns/\"$0\" sh -c \"$1\"", netns, commandLine]).output
    }

    /// A lab name unique to this test process: "kp" + a tag + the pid's low digits.
    public static func uniqueName(_ tag: String) -> String { "kp\(tag)\(getpid() % 100000)" }
}
