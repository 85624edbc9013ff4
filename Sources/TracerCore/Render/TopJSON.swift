/// `tracer top --output json`: one `snapshot` object per interval.
public struct TopJSON {
    public let clock: BootClock

    public init(clock: BootClock) {
        self.clock = clock
    }

    public func line(_ s: TopSnapshot) -> [UInt8] {
        var json = JSONLine()
        json.add("type", "snapshot")
        json.add("time", Formatting.rfc3339(clock.wallClock(s.timestamp)))
        json.add("timestamp_ns", s.timestamp)
        json.add("interval_ns", s.intervalNanoseconds)
        json.add("by", strings: s.by.map(\.rawValue))
        json.add("sort", s.sort.rawValue)
        json.add("totals", object: totals(s))
        json.add("rows", objects: s.rows.map { row($0, s) })
        return json.finishedBytes
    }

    private func totals(_ s: TopSnapshot) -> JSONLine {
        let t = s.totals
        var json = JSONLine()
        json.add("execs", t.counts.execs)
        json.add("exits", t.counts.exits)
        json.add("failures", t.counts.failedExecs)
        json.add("failed_exits", t.counts.failedExits)
        json.add("cpu_ns", t.counts.cpuNanoseconds)
        json.add("online_cpus", t.onlineCPUs)
        json.add("short_lived_cpu_share", s.shortLivedShare)
        json.add("host_busy_ns", optional: t.hostBusyNanoseconds)
        json.add("host_total_ns", optional: t.hostTotalNanoseconds)
        json.add("lost", t.lost.total)
        var lost = JSONLine()
        lost.add("processes", t.lost.processes)
        lost.add("details", t.lost.details)
        lost.add("exit_codes", t.lost.exitCodes)
        json.add("lost_by_map", object: lost)
        if let storm = t.forkStorm {
            var object = JSONLine()
            object.add("execs_per_second", storm.execsPerSecond)
            object.add("usual_per_second", storm.usualPerSecond)
            json.add("fork_storm", object: object)
        } else {
            json.addNull("fork_storm")
        }
        return json
    }

    private func row(_ row: TopRow, _ s: TopSnapshot) -> JSONLine {
        var json = JSONLine()
        if let container = row.container { ContainerJSON.add(container, to: &json) } else { json.addNull("container") }
        if let parent = row.parent { json.add("parent", bytes: parent) } else { json.addNull("parent") }
        if let command = row.command { json.add("command", bytes: command) } else { json.addNull("command") }
        // The "(other)" row: processes whose group did not fit in the kernel's map; names null.
        json.add("other", row.isOther)
        let c = row.counts
        json.add("execs", c.execs)
        json.add("exits", c.exits)
        json.add("failures", c.failedExecs)
        json.add("failed_exits", c.failedExits)
        json.add("cpu_ns", c.cpuNanoseconds)
        json.add("avg_lifetime_ns", c.averageLifetimeNanoseconds)
        json.add("max_lifetime_ns", c.maxLifetimeNanoseconds)
        if let loop = row.crashLoop {
            var object = JSONLine()
            object.add("failed_exits", loop.failedExits)
            object.add("window_ns", loop.windowNanoseconds)
            object.add("exit_codes", objects: loop.statuses.map { status in
                var entry = JSONLine()
                entry.add("code", optional: status.exitCode)
                if let signal = status.signal { entry.add("signal", Formatting.signalName(signal)) } else { entry.addNull("signal") }
                entry.add("core_dumped", status.coreDumped)
                entry.add("recorded", status.isRecorded)
                entry.add("count", status.count)
                return entry
            })
            json.add("crash_loop", object: object)
        } else {
            json.addNull("crash_loop")
        }
        json.add("last_args", strings: row.lastArgs)
        json.add("args_truncated", row.argsTruncated)
        return json
    }
}
