import Glibc
import Synchronization

/// The nftables trace of some endpoints' packets in one host-side namespace, as
/// `nft monitor trace` gives it, without the nft binary and without a hand-written trace rule.
///
/// `start` adds one temporary table, `inet tracer_trace_<pid>_<start ticks>`, whose two
/// prerouting chains set `meta nftrace set 1` for the endpoints' packets only:
/// - egress (`ip saddr` is an endpoint) at priority -310, before conntrack and raw;
/// - replies (`ip daddr` is an endpoint) at priority -90, just after the dstnat priority (-100),
///   where conntrack has already turned the masqueraded destination back into the endpoint's.
/// It listens on NFNLGRP_NFTRACE from a socket made inside that namespace. `stop()` (and deinit)
/// removes the table. Nothing else in the ruleset is touched. Needs root.
/// iptables-legacy rules are invisible to nftrace: use `LegacyCounters` for them.
public final class NftTraceSession: @unchecked Sendable {
    /// The table this session added.
    public let tableName: String
    public let hostNetnsPath: String
    /// Trace tables left by tracer runs that were killed (-9) and are gone, removed by `start`.
    public let removedStaleTables: [String]
    /// The ruleset read at start (and re-read when an event names an unknown handle).
    public private(set) var ruleset: Ruleset
    /// Events the kernel could not queue to us (ENOBUFS), counted.
    public private(set) var lost = 0

    private let listener: TraceListener
    private var refreshedFor: Set<String> = []
    private var packetsByTraceID: [UInt32: (tuple: FlowTuple, iif: UInt32?, oif: UInt32?)] = [:]
    private let stopped = Mutex(false)

    public static let tablePrefix = "tracer_trace_"

    /// Adds the trace table for `endpoints` (their addresses of both families; an interface's
    /// prefix length, as in 172.17.0.2/16, is ignored) in the namespace at `hostNetnsPath` and
    /// starts listening. Removes stale trace tables first.
    public convenience init(hostNetnsPath: String, endpoints: [IPPrefix]) throws(NetfilterError) {
        // One `ip` and one `ip6` match per chain, for the families the endpoints have.
        let families: [(match: String, set: String)] = [("ip", IPAddress.Family.v4), ("ip6", .v6)].compactMap { match, family in
            let addresses = endpoints.map(\.address).filter { $0.family == family }.map(\.description)
            return addresses.isEmpty ? nil : (match, addresses.joined(separator: ", "))
        }
        guard !families.isEmpty else { throw .tool("nft trace: no endpoint address to trace") }
        func rules(_ field: String) -> String {
            families.map { "        \($0.match) \(field) { \($0.set) } meta nftrace set 1" }.joined(separator: "\n")
        }
        try self.init(hostNetnsPath: hostNetnsPath, chains: """
                chain egress {
                    type filter hook prerouting priority -310; policy accept;
            \(rules("saddr"))
                }
                chain reply {
                    type filter hook prerouting priority -90; policy accept;
            \(rules("daddr"))
                }
            """)
    }

    /// Adds a trace table marking the packets arriving (prerouting) to `destinations` (TCP:
    /// SYNs only) before conntrack (-310), so that each is traced through every hook it passes,
    /// and, just after conntrack (-199), a rule of chain `newConnectionChain` that matches (and so
    /// is traced) only when the packet is its connection's first (conntrack's entry not yet
    /// confirmed): a later packet of a UDP flow, a retransmitted SYN, skip the nat chains.
    public convenience init(hostNetnsPath: String, destinations: [ServiceAddress]) throws(NetfilterError) {
        guard !destinations.isEmpty else { throw .tool("nft trace: no destination to trace") }
        func rules(_ statement: String) -> String {
            destinations.map { d in
                let family = d.address.family == .v4 ? "ip" : "ip6"
                let first = d.proto == .tcp ? " tcp flags & (syn | ack) == syn" : ""
                return "        \(family) daddr \(d.address) \(d.proto.rawValue) dport \(d.port)\(first) \(statement)"
            }.joined(separator: "\n")
        }
        try self.init(hostNetnsPath: hostNetnsPath, chains: """
                chain arriving {
                    type filter hook prerouting priority -310; policy accept;
            \(rules("meta nftrace set 1"))
                }
                chain \(Self.newConnectionChain) {
                    type filter hook prerouting priority -199; policy accept;
            \(rules("ct status ! confirmed counter"))
                }
            """)
    }

    /// The chain of the trace table whose rule a new connection's first packet meets.
    public static let newConnectionChain = "new_connection"

