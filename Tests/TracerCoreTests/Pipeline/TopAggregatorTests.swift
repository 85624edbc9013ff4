import Glibc
import Testing
@testable import TracerCore

struct TopAggregatorTests {
    static let web = ContainerIdentity(runtime: .podman, id: String(repeating: "ab", count: 32), name: "web")
    static let db = ContainerIdentity(runtime: .docker, id: String(repeating: "cd", count: 32), name: "db")

    /// cgroup 1 is the host; 100 is web, 200 is db.
    func aggregator(by: [TopGroupKey] = TopGroupKey.allCases, sort: TopSortKey = .cpu,
                    crash: CrashLoopRule = CrashLoopRule()) -> TopAggregator {
        TopAggregator(by: by, sort: sort, crashRule: crash) { keys in
            switch keys.cgroupID {
            case 100: return .container(Self.web)
            case 200: return .container(Self.db)
            default: return .host
            }
        }
    }

    func group(_ cgroup: UInt64, _ parent: String, _ command: String) -> TopGroup {
        TopGroup(cgroupID: cgroup, parentComm: Array(parent.utf8), comm: Array(command.utf8))
    }

    func detail(_ cgroup: UInt64, args: [String]) -> TopGroupDetail {
        TopGroupDetail(keys: ProcessKeys(cgroupID: cgroup), args: args.map { Array($0.utf8) })
    }

    let second: UInt64 = 1_000_000_000

    @Test func groupsAreAttributedMergedAndSortedByCPU() {
        let a = aggregator()
        let interval = TopInterval(
            start: 10 * second, end: 12 * second,
            counts: [
                group(100, "sh", "sha256sum"): TopCounts(execs: 100, exits: 100, cpuNanoseconds: 1_500_000_000,
                                                           lifetimeNanoseconds: 1_000_000_000, maxLifetimeNanoseconds: 30_000_000),
                group(200, "sh", "sha256sum"): TopCounts(execs: 10, exits: 10, cpuNanoseconds: 100_000_000,
                                                           lifetimeNanoseconds: 200_000_000, maxLifetimeNanoseconds: 40_000_000),
                group(1, "bash", "true"): TopCounts(execs: 400, failedExecs: 3, exits: 400, cpuNanoseconds: 300_000_000,
                                                      lifetimeNanoseconds: 400_000_000, maxLifetimeNanoseconds: 2_000_000),
            ],
            details: [group(100, "sh", "sha256sum"): detail(100, args: ["sha256sum", "/bin/busybox"]),
                      group(200, "sh", "sha256sum"): detail(200, args: ["sha256sum", "/etc/passwd"]),
                      group(1, "bash", "true"): detail(1, args: ["true"])])
        let snapshot = a.snapshot(interval, onlineCPUs: 2)
        #expect(snapshot.intervalNanoseconds == 2 * second)
        #expect(snapshot.rows.map { $0.container.map(ContainerJSON.column) } == ["web", "-", "db"])
        #expect(snapshot.rows[0].lastArgs == [Array("sha256sum".utf8), Array("/bin/busybox".utf8)])
        #expect(snapshot.rows[0].counts.averageLifetimeNanoseconds == 10_000_000)
        #expect(snapshot.totals.counts.execs == 510)
        #expect(snapshot.totals.counts.failedExecs == 3)
        #expect(snapshot.totals.counts.cpuNanoseconds == 1_900_000_000)
        #expect(snapshot.totals.counts.maxLifetimeNanoseconds == 40_000_000)
        // 1.9 s of CPU in 2 s on 2 CPUs.
        #expect(abs(snapshot.shortLivedShare - 0.475) < 1e-9)
        #expect(snapshot.rate(snapshot.totals.counts.execs) == 255)

        // By command only: both containers' sha256sum become one row with summed counts and the larger maximum.
        let byCommand = aggregator(by: [.command]).snapshot(interval, onlineCPUs: 2)
        #expect(byCommand.rows.count == 2)
        #expect(byCommand.rows[0].command == Array("sha256sum".utf8))
        #expect(byCommand.rows[0].container == nil && byCommand.rows[0].parent == nil)
        #expect(byCommand.rows[0].counts.execs == 110)
        #expect(byCommand.rows[0].counts.cpuNanoseconds == 1_600_000_000)
        #expect(byCommand.rows[0].counts.maxLifetimeNanoseconds == 40_000_000)
        // The argv shown is the one of the group that exec'd most.
        #expect(byCommand.rows[0].lastArgs.last == Array("/bin/busybox".utf8))

        // --container web: its rows and totals only; --host: the host's only.
        let webOnly = aggregator()
        webOnly.only = .containers([Self.web.id])
        let web = webOnly.snapshot(interval, onlineCPUs: 2)
        #expect(web.rows.map { $0.container.map(ContainerJSON.column) } == ["web"])
        #expect(web.totals.counts.execs == 100 && web.totals.counts.cpuNanoseconds == 1_500_000_000)
        let hostOnly = aggregator()
        hostOnly.only = .host
        #expect(hostOnly.snapshot(interval, onlineCPUs: 2).rows.map { $0.container.map(ContainerJSON.column) } == ["-"])
    }

