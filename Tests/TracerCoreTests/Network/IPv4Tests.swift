import Testing
@testable import TracerCore

/// The IPv4 value types: `IPv4Address` (one address) and `IPv4Prefix` (a network), one parser.
struct IPv4Tests {
    @Test func addressesAndPrefixesParse() {
        #expect(IPv4Address("172.17.0.2/16")?.description == "172.17.0.2")
        #expect(IPv4Address("172.17.0.2")?.value == 0xac11_0002)
        #expect(IPv4Address(value: 0xac11_0002) == IPv4Address(172, 17, 0, 2))
        #expect(IPv4Prefix("172.17.0.2/16") == IPv4Prefix(address: 0xac11_0000, length: 16))
        #expect(IPv4Prefix("10.0.0.1")?.length == 32)
        for bad in ["", "1.2.3", "256.1.1.1", "a.b.c.d", "+1.2.3.4", "1.2.3.04 ", "0001.2.3.4", "fe80::1/64"] {
            #expect(IPv4Address(bad) == nil, "\(bad)")
            #expect(IPv4Prefix(bad) == nil, "\(bad)")
        }
        for bad in ["1.2.3.4/33", "1.2.3.4/x", "1.2.3.4/8/9"] {
            #expect(IPv4Prefix(bad) == nil, "\(bad)")
        }
    }

    @Test func longestPrefixWinsInTheMainTable() {
        let routes = [
            IPv4Route(destination: "0.0.0.0/0", gateway: "198.51.100.1", outputIndex: 4),
            IPv4Route(destination: "172.17.0.0/16", outputIndex: 2),
            IPv4Route(destination: "172.17.5.0/24", outputIndex: 7),
            IPv4Route(destination: "172.17.0.0/16", outputIndex: 9, table: 100),
        ]
        #expect(routes.lookup("172.17.0.2")?.outputIndex == 2)
        #expect(routes.lookup("172.17.5.9")?.outputIndex == 7)
        #expect(routes.lookup("203.0.113.10")?.outputIndex == 4)
        #expect(Array(routes.dropFirst()).lookup("203.0.113.10") == nil)
        #expect(routes.defaultRoute?.gateway == "198.51.100.1")
    }
}
