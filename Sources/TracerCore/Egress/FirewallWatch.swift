/// What `EgressSession` asks of the firewall while it traces: `NetfilterWatch` on a host (it
/// adds a trace table in a host side, so it needs CAP_NET_ADMIN there), a recorded one in tests.
public protocol FirewallWatch: AnyObject {
    /// Trace tables left by a run that was killed, removed at start.
    var removedStaleTables: [String] { get }
    /// What could not be watched, and why.
    var notes: [String] { get }
    /// A drop the kernel reported (a firewall drop of an endpoint starts tracing its host side).
    func sawDrop(reason: DropReason, path: EgressPath?)
    /// Takes the firewall's events that arrived.
    func poll()
    /// The last events and counters, once tracing ends.
    func finish()
    /// Removes what was added to the firewall; safe to call more than once.
    func stop()
    /// The firewall's verdict on a flow's packets, if it dropped them.
    func verdict(for flow: FlowKey, path: EgressPath, replyDropped: Bool) -> NetfilterWatch.Verdict?
}

extension NetfilterWatch: FirewallWatch {}
