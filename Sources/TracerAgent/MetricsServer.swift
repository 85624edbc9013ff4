import Glibc
import NIOCore
import NIOHTTP1
import NIOPosix
import TracerCore

/// The agent's HTTP endpoint on one event-loop thread: `GET /metrics` (Prometheus text format
/// 0.0.4) and `GET /healthz` (200 "ok" while every session runs, 503 with the failures).
public final class MetricsServer: Sendable {
    private let channel: any Channel
    /// The port actually bound (the one asked for, or the kernel's choice for port 0).
    public let port: Int

    /// Binds now, so an address in use or not on this host fails before any BPF is loaded.
    public init(address: MetricsAddress, group: any EventLoopGroup, metrics: AgentMetrics, health: AgentHealth,
                now: @escaping @Sendable () -> UInt64 = { BootClock.now }) throws {
        let bootstrap = ServerBootstrap(group: group)
            .serverChannelOption(.backlog, value: 64)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.configureHTTPServerPipeline(withErrorHandling: true)
                    try channel.pipeline.syncOperations.addHandler(MetricsHTTPHandler(metrics: metrics, health: health, now: now))
                }
            }
        do {
            channel = try bootstrap.bind(host: address.host, port: address.port).wait()
        } catch let error as IOError {
            throw CannotListen(address: address, errno: error.errnoCode)
        }
        port = channel.localAddress?.port ?? address.port
    }

    /// The address is in use, not on this host, or a privileged port: a runtime failure (exit 1).
    public struct CannotListen: Error, Equatable, CustomStringConvertible {
        public var address: MetricsAddress
        public var errno: Int32
        public var description: String { "cannot listen on \(address): \(String(cString: strerror(errno)))" }
    }

    public func close() {
        try? channel.close().wait()
    }
}

/// One connection's requests, answered in order.
final class MetricsHTTPHandler: ChannelInboundHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart

    private let metrics: AgentMetrics
    private let health: AgentHealth
    private let now: @Sendable () -> UInt64
    private var request: HTTPRequestHead?

    init(metrics: AgentMetrics, health: AgentHealth, now: @escaping @Sendable () -> UInt64) {
        self.metrics = metrics
        self.health = health
        self.now = now
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let head): request = head
        case .body: break
        case .end:
            guard let head = request else { return }
            request = nil
            respond(to: head, context: context)
        }
    }

    private func respond(to head: HTTPRequestHead, context: ChannelHandlerContext) {
        let path = head.uri.split(separator: "?", maxSplits: 1, omittingEmptySubsequences: false).first.map(String.init) ?? head.uri
        let response = Self.response(method: head.method, path: path, metrics: metrics, health: health, now: now())
        var headers = HTTPHeaders()
        headers.add(name: "Content-Type", value: response.contentType)
        headers.add(name: "Content-Length", value: String(response.body.count))
        if response.status == .methodNotAllowed { headers.add(name: "Allow", value: "GET, HEAD") }
        let keepAlive = head.isKeepAlive
        if !keepAlive { headers.add(name: "Connection", value: "close") }
        context.write(wrapOutboundOut(.head(HTTPResponseHead(version: head.version, status: response.status, headers: headers))), promise: nil)
        if head.method != .HEAD {
            context.write(wrapOutboundOut(.body(.byteBuffer(context.channel.allocator.buffer(bytes: response.body)))), promise: nil)
        }
        let done = context.writeAndFlush(wrapOutboundOut(.end(nil)))
        if !keepAlive {
            let channel = context.channel
            done.whenComplete { _ in channel.close(promise: nil) }
        }
    }

    struct Response {
        var status: HTTPResponseStatus
        var contentType: String
        var body: [UInt8]
    }

    /// What a request gets, apart from the connection: the routes.
    static func response(method: HTTPMethod, path: String, metrics: AgentMetrics, health: AgentHealth, now: UInt64) -> Response {
        let text = "text/plain; charset=utf-8"
        guard method == .GET || method == .HEAD else {
            return Response(status: .methodNotAllowed, contentType: text, body: Array("only GET and HEAD\n".utf8))
        }
        switch path {
        case "/metrics":
            metrics.expire(now: now)
            return Response(status: .ok, contentType: "text/plain; version=0.0.4; charset=utf-8", body: metrics.exposition())
        case "/healthz":
            let report = health.report
            return Response(status: report.healthy ? .ok : .serviceUnavailable, contentType: text, body: Array(report.text.utf8))
        default:
            return Response(status: .notFound, contentType: text, body: Array("not found: GET /metrics or /healthz\n".utf8))
        }
    }
}
