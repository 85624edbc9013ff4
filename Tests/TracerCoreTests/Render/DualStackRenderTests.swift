import Foundation
import Testing
@testable import TracerCore

/// `tracer pid`, `tracer netns` and `tracer containers` on a dual-stack namespace, the egress lab's
/// c1 as `egress.sh up NAME --ipv6` makes it: IPv6 addresses and the IPv6 default route beside
/// IPv4, in tables (global addresses only) and in JSON (link-local too), the JSON valid.
struct DualStackRenderTests {
    /// c1's eth0: 172.17.0.2/16, fd00:17::2/64 and its link-local address.
    static var eth0: NetworkInterface {
        var eth0 = NetworkInterface(index: 2, name: "eth0", kind: "veth", mtu: 1500, isUp: true, hasCarrier: true)
        eth0.ipv4 = ["172.17.0.2/16"]
        eth0.ipv6 = ["fd00:17::2/64", "fe80::d6:1/64"]
        return eth0
    }

    static var lo: NetworkInterface {
        NetworkInterface(index: 1, name: "lo", mtu: 65536, isUp: true, hasCarrier: true, ipv4: ["127.0.0.1/8"], ipv6: ["::1/128"])
    }

    /// c1's namespace read as `NetnsDirectory` reads it: both families' routes, the main table's
    /// defaults among others (a connected route each, and one in another table).
    static func contents(interfaces: [NetworkInterface] = [lo, eth0], ipv6Default: Bool = true) -> NetnsDirectory.Contents {
        var contents = NetnsDirectory.Contents(interfaces: interfaces, routes: [
            IPRoute(destination: "172.17.0.0/16", outputIndex: 2),
            IPRoute(destination: "0.0.0.0/0", gateway: "172.17.0.1", outputIndex: 2),
        ], ipForward: false)
        contents.ipv6Routes = [IPRoute(destination: "fd00:17::/64", outputIndex: 2),
                               IPRoute(destination: "::/0", gateway: "fd00:99::1", outputIndex: 2, table: 100)]
        if ipv6Default { contents.ipv6Routes.append(IPRoute(destination: "::/0", gateway: "fd00:17::1", outputIndex: 2)) }
        return contents
    }

    static let peer = NetnsDirectory.Peer(netnsInode: 4026532100, name: "veth-c1", index: 7, bridge: "br-lab")

    static func netnsReport(_ contents: NetnsDirectory.Contents = contents()) -> NetnsReport {
        NetnsReport(namespace: NetnsDirectory.Namespace(inode: 4026532200, names: ["/run/netns/tel-d6-c1"], path: "/run/netns/tel-d6-c1",
                                                        pids: [4242], isHost: false),
                    containers: [], contents: contents, peer: { $0.name == "eth0" ? peer : nil })
    }

    static func object(_ line: JSONLine) throws -> [String: Any] {
        try #require(try JSONSerialization.jsonObject(with: Data(line.finishedBytes)) as? [String: Any])
    }