    /// Adds `table inet <name> { <chains> }` and listens.
    private init(hostNetnsPath: String, chains: String) throws(NetfilterError) {
        let pid = getpid()
        let start = (try? ProcStat.read(pid: pid).startTicks) ?? 0
        let name = "\(Self.tablePrefix)\(pid)_\(start)"
        self.tableName = name
        self.hostNetnsPath = hostNetnsPath

        let result: Result<(TraceListener, [String], Ruleset), NetfilterError>
        do {
            result = try RouteNetlink.inNamespace(hostNetnsPath) { () -> Result<(TraceListener, [String], Ruleset), NetfilterError> in
                do {
                    let removed = try Self.removeStaleTables()
                    // Listen before the table exists, so the first packet's events are not missed.
                    let listener: TraceListener
                    do {
                        listener = try TraceListener()
                    } catch {
                        return .failure(.socket("NETLINK_NETFILTER socket for NFNLGRP_NFTRACE", errno: Self.errnoOf(error)))
                    }
                    let script = "table inet \(name) {\n\(chains)\n}\n"
                    let added = try NftablesLibrary.run(script)
                    guard added.status == 0 else { return .failure(.library(Self.firstLine(added.stderr))) }
                    return .success((listener, removed, RulesetReader.readCurrentNamespace().ruleset))
                } catch let error as NetfilterError {
                    return .failure(error)
                } catch {
                    return .failure(.library("\(error)"))
                }
            }
        } catch {
            throw .namespace(path: hostNetnsPath, errno: Self.errnoOf(error))
        }
        switch result {
        case .success(let (listener, removed, ruleset)):
            self.listener = listener
            self.removedStaleTables = removed
            self.ruleset = ruleset
        case .failure(let error):
            throw error
        }
    }

    deinit { stop() }

    /// Removes the trace tables of runs that were killed, in the namespace at `hostNetnsPath`,
    /// without adding one; returns their names ("inet tracer_trace_<pid>_<start>").
    public static func removeStale(hostNetnsPath: String) throws(NetfilterError) -> [String] {
        let result: Result<[String], NetfilterError>
        do {
            result = try RouteNetlink.inNamespace(hostNetnsPath) { () -> Result<[String], NetfilterError> in
                do {
                    return .success(try removeStaleTables())
                } catch let error as NetfilterError {
                    return .failure(error)
                } catch {
                    return .failure(.library("\(error)"))
                }
            }
        } catch {
            throw .namespace(path: hostNetnsPath, errno: errnoOf(error))
        }
        return try result.get()
    }

    /// Removes the trace table. Idempotent and thread-safe: the CLI's stop path (after SIGINT or
    /// SIGTERM set its flag), `deinit` and a failing test may all call it. Never throws: a namespace
    /// that is already gone took the table with it.
    public func stop() {
        let first = stopped.withLock { done -> Bool in
            if done { return false }
            done = true
            return true
        }
        guard first else { return }
        _ = try? RouteNetlink.inNamespace(hostNetnsPath) {
            _ = try? NftablesLibrary.run("delete table inet \(tableName)")
        }
    }

    /// Waits up to `timeoutMilliseconds` for trace events and returns those that arrived, with the
    /// rule each names resolved against the ruleset.
    public func poll(timeoutMilliseconds: Int32) throws(NetfilterError) -> [NftTraceEvent] {
        guard listener.socket.waitReadable(timeoutMilliseconds: timeoutMilliseconds) else { return [] }
        var events: [NftTraceEvent] = []
        repeat {
            let datagram: [UInt8]
            do {
                datagram = try listener.socket.receiveDatagram()
            } catch NetlinkError.receive(ENOBUFS) {
                lost += 1
                continue
            } catch {
                throw .socket("receiving nft trace events", errno: Self.errnoOf(error))
            }
            events += NftTraceDecoder.decode(datagram: datagram)
        } while listener.socket.waitReadable(timeoutMilliseconds: 0)
        return events.map(resolve)
    }

    /// "inet labfilter forward handle 2: ip saddr ... drop comment \"...\"", "ip filter FORWARD policy drop (iptables-nft)".
    public func describe(_ event: NftTraceEvent) -> String {
        let place = "\(event.family) \(event.table) \(event.chain)"
        let backend = ruleset.table(family: event.family, name: event.table)?.backend ?? .nftables
        let suffix = backend == .nftables ? "" : " (\(backend.rawValue))"
        switch event.kind {
        case .policy:
            return "\(place) policy \(event.verdict ?? "?")\(suffix)"
        case .rule:
            let handle = event.ruleHandle.map { " handle \($0)" } ?? ""
            if let rule = event.rule {
                let position = backend == .nftables ? "" : " rule \(rule.position)"
                return "\(place)\(handle)\(position): \(rule.text)\(suffix)"
            }
            return "\(place)\(handle): \(event.verdict ?? "?")\(suffix)"
        case .return:
            return "\(place) return"
        case .unknown:
            return "\(place) \(event.verdict ?? "")"
        }
    }

