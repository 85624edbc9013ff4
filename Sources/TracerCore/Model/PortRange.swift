/// One port or a contiguous run of them, as a published port or a DNAT rule names them:
/// `8080`, `9000-9001` (podman's `-p 9000-9001:90-91`, nft's `tcp dport 9000-9001`,
/// iptables' `--dport 9000:9001`).
public struct PortRange: Hashable, Sendable, Comparable {
    public var first: UInt16
    public var last: UInt16

    /// Nil unless `first <= last`.
    public init?(first: UInt16, last: UInt16) {
        guard first <= last else { return nil }
        self.first = first
        self.last = last
    }

    public init(_ port: UInt16) {
        first = port
        last = port
    }

    /// From integers as JSON and rule text carry them; nil outside 0...65535 or reversed.
    public init?(first: Int, last: Int) {
        guard let a = UInt16(exactly: first), let b = UInt16(exactly: last) else { return nil }
        self.init(first: a, last: b)
    }

    /// "8080", "9000-9001", "9000:9001" (iptables), nil for anything else.
    public init?<S: StringProtocol>(text: S) {
        let parts = text.split(omittingEmptySubsequences: false) { $0 == "-" || $0 == ":" }
        guard (1...2).contains(parts.count), parts.allSatisfy({ !$0.isEmpty && $0.allSatisfy { $0.isASCII && $0.isNumber } }),
              let a = UInt16(parts[0]), let b = UInt16(parts[parts.count - 1]) else { return nil }
        self.init(first: a, last: b)
    }

    public var count: Int { Int(last) - Int(first) + 1 }
    public var isSingle: Bool { first == last }

    public func contains(_ port: UInt16) -> Bool { first <= port && port <= last }

    public static func < (a: PortRange, b: PortRange) -> Bool { (a.first, a.last) < (b.first, b.last) }
}

extension PortRange: CustomStringConvertible {
    /// "8080" or "9000-9001", as nft and podman print them.
    public var description: String { isSingle ? "\(first)" : "\(first)-\(last)" }
}
