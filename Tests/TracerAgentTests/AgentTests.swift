import Foundation
import Glibc
import LabSupport
import Synchronization
import BPF
import Testing
@testable import TracerAgent
@testable import TracerCore

/// The agent's endpoint and sessions without the kernel: recorded or failing sources, a real
/// HTTP server on loopback.
struct AgentTests {
    /// A top source whose kernel side fails on the second read.
    final class FailingTopSource: TopCountsSource {
        var reads = 0
        struct Broken: Error, CustomStringConvertible { var description: String { "reading the top maps: EBADF" } }
        func read() throws -> TopInterval {
            reads += 1
            if reads > 1 { throw Broken() }
            return TopInterval(start: 0, end: BootClock.now,
                               counts: [TopGroup(cgroupID: 1, parentComm: Array("sh".utf8), comm: Array("true".utf8)): TopCounts(execs: 3, exits: 3)])
        }
    }

    @Test func aFailedSessionFailsHealthzWhileMetricsStillAnswer() throws {
        let metrics = AgentMetrics()
        let agent = try Agent(address: MetricsAddress(host: "127.0.0.1", port: 0), metrics: metrics)
        let stop = try StopEvent()
        let session = HandedOver(TopSession(source: FailingTopSource(), aggregator: TopAggregator(by: TopMetricsSink.groupKeys) { _ in .host },
                                            intervalNanoseconds: 100_000_000, snapshotWhenStopped: false, hostCPU: { nil }))
        let top = AgentSession(name: "top") { stop in try session.value.run(into: TopMetricsSink(metrics: metrics), stop: stop) }
        let idle = AgentSession(name: "drops") { stop in stop.wait(timeoutMilliseconds: -1) }
        let port = agent.port
        let failures = Mutex<[String]>([])
        let scraped = Mutex<(HTTPGet, HTTPGet)?>(nil)
        let waiter = HandedOver(agent)
        let probeThread = HandedOver(Thread {
            usleep(600_000)
            scraped.withLock { $0 = try? (HTTPGet.get(port: port, path: "/healthz"), HTTPGet.get(port: port, path: "/metrics")) }
            stop.fire()
        })
        probeThread.value.start()
        waiter.value.run([top, idle], until: stop) { name, error in
            failures.withLock { $0.append("\(name): \(error)") }
        }
        let (health, scrape) = try #require(scraped.withLock { $0 })
        #expect(health.status == 503)
        #expect(health.body == "top: failed: reading the top maps: EBADF\n")
        #expect(scrape.status == 200)
        #expect(scrape.headers["content-type"] == "text/plain; version=0.0.4; charset=utf-8")
        #expect(scrape.samples[#"tracer_session_up{session="top"}"#] == 0)
        #expect(scrape.samples[#"tracer_session_up{session="drops"}"#] == 1)
        #expect(scrape.samples[#"tracer_execs_total{container="",pod_namespace="",pod="",runtime="",command="true"}"#] == 3)
        #expect(failures.withLock { $0 } == ["top: reading the top maps: EBADF"])
        // Stopped: the endpoint is closed.
        #expect(throws: HTTPGet.Failed.self) { try HTTPGet.get(port: port, path: "/healthz") }
    }

    @Test func eachSessionRunsOnAThreadNamedAfterIt() throws {
        let agent = try Agent(address: MetricsAddress(host: "127.0.0.1", port: 0), metrics: AgentMetrics())
        let stop = try StopEvent()
        let names = Mutex<[String]>([])
        func session(_ name: String) -> AgentSession {
            AgentSession(name: name) { stop in
                let comm = (try? String(contentsOfFile: "/proc/thread-self/comm", encoding: .utf8)) ?? ""
                let seen = names.withLock { names in
                    names.append(comm.trimmingCharacters(in: .newlines))
                    return names.count
                }
                if seen == 2 { stop.fire() }
                stop.wait(timeoutMilliseconds: -1)
            }
        }
        agent.run([session("top"), session("drops")], until: stop)
        #expect(names.withLock { $0 }.sorted() == ["agent-drops", "agent-top"])
    }

    @Test func healthzIsOkWhileEverySessionRunsAndOtherPathsAre404() {
        let metrics = AgentMetrics()
        let health = AgentHealth(metrics: metrics, now: { 0 })
        health.set("top", .running)
        health.set("drops", .running)
        let ok = MetricsHTTPHandler.response(method: .GET, path: "/healthz", metrics: metrics, health: health, now: 0)
        #expect(ok.status == .ok && ok.body == Array("ok\n".utf8))
        #expect(MetricsHTTPHandler.response(method: .GET, path: "/", metrics: metrics, health: health, now: 0).status == .notFound)
        #expect(MetricsHTTPHandler.response(method: .POST, path: "/metrics", metrics: metrics, health: health, now: 0).status == .methodNotAllowed)
    }

    @Test func anAddressInUseIsRefusedAtStart() throws {
        let metrics = AgentMetrics()
        let first = try Agent(address: MetricsAddress(host: "127.0.0.1", port: 0), metrics: metrics)
        let address = MetricsAddress(host: "127.0.0.1", port: first.port)
        #expect(throws: MetricsServer.CannotListen(address: address, errno: EADDRINUSE)) { try Agent(address: address, metrics: metrics) }
        #expect(MetricsServer.CannotListen(address: address, errno: EADDRINUSE).description == "cannot listen on \(address): Address already in use")
        let stopped = try StopEvent()
        stopped.fire()
        first.run([], until: stopped)
    }

    @Test func metricsAddressesParseOnceAtTheEdge() throws {
        #expect(try MetricsAddress(parsing: "127.0.0.1:9000") == MetricsAddress(host: "127.0.0.1", port: 9000))
        #expect(try MetricsAddress(parsing: "[::1]:2113") == MetricsAddress(host: "::1", port: 2113))
        #expect(try MetricsAddress(parsing: ":2113") == MetricsAddress(host: "0.0.0.0", port: 2113))
        #expect(MetricsAddress(host: "::1", port: 2113).description == "[::1]:2113")
        for bad in ["localhost:80", "127.0.0.1", "127.0.0.1:", "127.0.0.1:65536", "::1:80", "1.2.3:80", "127.0.0.1:-1", "[::1]:x"] {
            #expect(throws: MetricsAddress.Invalid.self, "\(bad)") { try MetricsAddress(parsing: bad) }
        }
    }
}