    @Test func everySortKeyOrdersLargestFirst() {
        let rows = [
            TopRow(container: .host, parent: [], command: Array("a".utf8),
                   counts: TopCounts(execs: 1, failedExecs: 9, exits: 1, failedExits: 0, cpuNanoseconds: 5, lifetimeNanoseconds: 100, maxLifetimeNanoseconds: 100)),
            TopRow(container: .host, parent: [], command: Array("b".utf8),
                   counts: TopCounts(execs: 9, failedExecs: 0, exits: 2, failedExits: 2, cpuNanoseconds: 50, lifetimeNanoseconds: 20, maxLifetimeNanoseconds: 15)),
            TopRow(container: .host, parent: [], command: Array("c".utf8),
                   counts: TopCounts(execs: 5, failedExecs: 1, exits: 9, failedExits: 1, cpuNanoseconds: 1, lifetimeNanoseconds: 90, maxLifetimeNanoseconds: 50)),
        ]
        func order(_ key: TopSortKey) -> String {
            String(decoding: TopAggregator.sorted(rows, by: key).flatMap { $0.command! }, as: UTF8.self)
        }
        #expect(order(.cpu) == "bac")
        #expect(order(.execs) == "bca")
        #expect(order(.exits) == "cba")
        #expect(order(.failures) == "acb")
        #expect(order(.failedExits) == "bca")
        #expect(order(.averageLifetime) == "abc")  // 100, 10, 10 (the tie broken by CPU)
        #expect(order(.maxLifetime) == "acb")
        // Ties fall back to CPU, then execs, then the names.
        let tied = [TopRow(container: .host, parent: nil, command: Array("z".utf8), counts: TopCounts()),
                    TopRow(container: .host, parent: nil, command: Array("y".utf8), counts: TopCounts())]
        #expect(TopAggregator.sorted(tied, by: .cpu).map { $0.command! } == [Array("y".utf8), Array("z".utf8)])
    }

    @Test func crashLoopNeedsFiveFailuresOfOneCommandInOneContainerWithinTheWindow() {
        let a = aggregator(crash: CrashLoopRule(threshold: 5, windowNanoseconds: 10 * second))
        let crasher = group(100, "sh", "app")
        let other = group(200, "sh", "app") // same command, other container: judged apart
        func interval(ending end: UInt64, _ failures: [TopGroup: [UInt32: UInt64]]) -> TopInterval {
            var counts: [TopGroup: TopCounts] = [:]
            for (g, statuses) in failures {
                let n = statuses.values.reduce(0, +)
                counts[g] = TopCounts(execs: n, exits: n, failedExits: n)
            }
            return TopInterval(start: end - 2 * second, end: end, counts: counts, failedExitStatuses: failures,
                               details: [crasher: detail(100, args: ["app"]), other: detail(200, args: ["app"])])
        }
        // 3 failures, then 1 + (3 in the other container): neither reaches 5.
        var s = a.snapshot(interval(ending: 2 * second, [crasher: [1 << 8: 3]]))
        #expect(s.rows.allSatisfy { $0.crashLoop == nil })
        s = a.snapshot(interval(ending: 4 * second, [crasher: [1 << 8: 1], other: [1 << 8: 3]]))
        #expect(s.rows.allSatisfy { $0.crashLoop == nil })
        // One more, by a signal: 5 within 10 s, with the histogram of the whole window.
        s = a.snapshot(interval(ending: 6 * second, [crasher: [UInt32(SIGSEGV) | 0x80: 1]]))
        let loop = try! #require(s.rows.first { $0.container == .container(Self.web) }?.crashLoop)
        #expect(loop.failedExits == 5)
        #expect(loop.windowNanoseconds == 10 * second)
        #expect(loop.statuses == [ExitStatusCount(status: 1 << 8, count: 4), ExitStatusCount(status: UInt32(SIGSEGV) | 0x80, count: 1)])
        #expect(loop.statuses[1].signal == SIGSEGV && loop.statuses[1].coreDumped)
        #expect(loop.statuses[0].exitCode == 1)
        // The first 3 fall out of the window: 2 left, no longer a loop.
        s = a.snapshot(interval(ending: 13 * second, [crasher: [1 << 8: 0]]))
        #expect(s.rows.allSatisfy { $0.crashLoop == nil })
    }

