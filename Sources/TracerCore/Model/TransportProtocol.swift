/// The protocols a port can be published for: what `docker run -p 53:53/udp`, podman's
/// `protocol` and a DNAT rule's `tcp dport`/`-p udp` name.
public enum TransportProtocol: String, Sendable, Hashable, CaseIterable, Comparable {
    case tcp, udp, sctp

    /// From "tcp", "UDP", ... as runtimes and rules spell it; nil for any other protocol.
    public init?<S: StringProtocol>(name: S) {
        self.init(rawValue: name.lowercased())
    }

    public var ipProtocol: IPProtocol {
        switch self {
        case .tcp: return .tcp
        case .udp: return .udp
        case .sctp: return .sctp
        }
    }

    public static func < (a: TransportProtocol, b: TransportProtocol) -> Bool {
        allCases.firstIndex(of: a)! < allCases.firstIndex(of: b)!
    }
}
