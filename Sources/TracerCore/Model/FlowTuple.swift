/// What tells one flow from another: the protocol, the addresses, and the ports or, for an ICMP
/// echo, its identifier. Source and destination are those of the packet in the direction the
/// tuple was taken (a flow's original direction for a traced flow).
public struct FlowTuple: Hashable, Sendable {
    /// What follows the addresses.
    public enum Transport: Hashable, Sendable {
        /// TCP, UDP.
        case ports(source: UInt16, destination: UInt16)
        /// An ICMP or ICMPv6 echo request or reply.
        case icmpEcho(id: UInt16)
        /// Another protocol, or headers that were not read (a later fragment).
        case none
    }

    public var proto: IPProtocol
    public var source: IPAddress
    public var destination: IPAddress
    public var transport: Transport

    public init(proto: IPProtocol, source: IPAddress, destination: IPAddress, transport: Transport = .none) {
        self.proto = proto
        self.source = source
        self.destination = destination
        self.transport = transport
    }

    /// For TCP/UDP: `.ports`; for ICMP: the echo id when `sourcePort` is one (nonzero);
    /// otherwise none. How the probe's events and flow keys carry them.
    public init(proto: IPProtocol, source: IPAddress, destination: IPAddress, sourcePort: UInt16, destinationPort: UInt16) {
        let transport: Transport
        if proto.hasPorts {
            transport = .ports(source: sourcePort, destination: destinationPort)
        } else if proto.isICMP && sourcePort != 0 {
            transport = .icmpEcho(id: sourcePort)
        } else {
            transport = .none
        }
        self.init(proto: proto, source: source, destination: destination, transport: transport)
    }

    /// The ports as the JSON tuple has them: an ICMP echo's id as the source port, 0 where none.
    public var sourcePort: UInt16 {
        switch transport {
        case .ports(let source, _): return source
        case .icmpEcho(let id): return id
        case .none: return 0
        }
    }

    public var destinationPort: UInt16 {
        if case .ports(_, let destination) = transport { return destination }
        return 0
    }

    /// The same flow seen from the other end: addresses and ports swapped (an echo keeps its id).
    public var reversed: FlowTuple {
        var tuple = self
        tuple.source = destination
        tuple.destination = source
        if case .ports(let s, let d) = transport { tuple.transport = .ports(source: d, destination: s) }
        return tuple
    }
}

/// The one text of a tuple, in every table and message:
/// "tcp 172.17.0.2:40000 -> 203.0.113.10:443", "udp [2001:db8::2]:53 -> [2001:db8::1]:5353",
/// "icmp 172.17.0.2 -> 203.0.113.10 id 7", "gre 10.0.0.1 -> 10.0.0.2".
extension FlowTuple: CustomStringConvertible {
    public var description: String {
        switch transport {
        case .ports(let s, let d):
            return "\(proto) \(FlowTuple.endpoint(source, s)) -> \(FlowTuple.endpoint(destination, d))"
        case .icmpEcho(let id):
            return "\(proto) \(source) -> \(destination) id \(id)"
        case .none:
            return "\(proto) \(source) -> \(destination)"
        }
    }

    /// "a.b.c.d:port", "[v6]:port" (RFC 5952 section 6).
    static func endpoint(_ address: IPAddress, _ port: UInt16) -> String {
        address.family == .v6 ? "[\(address)]:\(port)" : "\(address):\(port)"
    }
}
