import LabSupport
import Testing
@testable import TracerAgent
@testable import TracerCore

/// The metrics sinks on hand-made records: the exposition text, the label filter, the TTL and
/// the escaping of whatever the host named its containers and commands.
struct MetricsSinkTests {
    static let web = ContainerIdentity(runtime: .podman, id: "0123456789abcdef0123", name: "web",
                                       pod: PodIdentity(namespace: "shop", name: "web-7d9f"))

    static func snapshot(_ rows: [TopRow], storm: Bool = false, entries: Int? = 3, lost: TopLosses = TopLosses()) -> TopRecord {
        .snapshot(TopSnapshot(timestamp: 0, intervalNanoseconds: 1_000_000_000, by: TopMetricsSink.groupKeys, sort: .cpu,
                              totals: TopTotals(counts: TopCounts(), onlineCPUs: 2, lost: lost,
                                                forkStorm: storm ? ForkStorm(execsPerSecond: 500, usualPerSecond: 10) : nil,
                                                groupEntries: entries),
                              rows: rows))
    }

    static func row(_ container: Attribution?, _ command: String, execs: UInt64 = 1, failedExecs: UInt64 = 0, exits: UInt64 = 1,
                    failedExits: UInt64 = 0, cpu: UInt64 = 0, crashLoop: CrashLoop? = nil) -> TopRow {
        TopRow(container: container, parent: nil, command: Array(command.utf8),
               counts: TopCounts(execs: execs, failedExecs: failedExecs, exits: exits, failedExits: failedExits,
                                 cpuNanoseconds: cpu, lifetimeNanoseconds: cpu * 2, maxLifetimeNanoseconds: cpu * 2),
               crashLoop: crashLoop)
    }

    static func samples(_ metrics: AgentMetrics) -> [String: Double] {
        HTTPGet.samples(of: String(decoding: metrics.exposition(), as: UTF8.self))
    }

    static let webLabels = #"container="web",pod_namespace="shop",pod="web-7d9f",runtime="podman""#