    /// The kernel's map is full: what did not fit arrives as `other`. It becomes one row, the totals
    /// are the rows plus it (the host's exact figures), and the fork storm judges all of it.
    @Test func otherIsOneRowAndTheTableAddsUpToTheHostTotals() {
        let counted = [
            group(100, "sh", "sha256sum"): TopCounts(execs: 100, exits: 90, failedExits: 2, cpuNanoseconds: 900_000_000,
                                                       lifetimeNanoseconds: 450_000_000, maxLifetimeNanoseconds: 9_000_000),
            group(1, "storm", "n17"): TopCounts(execs: 1, exits: 1, cpuNanoseconds: 1_000_000,
                                                  lifetimeNanoseconds: 2_000_000, maxLifetimeNanoseconds: 2_000_000),
        ]
        let other = TopCounts(execs: 2_399, failedExecs: 7, exits: 2_398, failedExits: 3, cpuNanoseconds: 1_100_000_000,
                              lifetimeNanoseconds: 4_796_000_000, maxLifetimeNanoseconds: 30_000_000)
        let interval = TopInterval(start: 10 * second, end: 12 * second, counts: counted,
                                   details: [group(100, "sh", "sha256sum"): detail(100, args: ["sha256sum"])],
                                   other: other, otherFailedExitStatuses: [1 << 8: 3])
        let a = aggregator()
        a.seedUsualRate(forksSinceBoot: 36_000, uptimeNanoseconds: 3600 * second) // 10/s
        let snapshot = a.snapshot(interval, onlineCPUs: 2)
        #expect(snapshot.rows.count == 3)
        let row = try! #require(snapshot.rows.first { $0.isOther })
        #expect(row.container == nil && row.parent == nil && row.command == nil && row.lastArgs.isEmpty)
        #expect(row.counts == other)
        #expect(row.counts.averageLifetimeNanoseconds == 2_000_000)
        // Sorted by CPU like any row: the storm's share is the largest.
        #expect(snapshot.rows.first?.isOther == true)
        // Totals = rows + (other), field by field; the maximum is the largest.
        var sum = TopCounts()
        for r in snapshot.rows { sum.add(r.counts) }
        #expect(snapshot.totals.counts == sum)
        #expect(snapshot.totals.counts.execs == 2_500 && snapshot.totals.counts.exits == 2_489)
        #expect(snapshot.totals.counts.failedExecs == 7 && snapshot.totals.counts.failedExits == 5)
        #expect(snapshot.totals.counts.cpuNanoseconds == 2_001_000_000)
        #expect(snapshot.totals.counts.maxLifetimeNanoseconds == 30_000_000)
        // 1250 execs/s, usually 10: a storm, though only 101 execs were grouped.
        #expect(snapshot.totals.forkStorm?.execsPerSecond == 1250)
        // Three failures are under the crash-loop threshold.
        #expect(row.crashLoop == nil)

        // Under --container web the (other) row stays (its container is unknown) and in the totals.
        let webOnly = aggregator()
        webOnly.only = .containers([Self.web.id])
        let web = webOnly.snapshot(interval, onlineCPUs: 2)
        #expect(web.rows.map(\.isOther).sorted { !$0 && $1 } == [false, true])
        #expect(web.totals.counts.execs == 100 + 2_399)

        // Nothing outside the groups: no (other) row.
        let calm = a.snapshot(TopInterval(start: 12 * second, end: 14 * second, counts: counted), onlineCPUs: 2)
        #expect(!calm.rows.contains { $0.isOther })
        #expect(calm.totals.counts.execs == 101)
    }