    @Test func theDefaultRoutesAreTheMainTablesOfEachFamilyWithTheirDevice() {
        let routes = Self.contents().defaultRoutes
        #expect(routes == [DefaultRoute(route: IPRoute(destination: "0.0.0.0/0", gateway: "172.17.0.1", outputIndex: 2), device: "eth0"),
                           DefaultRoute(route: IPRoute(destination: "::/0", gateway: "fd00:17::1", outputIndex: 2), device: "eth0")])
        #expect(routes.map(\.family) == [.v4, .v6])
        #expect(Self.contents(ipv6Default: false).defaultRoutes.map(\.family) == [.v4], "table 100's ::/0 is not the main table's")
    }

    @Test func anInterfaceShowsItsGlobalIPv6AddressesInTheTableAndAllInJSON() throws {
        let link = LinkReport(interface: Self.eth0, peer: Self.peer)
        #expect(LinkRender.summary(link)
            == "index 2 veth up mtu 1500 172.17.0.2/16 fd00:17::2/64  peer veth-c1 (index 7, netns 4026532100, bridge br-lab)")
        #expect(LinkRender.summary(LinkReport(interface: Self.lo, peer: nil)) == "index 1 up mtu 65536 127.0.0.1/8", "::1 is not global")
        let json = try Self.object(LinkRender.json(link))
        #expect(json["ipv4"] as? [String] == ["172.17.0.2/16"])
        #expect(json["ipv6"] as? [String] == ["fd00:17::2/64", "fe80::d6:1/64"], "link-local kept in JSON")
    }

    @Test func netnsShowsBothDefaultRoutesInTheTableAndTheJSON() throws {
        let table = NetnsRender.table(Self.netnsReport())
        #expect(table.contains("  eth0          index 2 veth up mtu 1500 172.17.0.2/16 fd00:17::2/64  peer veth-c1 (index 7, netns 4026532100, bridge br-lab)"))
        #expect(Array(table.suffix(3)) == ["  default route: via 172.17.0.1 dev eth0", "  ipv6 default route: via fd00:17::1 dev eth0", "  ip_forward: 0"])

        let json = try Self.object(NetnsRender.json(Self.netnsReport()))
        let v4 = try #require(json["default_route"] as? [String: Any])
        #expect(v4["gateway"] as? String == "172.17.0.1" && v4["device"] as? String == "eth0")
        let v6 = try #require(json["ipv6_default_route"] as? [String: Any])
        #expect(v6["gateway"] as? String == "fd00:17::1" && v6["device"] as? String == "eth0")
        let eth0 = try #require((json["interfaces"] as? [[String: Any]])?.first { $0["name"] as? String == "eth0" })
        #expect(eth0["ipv6"] as? [String] == ["fd00:17::2/64", "fe80::d6:1/64"])
    }

    @Test func aFamilyWithoutADefaultRouteSaysNoneAndNull() throws {
        let report = Self.netnsReport(Self.contents(ipv6Default: false))
        #expect(NetnsRender.table(report).contains("  ipv6 default route: none"))
        let json = try Self.object(NetnsRender.json(report))
        #expect(json["default_route"] is [String: Any] && json["ipv6_default_route"] is NSNull)
    }

    /// A route without a gateway (a point-to-point device) and a device named by whoever made it.
    @Test func aGatewaylessRouteAndAHostileDeviceName() throws {
        var tunnel = NetworkInterface(index: 3, name: "wg\u{1B}[2J0", kind: "wireguard", isUp: true)
        tunnel.ipv6 = ["2001:db8:1234:5678:9abc:def0:1234:5678/128"]
        var contents = Self.contents(interfaces: [Self.lo, tunnel])
        contents.routes = []
        contents.ipv6Routes = [IPRoute(destination: "::/0", outputIndex: 3)]
        let table = NetnsRender.table(Self.netnsReport(contents))
        #expect(table.contains("  default route: none"))
        #expect(table.contains("  ipv6 default route: via - dev wg\\x1b[2J0"))
        #expect(!table.joined().contains("\u{1B}"))
        let json = try Self.object(NetnsRender.json(Self.netnsReport(contents)))
        let v6 = try #require(json["ipv6_default_route"] as? [String: Any])
        #expect(v6["gateway"] is NSNull && v6["device"] as? String == "wg\u{1B}[2J0")
    }

    static func processReport(links: [LinkReport], defaultRoutes: [DefaultRoute]) -> ProcessReport {
        ProcessReport(pid: 4242, comm: "sleep", commandLine: [Array("sleep".utf8), Array("300".utf8)], ppid: 1, startTime: 0,
                      namespacePIDs: [4242], isKernelThread: false, cgroup: ProcCgroup(unified: "/user.slice", v1: [:]),
                      namespaces: ProcNamespaces(inodes: ["net": 4026532200]), sharedWithHost: [], attribution: .host,
                      initPID: nil, netnsNames: ["/run/netns/tel-d6-c1"], links: links, defaultRoutes: defaultRoutes)
    }

    @Test func pidShowsTheAddressesAndBothDefaultRoutesOfItsNamespace() throws {
        let contents = Self.contents()
        let report = Self.processReport(links: contents.interfaces.map { LinkReport(interface: $0, peer: $0.name == "eth0" ? Self.peer : nil) },
                                        defaultRoutes: contents.defaultRoutes)
        let table = ProcessReportRender.table(report, clock: BootClock(realtimeOffset: 0))
        #expect(Array(table.suffix(4)) == [
            "  lo:             index 1 up mtu 65536 127.0.0.1/8",
            "  eth0:           index 2 veth up mtu 1500 172.17.0.2/16 fd00:17::2/64  peer veth-c1 (index 7, netns 4026532100, bridge br-lab)",
            "default route:    via 172.17.0.1 dev eth0",
            "ipv6 default route: via fd00:17::1 dev eth0",
        ])

        let json = try Self.object(ProcessReportRender.json(report, clock: BootClock(realtimeOffset: 0)))
        let netns = try #require(json["netns"] as? [String: Any])
        #expect((netns["default_route"] as? [String: Any])?["gateway"] as? String == "172.17.0.1")
        let v6 = try #require(netns["ipv6_default_route"] as? [String: Any])
        #expect(v6["gateway"] as? String == "fd00:17::1" && v6["device"] as? String == "eth0")
        let eth0 = try #require((netns["interfaces"] as? [[String: Any]])?.first { $0["name"] as? String == "eth0" })
        #expect(eth0["ipv6"] as? [String] == ["fd00:17::2/64", "fe80::d6:1/64"])
    }

    @Test func pidWithoutItsNamespacesInterfacesShowsNoRoutes() {
        let table = ProcessReportRender.table(Self.processReport(links: [], defaultRoutes: []), clock: BootClock(realtimeOffset: 0))
        #expect(!table.contains { $0.contains("default route") }, "nothing was read there: not 'none'")
    }

    static func running(_ interfaces: [NetworkInterface]) -> RunningContainer {
        let identity = ContainerIdentity(runtime: .podman, id: "f9d688036191e046aa", name: "web")
        let container = ContainerInventory.Container(identity: identity, cgroupPath: "/web", cgroup: ProcCgroup(unified: "/web", v1: [:]),
                                                     members: [.init(pid: 4242, pidInContainer: 1)], initPID: 4242, netnsInode: 4026532200)
        return RunningContainer(container: container, links: interfaces.map { LinkReport(interface: $0, peer: $0.name == "eth0" ? peer : nil) })
    }

    func text(_ lines: [RenderedLine]) -> [String] {
        lines.compactMap { if case .output(let bytes) = $0 { return String(decoding: bytes, as: UTF8.self) } else { return nil } }
    }

    @Test func containersHaveAnIPv6ColumnAfterIPv4AndEveryIPv6AddressInJSON() throws {
        let render = ContainersRender(format: .table)
        let header = try #require(text(render.lines(.started(containers: 1))).first)
        let row = try #require(text(render.lines(.container(Self.running([Self.lo, Self.eth0])))).first)
        #expect(row == "podman      f9d688036191  web                  -                              4242    1     4026532200  veth-c1      172.17.0.2/16      fd00:17::2/64")
        let column = try #require(header.range(of: "IPV6")).lowerBound.utf16Offset(in: header)
        #expect(try #require(row.range(of: "fd00:17::2/64")).lowerBound.utf16Offset(in: row) == column, "IPV6 lines up with its header")

        let json = try #require(try JSONSerialization.jsonObject(with: Data(ContainersRender.json(Self.running([Self.lo, Self.eth0])).finishedBytes))
                                    as? [String: Any])
        #expect(json["ipv4"] as? [String] == ["172.17.0.2/16"], "lo's addresses are no container's")
        #expect(json["ipv6"] as? [String] == ["fd00:17::2/64", "fe80::d6:1/64"])
    }

    /// The widest IPv6 address, and two of them, stay in the last column: the columns before keep
    /// their places. IPv4 only (no global IPv6) is a dash.
    @Test func wideIPv6AddressesDoNotMoveTheOtherColumns() throws {
        var wide = Self.eth0
        wide.ipv6 = ["2001:db8:1234:5678:9abc:def0:1234:5678/128", "2001:db8:aaaa:bbbb:cccc:dddd:eeee:ffff/64", "fe80::1/64"]
        let render = ContainersRender(format: .table)
        let narrow = try #require(text(render.lines(.container(Self.running([Self.eth0])))).first)
        let row = try #require(text(render.lines(.container(Self.running([wide])))).first)
        let prefix = "podman      f9d688036191  web                  -                              4242    1     4026532200  veth-c1      172.17.0.2/16      "
        #expect(narrow.hasPrefix(prefix) && row.hasPrefix(prefix))
        #expect(row.dropFirst(prefix.count) == "2001:db8:1234:5678:9abc:def0:1234:5678/128,2001:db8:aaaa:bbbb:cccc:dddd:eeee:ffff/64")

        var ipv4Only = Self.eth0
        ipv4Only.ipv6 = ["fe80::1/64"]
        #expect(try #require(text(render.lines(.container(Self.running([ipv4Only])))).first) == prefix + "-")
    }
}
