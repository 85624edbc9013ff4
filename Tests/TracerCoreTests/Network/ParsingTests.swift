import Glibc
import Testing
@testable import TracerCore

/// A veth "va" (index 5) that is a port of bridge index 3, whose peer is ifindex 9 in netns id 0.
let vethMessage: [UInt8] = nlmsg(
    type: T.RTM_NEWLINK,
    ifinfomsg(index: 5, flags: 0x1 | 0x2 | 0x1000 | 0x40 | 0x10000)
        + attrString(3, "va")                                   // IFLA_IFNAME (3 bytes: odd, padded)
        + attrU32(4, 1500)                                      // IFLA_MTU
        + attrI32(5, 9)                                         // IFLA_LINK
        + attrU32(10, 3)                                        // IFLA_MASTER
        + attr(16, [6])                                         // IFLA_OPERSTATE = IF_OPER_UP
        + attr(1, [0x02, 0x42, 0xac, 0x11, 0x00, 0x0a])         // IFLA_ADDRESS
        + attr(17, [0])                                         // IFLA_LINKMODE (ignored)
        + attr(0x8000 | 18,                                     // IFLA_LINKINFO with NLA_F_NESTED
               attrString(1, "veth")                            //   IFLA_INFO_KIND
               + attr(0x8000 | 2, attrU32(1, 42)))              //   IFLA_INFO_DATA (ignored)
        + attrI32(37, 0)                                        // IFLA_LINK_NETNSID
)

@Suite struct FramingTests {
    @Test func splitsAlignedMessages() throws {
        let bytes = vethMessage + nlmsg(type: T.NLMSG_DONE, hostBytes(Int32(0)))
        let messages = try parseMessages(bytes)
        #expect(messages.count == 2)
        #expect(messages[0].type == T.RTM_NEWLINK)
        #expect(messages[0].seq == 7)
        #expect(messages[1].type == T.NLMSG_DONE)
    }

    @Test func attributesHonourAlignment() {
        let area = attrString(3, "a") + attr(4, [1, 2, 3, 4, 5]) + attr(7, [])
        let attributes = parseAttributes(area)
        #expect(attributes.map(\.type) == [3, 4, 7])
        #expect(attributes[0].value == [UInt8(ascii: "a"), 0])
        #expect(attributes[1].value == [1, 2, 3, 4, 5])
        #expect(attributes[2].value == [])
    }

    @Test func malformedAttributesStopParsing() {
        // Second attribute claims 200 bytes; third would be fine but cannot be reached safely.
        let area = attrU32(4, 1) + hostBytes(UInt16(200)) + hostBytes(UInt16(3)) + [1, 2]
        #expect(parseAttributes(area).map(\.type) == [4])
        // Length smaller than the header.
        #expect(parseAttributes(hostBytes(UInt16(2)) + hostBytes(UInt16(3)) + [0, 0]).isEmpty)
        // Trailing bytes shorter than a header.
        #expect(parseAttributes(attrU32(4, 1) + [1, 2]).map(\.type) == [4])
        #expect(parseAttributes([]).isEmpty)
    }
}

