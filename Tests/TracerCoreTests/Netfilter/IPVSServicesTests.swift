import Testing
@testable import TracerCore

/// /proc/net/ip_vs in the format of ip_vs_info_seq_show (net/netfilter/ipvs/ip_vs_ctl.c), written
/// by hand (this kernel has no IPVS): IPv4, IPv6 and firewall mark services, the flags after the
/// scheduler, and a service and a real server that do not read.
@Suite struct IPVSServicesTests {
    @Test func readsEachServiceWithItsRealServers() throws {
        let services = IPVSServices.parse(try FixtureFiles.text("netfilter/ip_vs"))
        #expect(services.map(\.key) == [.address(.tcp, "10.96.0.1", port: 80), .address(.udp, "10.96.0.10", port: 53),
                                        .address(.tcp, "2001:db8::1", port: 443), .firewallMark(1),
                                        .address(.tcp, "10.96.0.2", port: 80)])
        #expect(services.map(\.scheduler) == ["rr", "rr", "wrr", "sh", "lc"])
        #expect(services.map(\.flags) == [[], ["ops"], ["persistent", "360", "FFFFFFFF"], [], []])
        #expect(services[0].realServers == [.init(address: "10.244.0.1", port: 8080, forward: .masquerade, weight: 1),
                                            .init(address: "10.244.0.2", port: 8080, forward: .masquerade, weight: 1)])
        #expect(services[2].realServers == [.init(address: "2001:db8::1:1", port: 8443, forward: .route, weight: 3)])
        #expect(services[3].realServers == [.init(address: "192.168.10.5", port: 0, forward: .tunnel, weight: 2)])
    }

    @Test func aLineThatDoesNotReadIsSkippedWithTheRealServersOfItsService() throws {
        let services = IPVSServices.parse(try FixtureFiles.text("netfilter/ip_vs"))
        // `TCP  0A6000ZZ:0050` and its 10.244.0.9 are gone; `  -> garbage` after 10.96.0.2's server too.
        #expect(!services.flatMap(\.realServers).contains { $0.address == "10.244.0.9" })
        #expect(services.last?.realServers == [.init(address: "10.244.0.12", port: 8080, forward: .local, weight: 0)])
        #expect(IPVSServices.parse("IP Virtual Server version 1.2.1 (size=4096)\nProt LocalAddress:Port Scheduler Flags\n").isEmpty)
    }

    @Test func noFileIsNoIPVS() throws {
        #expect(try IPVSServices.read(path: "/nonexistent/ip_vs") == nil)
        #expect(try IPVSServices.read(path: FixtureFiles.path("netfilter/ip_vs"))?.count == 5)
    }
}
