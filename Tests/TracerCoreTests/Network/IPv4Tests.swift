import Testing
@testable import TracerCore

/// The IP value types with IPv4: `IPAddress` (one address) and `IPPrefix` (an address and a
/// prefix length), one parser.
struct IPv4Tests {
    @Test func addressesAndPrefixesParse() {
        #expect(IPPrefix.init("172.17.0.2/16")?.address.description == "172.17.0.2")
        #expect(IPAddress.init("172.17.0.2") == .v4(0xac11_0002))
        #expect(IPAddress.v4(0xac11_0002) == IPAddress(172, 17, 0, 2))
        #expect(IPPrefix.init("172.17.0.2/16")?.network == IPPrefix(address: .v4(0xac11_0000), length: 16))
        #expect(IPPrefix.init("10.0.0.1")?.length == 32)
        for bad in ["", "1.2.3", "256.1.1.1", "a.b.c.d", "+1.2.3.4", "1.2.3.04 ", "0001.2.3.4", "fe80::1/64"] {
            #expect(IPAddress(bad) == nil, "\(bad)")
            #expect(IPPrefix.ipv4Network(bad) == nil, "\(bad)")
        }
        for bad in ["1.2.3.4/33", "1.2.3.4/x", "1.2.3.4/8/9"] {
            #expect(IPPrefix(bad) == nil, "\(bad)")
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