    private func resolve(_ event: NftTraceEvent) -> NftTraceEvent {
        var event = event
        event.fromTraceTable = event.table == tableName
        // The kernel sends a packet's headers once per trace id: carry them to its later events.
        if let tuple = event.tuple {
            if packetsByTraceID.count >= 4096 { packetsByTraceID.removeAll(keepingCapacity: true) }
            packetsByTraceID[event.id] = (tuple, event.inInterfaceIndex, event.outInterfaceIndex)
        } else if let known = packetsByTraceID[event.id] {
            event.tuple = known.tuple
            event.inInterfaceIndex = event.inInterfaceIndex ?? known.iif
            event.outInterfaceIndex = event.outInterfaceIndex ?? known.oif
        }
        guard !event.fromTraceTable else { return event }
        let known = ruleset.table(family: event.family, name: event.table) != nil
            && (event.ruleHandle.map { ruleset.rule(family: event.family, table: event.table, chain: event.chain, handle: $0) != nil } ?? true)
        // A table or rule added after we started: read once more (once per unknown name).
        let key = "\(event.family) \(event.table) \(event.chain) \(event.ruleHandle ?? 0)"
        if !known, refreshedFor.insert(key).inserted,
           let fresh = try? RouteNetlink.inNamespace(hostNetnsPath, { RulesetReader.readCurrentNamespace().ruleset }) {
            ruleset = fresh
        }
        if let handle = event.ruleHandle {
            event.rule = ruleset.rule(family: event.family, table: event.table, chain: event.chain, handle: handle)
        }
        return event
    }

    /// Removes `inet tracer_trace_<pid>_<ticks>` tables whose process is gone (or whose pid now
    /// belongs to a process started at another time). Runs in the current thread's namespace.
    static func removeStaleTables(procRoot: String = "/proc") throws -> [String] {
        let listing = try NftablesLibrary.run("list tables", options: [.json])
        guard listing.status == 0 else { throw NetfilterError.library(firstLine(listing.stderr)) }
        var removed: [String] = []
        for name in traceTableNames(json: Array(listing.stdout.utf8)) {
            guard let (pid, ticks) = owner(ofTable: name) else { continue }
            if let stat = try? ProcStat.read(pid: pid, procRoot: procRoot), stat.startTicks == ticks { continue }
            let deleted = try NftablesLibrary.run("delete table inet \(name)")
            if deleted.status == 0 { removed.append("inet \(name)") }
        }
        return removed
    }

    /// Names of the inet tables that look like trace tables, from `list tables` JSON.
    static func traceTableNames(json: [UInt8]) -> [String] {
        guard let ruleset = NftJSONRuleset.parse(json: json) else { return [] }
        return ruleset.tables.filter { $0.family == "inet" && owner(ofTable: $0.name) != nil }.map(\.name)
    }

    /// "tracer_trace_123_4567" -> (123, 4567).
    static func owner(ofTable name: String) -> (pid: Int32, startTicks: UInt64)? {
        guard name.hasPrefix(tablePrefix) else { return nil }
        let parts = name.dropFirst(tablePrefix.count).split(separator: "_")
        guard parts.count == 2, let pid = Int32(parts[0]), pid > 0, let ticks = UInt64(parts[1]) else { return nil }
        return (pid, ticks)
    }

    private static func errnoOf(_ error: any Error) -> Int32 {
        switch error as? NetlinkError {
        case .socket(let e)?, .send(let e)?, .receive(let e)?: return e
        case .namespace(_, let e)?: return e
        default: return EIO
        }
    }

    private static func firstLine(_ text: String) -> String {
        text.split(separator: "\n").first.map(String.init) ?? "failed"
    }
}

/// The NETLINK_NETFILTER socket subscribed to NFNLGRP_NFTRACE; it stays in the namespace it was
/// made in, whichever thread reads it later.
final class TraceListener {
    var socket: NetlinkSocket

    init() throws(NetlinkError) {
        socket = try NetlinkSocket(protocol: NL.NETLINK_NETFILTER)
        try socket.join(group: NftTraceDecoder.NFNLGRP_NFTRACE)
    }
}
