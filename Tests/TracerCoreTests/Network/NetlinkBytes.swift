// Builders for hand-made netlink byte messages (host byte order, 4-byte alignment).

func hostBytes<T: FixedWidthInteger>(_ value: T) -> [UInt8] {
    withUnsafeBytes(of: value) { Array($0) }
}

func padded(_ bytes: [UInt8]) -> [UInt8] {
    bytes + [UInt8](repeating: 0, count: (4 - bytes.count % 4) % 4)
}

/// An rtattr: u16 len (unpadded), u16 type, value, padding to 4 bytes.
func attr(_ type: UInt16, _ value: [UInt8]) -> [UInt8] {
    padded(hostBytes(UInt16(4 + value.count)) + hostBytes(type) + value)
}

func attrString(_ type: UInt16, _ s: String) -> [UInt8] { attr(type, Array(s.utf8) + [0]) }
func attrU32(_ type: UInt16, _ v: UInt32) -> [UInt8] { attr(type, hostBytes(v)) }
func attrI32(_ type: UInt16, _ v: Int32) -> [UInt8] { attr(type, hostBytes(v)) }

/// An nlmsghdr-framed message; the payload is padded to 4 bytes.
func nlmsg(type: UInt16, flags: UInt16 = 0x2, seq: UInt32 = 7, pid: UInt32 = 0, _ payload: [UInt8]) -> [UInt8] {
    hostBytes(UInt32(16 + payload.count)) + hostBytes(type) + hostBytes(flags) + hostBytes(seq)
        + hostBytes(pid) + padded(payload)
}

/// struct ifinfomsg: u8 family, u8 pad, u16 type, s32 index, u32 flags, u32 change.
func ifinfomsg(index: Int32, flags: UInt32, type: UInt16 = 1) -> [UInt8] {
    [0, 0] + hostBytes(type) + hostBytes(index) + hostBytes(flags) + hostBytes(UInt32(0xffff_ffff))
}

/// struct ifaddrmsg: u8 family, u8 prefixlen, u8 flags, u8 scope, u32 index.
func ifaddrmsg(family: UInt8, prefix: UInt8, index: UInt32) -> [UInt8] {
    [family, prefix, 0x80, 0] + hostBytes(index)
}

/// struct rtmsg: family, dst_len, src_len, tos, table, protocol, scope, type; u32 flags.
func rtmsg(dstLen: UInt8, table: UInt8 = 254, type: UInt8 = 1, scope: UInt8 = 0) -> [UInt8] {
    [2, dstLen, 0, 0, table, 4, scope, type] + hostBytes(UInt32(0))
}

enum T {
    static let RTM_NEWLINK: UInt16 = 16
    static let RTM_NEWADDR: UInt16 = 20
    static let RTM_NEWROUTE: UInt16 = 24
    static let NLMSG_NOOP: UInt16 = 1
    static let NLMSG_ERROR: UInt16 = 2
    static let NLMSG_DONE: UInt16 = 3
    static let NLMSG_OVERRUN: UInt16 = 4
}
