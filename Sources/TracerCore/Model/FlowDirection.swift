/// Who started a flow, seen from the endpoint (a container or a named namespace). Conntrack's
/// original direction is the initiator's: this says whose it is, never which device a packet
/// was seen on (ingress.md).
public enum FlowDirection: Hashable, Sendable, CaseIterable {
    /// The endpoint opened it: a container reaching the internet (`tracer egress`).
    case egress
    /// Someone outside opened it towards the endpoint: a published port, a DNAT.
    case inbound
}
