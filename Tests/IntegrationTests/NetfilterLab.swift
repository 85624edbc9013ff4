import Foundation
import Glibc
import LabSupport
import Testing
@testable import TracerCore

/// What the netfilter tests add to tools/lab/egress.sh's lab (LabSupport.EgressLab): the lab's path
/// as discovery would build it, and commands in its host namespace.
extension EgressLab {
    static let canRunFirewall = geteuid() == 0 && access("/usr/sbin/iptables-nft", X_OK) == 0 && access("/usr/sbin/nft", X_OK) == 0
    static let firewallReason: Comment = "SKIPPED LOUDLY: the egress lab needs root, iproute2, nftables and iptables (tools/setup.sh --test)"

    /// One probe from c1 to the world; true if it was answered.
    func answers(tcp: Bool = false) -> Bool { (try? probe(tcp: tcp)) ?? false }

    /// The path from c1 of the lab called `name`, as discovery would build it.
    static func path(of name: String) -> EgressPath {
        let endpoint = EgressPath.Endpoint(
            name: "c1", netnsInode: namespaceInode("/run/netns/tel-\(name)-c1"), netnsPath: "/run/netns/tel-\(name)-c1",
            interface: "eth0", interfaceIndex: 2, ipv4: ["172.17.0.2/16"], mtu: 1500)
        let host = "/run/netns/tel-\(name)-host"
        return EgressPath(endpoint: endpoint, hostNetnsInode: namespaceInode(host), hostNetnsPath: host,
                          hostIsRoot: false, hostVeth: .init(name: "veth-c1", index: 0), bridge: .init(name: "br-lab", index: 0),
                          uplink: .init(name: "uplink0", index: 0), gateway: "198.51.100.1")
    }

    func path() -> EgressPath { EgressLab.path(of: name) }

    /// Runs a command inside the lab's host namespace.
    @discardableResult
    func inHost(_ arguments: String...) throws -> String {
        try shell(["/usr/bin/nsenter", "--net=\(hostNetnsPath)"] + arguments)
    }
}

/// Runs a program (with the sbin directories on PATH); throws with its output when it exits
/// non-zero. Through LabShell: output goes to a file, since the lab's listener outlives the script.
@discardableResult
func shell(_ argv: [String]) throws -> String {
    let (status, output) = try LabShell.run(["-c", "PATH=/usr/sbin:/usr/bin:/sbin:/bin:$PATH exec \"$0\" \"$@\""] + argv)
    guard status == 0 else {
        throw CommandFailed(description: "\(argv.joined(separator: " ")): exit \(status): \(output)")
    }
    return output
}
