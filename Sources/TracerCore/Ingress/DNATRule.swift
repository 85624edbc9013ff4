/// A rule that DNATs, named so an operator finds it again: family, table, chain and handle for
/// nftables (iptables-nft rules have handles too), table, chain and position for iptables.
public struct DNATRule: Sendable, Equatable {
    public var backend: NetfilterBackend
    public var family: String
    public var table: String
    public var chain: String
    public var handle: UInt64?
    /// 1-based, as `iptables -t nat -L CHAIN --line-numbers` counts.
    public var position: Int
    /// nft's listing of the rule, or its iptables-save line.
    public var text: String
    public var target: DNATTarget?
    /// The chains a packet passes to reach the rule, from the base chain on (`PREROUTING`,
    /// `NETAVARK-HOSTPORT-DNAT`); empty for a rule in a chain no nat base chain reaches.
    public var path: [String]
    /// The hooks whose nat chains reach it: prerouting (traffic from outside), output (the host's own).
    public var hooks: [String]
    /// The container id a rule on the path names in its comment: netavark's and the CNI portmap
    /// plugin's `dnat name: podman id: <id>`.
    public var containerID: String?

    public init(backend: NetfilterBackend, family: String, table: String, chain: String, handle: UInt64?, position: Int,
                text: String, target: DNATTarget?, path: [String] = [], hooks: [String] = [], containerID: String? = nil) {
        self.backend = backend
        self.family = family
        self.table = table
        self.chain = chain
        self.handle = handle
        self.position = position
        self.text = text
        self.target = target
        self.path = path
        self.hooks = hooks
        self.containerID = containerID
    }

    /// "inet nat prerouting handle 3" / "ip nat DOCKER rule 2 (iptables-nft, handle 14)".
    public var location: String {
        let place = "\(family) \(table) \(chain)"
        switch backend {
        case .nftables: return "\(place) handle \(handle.map(String.init) ?? "?")"
        case .iptablesNft, .iptablesLegacy:
            return "\(place) rule \(position) (\(backend.rawValue)\(handle.map { ", handle \($0)" } ?? ""))"
        }
    }
}
