/// One IP address of either family, as a value: parsed once where it enters (text from a
/// ruleset or the command line, bytes from netlink or a BPF event) and formatted only where
/// it leaves (tables, JSON, commands in a fix).
///
/// Ordering: every IPv4 address before every IPv6 one, then by numeric value.
public enum IPAddress: Hashable, Sendable, Comparable {
    /// The address as a host-order number: 172.17.0.2 is 0xac11_0002.
    case v4(UInt32)
    /// The 128 bits in host order, split in two: 2001:db8::1 is (0x2001_0db8_0000_0000, 1).
    case v6(high: UInt64, low: UInt64)

    public enum Family: Sendable, Hashable, CaseIterable {
        case v4, v6

        /// 32 or 128: the longest prefix length of the family.
        public var bitWidth: Int { self == .v4 ? 32 : 128 }
    }

    public var family: Family {
        switch self {
        case .v4: return .v4
        case .v6: return .v6
        }
    }

    /// 172.17.0.2 as `IPAddress(172, 17, 0, 2)`.
    public init(_ a: UInt8, _ b: UInt8, _ c: UInt8, _ d: UInt8) {
        self = .v4(UInt32(a) << 24 | UInt32(b) << 16 | UInt32(c) << 8 | UInt32(d))
    }

    /// From the address in network order: 4 bytes for IPv4, 16 for IPv6 (netlink attributes,
    /// the address fields of a BPF event); nil for any other length.
    public init?<Bytes: Collection>(bytes: Bytes) where Bytes.Element == UInt8 {
        switch bytes.count {
        case 4:
            self = .v4(bytes.reduce(0) { $0 << 8 | UInt32($1) })
        case 16:
            let high = bytes.prefix(8).reduce(UInt64(0)) { $0 << 8 | UInt64($1) }
            let low = bytes.dropFirst(8).reduce(UInt64(0)) { $0 << 8 | UInt64($1) }
            self = .v6(high: high, low: low)
        default:
            return nil
        }
    }

    /// The address in network order: 4 or 16 bytes.
    public var bytes: [UInt8] {
        switch self {
        case .v4(let value):
            return [UInt8(truncatingIfNeeded: value >> 24), UInt8(truncatingIfNeeded: value >> 16),
                    UInt8(truncatingIfNeeded: value >> 8), UInt8(truncatingIfNeeded: value)]
        case .v6(let high, let low):
            return (0..<8).map { UInt8(truncatingIfNeeded: high >> (56 - 8 * UInt64($0))) }
                + (0..<8).map { UInt8(truncatingIfNeeded: low >> (56 - 8 * UInt64($0))) }
        }
    }

    /// The eight 16-bit groups of an IPv6 address (nil for IPv4).
    var groups: [UInt16]? {
        guard case .v6(let high, let low) = self else { return nil }
        return (0..<4).map { UInt16(truncatingIfNeeded: high >> (48 - 16 * UInt64($0))) }
            + (0..<4).map { UInt16(truncatingIfNeeded: low >> (48 - 16 * UInt64($0))) }
    }

    /// From eight 16-bit groups.
    init(groups: [UInt16]) {
        precondition(groups.count == 8)
        let high = groups[0..<4].reduce(UInt64(0)) { $0 << 16 | UInt64($1) }
        let low = groups[4..<8].reduce(UInt64(0)) { $0 << 16 | UInt64($1) }
        self = .v6(high: high, low: low)
    }

    /// Multicast: 224.0.0.0/4, ff00::/8.
    public var isMulticast: Bool {
        switch self {
        case .v4(let value): return value >> 28 == 0xe
        case .v6(let high, _): return high >> 56 == 0xff
        }
    }

    /// ::ffff:a.b.c.d, how a dual-stack socket shows an IPv4 peer.
    public var isIPv4Mapped: Bool {
        guard case .v6(let high, let low) = self else { return false }
        return high == 0 && low >> 32 == 0xffff
    }

    /// A unique local IPv6 address (fc00::/7, in use as fd00::/8): routed within a site, never on
    /// the internet, so it must be translated (NAT66) to leave one.
    public var isUniqueLocal: Bool {
        guard case .v6(let high, _) = self else { return false }
        return high >> 57 == 0x7e
    }

    /// An IPv6 address a host can reach beyond its link: not link-local (fe80::/10), loopback,
    /// unspecified, multicast or IPv4-mapped. ULAs (fc00::/7) count, as the kernel's scope does.
    public var isGlobalIPv6: Bool {
        guard case .v6(let high, let low) = self else { return false }
        if high == 0 && (low == 0 || low == 1) { return false }
        return high >> 54 != 0x3fa && !isMulticast && !isIPv4Mapped
    }
}
