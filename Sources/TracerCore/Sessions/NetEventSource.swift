import BPF

/// What the network sessions (`DropsSession`, `EgressSession`) read: the network probe, or
/// recorded drops and flows in tests.
public protocol NetEventSource: AnyObject {
    /// Waits up to `timeoutMilliseconds`, or until `stop` fires, and returns the drops that arrived.
    func poll(timeoutMilliseconds: Int32, stop: StopEvent?) throws -> [DropEvent]
    /// Every flow followed now, with its stage counters.
    func flows() throws -> [FlowKey: FlowStats]
    /// The kernel's exact drop counts since the start, per (location, reason, device).
    func dropCounts() throws -> [DropCount]
    /// ARP and NDP counters of the devices in scope.
    func neighbourStats() throws -> [DeviceKey: DeviceNeighbourStats]
    /// Drop records the kernel could not deliver since the start, in all.
    func lostEvents() throws -> UInt64
    /// Drops that got no counter of their own (the count map was full).
    func uncountedDrops() throws -> UInt64
}

extension NetProbe: NetEventSource {}
