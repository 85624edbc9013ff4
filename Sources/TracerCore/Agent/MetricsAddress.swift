/// `--metrics-address`: where the metrics endpoint listens, parsed once at the edge (numeric
/// addresses only: an agent binds before any name service is trusted).
public struct MetricsAddress: Sendable, Equatable, CustomStringConvertible {
    public var host: String
    public var port: Int

    /// All interfaces: Prometheus scrapes the node from outside. Port 2113: the exporters' range
    /// 9100-9999 is allocated to the last number, and Tetragon, the agent a node most likely
    /// runs beside this one, serves on 2112; 2113 sits next to it and clashes with neither.
    public static let defaultValue = MetricsAddress(host: "0.0.0.0", port: 2113)

    public init(host: String, port: Int) {
        self.host = host
        self.port = port
    }

    public struct Invalid: Error, Equatable, CustomStringConvertible {
        public var text: String
        public var why: String
        public var description: String { "'\(text)' \(why); expected ADDRESS:PORT, e.g. 0.0.0.0:2113, 127.0.0.1:9000 or [::1]:2113" }
    }

    /// "127.0.0.1:2113", "[::1]:2113", ":2113" (all interfaces, IPv4).
    public init(parsing text: String) throws(Invalid) {
        guard let colon = text.lastIndex(of: ":") else { throw Invalid(text: text, why: "has no port") }
        var host = String(text[..<colon])
        let portText = text[text.index(after: colon)...]
        guard let port = Int(portText), (0...65535).contains(port), portText.allSatisfy(\.isASCII) else {
            throw Invalid(text: text, why: "has no port from 0 to 65535")
        }
        if host.hasPrefix("[") && host.hasSuffix("]") {
            host = String(host.dropFirst().dropLast())
        } else if host.contains(":") {
            throw Invalid(text: text, why: "is an IPv6 address without brackets")
        }
        if host.isEmpty { host = "0.0.0.0" }
        guard IPAddress(host) != nil else { throw Invalid(text: text, why: "is not a numeric IPv4 or IPv6 address") }
        self.host = host
        self.port = port
    }

    public var description: String { host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)" }
}