    @Test func topSnapshotsAddUpInCountersWithConventionalNames() {
        let metrics = AgentMetrics()
        let sink = TopMetricsSink(metrics: metrics, now: { 1 })
        let loop = CrashLoop(failedExits: 7, windowNanoseconds: 60_000_000_000, statuses: [])
        sink.emit(Self.snapshot([Self.row(.container(Self.web), "sh", execs: 10, exits: 9, failedExits: 7, cpu: 250_000_000, crashLoop: loop),
                                 Self.row(.host, "true", execs: 3, failedExecs: 2, exits: 3)]))
        sink.emit(Self.snapshot([Self.row(.container(Self.web), "sh", execs: 5, exits: 5, cpu: 250_000_000)], storm: true,
                                lost: TopLosses(processes: 4)))
        let samples = Self.samples(metrics)
        let web = "{\(Self.webLabels),command=\"sh\"}"
        let host = #"{container="",pod_namespace="",pod="",runtime="",command="true"}"#
        #expect(samples["tracer_execs_total\(web)"] == 15)
        #expect(samples["tracer_exits_total\(web)"] == 14)
        #expect(samples["tracer_failed_exits_total\(web)"] == 7)
        #expect(samples["tracer_exited_cpu_seconds_total\(web)"] == 0.5)
        #expect(samples["tracer_exited_lifetime_seconds_total\(web)"] == 1.0)
        #expect(samples["tracer_execs_total\(host)"] == 3)
        #expect(samples["tracer_exec_failures_total\(host)"] == 2)
        // The crash loop ended in the second snapshot: its gauge went with it.
        #expect(samples.keys.contains { $0.hasPrefix("tracer_crash_loop_failed_exits") } == false)
        #expect(samples["tracer_fork_storm"] == 1)
        #expect(samples[#"tracer_lost_events_total{source="top_processes"}"#] == 4)
        #expect(samples[#"tracer_map_entries{map="top_groups"}"#] == 3)
        #expect(samples[#"tracer_map_capacity{map="top_groups"}"#] == Double(TopProbe.groupCapacity))
        let text = String(decoding: metrics.exposition(), as: UTF8.self)
        #expect(text.contains("# TYPE tracer_execs_total counter\n"))
        #expect(text.contains("# TYPE tracer_fork_storm gauge\n"))
        #expect(text.contains("# HELP tracer_exited_cpu_seconds_total "))
        // Bounded labels only: no pid, argv or parent.
        for name in samples.keys { #expect(!name.contains("pid=") && !name.contains("args") && !name.contains("parent")) }
    }

    @Test func aCrashLoopIsAGaugeWhileItLasts() {
        let metrics = AgentMetrics()
        let sink = TopMetricsSink(metrics: metrics, now: { 1 })
        let loop = CrashLoop(failedExits: 6, windowNanoseconds: 60_000_000_000, statuses: [])
        sink.emit(Self.snapshot([Self.row(.container(Self.web), "crashy", failedExits: 6, crashLoop: loop)]))
        #expect(Self.samples(metrics)["tracer_crash_loop_failed_exits{\(Self.webLabels),command=\"crashy\"}"] == 6)
    }

    @Test func theOtherRowAndUnattributedExecsAreTheAgentsHealth() {
        let metrics = AgentMetrics()
        let sink = TopMetricsSink(metrics: metrics, now: { 1 })
        var other = Self.row(nil, "", execs: 4, exits: 4)
        other.command = nil
        other.isOther = true
        sink.emit(Self.snapshot([other, Self.row(.notAContainer(reason: "no keys"), "x", execs: 2, failedExecs: 1)]))
        let samples = Self.samples(metrics)
        #expect(samples[#"tracer_execs_total{container="",pod_namespace="",pod="",runtime="",command="(other)"}"#] == 4)
        #expect(samples[#"tracer_map_overflow_total{map="top_groups"}"#] == 8)
        #expect(samples[#"tracer_attribution_failures_total{source="top"}"#] == 3)
    }

    @Test func theLabelFilterMergesWhatItLeavesOut() throws {
        let metrics = AgentMetrics(filter: try LabelFilter(parsing: "container, pod"))
        let sink = TopMetricsSink(metrics: metrics, now: { 1 })
        sink.emit(Self.snapshot([Self.row(.container(Self.web), "sh", execs: 2), Self.row(.container(Self.web), "curl", execs: 3)]))
        let samples = Self.samples(metrics)
        #expect(samples[#"tracer_execs_total{container="web",pod="web-7d9f"}"#] == 5)
        #expect(!samples.keys.contains { $0.contains("command=") || $0.contains("runtime=") })
        // Fixed labels of the agent's own metrics stay.
        #expect(samples[#"tracer_lost_events_total{source="top_details"}"#] == 0)
        let none = AgentMetrics(filter: try LabelFilter(parsing: ""))
        TopMetricsSink(metrics: none, now: { 1 }).emit(Self.snapshot([Self.row(.container(Self.web), "sh", execs: 2), Self.row(.host, "sh", execs: 1)]))
        #expect(Self.samples(none)["tracer_execs_total"] == 3)
    }

    @Test func anUnknownLabelIsRefusedByName() {
        #expect(throws: LabelFilter.UnknownLabel(name: "pid")) { try LabelFilter(parsing: "container,pid") }
        #expect(LabelFilter.UnknownLabel(name: "pid").description.contains("valid labels: container, pod_namespace, pod, runtime, command, reason, direction"))
        #expect(throws: Never.self) { try LabelFilter(parsing: " reason , direction ") }
    }

    @Test func seriesIdleForTheTTLAreRemovedAndHealthStays() {
        let metrics = AgentMetrics(ttlNanoseconds: 10_000_000_000)
        var clock: UInt64 = 0
        let sink = TopMetricsSink(metrics: metrics, now: { clock })
        sink.emit(Self.snapshot([Self.row(.container(Self.web), "sh", execs: 2)]))
        let gone = ContainerIdentity(runtime: .docker, id: "feedfeedfeedfeed", name: "gone")
        clock = 6_000_000_000
        sink.emit(Self.snapshot([Self.row(.container(gone), "sh", execs: 1)]))
        // web idle for 11 s: its series go; gone's (5 s) stay; the agent's own series stay.
        clock = 11_000_000_000
        sink.emit(Self.snapshot([]))
        var samples = Self.samples(metrics)
        #expect(!samples.keys.contains { $0.contains("container=\"web\"") })
        #expect(samples.keys.contains { $0.hasPrefix("tracer_execs_total{container=\"gone\"") })
        #expect(samples[#"tracer_lost_events_total{source="top_processes"}"#] == 0)
        clock = 17_000_000_000
        #expect(metrics.expire(now: clock) == 6)
        samples = Self.samples(metrics)
        #expect(!samples.keys.contains { $0.hasPrefix("tracer_execs_total") })
        // A container that comes back counts from zero again, in a new series.
        sink.emit(Self.snapshot([Self.row(.container(Self.web), "sh", execs: 1)]))
        #expect(Self.samples(metrics)["tracer_execs_total{\(Self.webLabels),command=\"sh\"}"] == 1)
    }

    @Test func labelValuesAreEscapedAndInvalidUTF8Replaced() {
        let metrics = AgentMetrics()
        let odd = ContainerIdentity(runtime: .docker, id: "abc", name: "we\"b\\x\nname")
        var row = Self.row(.container(odd), "", execs: 1)
        row.command = [0x66, 0xff, 0xfe, 0x22]
        TopMetricsSink(metrics: metrics, now: { 1 }).emit(Self.snapshot([row]))
        let bytes = metrics.exposition()
        #expect(String(validating: bytes, as: UTF8.self) != nil)
        let text = String(decoding: bytes, as: UTF8.self)
        #expect(text.contains(#"tracer_execs_total{container="we\"b\\x\nname",pod_namespace="",pod="",runtime="docker",command="f\#u{FFFD}\#u{FFFD}\""} 1"#), "\(text)")
        // Every sample is one line: no raw newline got through.
        for line in text.split(separator: "\n") where !line.hasPrefix("#") {
            #expect(line.hasPrefix("tracer_"), "\(line)")
        }
    }

    @Test func dropsCountByReasonDirectionAndContainer() {
        let metrics = AgentMetrics()
        let sink = DropMetricsSink(metrics: metrics, now: { 1 })
        let event = DropEvent(timestamp: 0, location: 0, reason: 2, device: DeviceKey(netnsInode: 1, ifindex: 2), deviceName: "eth0",
                              ethertype: 0x0800, ipVersion: 4, l4Protocol: 6, source: IPAddress("172.17.0.2"), destination: IPAddress("203.0.113.10"),
                              sourcePort: 40000, destinationPort: 443, inScope: true)
        let drop = DropRecord(event: event, reason: DropReason(code: 2, name: "NETFILTER_DROP"), location: "nf_hook_slow",
                              netns: "host", endpoint: "web", container: Self.web, direction: .egress)
        sink.emit(.drop(drop))
        sink.emit(.drop(drop))
        sink.emit(.lost(count: 3, at: 1))
        let row = DropCountRow(containers: [], reason: DropReason(code: 2, name: "NETFILTER_DROP"), location: "nf_hook_slow",
                               device: "eth0", netns: "host", count: 5)
        sink.emit(.counts([row, row]))
        var later = row
        later.count = 7
        sink.emit(.counts([later, row]))
        let samples = Self.samples(metrics)
        #expect(samples["tracer_drops_total{\(Self.webLabels),reason=\"NETFILTER_DROP\",direction=\"egress\"}"] == 2)
        #expect(samples[#"tracer_lost_events_total{source="drops_ring_buffer"}"#] == 3)
        #expect(samples[#"tracer_kernel_drops_total{reason="NETFILTER_DROP"}"#] == 12)
        // The tuple never becomes a label.
        #expect(!samples.keys.contains { $0.contains("203.0.113.10") || $0.contains("443") })
    }
}
