import BPF

/// One of the agent's sessions, ready to run: its probe loaded and its sink built. `run` runs
/// the session until `stop` fires (its waits watch it, so it sleeps until there is something
/// to deliver), then releases its probe (BPF detached) whatever happened.
public struct AgentSession: Sendable {
    public var name: String
    public var run: @Sendable (_ stop: StopEvent) throws -> Void

    public init(name: String, run: @escaping @Sendable (_ stop: StopEvent) throws -> Void) {
        self.name = name
        self.run = run
    }
}

/// Hands a session and its probe to the one thread that runs it. The objects are not Sendable
/// (they are a single reader's state); after the hand-over the building thread never touches them.
public final class HandedOver<Value>: @unchecked Sendable {
    public let value: Value
    public init(_ value: Value) { self.value = value }
}