@Suite struct MessageTests {
    @Test func vethLinkWithNestedKind() throws {
        let messages = try parseMessages(vethMessage)
        let link = try #require(parseLink(messages[0]))
        #expect(link == NetworkInterface(
            index: 5, name: "va", kind: "veth", mtu: 1500, isUp: true, hasCarrier: true,
            operState: "up", masterIndex: 3, peerIndex: 9, peerNetnsID: 0,
            macAddress: "02:42:ac:11:00:0a"
        ))
    }

    @Test func physicalLinkHasNoKindOrPeer() throws {
        let bytes = nlmsg(
            type: T.RTM_NEWLINK,
            ifinfomsg(index: 1, flags: 0x1 | 0x8)             // UP | LOOPBACK, no LOWER_UP
                + attrString(3, "lo") + attrU32(4, 65536)
                + attr(16, [0])                               // IF_OPER_UNKNOWN
                + attrI32(5, 1)                               // IFLA_LINK == own index: no peer
        )
        let link = try #require(parseLink(try parseMessages(bytes)[0]))
        #expect(link.name == "lo")
        #expect(link.kind == nil)
        #expect(link.isUp)
        #expect(!link.hasCarrier)
        #expect(link.operState == "unknown")
        #expect(link.peerIndex == nil)
        #expect(link.peerNetnsID == nil)
        #expect(link.masterIndex == nil)
        #expect(link.macAddress == nil)
    }

    @Test func peerInOtherNamespaceMaySharePeerIndex() throws {
        // veth pairs created across namespaces often get the same ifindex on both ends.
        let bytes = nlmsg(
            type: T.RTM_NEWLINK,
            ifinfomsg(index: 2, flags: 0x1)
                + attrString(3, "vb") + attrI32(5, 2) + attrI32(37, 1)
                + attr(18, attrString(1, "veth"))
        )
        let link = try #require(parseLink(try parseMessages(bytes)[0]))
        #expect(link.peerIndex == 2)
        #expect(link.peerNetnsID == 1)
        #expect(link.kind == "veth")
    }

    @Test func operStates() {
        #expect(operStateName(2) == "down")
        #expect(operStateName(3) == "lowerlayerdown")
        #expect(operStateName(5) == "dormant")
        #expect(operStateName(nil) == "unknown")
        #expect(operStateName(99) == "unknown")
    }

    @Test func ipv4AddressPrefersLocal() throws {
        let bytes = nlmsg(
            type: T.RTM_NEWADDR,
            ifaddrmsg(family: 2, prefix: 16, index: 5)
                + attr(1, [10, 88, 0, 99])                    // IFA_ADDRESS (peer on p2p)
                + attr(2, [10, 88, 0, 2])                     // IFA_LOCAL
                + attrString(3, "va")                         // IFA_LABEL
        )
        let address = try #require(parseAddress(try parseMessages(bytes)[0]))
        #expect(address == InterfaceAddress(index: 5, prefix: "10.88.0.2/16", flags: 0x80))   // permanent
    }

    @Test func ipv6Address() throws {
        var fe80 = [UInt8](repeating: 0, count: 16)
        fe80[0] = 0xfe; fe80[1] = 0x80; fe80[15] = 1
        let bytes = nlmsg(type: T.RTM_NEWADDR, ifaddrmsg(family: 10, prefix: 64, index: 5) + attr(1, fe80))
        let address = try #require(parseAddress(try parseMessages(bytes)[0]))
        #expect(address.prefix.description == "fe80::1/64")
        #expect(address.family == .v6)
    }

    @Test func addressWithWrongLengthIsSkipped() throws {
        let bytes = nlmsg(type: T.RTM_NEWADDR, ifaddrmsg(family: 2, prefix: 8, index: 1) + attr(2, [127, 0, 0]))
        #expect(parseAddress(try parseMessages(bytes)[0]) == nil)
    }

    @Test func addressesAttachByIndex() {
        let links = [NetworkInterface(index: 1, name: "lo"), NetworkInterface(index: 5, name: "va")]
        let merged = attachAddresses([
            InterfaceAddress(index: 5, prefix: "10.0.0.1/24"),
            InterfaceAddress(index: 1, prefix: "::1/128"),
            InterfaceAddress(index: 5, prefix: "10.0.0.2/24"),
            InterfaceAddress(index: 77, prefix: "192.0.2.1/32"),   // unknown link: dropped
        ], to: links)
        #expect(merged[0].ipv6 == ["::1/128"])
        #expect(merged[0].ipv4 == [])
        #expect(merged[1].ipv4 == ["10.0.0.1/24", "10.0.0.2/24"])
    }

    @Test func defaultRoute() throws {
        let bytes = nlmsg(
            type: T.RTM_NEWROUTE,
            rtmsg(dstLen: 0) + attrU32(15, 254) + attr(5, [10, 123, 0, 1]) + attrI32(4, 2)
        )
        let route = try #require(parseIPv4Route(try parseMessages(bytes)[0]))
        #expect(route == IPRoute(destination: "0.0.0.0/0", gateway: "10.123.0.1", outputIndex: 2, table: 254, origin: 4))   // proto static
    }

    @Test func connectedRouteAndLargeTable() throws {
        let bytes = nlmsg(
            type: T.RTM_NEWROUTE,
            rtmsg(dstLen: 24, table: 252) + attrU32(15, 1000) + attr(1, [10, 123, 0, 0]) + attrI32(4, 3)
                + attr(7, [10, 123, 0, 2])                    // RTA_PREFSRC (ignored)
        )
        let route = try #require(parseIPv4Route(try parseMessages(bytes)[0]))
        #expect(route == IPRoute(destination: "10.123.0.0/24", gateway: nil, outputIndex: 3, table: 1000, origin: 4))
    }

    @Test func nonUnicastRoutesAreSkipped() throws {
        let local = nlmsg(type: T.RTM_NEWROUTE, rtmsg(dstLen: 32, table: 255, type: 2) + attr(1, [127, 0, 0, 1]))
        #expect(parseIPv4Route(try parseMessages(local)[0]) == nil)
        let tooShort = nlmsg(type: T.RTM_NEWROUTE, [2, 0, 0])
        #expect(parseIPv4Route(try parseMessages(tooShort)[0]) == nil)
    }

    @Test func wrongMessageTypesAreIgnored() throws {
        let message = try parseMessages(vethMessage)[0]
        #expect(parseAddress(message) == nil)
        #expect(parseIPv4Route(message) == nil)
        let short = nlmsg(type: T.RTM_NEWLINK, [0, 0, 1, 0])
        #expect(parseLink(try parseMessages(short)[0]) == nil)
    }
}

