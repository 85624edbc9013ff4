import Testing
@testable import TracerCore

/// What the IPv6 checks read over rtnetlink: routes with their origin, address flags (DAD),
/// NDP entries with the router flag; the same parsers as IPv4, the family as data.
struct IPv6ParsingTests {
    static let gateway: [UInt8] = [0x20, 0x01, 0x0d, 0xb8] + Array(repeating: 0, count: 11) + [1]   // 2001:db8::1

    func route6(dstLen: UInt8, origin: UInt8, _ attributes: [UInt8]) -> NetlinkMessage {
        let header: [UInt8] = [10, dstLen, 0, 0, 254, origin, 0, 1] + hostBytes(UInt32(0))
        return NetlinkMessage(type: T.RTM_NEWROUTE, flags: 2, seq: 7, pid: 0, payload: header + attributes)
    }

    @Test func anRALearnedDefaultRoute() throws {
        let route = try #require(parseRoute(route6(dstLen: 0, origin: 9, attr(5, Self.gateway) + attrI32(4, 3)), family: 10))
        #expect(route.destination.description == "::/0")
        #expect(route.isDefault && route.isFromRouterAdvertisement)
        #expect(route.gateway?.description == "2001:db8::1")
        #expect(route.outputIndex == 3)
        // A static one is not from an RA; an IPv6 route is no IPv4 route and the reverse.
        #expect(parseRoute(route6(dstLen: 0, origin: 4, attr(5, Self.gateway)), family: 10)?.isFromRouterAdvertisement == false)
        #expect(parseIPv4Route(route6(dstLen: 0, origin: 9, [])) == nil)
        // A destination longer than 128 bits, or a gateway of the wrong width, is not taken.
        #expect(parseRoute(route6(dstLen: 129, origin: 4, []), family: 10) == nil)
        #expect(parseRoute(route6(dstLen: 0, origin: 4, attr(5, [10, 0, 0, 1])), family: 10)?.gateway == nil)
    }

    @Test func addressFlagsFromIFAFlagsOverTheHeaderByte() throws {
        let ula: [UInt8] = [0xfd, 0, 0, 0x17] + Array(repeating: 0, count: 11) + [2]
        // Header byte says permanent (0x80); IFA_FLAGS (8) says tentative|dadfailed|permanent.
        let bytes = nlmsg(type: T.RTM_NEWADDR, ifaddrmsg(family: 10, prefix: 64, index: 2) + attr(1, ula) + attrU32(8, 0xc8))
        let address = try #require(parseAddress(try parseMessages(bytes)[0]))
        #expect(address.flags == 0xc8)
        let without = try #require(parseAddress(try parseMessages(nlmsg(type: T.RTM_NEWADDR, ifaddrmsg(family: 10, prefix: 64, index: 2) + attr(1, ula)))[0]))
        #expect(without.flags == 0x80)

        let link = attachAddresses([address, InterfaceAddress(index: 2, prefix: "fd00:17::3/64", flags: 0xc0),
                                    InterfaceAddress(index: 2, prefix: "fe80::1/64", flags: 0x80)],
                                   to: [NetworkInterface(index: 2, name: "eth0")])[0]
        #expect(link.dadFailedIPv6.map(\.description) == ["fd00:17::2/64"])
        #expect(link.tentativeIPv6.map(\.description) == ["fd00:17::3/64"])
        #expect(link.globalIPv6.map(\.description) == ["fd00:17::2/64", "fd00:17::3/64"])
    }

    @Test func globalIPv6Addresses() {
        for global in ["2001:db8::1", "fd00:17::2", "fc00::1"] { #expect(IPAddress(global)!.isGlobalIPv6, "\(global)") }
        for other in ["fe80::1", "febf::1", "::1", "::", "ff02::1", "::ffff:10.0.0.1", "10.0.0.1"] {
            #expect(!IPAddress(other)!.isGlobalIPv6, "\(other)")
        }
    }

    @Test func ndpEntriesWithTheRouterFlag() throws {
        let header: [UInt8] = [10, 0, 0, 0] + hostBytes(Int32(3)) + hostBytes(UInt16(0x04)) + [0x80, 1]
        let message = NetlinkMessage(type: 28, flags: 2, seq: 7, pid: 0, payload: header + attr(1, Self.gateway))
        let entry = try #require(parseNeighbour(message, family: 10))
        #expect(entry.address.description == "2001:db8::1" && entry.index == 3 && entry.isRouter && !entry.failed)
        #expect(parseIPv4Neighbour(message) == nil)
    }
}
