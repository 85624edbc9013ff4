import BPF
import CLinux
import NIOCore
import NIOPosix
import TracerCore

/// `tracer agent`: its sessions side by side, each on a thread of its own (they block in the
/// kernel's poll or sleep between intervals, and the stop event wakes them), and the metrics
/// endpoint on an event loop. A session that fails leaves the others and the endpoint running:
/// `/healthz` says it failed.
public final class Agent {
    public let metrics: AgentMetrics
    public let health: AgentHealth
    private let group: MultiThreadedEventLoopGroup
    private let server: MetricsServer

    /// Binds the endpoint: an address in use or not on this host throws here, before any session.
    public init(address: MetricsAddress, metrics: AgentMetrics, now: @escaping @Sendable () -> UInt64 = { BootClock.now }) throws {
        self.metrics = metrics
        health = AgentHealth(metrics: metrics, now: now)
        group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        do {
            server = try MetricsServer(address: address, group: group, metrics: metrics, health: health, now: now)
        } catch {
            try? group.syncShutdownGracefully()
            throw error
        }
    }

    /// The port the endpoint listens on.
    public var port: Int { server.port }

    /// Runs `sessions` until `stop` fires; returns once every session has ended and released
    /// its probe, and the endpoint is closed. Session errors are reported through `health` (and
    /// `failed`, called once per failure) rather than thrown: the endpoint keeps answering.
    public func run(_ sessions: [AgentSession], until stop: StopEvent,
                    failed: @escaping @Sendable (String, any Error) -> Void = { _, _ in }) {
        let pool = NIOThreadPool(numberOfThreads: max(sessions.count, 1))
        pool.start()
        let loop = group.next()
        let health = self.health
        var ends: [EventLoopFuture<Void>] = []
        for session in sessions {
            health.set(session.name, .running)
            ends.append(pool.runIfActive(eventLoop: loop) {
                _ = tracer_name_thread("agent-\(session.name)")
                do {
                    try session.run(stop)
                    health.set(session.name, .stopped)
                } catch {
                    health.set(session.name, .failed(String(describing: error)))
                    failed(session.name, error)
                }
            })
        }
        // The sessions notice `stop` themselves; this thread only waits for it to come.
        while !stop.wait(timeoutMilliseconds: -1) {}
        for end in ends { try? end.wait() }
        try? pool.syncShutdownGracefully()
        server.close()
        try? group.syncShutdownGracefully()
    }
}