    /// Failed exits in (other) are judged over the window like a command's: a crash loop hidden by
    /// a full map still shows, as (other)'s, with its statuses.
    @Test func failedExitsInOtherReachingTheThresholdShowTheirStatuses() {
        let a = aggregator(crash: CrashLoopRule(threshold: 5, windowNanoseconds: 10 * second))
        func interval(ending end: UInt64, _ statuses: [UInt32: UInt64]) -> TopInterval {
            let n = statuses.values.reduce(0, +)
            return TopInterval(start: end - 2 * second, end: end, counts: [:],
                               other: TopCounts(execs: n, exits: n, failedExits: n), otherFailedExitStatuses: statuses)
        }
        var s = a.snapshot(interval(ending: 2 * second, [1 << 8: 3]))
        #expect(s.rows.count == 1 && s.rows[0].isOther && s.rows[0].crashLoop == nil)
        s = a.snapshot(interval(ending: 4 * second, [1 << 8: 1, UInt32(SIGSEGV): 1]))
        let loop = try! #require(s.rows.first?.crashLoop)
        #expect(loop.failedExits == 5)
        #expect(loop.statuses == [ExitStatusCount(status: 1 << 8, count: 4), ExitStatusCount(status: UInt32(SIGSEGV), count: 1)])
    }

    /// A counted group whose statuses the histogram map could not take (the kernel says so in
    /// `lost.exitCodes`): its failed exits still make a crash loop, as "not recorded".
    @Test func failedExitsWithoutARecordedStatusStillMakeACrashLoop() {
        let a = aggregator(crash: CrashLoopRule(threshold: 5, windowNanoseconds: 10 * second))
        let crasher = group(100, "sh", "app")
        let interval = TopInterval(start: 0, end: 2 * second,
                                   counts: [crasher: TopCounts(execs: 6, exits: 6, failedExits: 6)],
                                   failedExitStatuses: [crasher: [1 << 8: 2]], details: [crasher: detail(100, args: ["app"])],
                                   lost: TopLosses(exitCodes: 4))
        let loop = try! #require(a.snapshot(interval).rows.first?.crashLoop)
        #expect(loop.failedExits == 6)
        #expect(loop.statuses == [ExitStatusCount(status: ExitStatusCount.unrecorded, count: 4), ExitStatusCount(status: 1 << 8, count: 2)])
        #expect(!loop.statuses[0].isRecorded && loop.statuses[0].exitCode == nil && loop.statuses[0].signal == nil)
        // Without a loss reported, a count ahead of its statuses is a read between two updates: not a loop.
        let b = aggregator(crash: CrashLoopRule(threshold: 5, windowNanoseconds: 10 * second))
        var racing = interval
        racing.lost = TopLosses()
        #expect(b.snapshot(racing).rows.first?.crashLoop == nil)
    }

    @Test func forkStormIsTenTimesTheUsualRateAndAtLeastAHundred() {
        var rule = ForkStormRule()
        rule.seed(forksSinceBoot: 36_000, uptimeNanoseconds: 3600 * second) // 10 forks/s since boot
        #expect(rule.evaluate(execsPerSecond: 50) == nil)    // calm: the usual rate moves to 18
        #expect(abs(rule.usualPerSecond! - 18) < 1e-9)
        #expect(rule.evaluate(execsPerSecond: 170) == nil)   // under 10x 18
        let usual = rule.usualPerSecond!
        let storm = rule.evaluate(execsPerSecond: 10 * usual + 1)
        #expect(storm?.usualPerSecond == usual)
        #expect(rule.usualPerSecond == usual)                // a storm does not become the usual
        var quiet = ForkStormRule()
        quiet.seed(forksSinceBoot: 10, uptimeNanoseconds: 3600 * second)
        #expect(quiet.evaluate(execsPerSecond: 99) == nil)   // far above usual, but under 100/s
    }

    @Test func hostCPUFromProcStat() {
        let text = """
        cpu  100 20 30 800 50 0 10 5 0 0
        cpu0 50 10 15 400 25 0 5 2 0 0
        processes 4242
        """
        let stat = HostCPUStat.parse(text, ticksPerSecond: 100)
        #expect(stat == HostCPUStat(busyNanoseconds: 165 * 10_000_000, totalNanoseconds: 1015 * 10_000_000, forks: 4242))
        #expect(HostCPUStat.parse("cpu 1 2\n", ticksPerSecond: 100) == nil)
    }
}
