import Testing
@testable import TracerCore

struct IPv4CIDRTests {
    @Test func parses() {
        #expect(IPv4CIDR("172.17.0.2/16")?.host == "172.17.0.2")
        #expect(IPv4CIDR("172.17.0.2/16")?.length == 16)
        #expect(IPv4CIDR("10.0.0.1")?.length == 32)
        for bad in ["", "1.2.3", "1.2.3.4/33", "256.1.1.1", "1.2.3.4/x", "a.b.c.d", "1.2.3.4/8/9", "fe80::1/64"] {
            #expect(IPv4CIDR(bad) == nil, "\(bad)")
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
