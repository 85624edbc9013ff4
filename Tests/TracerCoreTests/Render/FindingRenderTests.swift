import Testing
@testable import TracerCore

struct FindingRenderTests {
    let path = EgressChecksTests.path

    @Test func jsonHasTheDocumentedFieldsAndStaysValid() {
        var path = self.path
        path.endpoint.container = ContainerIdentity(runtime: .docker, id: "3f2a1b0c9d8e7f6a5b4c", name: "web\u{1b}[31m1")
        let finding = Finding(code: .vethDown, severity: .error, message: "line\nbreak \"quoted\"", evidence: "tab\there",
                              fix: "ip link set veth0 up", device: "veth0", netnsInode: 1)
        let line = FindingRender.json(finding, path: path).finished
        #expect(line.hasPrefix(#"{"type":"finding","code":"veth-down","severity":"error","message":"line\nbreak \"quoted\"","evidence":"tab\there","fix":"ip link set veth0 up","device":"veth0","netns":1,"netns_path":"/proc/1/ns/net","endpoint":"web1","endpoint_netns":10,"container":{"runtime":"docker","id":"3f2a1b0c9d8e7f6a5b4c","name":"web\u001b[31m1""#), "\(line)")
        let none = Finding(code: .ipForwardDisabled, severity: .error, message: "m", evidence: "e")
        let plain = FindingRender.json(none, path: self.path).finished
        #expect(plain.contains(#""fix":null,"device":null,"netns":null,"netns_path":null"#))
        #expect(plain.hasSuffix(#""container":null,"family":null}"#))
        var ipv6 = none
        ipv6.family = .v6
        #expect(FindingRender.json(ipv6, path: self.path).finished.hasSuffix(#""family":"ipv6"}"#))
    }

    @Test func tableEscapesAndShowsEvidenceAndFix() {
        let finding = Finding(code: .bridgeDown, severity: .error, message: "bridge\nbr\u{7f} is down", evidence: "DOWN",
                              fix: "ip link set br up", device: "br\u{1b}")
        let lines = FindingRender.tableLines(finding)
        #expect(lines.count == 3)
        #expect(lines[0].hasPrefix("  ERROR    bridge-down                 br\\x1b"))
        #expect(lines[0].contains("bridge\\nbr\\x7f is down"))
        #expect(lines[1] == "           evidence: DOWN")
        #expect(lines[2] == "           fix:      ip link set br up")
        #expect(FindingRender.tableLines(Finding(code: .brNetfilter, severity: .info, message: "m", evidence: "e")).count == 2)
    }

    @Test func pathLineNamesTheDevicesAndNamespaces() {
        #expect(FindingRender.pathLine(path) == "web1: eth0 172.17.0.2/16 -> veth0 -> docker0 -> eth0 via 192.0.2.1  [netns 10 (/proc/42/ns/net) -> host side root netns]")
    }

    /// A dual-stack endpoint: the line shows the addresses others reach it by (no link-local),
    /// the JSON every IPv6 address.
    @Test func aDualStackPathShowsItsIPv6Addresses() {
        var path = self.path
        path.endpoint.ipv6 = ["fd00:17::2/64", "fe80::2/64"]
        #expect(FindingRender.pathLine(path).hasPrefix("web1: eth0 172.17.0.2/16,fd00:17::2/64 -> veth0"), "\(FindingRender.pathLine(path))")
        #expect(FindingRender.pathJSON(path).finished.contains(#""ipv4":["172.17.0.2/16"],"ipv6":["fd00:17::2/64","fe80::2/64"],"mtu""#),
                "\(FindingRender.pathJSON(path).finished)")
    }
}
