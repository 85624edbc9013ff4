import Glibc

// Pure parsing over byte buffers. Nothing here does I/O, so unit tests can feed
// hand-built netlink messages. All readers are bounds-checked: malformed input is
// either skipped or reported as NetlinkError.receive(EBADMSG), never trapped on.

/// One netlink message: header fields plus the payload after the 16-byte nlmsghdr.
struct NetlinkMessage: Sendable, Equatable {
    var type: UInt16
    var flags: UInt16
    var seq: UInt32
    var pid: UInt32
    var payload: [UInt8]
}

/// One route attribute (rtattr / nlattr) with the NLA_F_* bits masked off its type.
struct NetlinkAttribute: Sendable, Equatable {
    var type: UInt16
    var value: [UInt8]
}

/// An address from RTM_NEWADDR, before it is attached to its interface.
struct InterfaceAddress: Sendable, Equatable {
    var index: Int32
    /// The address with its prefix length: 10.0.0.1/24, fe80::1/64.
    var prefix: IPPrefix
    /// IFA_F_* bits: IFA_FLAGS when sent, else ifaddrmsg's ifa_flags.
    var flags: UInt32 = 0

    var family: IPAddress.Family { prefix.family }
}

/// What one received datagram contributed to a dump.
struct DumpChunk: Sendable, Equatable {
    /// Data messages whose sequence number matched (NOOP/DONE/ERROR/foreign messages removed).
    var messages: [NetlinkMessage] = []
    /// NLMSG_DONE was seen.
    var done = false
    /// A message carried NLM_F_DUMP_INTR: the dump was inconsistent and should be retried.
    var interrupted = false
}

// MARK: - Host-order integer reads

extension Array where Element == UInt8 {
    /// Reads a host-order integer at `offset`, or nil when out of bounds.
    func read<T: FixedWidthInteger>(_: T.Type, at offset: Int) -> T? {
        guard offset >= 0, offset <= count - MemoryLayout<T>.size else { return nil }
        return withUnsafeBytes { $0.loadUnaligned(fromByteOffset: offset, as: T.self) }
    }
}

// MARK: - Framing

/// Splits a datagram into netlink messages (NLMSG_OK / NLMSG_NEXT).
/// Throws NetlinkError.receive(EBADMSG) if a header is truncated or its length is impossible.
func parseMessages(_ bytes: [UInt8]) throws(NetlinkError) -> [NetlinkMessage] {
    var messages: [NetlinkMessage] = []
    var offset = 0
    while offset < bytes.count {
        guard bytes.count - offset >= NL.NLMSG_HDRLEN,
              let len32 = bytes.read(UInt32.self, at: offset),
              let type = bytes.read(UInt16.self, at: offset + 4),
              let flags = bytes.read(UInt16.self, at: offset + 6),
              let seq = bytes.read(UInt32.self, at: offset + 8),
              let pid = bytes.read(UInt32.self, at: offset + 12)
        else { throw NetlinkError.receive(EBADMSG) }
        let len = Int(len32)
        guard len >= NL.NLMSG_HDRLEN, len <= bytes.count - offset else {
            throw NetlinkError.receive(EBADMSG)
        }
        let payload = Array(bytes[(offset + NL.NLMSG_HDRLEN)..<(offset + len)])
        messages.append(NetlinkMessage(type: type, flags: flags, seq: seq, pid: pid, payload: payload))
        offset += NL.align(len)
    }
    return messages
}

/// Interprets one received datagram of a dump with sequence number `seq`.
/// Throws NetlinkError.kernel for an NLMSG_ERROR with a negative error, and
/// NetlinkError.receive for NLMSG_OVERRUN or malformed framing.
func parseDumpChunk(_ bytes: [UInt8], seq: UInt32) throws(NetlinkError) -> DumpChunk {
    var chunk = DumpChunk()
    for message in try parseMessages(bytes) {
        // Replies to an older request on the same socket are not ours.
        guard message.seq == seq else { continue }
        if message.flags & NL.NLM_F_DUMP_INTR != 0 { chunk.interrupted = true }
        switch message.type {
        case NL.NLMSG_NOOP:
            continue
        case NL.NLMSG_DONE:
            chunk.done = true
            return chunk
        case NL.NLMSG_ERROR:
            guard let error = message.payload.read(Int32.self, at: 0) else {
                throw NetlinkError.receive(EBADMSG)
            }
            if error == 0 { // an ACK; a dump without NLM_F_ACK does not get one, but it ends the exchange
                chunk.done = true
                return chunk
            }
            throw NetlinkError.kernel(error < 0 ? -error : error)
        case NL.NLMSG_OVERRUN:
            throw NetlinkError.receive(ENOBUFS)
        default:
            chunk.messages.append(message)
        }
    }
    return chunk
}

