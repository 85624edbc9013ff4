/// The one parser and the one formatter of address text.
///
/// Parsing is strict, as inet_pton is: a dotted quad of four decimal octets (no sign, no
/// leading zero, since inet_aton would read "010" as octal 8), or RFC 4291 IPv6 text (one to
/// four hex digits per group, at most one "::" standing for one or more zero groups, an
/// optional dotted quad in the last 32 bits). A zone ("fe80::1%eth0") is rejected: it names an
/// interface, which the caller keeps beside the address, never inside it. A prefix length
/// ("/16") is not part of an address: see `IPPrefix`.
///
/// Formatting is canonical: the dotted quad, or RFC 5952 for IPv6 (lowercase, no leading
/// zeros, the longest run of two or more zero groups as "::", the first of equal runs,
/// IPv4-mapped addresses as "::ffff:192.0.2.1").
extension IPAddress: CustomStringConvertible, LosslessStringConvertible {
    public init?(_ text: String) {
        self.init(text[...])
    }

    public init?(_ text: Substring) {
        if text.utf8.contains(UInt8(ascii: ":")) {
            guard let groups = IPAddress.parseIPv6(text) else { return nil }
            self.init(groups: groups)
        } else {
            guard let value = IPAddress.parseDotted(text) else { return nil }
            self = .v4(value)
        }
    }

    public var description: String {
        switch self {
        case .v4(let value):
            return IPAddress.dotted(value)
        case .v6(_, let low):
            if isIPv4Mapped { return "::ffff:" + IPAddress.dotted(UInt32(truncatingIfNeeded: low)) }
            return IPAddress.rfc5952(groups!)
        }
    }

    /// "a.b.c.d" for a host-order value.
    static func dotted(_ value: UInt32) -> String {
        "\(value >> 24).\(value >> 16 & 255).\(value >> 8 & 255).\(value & 255)"
    }

    /// Lowercase groups, the longest run (first on a tie) of at least two zero groups as "::".
    static func rfc5952(_ groups: [UInt16]) -> String {
        var bestStart = -1, bestLength = 1, runStart = -1
        for i in 0...groups.count {
            if i < groups.count && groups[i] == 0 {
                if runStart < 0 { runStart = i }
            } else if runStart >= 0 {
                if i - runStart > bestLength { bestStart = runStart; bestLength = i - runStart }
                runStart = -1
            }
        }
        func hex(_ range: Range<Int>) -> String { groups[range].map { String($0, radix: 16) }.joined(separator: ":") }
        if bestStart < 0 { return hex(0..<groups.count) }
        return hex(0..<bestStart) + "::" + hex((bestStart + bestLength)..<groups.count)
    }

    /// The host-order value of a dotted quad, nil unless it is exactly four decimal octets.
    static func parseDotted(_ text: Substring) -> UInt32? {
        var value: UInt32 = 0
        var octets = 0
        for octet in text.utf8.split(separator: UInt8(ascii: "."), omittingEmptySubsequences: false) {
            guard octets < 4, (1...3).contains(octet.count),
                  octet.allSatisfy({ $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9") }),
                  octet.count == 1 || octet.first != UInt8(ascii: "0") else { return nil }
            let n = octet.reduce(UInt32(0)) { $0 * 10 + UInt32($1 - UInt8(ascii: "0")) }
            guard n <= 255 else { return nil }
            value = value << 8 | n
            octets += 1
        }
        return octets == 4 ? value : nil
    }

    /// The eight groups of RFC 4291 text, nil for anything else.
    static func parseIPv6(_ text: Substring) -> [UInt16]? {
        let utf8 = Array(text.utf8)
        guard !utf8.isEmpty else { return nil }
        // Split at "::" (at most once) into the groups before and after the zeros.
        var head: ArraySlice<UInt8> = utf8[...]
        var tail: ArraySlice<UInt8>?
        if let at = (0..<max(0, utf8.count - 1)).first(where: { utf8[$0] == UInt8(ascii: ":") && utf8[$0 + 1] == UInt8(ascii: ":") }) {
            head = utf8[..<at]
            tail = utf8[(at + 2)...]
        }
        func groups(_ part: ArraySlice<UInt8>, mayEndInIPv4: Bool) -> [UInt16]? {
            if part.isEmpty { return [] }
            var result: [UInt16] = []
            let fields = part.split(separator: UInt8(ascii: ":"), omittingEmptySubsequences: false)
            for (i, field) in fields.enumerated() {
                if i == fields.count - 1, mayEndInIPv4, field.contains(UInt8(ascii: ".")) {
                    guard let v4 = parseDotted(Substring(decoding: field, as: UTF8.self)) else { return nil }
                    result += [UInt16(v4 >> 16), UInt16(v4 & 0xffff)]
                    continue
                }
                guard (1...4).contains(field.count) else { return nil }
                var group: UInt16 = 0
                for byte in field {
                    guard let digit = hexDigit(byte) else { return nil }
                    group = group << 4 | UInt16(digit)
                }
                result.append(group)
            }
            return result
        }
        if let tail {
            // A second "::", or ":::", is not an address.
            guard !tail.starts(with: [UInt8(ascii: ":")]),
                  !(tail.indices.dropLast().contains { tail[$0] == UInt8(ascii: ":") && tail[$0 + 1] == UInt8(ascii: ":") }),
                  let before = groups(head, mayEndInIPv4: false), let after = groups(tail, mayEndInIPv4: true),
                  before.count + after.count <= 7 else { return nil }
            return before + [UInt16](repeating: 0, count: 8 - before.count - after.count) + after
        }
        guard let all = groups(head, mayEndInIPv4: true), all.count == 8 else { return nil }
        return all
    }

    private static func hexDigit(_ byte: UInt8) -> UInt8? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): return byte - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): return byte - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): return byte - UInt8(ascii: "A") + 10
        default: return nil
        }
    }
}
