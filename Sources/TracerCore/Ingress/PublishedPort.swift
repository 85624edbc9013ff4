/// A port of the host that leads into a container: `docker run -p 8080:80`, `podman run -p`, a
/// nerdctl `-p`, or a DNAT rule someone wrote by hand. One value per fact as a source states it
/// (the runtime's metadata, or one DNAT rule); `merged(runtime:rules:)` joins the facts about the
/// same port and says which sources agree.
public struct PublishedPort: Sendable, Equatable {
    /// Which local addresses the port is published on.
    public enum HostAddress: Sendable, Hashable, CustomStringConvertible {
        /// Every local address: 0.0.0.0 (`.v4`), :: (`.v6`), or both (nil: docker's and podman's
        /// empty HostIp, a DNAT rule of an inet table without an address match).
        case unspecified(IPAddress.Family?)
        case address(IPAddress)
        /// A DNAT rule matching `ip daddr 10.0.0.0/24`.
        case network(IPPrefix)

        /// Runtime text: "" for both families, "0.0.0.0", "::", or an address.
        public init?(runtimeText text: String) {
            switch text {
            case "": self = .unspecified(nil)
            case "0.0.0.0": self = .unspecified(.v4)
            case "::": self = .unspecified(.v6)
            default:
                guard let address = IPAddress(text) else { return nil }
                self = .address(address)
            }
        }

        public var family: IPAddress.Family? {
            switch self {
            case .unspecified(let family): return family
            case .address(let address): return address.family
            case .network(let prefix): return prefix.family
            }
        }

        /// "0.0.0.0", "::", "*" (both), "127.0.0.1", "10.0.0.0/24".
        public var description: String {
            switch self {
            case .unspecified(.v4): return "0.0.0.0"
            case .unspecified(.v6): return "::"
            case .unspecified(nil): return "*"
            case .address(let address): return "\(address)"
            case .network(let prefix): return "\(prefix)"
            }
        }
    }

    public var hostAddress: HostAddress
    public var hostPorts: PortRange
    public var transport: TransportProtocol
    /// Where the port leads; nil where the source does not say (a runtime record of a container
    /// on several networks, nerdctl's labels, a DNAT rule whose target is only a port).
    public var containerAddress: IPAddress?
    /// Nil: the port is kept (a DNAT rule without a port), or the source does not say.
    public var containerPorts: PortRange?
    /// The container it belongs to, as its runtime names it; nil for a DNAT rule no runtime claims.
    public var container: ContainerIdentity?
    /// Every source that states this port; `agreement` sums them up.
    public var sources: [PublishedPortSource]
    /// Something a source says that is worth telling with the port ("docker did not bind it").
    public var note: String?

    public init(hostAddress: HostAddress, hostPorts: PortRange, transport: TransportProtocol, containerAddress: IPAddress? = nil,
                containerPorts: PortRange? = nil, container: ContainerIdentity? = nil, sources: [PublishedPortSource],
                note: String? = nil) {
        self.hostAddress = hostAddress
        self.hostPorts = hostPorts
        self.transport = transport
        self.containerAddress = containerAddress
        self.containerPorts = containerPorts
        self.container = container
        self.sources = sources
        self.note = note
    }

    /// Which sources state the port: what the runtime meant, what the kernel will do, or both.
    public enum Agreement: String, Sendable {
        /// Runtime metadata and a DNAT rule agree.
        case runtimeAndRule = "runtime+rule"
        /// The runtime publishes it but no DNAT rule does it: the rules were flushed, the runtime
        /// uses a userland proxy, or it never bound the port.
        case runtimeOnly = "runtime-only"
        /// A DNAT rule does it but no runtime claims it: a hand-written rule, kube-proxy, or a
        /// stale rule of a container that is gone.
        case ruleOnly = "rule-only"
    }

    public var agreement: Agreement {
        let runtime = sources.contains { if case .runtime = $0 { true } else { false } }
        let rule = sources.contains { if case .dnatRule = $0 { true } else { false } }
        return runtime && rule ? .runtimeAndRule : runtime ? .runtimeOnly : .ruleOnly
    }

    public var rules: [DNATRule] {
        sources.compactMap { if case .dnatRule(let rule) = $0 { rule } else { nil } }
    }

    public var runtimeRecords: [RuntimePortRecord] {
        sources.compactMap { if case .runtime(let record) = $0 { record } else { nil } }
    }
}

extension PublishedPort: CustomStringConvertible {
    /// The host side as it goes before ":port": "0.0.0.0", "::" (as docker prints ":::8080"),
    /// "[2001:db8::2]".
    public var hostText: String {
        hostAddress.family == .v6 && hostAddress != .unspecified(.v6) ? "[\(hostAddress)]" : "\(hostAddress)"
    }

    /// The container's address as it goes before ":port": "172.17.0.2", "[fd00:17::2]", "?".
    public var targetText: String { containerAddress.map { $0.family == .v6 ? "[\($0)]" : "\($0)" } ?? "?" }

    /// "tcp 0.0.0.0:8080 -> 172.17.0.2:80 (web, runtime+rule)".
    public var description: String {
        let who = container.map { $0.name ?? $0.shortID }.map { "\($0), " } ?? ""
        return "\(transport) \(hostText):\(hostPorts) -> \(targetText)\(containerPorts.map { ":\($0)" } ?? "") (\(who)\(agreement.rawValue))"
    }
}
