/// An IPv4 address with its prefix length ("172.17.0.2/16"), host bits kept (netfilter's IPv4Prefix is the masked network), for route lookups and
/// "is this gateway on that subnet" questions in the checks.
struct IPv4CIDR: Sendable, Equatable {
    var address: UInt32
    var length: Int

    /// "a.b.c.d/len" or a bare "a.b.c.d" (taken as /32); nil for anything else.
    init?(_ text: String) {
        let parts = text.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count <= 2 else { return nil }
        let octets = parts[0].split(separator: ".", omittingEmptySubsequences: false)
        guard octets.count == 4 else { return nil }
        var value: UInt32 = 0
        for octet in octets {
            guard octet.count <= 3, let byte = UInt8(octet) else { return nil }
            value = value << 8 | UInt32(byte)
        }
        var length = 32
        if parts.count == 2 {
            guard let l = Int(parts[1]), (0...32).contains(l) else { return nil }
            length = l
        }
        self.address = value
        self.length = length
    }

    var mask: UInt32 { length == 0 ? 0 : ~UInt32(0) << (32 - length) }

    /// The address without its prefix length, dotted.
    var host: String {
        [24, 16, 8, 0].map { String((address >> UInt32($0)) & 0xff) }.joined(separator: ".")
    }

    func contains(_ other: IPv4CIDR) -> Bool {
        other.length >= length && (other.address & mask) == (address & mask)
    }
}

extension Array where Element == IPv4Route {
    /// The main-table route the kernel would pick for `destination` (longest prefix;
    /// policy rules and metrics are not considered).
    func lookup(_ destination: String) -> IPv4Route? {
        guard let target = IPv4CIDR(destination) else { return nil }
        return self.filter { $0.table == NL.RT_TABLE_MAIN }
            .compactMap { route in IPv4CIDR(route.destination).map { (route, $0) } }
            .filter { $0.1.contains(IPv4CIDR(host: target.address)) }
            .max { $0.1.length < $1.1.length }?.0
    }

    /// The main table's default route.
    var defaultRoute: IPv4Route? {
        first { $0.destination == "0.0.0.0/0" && $0.table == NL.RT_TABLE_MAIN }
    }
}

extension IPv4CIDR {
    init(host address: UInt32) {
        self.address = address
        self.length = 32
    }
}
