import Foundation
import Testing
@testable import TracerCore

/// `tracer netns` without entering namespaces: recorded namespaces, contents and peers.
struct NetnsSessionTests {
    final class RecordedNamespaces: NamespaceSource {
        var recorded: [NetnsDirectory.Namespace]
        var inside: [UInt64: NetnsDirectory.Contents]
        var running: ContainerInventory
        private(set) var entered: [UInt64] = []

        init(_ namespaces: [NetnsDirectory.Namespace], inside: [UInt64: NetnsDirectory.Contents], running: ContainerInventory) {
            recorded = namespaces
            self.inside = inside
            self.running = running
        }

        func namespaces() -> [NetnsDirectory.Namespace] { recorded }
        func inventory() -> ContainerInventory { running }
        func contents(of inode: UInt64) -> NetnsDirectory.Contents {
            entered.append(inode)
            return inside[inode] ?? NetnsDirectory.Contents(error: "no such network namespace")
        }
        func peer(of interface: NetworkInterface, in inode: UInt64) -> NetnsDirectory.Peer? {
            interface.name == "eth0" && inode == 20 ? NetnsDirectory.Peer(netnsInode: 10, name: "veth9", index: 9, bridge: "br0") : nil
        }
    }

    static let web = ContainerIdentity(runtime: .podman, id: "f9d688036191e046", name: "web\u{1B}[2J")

    static func source() -> RecordedNamespaces {
        let host = NetnsDirectory.Namespace(inode: 10, names: [], path: "/proc/1/ns/net", pids: Array(1...10), isHost: true)
        let container = NetnsDirectory.Namespace(inode: 20, names: ["/run/netns/c\u{07}1"], path: "/run/netns/c1", pids: [4242], isHost: false)
        let gone = NetnsDirectory.Namespace(inode: 30, names: [], path: "/proc/99/ns/net", pids: [], isHost: false)
        var eth0 = NetworkInterface(index: 2, name: "eth0", kind: "veth", isUp: true)
        eth0.ipv4 = ["10.88.0.2/16"]
        eth0.hasCarrier = true
        eth0.mtu = 1500
        let inside: [UInt64: NetnsDirectory.Contents] = [
            10: NetnsDirectory.Contents(interfaces: [NetworkInterface(index: 1, name: "lo", kind: nil, isUp: true)], ipForward: true),
            20: NetnsDirectory.Contents(interfaces: [eth0], routes: [IPv4Route(destination: "0.0.0.0/0", gateway: "10.88.0.1", outputIndex: 2)],
                                        ipForward: false),
        ]
        let member = ContainerInventory.Container(identity: web, cgroupPath: "/web", cgroup: ProcCgroup(unified: "/web", v1: [:]),
                                                  members: [.init(pid: 4242, pidInContainer: 1)], initPID: 4242, netnsInode: 20)
        return RecordedNamespaces([host, container, gone], inside: inside, running: ContainerInventory(containers: [member]))
    }

    @Test func eachNamespaceComesWithItsContainersLinksAndRoute() {
        let source = Self.source()
        let sink = CollectingSink<NetnsReport>()
        NetnsSession(source: source).run(into: sink)
        #expect(source.entered == [10, 20, 30])
        #expect(sink.records.map(\.namespace.inode) == [10, 20, 30])
        let container = sink.records[1]
        #expect(container.containers == [Self.web])
        #expect(container.links.first?.peer?.name == "veth9")
        #expect(container.defaultRoutes.map(\.route.gateway) == ["10.88.0.1"] && container.defaultRoutes.first?.device == "eth0")
        #expect(container.ipForward == false)
        #expect(sink.records[0].containers.isEmpty && sink.records[0].defaultRoutes.isEmpty)
        #expect(sink.records[2].error == "no such network namespace")
    }

    @Test func theTableSeparatesNamespacesAndEscapesNames() {
        let sink = CollectingSink<NetnsReport>()
        NetnsSession(source: Self.source()).run(into: sink)
        let render = NetnsRender(format: .table)
        let lines = sink.records.flatMap(render.lines)
        #expect(lines == [
            "netns 10 (host)", "  processes: 10 (1 2 3 4 5 6 7 8 ...)", "  lo            index 1 up NO-CARRIER mtu 0", "  default route: none", "  ipv6 default route: none", "  ip_forward: 1",
            "",
            "netns 20  /run/netns/c\\x071", "  processes: 1 (4242)", "  containers: web\\x1b[2J (podman)",
            "  eth0          index 2 veth up mtu 1500 10.88.0.2/16  peer veth9 (index 9, netns 10, bridge br0)",
            "  default route: via 10.88.0.1 dev eth0", "  ipv6 default route: none", "  ip_forward: 0",
            "",
            "netns 30", "  processes: 0", "  interfaces: cannot read: no such network namespace", "  default route: none", "  ipv6 default route: none", "  ip_forward: ?",
        ].map { RenderedLine.output($0) })
    }

    @Test func theJSONHasOneObjectPerNamespace() throws {
        let sink = CollectingSink<NetnsReport>()
        NetnsSession(source: Self.source()).run(into: sink)
        let render = NetnsRender(format: .json)
        let objects = try sink.records.flatMap(render.lines).map { line -> [String: Any] in
            guard case .output(let bytes) = line else { throw CancellationError() }
            return try #require(try JSONSerialization.jsonObject(with: Data(bytes)) as? [String: Any])
        }
        #expect(objects.count == 3)
        #expect(objects[0]["host"] as? Bool == true && objects[0]["default_route"] is NSNull && objects[0]["ipv6_default_route"] is NSNull && objects[0]["ip_forward"] as? Bool == true)
        let route = try #require(objects[1]["default_route"] as? [String: Any])
        #expect(route["gateway"] as? String == "10.88.0.1" && route["device"] as? String == "eth0")
        #expect((objects[1]["containers"] as? [[String: Any]])?.first?["name"] as? String == "web\u{1B}[2J")
        #expect(objects[1]["pids"] as? [String] == ["4242"])
        #expect(objects[2]["error"] as? String == "no such network namespace" && objects[2]["ip_forward"] is NSNull)
    }
}