/// Splits an attribute area into attributes (RTA_OK / RTA_NEXT). Stops at the first
/// malformed attribute (length shorter than its header or running past the end).
func parseAttributes(_ bytes: [UInt8], from start: Int = 0) -> [NetlinkAttribute] {
    var attributes: [NetlinkAttribute] = []
    var offset = start
    while offset >= 0, bytes.count - offset >= NL.RTA_HDRLEN {
        guard let len16 = bytes.read(UInt16.self, at: offset),
              let rawType = bytes.read(UInt16.self, at: offset + 2) else { break }
        let len = Int(len16)
        guard len >= NL.RTA_HDRLEN, len <= bytes.count - offset else { break }
        let value = Array(bytes[(offset + NL.RTA_HDRLEN)..<(offset + len)])
        attributes.append(NetlinkAttribute(type: rawType & NL.NLA_TYPE_MASK, value: value))
        offset += NL.align(len)
    }
    return attributes
}

// MARK: - Attribute value decoding

/// A NUL-terminated (or unterminated) string attribute.
func attributeString(_ value: [UInt8]) -> String {
    let end = value.firstIndex(of: 0) ?? value.count
    return String(decoding: value[..<end], as: UTF8.self)
}

/// "aa:bb:cc:dd:ee:ff" for any non-empty hardware address.
func formatHardwareAddress(_ bytes: [UInt8]) -> String? {
    guard !bytes.isEmpty else { return nil }
    let hex: [Character] = Array("0123456789abcdef")
    return bytes.map { String([hex[Int($0 >> 4)], hex[Int($0 & 0xf)]]) }.joined(separator: ":")
}

/// IFLA_OPERSTATE values (enum IF_OPER_* in <linux/if.h>) as `ip link` prints them, lowercased.
func operStateName(_ value: UInt8?) -> String {
    switch value {
    case 1: return "notpresent"
    case 2: return "down"
    case 3: return "lowerlayerdown"
    case 4: return "testing"
    case 5: return "dormant"
    case 6: return "up"
    default: return "unknown"
    }
}

// MARK: - Message decoding

/// Decodes an RTM_NEWLINK message (ifinfomsg + attributes). Nil if it is not one or is too short.
func parseLink(_ message: NetlinkMessage) -> NetworkInterface? {
    let p = message.payload
    guard message.type == NL.RTM_NEWLINK, p.count >= NL.IFINFOMSG_LEN,
          let index = p.read(Int32.self, at: 4),
          let flags = p.read(UInt32.self, at: 8)
    else { return nil }

    var link = NetworkInterface(
        index: index, name: "",
        isUp: flags & NL.IFF_UP != 0,
        hasCarrier: flags & NL.IFF_LOWER_UP != 0
    )
    for attribute in parseAttributes(p, from: NL.IFINFOMSG_LEN) {
        let v = attribute.value
        switch attribute.type {
        case NL.IFLA_IFNAME:
            link.name = attributeString(v)
        case NL.IFLA_MTU:
            link.mtu = v.read(UInt32.self, at: 0) ?? link.mtu
        case NL.IFLA_OPERSTATE:
            link.operState = operStateName(v.first)
        case NL.IFLA_ADDRESS:
            link.macAddress = formatHardwareAddress(v)
        case NL.IFLA_MASTER:
            if let master = v.read(Int32.self, at: 0), master != 0 { link.masterIndex = master }
        case NL.IFLA_LINK:
            if let peer = v.read(Int32.self, at: 0), peer != 0 { link.peerIndex = peer }
        case NL.IFLA_LINK_NETNSID:
            link.peerNetnsID = v.read(Int32.self, at: 0)
        case NL.IFLA_LINKINFO:
            for info in parseAttributes(v) where info.type == NL.IFLA_INFO_KIND {
                let kind = attributeString(info.value)
                link.kind = kind.isEmpty ? nil : kind
            }
        default:
            break
        }
    }
    // IFLA_LINK equal to our own index means "no lower device", unless the link points into
    // another namespace, where the peer may well have the same ifindex (the kernel always
    // sends IFLA_LINK together with IFLA_LINK_NETNSID).
    if link.peerIndex == index, link.peerNetnsID == nil { link.peerIndex = nil }
    return link
}

