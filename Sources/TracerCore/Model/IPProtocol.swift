/// An IP protocol number (the IPv4 header's protocol, the IPv6 next header), named as
/// /etc/protocols and nft name it.
public struct IPProtocol: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
    public var rawValue: UInt8

    public init(rawValue: UInt8) { self.rawValue = rawValue }
    public init(_ number: UInt8) { self.rawValue = number }

    public static let icmp = IPProtocol(1)
    public static let tcp = IPProtocol(6)
    public static let udp = IPProtocol(17)
    public static let gre = IPProtocol(47)
    public static let esp = IPProtocol(50)
    public static let icmpv6 = IPProtocol(58)
    public static let sctp = IPProtocol(132)

    /// "tcp", "icmpv6", or the number for one without a name here.
    public var name: String {
        switch self {
        case .icmp: return "icmp"
        case .tcp: return "tcp"
        case .udp: return "udp"
        case .icmpv6: return "icmpv6"
        case .gre: return "gre"
        case .esp: return "esp"
        case .sctp: return "sctp"
        default: return "\(rawValue)"
        }
    }

    public var description: String { name }

    /// The protocols whose ports the probe and the trace decoders read (SCTP has them too,
    /// but nothing reads them yet).
    public var hasPorts: Bool { self == .tcp || self == .udp }

    /// ICMP or ICMPv6, whose echo messages carry an identifier instead of ports.
    public var isICMP: Bool { self == .icmp || self == .icmpv6 }
}
