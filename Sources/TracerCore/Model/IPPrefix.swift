/// An address with a prefix length, of either family: an interface's address ("172.17.0.2/16",
/// the host part kept), a route's destination or a rule's network ("172.17.0.0/16").
/// `network` drops the host part; `contains` compares networks, so both forms answer alike.
/// Equality is exact: 172.17.0.2/16 is not 172.17.0.0/16 (compare `network`s for that).
public struct IPPrefix: Hashable, Sendable {
    public var address: IPAddress
    /// 0...32 for IPv4, 0...128 for IPv6.
    public var length: Int

    /// A length beyond the family's is clamped to it.
    public init(address: IPAddress, length: Int) {
        self.address = address
        self.length = max(0, min(address.family.bitWidth, length))
    }

    /// The single address `address` (/32, /128).
    public init(_ address: IPAddress) {
        self.init(address: address, length: address.family.bitWidth)
    }

    public var family: IPAddress.Family { address.family }

    /// The prefix with the host part zeroed: 172.17.0.2/16 -> 172.17.0.0/16.
    public var network: IPPrefix {
        var masked = self
        masked.address = IPPrefix.masked(address, length)
        return masked
    }

    /// True when `address` is of the same family and in this network.
    public func contains(_ address: IPAddress) -> Bool {
        address.family == family && IPPrefix.masked(address, length) == IPPrefix.masked(self.address, length)
    }

    /// Every address of `other` is in this network.
    public func contains(_ other: IPPrefix) -> Bool { other.length >= length && contains(other.address) }

    public func overlaps(_ other: IPPrefix) -> Bool { contains(other) || other.contains(self) }

    static func masked(_ address: IPAddress, _ length: Int) -> IPAddress {
        switch address {
        case .v4(let value):
            return .v4(length == 0 ? 0 : value & UInt32.max << UInt32(32 - length))
        case .v6(let high, let low):
            let highMask: UInt64 = length == 0 ? 0 : length >= 64 ? .max : .max << UInt64(64 - length)
            let lowMask: UInt64 = length <= 64 ? 0 : length == 128 ? .max : .max << UInt64(128 - length)
            return .v6(high: high & highMask, low: low & lowMask)
        }
    }
}

/// Text: "address/length", the length always written; an address alone reads as the single
/// address (/32, /128). Parsed as strictly as `IPAddress` (no "+8", no "/033", no "/").
extension IPPrefix: CustomStringConvertible, LosslessStringConvertible {
    public init?(_ text: String) { self.init(text[...]) }

    public init?(_ text: Substring) {
        let parts = text.split(separator: "/", maxSplits: 1, omittingEmptySubsequences: false)
        guard let address = IPAddress(parts[0]) else { return nil }
        guard parts.count == 2 else {
            self.init(address)
            return
        }
        let digits = parts[1].utf8
        guard (1...3).contains(digits.count), digits.allSatisfy({ $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9") }),
              digits.count == 1 || digits.first != UInt8(ascii: "0"),
              let length = Int(parts[1]), length <= address.family.bitWidth else { return nil }
        self.init(address: address, length: length)
    }

    public var description: String { "\(address)/\(length)" }
}
