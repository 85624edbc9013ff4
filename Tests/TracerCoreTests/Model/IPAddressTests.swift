import Testing
@testable import TracerCore

/// `IPAddress`: one value for both families, parsed strictly from text, from netlink and BPF
/// bytes, and written in the canonical form (RFC 5952 for IPv6).
struct IPAddressTests {
    /// Text in, the canonical text out.
    static let canonical: [(String, String)] = [
        ("0.0.0.0", "0.0.0.0"), ("172.17.0.2", "172.17.0.2"), ("255.255.255.255", "255.255.255.255"),
        ("2001:db8::1", "2001:db8::1"),
        ("2001:DB8:0:0:0:0:0:0001", "2001:db8::1"),         // lowercase, no leading zeros, zeros compressed
        ("::", "::"), ("0:0:0:0:0:0:0:0", "::"), ("::1", "::1"), ("1::", "1::"),
        ("::ffff:192.0.2.1", "::ffff:192.0.2.1"), ("::ffff:c000:201", "::ffff:192.0.2.1"),   // IPv4-mapped: mixed notation
        ("64:ff9b::192.0.2.1", "64:ff9b::c000:201"),        // other embeddings are plain hex
        ("2001:db8:0:1:1:1:1:1", "2001:db8:0:1:1:1:1:1"),   // a single zero group is never "::"
        ("2001:0:0:1:0:0:0:1", "2001:0:0:1::1"),            // the longest run
        ("2001:db8:0:0:1:0:0:1", "2001:db8::1:0:0:1"),      // the first of equal runs
        ("1:2:3:4:5:6:7::", "1:2:3:4:5:6:7:0"), ("::2:3:4:5:6:7:8", "0:2:3:4:5:6:7:8"),
        ("fe80::a:b:c:d", "fe80::a:b:c:d"), ("ff02::1:ff00:1", "ff02::1:ff00:1"),
    ]

    @Test(arguments: canonical) func textRoundTrips(_ input: String, _ expected: String) throws {
        let address = try #require(IPAddress(input), "\(input)")
        #expect(address.description == expected)
        #expect(IPAddress(expected) == address)
        #expect(IPAddress(bytes: address.bytes) == address)
    }

    @Test(arguments: [
        "", "1.2.3", "1.2.3.256", "+1.2.3.4", "1.2.3.4.5", "1.2.3.", ".1.2.3", "1..2.3", "1.2.3.-4", " 1.2.3.4", "1.2.3.4 ",
        "01.2.3.4", "1.2.3.010", "0x1.2.3.4", "1.2.3.4/32", "１.2.3.4",
        "::1::", "12345::", "1:2:3:4:5:6:7:8:9", "1:2:3:4:5:6:7", "1::2:3:4:5:6:7:8", ":::", "1:::2", ":1::2", "1::2:",
        ":", "::g", "fe80::1%eth0", "fe80::1%1", "::1/128", "[::1]", "::ffff:1.2.3", "::ffff:1.2.3.256", "::1.2.3.4:5",
        "1.2.3.4::", "1:2:3:4:5:6:7:1.2.3.4",
    ])
    func malformedTextIsRejected(_ text: String) {
        #expect(IPAddress(text) == nil, "\(text)")
    }

    @Test func familiesAndNumbers() {
        #expect(IPAddress(172, 17, 0, 2) == .v4(0xac11_0002))
        #expect(IPAddress(172, 17, 0, 2).family == .v4 && IPAddress.v6(high: 0, low: 1).family == .v6)
        #expect(IPAddress("2001:db8::1") == .v6(high: 0x2001_0db8_0000_0000, low: 1))
        #expect(IPAddress.Family.v4.bitWidth == 32 && IPAddress.Family.v6.bitWidth == 128)
        // Every IPv4 address sorts before every IPv6 one, then by number.
        let sorted = ["::1", "10.0.0.2", "9.255.255.255", "::"].compactMap { IPAddress($0) }.sorted()
        #expect(sorted.map(\.description) == ["9.255.255.255", "10.0.0.2", "::", "::1"])
    }

    @Test func bytesInNetworkOrder() {
        #expect(IPAddress(bytes: [192, 0, 2, 1]) == IPAddress(192, 0, 2, 1))
        #expect(IPAddress(192, 0, 2, 1).bytes == [192, 0, 2, 1])
        var v6 = [UInt8](repeating: 0, count: 16)
        v6[0] = 0x20; v6[1] = 0x01; v6[2] = 0x0d; v6[3] = 0xb8; v6[15] = 0x10
        #expect(IPAddress(bytes: v6)?.description == "2001:db8::10")
        #expect(IPAddress(bytes: v6)?.bytes == v6)
        #expect(IPAddress(bytes: [1, 2, 3]) == nil && IPAddress(bytes: [UInt8](repeating: 0, count: 15)) == nil)
    }

    @Test func multicastAndMapped() {
        #expect(IPAddress(224, 0, 0, 22).isMulticast && IPAddress(239, 255, 255, 250).isMulticast)
        #expect(!IPAddress(240, 0, 0, 1).isMulticast && !IPAddress(223, 255, 255, 255).isMulticast)
        #expect(IPAddress("ff02::16").isMulticast && !IPAddress("fe80::1").isMulticast)
        #expect(IPAddress("::ffff:10.0.0.1").isIPv4Mapped && !IPAddress("::10.0.0.1").isIPv4Mapped)
    }
}
