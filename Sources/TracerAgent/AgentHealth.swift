import Synchronization
import TracerCore

/// Whether each of the agent's sessions runs: `/healthz` answers 200 only while all of them do,
/// and `tracer_session_up` says the same per session.
public final class AgentHealth: Sendable {
    public enum State: Sendable, Equatable {
        case running
        /// The session ended by an error (the kernel side failed): its text.
        case failed(String)
        /// The session ended as asked (the agent is stopping).
        case stopped
    }

    private let states = Mutex<[(name: String, state: State)]>([])
    private let metrics: AgentMetrics
    private let now: @Sendable () -> UInt64

    public init(metrics: AgentMetrics, now: @escaping @Sendable () -> UInt64) {
        self.metrics = metrics
        self.now = now
    }

    public func set(_ session: String, _ state: State) {
        states.withLock { states in
            if let index = states.firstIndex(where: { $0.name == session }) {
                states[index].state = state
            } else {
                states.append((session, state))
            }
        }
        metrics.set(.sessionUp, .fixed("session", session), state == .running ? 1 : 0, now: now())
    }

    public var sessions: [(name: String, state: State)] { states.withLock { $0 } }

    /// `GET /healthz`: "ok" when every session runs; else each one that does not, with its error.
    public var report: (healthy: Bool, text: String) {
        let sessions = self.sessions
        let unwell = sessions.filter { $0.state != .running }
        guard !unwell.isEmpty else { return (true, "ok\n") }
        let lines = unwell.map { session -> String in
            switch session.state {
            case .failed(let error): return "\(session.name): failed: \(error)"
            case .stopped: return "\(session.name): stopped"
            case .running: return "\(session.name): running"
            }
        }
        return (false, lines.joined(separator: "\n") + "\n")
    }
}
