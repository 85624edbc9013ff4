import Testing
@testable import TracerCore

/// RTM_NEWNEIGH as the kernel sends it for `ip neigh`: struct ndmsg, then NDA_DST.
struct NeighbourParsingTests {
    func neighbour(family: UInt8 = 2, index: Int32, state: UInt16, destination: [UInt8]?) -> NetlinkMessage {
        let header: [UInt8] = [family, 0, 0, 0] + hostBytes(index) + hostBytes(state) + [0, 1]
        let payload = header + (destination.map { attr(1, $0) } ?? [])
        return NetlinkMessage(type: 28, flags: 2, seq: 7, pid: 0, payload: payload)
    }

    @Test func aFailedGatewayEntry() throws {
        let entry = try #require(parseIPv4Neighbour(neighbour(index: 4, state: 0x20, destination: [198, 51, 100, 99])))
        #expect(entry == IPv4Neighbour(index: 4, address: "198.51.100.99", state: 0x20))
        #expect(entry.failed)
        #expect(parseIPv4Neighbour(neighbour(index: 4, state: 0x02, destination: [198, 51, 100, 1]))?.failed == false)
    }

    @Test func otherFamiliesShortOrAddresslessMessagesAreSkipped() {
        #expect(parseIPv4Neighbour(neighbour(family: 10, index: 4, state: 0x20, destination: Array(repeating: 0, count: 16))) == nil)
        #expect(parseIPv4Neighbour(neighbour(index: 4, state: 0x20, destination: nil)) == nil)
        #expect(parseIPv4Neighbour(NetlinkMessage(type: 28, flags: 0, seq: 0, pid: 0, payload: [2, 0, 0])) == nil)
    }
}
