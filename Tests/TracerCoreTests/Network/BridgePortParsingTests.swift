import Testing
@testable import TracerCore

/// RTM_NEWLINK messages of an AF_BRIDGE dump, as `bridge link show` receives them.
struct BridgePortParsingTests {
    /// ifinfomsg with family AF_BRIDGE, then IFNAME, MASTER and a nested PROTINFO holding STATE.
    func bridgeLink(index: Int32, name: String, master: Int32?, state: UInt8?, family: UInt8 = 7) -> NetlinkMessage {
        var payload = [family, 0] + hostBytes(UInt16(1)) + hostBytes(index) + hostBytes(UInt32(0x11043)) + hostBytes(UInt32(0))
        payload += attrString(3, name)
        if let master { payload += attrI32(10, master) }
        if let state {
            // IFLA_PROTINFO | NLA_F_NESTED, holding IFLA_BRPORT_STATE (u8) and IFLA_BRPORT_COST (u32).
            payload += attr(12 | 0x8000, attr(1, [state]) + attrU32(3, 100))
        }
        let bytes = nlmsg(type: T.RTM_NEWLINK, payload)
        return NetlinkMessage(type: T.RTM_NEWLINK, flags: 2, seq: 7, pid: 0, payload: Array(bytes[16...]))
    }

    @Test func portWithStateAndMaster() {
        let port = parseBridgePort(bridgeLink(index: 5, name: "veth-c1", master: 3, state: 3))
        #expect(port == BridgePort(index: 5, name: "veth-c1", masterIndex: 3, state: .forwarding))
    }

    @Test(arguments: [(UInt8(0), BridgePort.State.disabled), (1, .listening), (2, .learning), (4, .blocking)])
    func everyState(raw: UInt8, state: BridgePort.State) {
        #expect(parseBridgePort(bridgeLink(index: 9, name: "p", master: 2, state: raw))?.state == state)
    }

    @Test func unknownStateAndMissingProtinfoAreNil() {
        #expect(parseBridgePort(bridgeLink(index: 9, name: "p", master: 2, state: 7))?.state == nil)
        let bare = parseBridgePort(bridgeLink(index: 9, name: "p", master: nil, state: nil))
        #expect(bare?.state == nil)
        #expect(bare?.masterIndex == nil)
    }

    @Test func otherFamiliesAndShortMessagesAreNotPorts() {
        #expect(parseBridgePort(bridgeLink(index: 9, name: "p", master: 2, state: 3, family: 0)) == nil)
        #expect(parseBridgePort(NetlinkMessage(type: T.RTM_NEWLINK, flags: 0, seq: 0, pid: 0, payload: [7, 0, 0])) == nil)
    }

    @Test func truncatedProtinfoIsIgnored() {
        var message = bridgeLink(index: 5, name: "veth-c1", master: 3, state: 3)
        message.payload.removeLast(8) // cut inside the nested attribute
        let port = parseBridgePort(message)
        #expect(port?.name == "veth-c1")
    }
}
