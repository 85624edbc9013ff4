/// `tracer exec --output json`: one object per line. Field names are documented in the README.
public struct ExecJSON {
    public let clock: BootClock
    private let seconds = Formatting.SecondsCache()

    public init(clock: BootClock) {
        self.clock = clock
    }

    private func time(_ boot: UInt64) -> [UInt8] {
        Formatting.rfc3339Bytes(clock.wallClock(boot), cache: seconds)
    }

    public func line(_ output: ExecOutput) -> String {
        String(decoding: lineBytes(output), as: UTF8.self)
    }

    public func lineBytes(_ output: ExecOutput) -> [UInt8] {
        switch output {
        case .exec(let e):
            var json = JSONLine()
            json.add("type", "exec")
            fill(&json, e, time: e.timestamp)
            return json.finishedBytes
        case .exit(let r):
            var json = JSONLine()
            json.add("type", "exit")
            fill(&json, r.exec, time: r.exit.timestamp)
            json.add("duration_ns", r.exit.lifetimeNanoseconds)
            json.add("cpu_ns", r.exit.cpuNanoseconds)
            json.add("user_ns", r.exit.userNanoseconds)
            json.add("system_ns", r.exit.systemNanoseconds)
            json.add("exit_code", optional: r.exit.exitCode)
            json.add("signal", optional: r.exit.signal)
            json.add("core_dumped", r.exit.coreDumped)
            json.add("max_rss_kb", r.exit.maxRSSKilobytes)
            return json.finishedBytes
        }
    }

    public func lost(_ count: UInt64, at time: UInt64) -> String {
        var json = JSONLine()
        json.add("type", "lost")
        json.add("time", Formatting.rfc3339(clock.wallClock(time)))
        json.add("count", count)
        return json.finished
    }

    private func fill(_ json: inout JSONLine, _ e: ExecEvent, time: UInt64) {
        json.add("time", plainBytes: self.time(time))
        json.add("timestamp_ns", time)
        json.add("pid", e.pid)
        json.add("tid", e.tid)
        json.add("ppid", e.ppid)
        json.add("pcomm", bytes: e.parentComm)
        json.add("uid", e.uid)
        json.add("comm", bytes: e.comm)
        json.add("filename", bytes: e.filename)
        json.add("args", strings: e.args)
        json.add("args_truncated", e.argsTruncated)
        json.add("ret", e.ret)
        if e.failed { json.add("error", Formatting.errnoName(-e.ret)) }
        json.add("start_time", plainBytes: Formatting.rfc3339Bytes(clock.wallClock(e.startTime), cache: nil))
        var cgroup = JSONLine()
        cgroup.add("id", e.keys.cgroupID)
        cgroup.add("name", e.keys.cgroupName)
        cgroup.add("parent", e.keys.cgroupParent)
        if e.keys.cgroupV1ID != 0 {
            var v1 = JSONLine()
            v1.add("id", e.keys.cgroupV1ID)
            v1.add("name", e.keys.cgroupV1Name)
            v1.add("parent", e.keys.cgroupV1Parent)
            cgroup.add("v1", object: v1)
        }
        json.add("cgroup", object: cgroup)
        var namespaces = JSONLine()
        namespaces.add("mnt", e.keys.mountNamespace)
        namespaces.add("net", e.keys.networkNamespace)
        namespaces.add("pid", e.keys.pidNamespace)
        json.add("namespaces", object: namespaces)
        json.add("pid_in_namespace", e.keys.pidInNamespace)
        ContainerJSON.add(e.attribution ?? .host, to: &json)
    }
}