/// Decodes an RTM_NEWADDR message (ifaddrmsg + attributes) for AF_INET or AF_INET6.
func parseAddress(_ message: NetlinkMessage) -> InterfaceAddress? {
    let p = message.payload
    guard message.type == NL.RTM_NEWADDR, p.count >= NL.IFADDRMSG_LEN,
          let family = p.first, family == NL.AF_INET || family == NL.AF_INET6,
          let index = p.read(UInt32.self, at: 4)
    else { return nil }
    let prefixLength = p[1]
    var flags = UInt32(p[2])
    var local: [UInt8]?
    var address: [UInt8]?
    for attribute in parseAttributes(p, from: NL.IFADDRMSG_LEN) {
        switch attribute.type {
        case NL.IFA_LOCAL: local = attribute.value
        case NL.IFA_ADDRESS: address = attribute.value
        case NL.IFA_FLAGS: flags = attribute.value.read(UInt32.self, at: 0) ?? flags
        default: break
        }
    }
    // For point-to-point links IFA_ADDRESS is the peer; IFA_LOCAL is ours when present.
    guard let bytes = local ?? address, bytes.count == (family == NL.AF_INET ? 4 : 16),
          let parsed = IPAddress(bytes: bytes)
    else { return nil }
    return InterfaceAddress(index: Int32(bitPattern: index), prefix: IPPrefix(address: parsed, length: Int(prefixLength)),
                            flags: flags)
}

/// Decodes an RTM_NEWROUTE message (rtmsg + attributes). Only AF_INET unicast routes
/// are returned; local/broadcast/multicast/blackhole entries are nil.
func parseIPv4Route(_ message: NetlinkMessage) -> IPRoute? { parseRoute(message, family: NL.AF_INET) }

/// An RTM_NEWROUTE of `family` (AF_INET or AF_INET6): unicast routes only.
func parseRoute(_ message: NetlinkMessage, family: UInt8) -> IPRoute? {
    let p = message.payload
    guard message.type == NL.RTM_NEWROUTE, p.count >= NL.RTMSG_LEN,
          p[0] == family, p[7] == NL.RTN_UNICAST
    else { return nil }
    let width = family == NL.AF_INET6 ? 16 : 4
    let dstLength = p[1]
    guard dstLength <= width * 8 else { return nil }
    let unspecified: IPAddress = width == 16 ? .v6(high: 0, low: 0) : .v4(0)
    var route = IPRoute(destination: IPPrefix(address: unspecified, length: Int(dstLength)), table: UInt32(p[4]))
    route.origin = p[5]
    for attribute in parseAttributes(p, from: NL.RTMSG_LEN) {
        let v = attribute.value
        switch attribute.type {
        case NL.RTA_DST:
            if v.count == width, let address = IPAddress(bytes: v) { route.destination = IPPrefix(address: address, length: Int(dstLength)) }
        case NL.RTA_GATEWAY:
            if v.count == width { route.gateway = IPAddress(bytes: v) }
        case NL.RTA_OIF:
            route.outputIndex = v.read(Int32.self, at: 0)
        case NL.RTA_TABLE:
            // rtm_table is only 8 bits; RTA_TABLE carries the full 32-bit table id.
            if let table = v.read(UInt32.self, at: 0) { route.table = table }
        default:
            break
        }
    }
    return route
}

/// One RTM_NEWRULE message of an IPv4 rule dump.
func parseIPv4Rule(_ message: NetlinkMessage) -> IPv4Rule? { parseRule(message, family: NL.AF_INET) }