@Suite struct DumpTests {
    @Test func collectsUntilDone() throws {
        let first = try parseDumpChunk(vethMessage + vethMessage, seq: 7)
        #expect(first.messages.count == 2)
        #expect(!first.done)
        let last = try parseDumpChunk(nlmsg(type: T.NLMSG_NOOP, []) + nlmsg(type: T.NLMSG_DONE, hostBytes(Int32(0))), seq: 7)
        #expect(last.messages.isEmpty)
        #expect(last.done)
        #expect(!last.interrupted)
    }

    @Test func foreignSequenceNumbersAreSkipped() throws {
        let chunk = try parseDumpChunk(nlmsg(type: T.RTM_NEWLINK, seq: 6, []) + vethMessage, seq: 7)
        #expect(chunk.messages.count == 1)
        #expect(chunk.messages[0].seq == 7)
        // A stale DONE must not end the current dump.
        #expect(!(try parseDumpChunk(nlmsg(type: T.NLMSG_DONE, seq: 1, hostBytes(Int32(0))), seq: 7)).done)
    }

    @Test func dumpInterruptedFlag() throws {
        let chunk = try parseDumpChunk(nlmsg(type: T.NLMSG_DONE, flags: 0x2 | 0x10, hostBytes(Int32(0))), seq: 7)
        #expect(chunk.done)
        #expect(chunk.interrupted)
    }

    @Test func kernelErrorThrows() {
        // struct nlmsgerr: s32 error (-EPERM) + the offending request header.
        let error = nlmsg(type: T.NLMSG_ERROR, flags: 0, hostBytes(Int32(-EPERM)) + hostBytes(UInt32(32)) + [UInt8](repeating: 0, count: 12))
        #expect(throws: NetlinkError.kernel(EPERM)) { try parseDumpChunk(error, seq: 7) }
        let truncatedError = nlmsg(type: T.NLMSG_ERROR, flags: 0, [0xff, 0xff])
        #expect(throws: NetlinkError.receive(EBADMSG)) { try parseDumpChunk(truncatedError, seq: 7) }
    }

    @Test func ackEndsExchange() throws {
        let ack = nlmsg(type: T.NLMSG_ERROR, flags: 0x100, hostBytes(Int32(0)) + [UInt8](repeating: 0, count: 16))
        #expect(try parseDumpChunk(ack, seq: 7).done)
    }

