/// Where a DNAT rule sends a packet: `dnat ip to 192.168.70.10:22`, iptables'
/// `--to-destination 172.17.0.2:80`, or, for nft's `dnat ip to ip daddr . tcp dport map { ... }`,
/// one target per map element.
public struct DNATTarget: Sendable, Equatable {
    /// Nil when the rule rewrites the port only, or when the target is a map (see `mappings`)
    /// or text this parser does not read (an address range `10.0.0.1-10.0.0.3`).
    public var address: IPAddress?
    /// Nil: the destination port is left as it was.
    public var ports: PortRange?
    /// iptables' `--to-destination 10.88.0.3:90-91/9000` (netavark's port ranges): the packet's
    /// port minus `portBase` picks the port in `ports`, so 9000 -> 90 and 9001 -> 91.
    public var portBase: UInt16?
    /// A map target: each element's key (the packet's destination and port, where the map's key
    /// holds them) and the address and port it maps to. Empty for a fixed target.
    public var mappings: [Mapping]
    /// The protocol the map's key names (`tcp dport`), when it is keyed on a port.
    public var mapProtocol: TransportProtocol?
    /// As the rule spells it: "192.168.70.10:22", "[fd00::10]:80", "map @published".
    public var text: String

    public struct Mapping: Sendable, Equatable {
        public var destination: IPAddress?
        public var destinationPorts: PortRange?
        public var address: IPAddress?
        public var ports: PortRange?

        public init(destination: IPAddress?, destinationPorts: PortRange?, address: IPAddress?, ports: PortRange?) {
            self.destination = destination
            self.destinationPorts = destinationPorts
            self.address = address
            self.ports = ports
        }
    }

    public init(address: IPAddress?, ports: PortRange? = nil, portBase: UInt16? = nil, mappings: [Mapping] = [],
                mapProtocol: TransportProtocol? = nil, text: String) {
        self.address = address
        self.ports = ports
        self.portBase = portBase
        self.mappings = mappings
        self.mapProtocol = mapProtocol
        self.text = text
    }

    /// iptables' `--to-destination` value: `ADDR`, `ADDR:PORT`, `ADDR:PORT-PORT`, `ADDR:PORT-PORT/BASE`,
    /// `[V6ADDR]:PORT`, `:PORT`. An address range keeps only its text (address nil).
    public init(iptables text: String) {
        self.init(address: nil, text: text)
        var host = Substring(text)
        var portText: Substring?
        if host.hasPrefix("[") {
            guard let close = host.firstIndex(of: "]") else { return }
            let after = host[host.index(after: close)...]
            if after.hasPrefix(":") { portText = after.dropFirst() }
            host = host[host.index(after: host.startIndex)..<close]
        } else if host.filter({ $0 == ":" }).count == 1, let colon = host.firstIndex(of: ":") {
            portText = host[host.index(after: colon)...]
            host = host[..<colon]
        }
        if !host.isEmpty { address = IPAddress(host) }
        guard var portText else { return }
        if let slash = portText.firstIndex(of: "/") {
            portBase = UInt16(portText[portText.index(after: slash)...])
            portText = portText[..<slash]
        }
        ports = PortRange(text: portText)
    }

    /// The port a packet to host port `port` leaves with; nil when the target keeps the port or
    /// the kernel picks one from a pool. A range without a base is a pool: the kernel keeps the
    /// packet's port when it is in the pool (nf_nat's unique-tuple search starts there) and picks
    /// another otherwise; with a base (NF_NAT_RANGE_PROTO_OFFSET) it is a shift.
    public func translatedPort(_ port: UInt16) -> UInt16? {
        guard let ports else { return nil }
        if ports.isSingle { return ports.first }
        guard let portBase else { return ports.contains(port) ? port : nil }
        guard port >= portBase, Int(port - portBase) < ports.count else { return nil }
        return UInt16(Int(ports.first) + Int(port - portBase))
    }
}

extension DNATTarget: CustomStringConvertible {
    public var description: String { text }
}
