/// One nftables trace event (NFT_MSG_TRACE on NFNLGRP_NFTRACE), as `nft monitor trace` prints it:
/// a packet marked with `meta nftrace set 1` met a rule, a chain's end (return) or a base chain's policy.
public struct NftTraceEvent: Sendable, Equatable {
    public enum Kind: String, Sendable { case rule, `return`, policy, unknown }

    /// The kernel's id for the traced packet: events of one packet share it.
    public var id: UInt32
    public var kind: Kind
    /// nft family of the table: ip, ip6, inet, bridge, ...
    public var family: String
    public var table: String
    public var chain: String
    public var ruleHandle: UInt64?
    /// accept, drop, continue, jump, goto, return, queue, stolen, break (rule events), or the
    /// policy (policy events).
    public var verdict: String?
    public var jumpTarget: String?
    /// NFPROTO of the hook: 2 IPv4, 10 IPv6.
    public var nfproto: UInt32?
    public var inInterfaceIndex: UInt32?
    public var outInterfaceIndex: UInt32?
    /// The packet's addresses and ports (IPv4 packets only).
    public var tuple: FlowTuple?
    /// Filled in by the session from its ruleset: the rule in the host's terms.
    public var rule: FirewallRule?
    /// The table is one of the tracer's own trace tables (the packet was just marked).
    public var fromTraceTable: Bool = false

    /// The packet ends here.
    public var isDrop: Bool { verdict == "drop" && (kind == .rule || kind == .policy) }
}

/// Decodes NFT_MSG_TRACE messages. Pure: tests feed hand-built datagrams.
enum NftTraceDecoder {
    // <linux/netfilter/nfnetlink.h>, <linux/netfilter/nf_tables.h>
    static let NFNL_SUBSYS_NFTABLES: UInt16 = 10
    static let NFT_MSG_TRACE: UInt16 = 17
    static let NFNLGRP_NFTRACE: UInt32 = 9
    static let messageType = NFNL_SUBSYS_NFTABLES << 8 | NFT_MSG_TRACE
    /// sizeof(struct nfgenmsg): u8 family, u8 version, be16 res_id.
    static let NFGENMSG_LEN = 4

    enum Attribute {
        static let table: UInt16 = 1
        static let chain: UInt16 = 2
        static let ruleHandle: UInt16 = 3
        static let type: UInt16 = 4
        static let verdict: UInt16 = 5
        static let id: UInt16 = 6
        static let networkHeader: UInt16 = 8
        static let transportHeader: UInt16 = 9
        static let iif: UInt16 = 10
        static let oif: UInt16 = 12
        static let nfproto: UInt16 = 15
        static let policy: UInt16 = 16
    }

    static func decode(datagram: [UInt8]) -> [NftTraceEvent] {
        guard let messages = try? parseMessages(datagram) else { return [] }
        return messages.compactMap(decode)
    }

    static func decode(_ message: NetlinkMessage) -> NftTraceEvent? {
        guard message.type == messageType, message.payload.count >= NFGENMSG_LEN else { return nil }
        var event = NftTraceEvent(id: 0, kind: .unknown, family: familyName(message.payload[0]), table: "", chain: "")
        var network: [UInt8]?
        var transport: [UInt8]?
        for attribute in parseAttributes(message.payload, from: NFGENMSG_LEN) {
            let v = attribute.value
            switch attribute.type {
            case Attribute.table: event.table = attributeString(v)
            case Attribute.chain: event.chain = attributeString(v)
            case Attribute.ruleHandle: event.ruleHandle = bigEndian64(v)
            case Attribute.type:
                switch bigEndian32(v) {
                case 1: event.kind = .policy
                case 2: event.kind = .return
                case 3: event.kind = .rule
                default: event.kind = .unknown
                }
            case Attribute.verdict:
                for nested in parseAttributes(v) {
                    if nested.type == 1, let code = bigEndian32(nested.value) { event.verdict = verdictName(Int32(bitPattern: code)) }
                    if nested.type == 2 { event.jumpTarget = attributeString(nested.value) }
                }
            case Attribute.id: event.id = bigEndian32(v) ?? 0
            case Attribute.networkHeader: network = v
            case Attribute.transportHeader: transport = v
            case Attribute.iif: event.inInterfaceIndex = bigEndian32(v)
            case Attribute.oif: event.outInterfaceIndex = bigEndian32(v)
            case Attribute.nfproto: event.nfproto = bigEndian32(v)
            case Attribute.policy: if let code = bigEndian32(v) { event.verdict = verdictName(Int32(bitPattern: code)) }
            default: break
            }
        }
        if let network { event.tuple = tuple(network: network, transport: transport) }
        return event
    }

    /// NF_* and NFT_* verdict codes.
    static func verdictName(_ code: Int32) -> String {
        switch code {
        case 0: return "drop"
        case 1: return "accept"
        case 2: return "stolen"
        case 3: return "queue"
        case 4: return "repeat"
        case -1: return "continue"
        case -2: return "break"
        case -3: return "jump"
        case -4: return "goto"
        case -5: return "return"
        default: return "verdict \(code)"
        }
    }

    static func familyName(_ family: UInt8) -> String {
        switch family {
        case 1: return "inet"
        case 2: return "ip"
        case 3: return "arp"
        case 5: return "netdev"
        case 7: return "bridge"
        case 10: return "ip6"
        default: return "family \(family)"
        }
    }

    /// IPv4 or IPv6 header (and the start of the transport header) -> tuple: ports for TCP and
    /// UDP, the identifier of an ICMP or ICMPv6 echo request or reply. The transport header is
    /// the kernel's (past any IPv6 extension headers); an IPv6 packet with extension headers
    /// names the first of them as its protocol and gets no ports.
    static func tuple(network: [UInt8], transport: [UInt8]?) -> FlowTuple? {
        let source: IPAddress?, destination: IPAddress?, proto: IPProtocol
        switch network.first.map({ $0 >> 4 }) {
        case 4 where network.count >= 20:
            (source, destination, proto) = (IPAddress(bytes: network[12..<16]), IPAddress(bytes: network[16..<20]), IPProtocol(network[9]))
        case 6 where network.count >= 40:
            (source, destination, proto) = (IPAddress(bytes: network[8..<24]), IPAddress(bytes: network[24..<40]), IPProtocol(network[6]))
        default:
            return nil
        }
        guard let source, let destination else { return nil }
        var result = FlowTuple(proto: proto, source: source, destination: destination)
        if let t = transport {
            if proto == .tcp || proto == .udp, t.count >= 4 {
                result.transport = .ports(source: UInt16(t[0]) << 8 | UInt16(t[1]), destination: UInt16(t[2]) << 8 | UInt16(t[3]))
            } else if t.count >= 6, (proto == .icmp && (t[0] == 8 || t[0] == 0)) || (proto == .icmpv6 && (t[0] == 128 || t[0] == 129)) {
                result.transport = .icmpEcho(id: UInt16(t[4]) << 8 | UInt16(t[5]))
            }
        }
        return result
    }

    private static func bigEndian32(_ v: [UInt8]) -> UInt32? {
        v.read(UInt32.self, at: 0).map { UInt32(bigEndian: $0) }
    }

    private static func bigEndian64(_ v: [UInt8]) -> UInt64? {
        v.read(UInt64.self, at: 0).map { UInt64(bigEndian: $0) }
    }
}
