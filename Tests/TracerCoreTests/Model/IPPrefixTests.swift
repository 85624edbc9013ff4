import Testing
@testable import TracerCore

/// `IPPrefix`: an address with a prefix length, its network, and containment in both families.
struct IPPrefixTests {
    @Test func interfaceAddressKeepsItsHostPart() throws {
        let address = try #require(IPPrefix.init("10.88.0.2/16"))
        #expect(address.address == IPAddress(10, 88, 0, 2) && address.length == 16)
        #expect(address.description == "10.88.0.2/16")
        #expect(address.network.description == "10.88.0.0/16")
        #expect(address != address.network)
        #expect(IPPrefix.init("10.0.0.1")?.description == "10.0.0.1/32")
        #expect(IPPrefix.init("fe80::1")?.description == "fe80::1/128")
        #expect(IPPrefix.init("2001:DB8::5/64")?.network.description == "2001:db8::/64")
    }

    @Test(arguments: ["1.2.3.4/33", "::/129", "1.2.3.4/", "1.2.3.4/+8", "1.2.3.4/08", "::1/-1", "/8", "1.2.3/8", "1.2.3.4/8/9",
                      "1.2.3.4/ 8", "fe80::1%eth0/64", "::1/1280"])
    func malformedPrefixesAreRejected(_ text: String) {
        #expect(IPPrefix(text) == nil, "\(text)")
    }

    @Test func ipv4Containment() {
        let docker = IPPrefix("172.17.0.0/16")
        #expect(docker.contains(IPAddress(172, 17, 255, 255)) && docker.contains(IPAddress(172, 17, 0, 0)))
        #expect(!docker.contains(IPAddress(172, 18, 0, 0)) && !docker.contains(IPAddress(172, 16, 255, 255)))
        #expect(IPPrefix("172.17.0.2/16").contains(IPAddress(172, 17, 9, 9)))   // the host part does not matter
        #expect(IPPrefix("0.0.0.0/0").contains(IPAddress(203, 0, 113, 10)))
        #expect(IPPrefix("10.0.0.1").contains(IPAddress(10, 0, 0, 1)) && !IPPrefix("10.0.0.1").contains(IPAddress(10, 0, 0, 2)))
        // An IPv4-mapped IPv6 address is IPv6: no IPv4 prefix holds it.
        #expect(!IPPrefix("0.0.0.0/0").contains(IPAddress("::ffff:10.0.0.1")))
        #expect(docker.contains(IPPrefix("172.17.5.0/24")) && !IPPrefix("172.17.5.0/24").contains(docker))
        #expect(docker.overlaps(IPPrefix("172.16.0.0/12")) && !docker.overlaps(IPPrefix("172.18.0.0/16")))
    }

    @Test func ipv6Containment() {
        let documentation = IPPrefix("2001:db8::/32")
        #expect(documentation.contains(IPAddress("2001:db8:ffff:ffff::1")) && !documentation.contains(IPAddress("2001:db9::")))
        // Lengths on both sides of the 64-bit halves.
        let subnet = IPPrefix("2001:db8:0:1::/64")
        #expect(subnet.contains(IPAddress("2001:db8:0:1:ffff:ffff:ffff:ffff")) && !subnet.contains(IPAddress("2001:db8:0:2::")))
        let narrow = IPPrefix("2001:db8:0:1:8000::/65")
        #expect(narrow.contains(IPAddress("2001:db8:0:1:ffff::")) && !narrow.contains(IPAddress("2001:db8:0:1:7fff::")))
        let pair = IPPrefix("fd00::2/127")
        #expect(pair.contains(IPAddress("fd00::3")) && !pair.contains(IPAddress("fd00::4")) && pair.network.description == "fd00::2/127")
        #expect(IPPrefix("::/0").contains(IPAddress("ff02::1")) && !IPPrefix("::/0").contains(IPAddress(10, 0, 0, 1)))
        #expect(IPPrefix("fe80::1").contains(IPAddress("fe80::1")) && !IPPrefix("fe80::1").contains(IPAddress("fe80::2")))
        #expect(IPPrefix("fd00::/8").contains(IPPrefix("fd12:3456::/32")))
        #expect(!IPPrefix("fd00::/8").overlaps(IPPrefix("10.0.0.0/8")))
    }

    /// Rules print a single address without its length, as nft and iptables-save do.
    @Test func ruleText() {
        #expect(IPPrefix("198.51.100.7").ruleText == "198.51.100.7")
        #expect(IPPrefix("192.0.2.0/24").ruleText == "192.0.2.0/24")
        #expect(IPPrefix.ipv4Network("172.17.0.2/16")?.description == "172.17.0.0/16")
        #expect(IPPrefix.ipv4Network("2001:db8::/32") == nil)
    }
}
