import Foundation
import Glibc
import LabSupport
import Testing
@testable import TracerCore

/// The nftables trace on the real egress lab: the temporary table, events naming the dropping
/// rule or policy, cleanup on stop and after a killed run; and legacy counter diffs.
@Suite(.serialized, .requires(EgressLab.canRunFirewall, EgressLab.firewallReason))
struct NftTraceSessionTests {
    /// Polls until an event satisfies `done` or 3 s pass.
    func events(_ session: NftTraceSession, until done: (NftTraceEvent) -> Bool) throws -> [NftTraceEvent] {
        var seen: [NftTraceEvent] = []
        let deadline = Date().addingTimeInterval(3)
        while Date() < deadline {
            seen += try session.poll(timeoutMilliseconds: 100)
            if seen.contains(where: done) { break }
        }
        return seen
    }

    func tableNames(_ lab: EgressLab) throws -> String { try lab.inHost("nft", "list", "tables") }

    @Test func ruleDropIsNamedWithItsComment() throws {
        let lab = try EgressLab.up("nf6")
        defer { lab.down() }
        try lab.breakIt("forward-rule-drop")
        let session = try NftTraceSession(hostNetnsPath: lab.hostNetnsPath, endpoints: ["172.17.0.2/16"])
        defer { session.stop() }
        #expect(try tableNames(lab).contains("table inet \(session.tableName)"))
        #expect(!lab.answers())
        let seen = try events(session) { $0.isDrop }
        let drop = try #require(seen.first { $0.isDrop }, "no drop among \(seen.count) events")
        #expect(drop.family == "inet" && drop.table == "labfilter" && drop.chain == "forward" && drop.kind == .rule)
        #expect(drop.tuple?.source == "172.17.0.2" && drop.tuple?.destination == "203.0.113.10" && drop.tuple?.proto == .icmp)
        let handle = try #require(drop.ruleHandle)
        #expect(session.describe(drop) ==
            "inet labfilter forward handle \(handle): ip saddr 172.17.0.0/16 ip daddr 203.0.113.0/24 counter drop comment \"lab: block container egress\"")
        #expect(drop.rule?.comment == "lab: block container egress")
        // The egress chain marked it before conntrack (trace ids differ between hooks: compare the tuple).
        #expect(seen.contains { $0.fromTraceTable && $0.chain == "egress" && $0.tuple == drop.tuple })
        session.stop()
        session.stop()
        #expect(!(try tableNames(lab)).contains(session.tableName))
        #expect(try lab.inHost("nft", "list", "table", "inet", "labfilter").contains("lab: block container egress"))
    }

    @Test func policyDropIsNamedAndRepliesAreTracedAfterDeNAT() throws {
        let lab = try EgressLab.up("nf7")
        defer { lab.down() }
        let session = try NftTraceSession(hostNetnsPath: lab.hostNetnsPath, endpoints: ["172.17.0.2"])
        defer { session.stop() }
        // Healthy: the reply comes back on uplink0 masqueraded and is marked once de-NATed to 172.17.0.2.
        #expect(lab.answers())
        let isReply = { (e: NftTraceEvent) in e.fromTraceTable && e.chain == "reply" && e.tuple?.destination == "172.17.0.2" }
        let healthy = try events(session, until: isReply)
        let reply = try #require(healthy.first(where: isReply))
        // Before de-NAT the destination would still be the uplink's 198.51.100.2.
        #expect(reply.tuple?.source == "203.0.113.10")
        #expect(!healthy.contains { $0.tuple?.destination == "198.51.100.2" })
        #expect(!healthy.contains { $0.isDrop })

        try lab.breakIt("forward-policy-drop")
        #expect(!lab.answers())
        let seen = try events(session) { $0.isDrop }
        let drop = try #require(seen.first { $0.isDrop })
        #expect(drop.kind == .policy)
        #expect(session.describe(drop) == "ip filter FORWARD policy drop (iptables-nft)")
    }

    @Test func tableOfADeadRunIsRemovedAndReported() throws {
        let lab = try EgressLab.up("nf8")
        defer { lab.down() }
        // A pid that is not running (pid_max is 32768 here; 4194303 is above any pid_max) and one
        // that is running but was started at another time than the name says.
        let dead = "tracer_trace_4194303_12345"
        let reused = "tracer_trace_1_999999999"
        // A live run: the test runner's parent, with its real start time.
        let live = "tracer_trace_\(getppid())_\(try ProcStat.read(pid: getppid()).startTicks)"
        for name in [dead, reused, live, "tracer_trace_notmine"] { try lab.inHost("nft", "add", "table", "inet", name) }
        let session = try NftTraceSession(hostNetnsPath: lab.hostNetnsPath, endpoints: ["172.17.0.2"])
        defer { session.stop() }
        #expect(Set(session.removedStaleTables) == ["inet \(dead)", "inet \(reused)"])
        let tables = try tableNames(lab)
        #expect(!tables.contains(dead) && !tables.contains(reused))
        #expect(tables.contains("tracer_trace_notmine"))
        #expect(tables.contains(live))
        #expect(tables.contains(session.tableName))
    }

    @Test func legacyCounterDiffNamesThePolicy() throws {
        let lab = try EgressLab.up("nf9")
        defer { lab.down() }
        try lab.breakIt("legacy-iptables-drop")
        let before = try LegacyCounters.snapshot(netnsPath: lab.hostNetnsPath)
        #expect(!lab.answers())
        let after = try LegacyCounters.snapshot(netnsPath: lab.hostNetnsPath)
        let grown = after.growth(since: before)
        let first = try #require(grown.first)
        #expect(first.isDrop && first.table == "filter" && first.chain == "FORWARD" && first.rule == nil)
        #expect(first.packets >= 1)
        #expect(first.description.hasPrefix("ip filter FORWARD policy drop (iptables-legacy): +"))
    }
}