/// An RTM_NEWRULE of `family` (AF_INET or AF_INET6: the same header, addresses of the family's length).
func parseRule(_ message: NetlinkMessage, family: UInt8) -> IPv4Rule? {
    let p = message.payload
    guard message.type == NL.RTM_NEWRULE, p.count >= NL.FIB_RULE_HDR_LEN, p[0] == family else { return nil }
    let (dstLength, srcLength, headerTable, actionCode) = (p[1], p[2], p[4], p[7])
    let flags = p.read(UInt32.self, at: 8) ?? 0
    var table = UInt32(headerTable)
    var gotoTarget: UInt32?
    var rule = IPv4Rule(priority: 0, action: .nop, inverted: flags & NL.FIB_RULE_INVERT != 0)
    for attribute in parseAttributes(p, from: NL.FIB_RULE_HDR_LEN) {
        let v = attribute.value
        switch attribute.type {
        case NL.FRA_PRIORITY: rule.priority = v.read(UInt32.self, at: 0) ?? 0
        case NL.FRA_TABLE: table = v.read(UInt32.self, at: 0) ?? table
        case NL.FRA_SRC: rule.source = IPAddress(bytes: v).map { IPPrefix(address: $0, length: Int(srcLength)) }
        case NL.FRA_DST: rule.destination = IPAddress(bytes: v).map { IPPrefix(address: $0, length: Int(dstLength)) }
        case NL.FRA_IIFNAME: rule.inInterface = attributeString(v)
        case NL.FRA_OIFNAME: rule.outInterface = attributeString(v)
        case NL.FRA_FWMARK: rule.fwmark = v.read(UInt32.self, at: 0)
        case NL.FRA_FWMASK: rule.fwmask = v.read(UInt32.self, at: 0)
        case NL.FRA_GOTO: gotoTarget = v.read(UInt32.self, at: 0)
        case NL.FRA_SUPPRESS_PREFIXLEN:
            // -1 (all bits set) means "not set".
            if let length = v.read(Int32.self, at: 0), length >= 0 { rule.suppressPrefixLength = Int(length) }
        case NL.FRA_UID_RANGE: rule.otherSelectors.append("uidrange")
        case NL.FRA_IP_PROTO: rule.otherSelectors.append("ipproto")
        case NL.FRA_SPORT_RANGE: rule.otherSelectors.append("sport")
        case NL.FRA_DPORT_RANGE: rule.otherSelectors.append("dport")
        case NL.FRA_L3MDEV: if v.first == 1 { rule.otherSelectors.append("l3mdev") }
        default: break
        }
    }
    switch actionCode {
    case 1: rule.action = .lookup(table: table)
    case 2: rule.action = gotoTarget.map { .goto(priority: $0) } ?? .nop
    case 3: rule.action = .nop
    case 6: rule.action = .blackhole
    case 7: rule.action = .unreachable
    case 8: rule.action = .prohibit
    default: rule.action = .other(actionCode)
    }
    return rule
}

/// Attaches addresses to links by ifindex, keeping kernel order.
func attachAddresses(_ addresses: [InterfaceAddress], to links: [NetworkInterface]) -> [NetworkInterface] {
    var positions: [Int32: Int] = [:]
    for (i, link) in links.enumerated() { positions[link.index] = i }
    var result = links
    for address in addresses {
        guard let i = positions[address.index] else { continue }
        switch address.family {
        case .v4: result[i].ipv4.append(address.prefix)
        case .v6:
            result[i].ipv6.append(address.prefix)
            result[i].ipv6Flags[address.prefix] = address.flags
        }
    }
    return result
}

// MARK: - Requests

/// A dump request: nlmsghdr + a zeroed family header of `headerLength` bytes whose
/// first byte (the family field of ifinfomsg/ifaddrmsg/rtmsg) is `family`.
func dumpRequest(type: UInt16, seq: UInt32, family: UInt8, headerLength: Int, flags: (offset: Int, value: UInt8)? = nil) -> [UInt8] {
    let length = NL.NLMSG_HDRLEN + NL.align(headerLength)
    var bytes: [UInt8] = []
    bytes.reserveCapacity(length)
    withUnsafeBytes(of: UInt32(length)) { bytes += $0 }
    withUnsafeBytes(of: type) { bytes += $0 }
    withUnsafeBytes(of: NL.NLM_F_REQUEST | NL.NLM_F_DUMP) { bytes += $0 }
    withUnsafeBytes(of: seq) { bytes += $0 }
    withUnsafeBytes(of: UInt32(0)) { bytes += $0 } // nlmsg_pid: 0, the kernel assigns our port
    var header = [UInt8](repeating: 0, count: NL.align(headerLength))
    header[0] = family
    if let flags, flags.offset < header.count { header[flags.offset] = flags.value }
    bytes += header
    return bytes
}

/// RTM_NEWNEIGH of an IPv4 entry with a destination.
func parseIPv4Neighbour(_ message: NetlinkMessage) -> IPv4Neighbour? { parseNeighbour(message, family: NL.AF_INET) }

/// RTM_NEWNEIGH of a `family` entry with a destination (ARP for AF_INET, NDP for AF_INET6).
func parseNeighbour(_ message: NetlinkMessage, family: UInt8) -> IPv4Neighbour? {
    let p = message.payload
    guard message.type == NL.RTM_NEWNEIGH, p.count >= NL.NDMSG_LEN, p[0] == family,
          let index = p.read(Int32.self, at: 4), let state = p.read(UInt16.self, at: 8) else { return nil }
    let attributes = parseAttributes(p, from: NL.NDMSG_LEN)
    guard let address = attributes.first(where: { $0.type == NL.NDA_DST }).flatMap({ IPAddress(bytes: $0.value) }) else { return nil }
    let link = attributes.first { $0.type == NL.NDA_LLADDR }.flatMap { formatHardwareAddress($0.value) }
    return IPv4Neighbour(index: index, address: address, state: state, flags: p[10], linkAddress: link)
}
