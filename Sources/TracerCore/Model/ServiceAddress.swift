/// Where a new connection goes, as an operator names a Service: `10.96.0.10:53/udp`,
/// `[fd00::10]:443/tcp`. Parsed once at the edge (`tracer rules --to`), and what the rule walk
/// imagines a connection's first packet to be addressed to.
public struct ServiceAddress: Sendable, Hashable, Comparable, CustomStringConvertible {
    public var address: IPAddress
    public var port: Int
    public var proto: TransportProtocol

    public init(address: IPAddress, port: Int, proto: TransportProtocol) {
        self.address = address
        self.port = port
        self.proto = proto
    }

    /// "ADDR:PORT/PROTO", an IPv6 address in brackets; nil for anything else (no port 0, no
    /// protocol left out: a Service port is one protocol's).
    public init?(_ text: String) {
        guard let slash = text.lastIndex(of: "/"), let proto = TransportProtocol(name: text[text.index(after: slash)...]) else { return nil }
        let hostPort = text[..<slash]
        guard let colon = hostPort.lastIndex(of: ":") else { return nil }
        var host = hostPort[..<colon]
        let portText = hostPort[hostPort.index(after: colon)...]
        if host.hasPrefix("[") && host.hasSuffix("]") {
            host = host.dropFirst().dropLast()
            guard host.contains(":") else { return nil }
        } else if host.contains(":") {
            return nil
        }
        guard let address = IPAddress(host), portText.allSatisfy(\.isASCII), let port = Int(portText), (1...65535).contains(port),
              portText.first != "+" else { return nil }
        self.init(address: address, port: port, proto: proto)
    }

    public var description: String {
        (address.family == .v6 ? "[\(address)]" : "\(address)") + ":\(port)/\(proto.rawValue)"
    }

    public static func < (a: ServiceAddress, b: ServiceAddress) -> Bool {
        (a.address, a.port, a.proto) < (b.address, b.port, b.proto)
    }
}
