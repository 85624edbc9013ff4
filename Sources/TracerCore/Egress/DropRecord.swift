/// A drop with everything a person needs to read it: the kernel's reason and the function
/// that dropped it by name, the namespace by name, the endpoint and container it belongs to,
/// and which way it was going.
public struct DropRecord: Sendable {
    public var event: DropEvent
    public var reason: DropReason
    /// The function that dropped it, as `DropDescriber.locationName` spells every location.
    public var location: String
    /// The namespace's names (ip netns, docker, CNI), else "host" for the root one, else "netns:<inode>".
    public var netns: String
    /// The endpoint (container or named namespace) whose packet it was.
    public var endpoint: String?
    public var container: ContainerIdentity?
    /// Which way the packet was going; nil when unknown.
    public var direction: PacketDirection?
}

/// Turns drop events into records: reason and symbol names, namespace names, attribution.
public final class DropDescriber {
    public let reasons: DropReasons
    private let symbols: KernelSymbols
    private let scope: EgressScope
    private var namespaceNames: [UInt64: String] = [:]
    private var containersByNetns: [UInt64: ContainerIdentity] = [:]

    public init(reasons: DropReasons, symbols: KernelSymbols = KernelSymbols(), scope: EgressScope,
                directory: NetnsDirectory?, inventory: ContainerInventory?) {
        self.reasons = reasons
        self.symbols = symbols
        self.scope = scope
        for ns in directory?.namespaces ?? [] {
            let name = ns.isHost ? "host" : ns.names.map { $0.split(separator: "/").last.map(String.init) ?? $0 }.first
            if let name { namespaceNames[ns.inode] = name }
        }
        for container in inventory?.containers ?? [] {
            if let inode = container.netnsInode, containersByNetns[inode] == nil { containersByNetns[inode] = container.identity }
        }
    }

    public func describe(_ event: DropEvent) -> DropRecord {
        let inode = UInt64(event.device.netnsInode)
        let path = scope.path(of: event)
        var direction: PacketDirection?
        if let onFlow = event.flowDirection {
            direction = onFlow
        } else if let path, let source = event.source, path.endpoint.addresses.contains(where: { $0.address == source }) {
            // Without a traced flow only a packet from the endpoint's own address says which way it
            // went (out); one to it may open a flow or answer one: unknown, never guessed.
            direction = .egress
        }
        return DropRecord(
            event: event, reason: reasons.reason(event.reason), location: locationName(event.location),
            netns: netnsName(inode), endpoint: path?.endpoint.name,
            container: path?.endpoint.container ?? containersByNetns[inode], direction: direction)
    }

    public func netnsName(_ inode: UInt64) -> String {
        if inode == 0 { return "-" }
        return namespaceNames[inode] ?? "netns:\(inode)"
    }

    /// The function, without the compiler's clone suffixes (`__netif_receive_skb_core.constprop.0`
    /// reads `__netif_receive_skb_core`): the one spelling of a drop location, in drop records,
    /// counts and the evidence of findings alike.
    public func locationName(_ address: UInt64) -> String {
        let name = symbols.name(of: address)
        guard !name.hasPrefix("0x"), let dot = name.firstIndex(of: ".") else { return name }
        return String(name[..<dot])
    }

    /// Reads the kernel's symbols now, not at the first drop.
    public func loadSymbols() { symbols.loadIfNeeded() }

    /// Noise a healthy host makes that the kernel filter cannot tell by reason alone:
    /// multicast nobody listens to (IPv6 ff00::/8, IGMP reports to 224.0.0.0/4).
    public static func isHealthyNoise(_ record: DropRecord) -> Bool {
        guard record.reason.name == .notSpecified || record.reason.name == .ipv6NDiscNSOtherHost,
              let destination = record.event.destination else { return false }
        return destination.isMulticast
    }
}