    @Test func overrunThrows() {
        #expect(throws: NetlinkError.receive(ENOBUFS)) { try parseDumpChunk(nlmsg(type: T.NLMSG_OVERRUN, []), seq: 7) }
    }

    @Test func truncatedBuffersThrowNeverCrash() throws {
        let good = vethMessage
        // Every prefix of a valid message is either fully framed or rejected.
        for cut in 1..<good.count {
            let prefix = Array(good[0..<cut])
            #expect(throws: NetlinkError.receive(EBADMSG)) { try parseMessages(prefix) }
        }
        // nlmsg_len smaller than a header.
        #expect(throws: NetlinkError.self) { try parseMessages(hostBytes(UInt32(4)) + [UInt8](repeating: 0, count: 12)) }
        // nlmsg_len larger than the buffer.
        #expect(throws: NetlinkError.self) { try parseMessages(hostBytes(UInt32(0xffff_ffff)) + [UInt8](repeating: 0, count: 12)) }
        #expect(try parseMessages([]).isEmpty)
    }

    @Test func garbageNeverCrashes() {
        var generator = SystemRandomNumberGenerator()
        for _ in 0..<2000 {
            let count = Int.random(in: 0..<256, using: &generator)
            var bytes = (0..<count).map { _ in UInt8.random(in: 0...255, using: &generator) }
            // Make some of them plausible headers so the attribute parsers run too.
            if bytes.count >= 20, Bool.random(using: &generator) {
                bytes.replaceSubrange(0..<4, with: hostBytes(UInt32(bytes.count)))
                bytes.replaceSubrange(4..<6, with: hostBytes([T.RTM_NEWLINK, T.RTM_NEWADDR, T.RTM_NEWROUTE].randomElement(using: &generator)!))
            }
            if let messages = try? parseMessages(bytes) {
                for m in messages {
                    _ = parseLink(m)
                    _ = parseAddress(m)
                    _ = parseIPv4Route(m)
                }
            }
            _ = try? parseDumpChunk(bytes, seq: 7)
            _ = parseAttributes(bytes)
        }
        // Flipping each byte of a real message must also be harmless.
        for i in vethMessage.indices {
            var bytes = vethMessage
            bytes[i] ^= 0xff
            if let messages = try? parseMessages(bytes) { for m in messages { _ = parseLink(m) } }
        }
    }

    @Test func requestLayout() throws {
        let request = dumpRequest(type: 18, seq: 42, family: 0, headerLength: 16)
        #expect(request.count == 32)
        let message = try #require(try parseMessages(request).first)
        #expect(message.type == 18)
        #expect(message.flags == 0x301) // NLM_F_REQUEST | NLM_F_DUMP
        #expect(message.seq == 42)
        #expect(message.payload == [UInt8](repeating: 0, count: 16))
        let route = dumpRequest(type: 26, seq: 1, family: 2, headerLength: 12)
        #expect(route.count == 28)
        #expect(route[16] == 2)
    }

    @Test func formatting() {
        #expect(formatHardwareAddress([]) == nil)
        #expect(formatHardwareAddress([0, 0xff, 0x0a]) == "00:ff:0a")
        #expect(IPAddress(bytes: [192, 0, 2, 1])?.description == "192.0.2.1")
        #expect(IPAddress(bytes: [1, 2, 3]) == nil)
        var v6 = [UInt8](repeating: 0, count: 16)
        v6[0] = 0x20; v6[1] = 0x01; v6[2] = 0x0d; v6[3] = 0xb8; v6[15] = 0x10
        #expect(IPAddress(bytes: v6)?.description == "2001:db8::10")
        #expect(attributeString(Array("eth0".utf8)) == "eth0")
        #expect(attributeString(Array("eth0".utf8) + [0, 0x41]) == "eth0")
    }

    @Test func errorDescriptions() {
        #expect(NetlinkError.kernel(EPERM).description.contains("errno 1"))
        #expect(NetlinkError.namespace(path: "/run/netns/x", errno: ENOENT).description.contains("/run/netns/x"))
    }
}
