/// `tracer pid`: a block of `key: value` lines per process, or one JSON object per process.
/// Every value from the host (names, ids, pod, cgroup paths, warnings, namespace and interface
/// names) is escaped here, where it is printed.
public enum ProcessReportRender {
    public static func table(_ r: ProcessReport, clock: BootClock) -> [String] {
        var lines: [String] = []
        // At least one space after a key as long as the column ("ipv6 default route:").
        func row(_ key: String, _ value: String) { lines.append(Formatting.left(key + ":", 17) + " " + value) }
        func text(_ s: String) -> String { ByteText.escaped(s) }
        row("pid", String(r.pid) + (r.namespacePIDs.count > 1 ? "  (in its namespaces: " + r.namespacePIDs.dropFirst().map(String.init).joined(separator: " -> ") + ")" : ""))
        row("command", r.isKernelThread ? "[\(ByteText.escaped(Array(r.comm.utf8)))] (kernel thread)" : ExecTable.arguments(r.commandLine, truncated: false))
        row("parent", String(r.ppid))
        row("started", Formatting.rfc3339(clock.wallClock(r.startTime)))
        switch r.attribution {
        case .container(let c):
            row("container", "\(text(c.name ?? "-")) (\(c.runtime.rawValue) \(text(c.id)))")
            if let image = c.image { row("image", text(image)) }
            if let pod = c.pod { row("pod", "\(text(pod.namespace ?? "?"))/\(text(pod.name ?? "?")) uid \(text(pod.uid ?? "?"))") }
            row("pid in container", r.pidInContainer.map(String.init) ?? "?")
            row("container init", r.initPID.map { "pid \($0) on the host" } ?? "unknown")
            if let warning = c.warning { row("warning", text(warning)) }
        case .host:
            row("container", r.isKernelThread ? "none: kernel thread" : "none: host process")
        case .notAContainer(let reason):
            row("container", "none: \(text(reason))")
        }
        row("cgroup", r.cgroup.paths.first.map(text) ?? "?")
        for path in r.cgroup.paths.dropFirst() {
            lines.append(String(repeating: " ", count: 18) + text(path))
        }
        let ns = ProcNamespaces.kinds.compactMap { kind in
            r.namespaces[kind].map { "\(kind):\($0)" + (r.sharedWithHost.contains(kind) ? "(host)" : "") }
        }
        if let refused = r.namespaces.refused {
            row("namespaces", "unreadable: /proc/\(r.pid)/ns: \(refused.text)" + (refused.name == "EACCES" ? " (the kernel's ptrace access check; CAP_SYS_PTRACE passes it)" : ""))
        } else {
            row("namespaces", ns.joined(separator: " "))
        }
        row("netns", (r.namespaces["net"].map(String.init) ?? "?") + (r.netnsNames.isEmpty ? "" : "  " + r.netnsNames.map(text).joined(separator: " ")))
        for link in r.links {
            row("  " + text(link.interface.name), LinkRender.summary(link))
        }
        // Without its interfaces (no netns, or not allowed in) nothing was read of its routes either.
        if !r.links.isEmpty {
            for route in DefaultRouteRender.rows(r.defaultRoutes) { row(route.label, route.value) }
        }
        return lines
    }

    public static func json(_ r: ProcessReport, clock: BootClock) -> JSONLine {
        var json = JSONLine()
        json.add("type", "process")
        json.add("pid", r.pid)
        json.add("comm", r.comm)
        json.add("cmdline", strings: r.commandLine)
        json.add("ppid", r.ppid)
        json.add("start_time", Formatting.rfc3339(clock.wallClock(r.startTime)))
        json.add("kernel_thread", r.isKernelThread)
        json.add("namespace_pids", strings: r.namespacePIDs.map(String.init))
        ContainerJSON.add(r.attribution, to: &json)
        json.add("pid_in_container", optional: r.pidInContainer)
        json.add("init_pid", optional: r.initPID)
        var cgroup = JSONLine()
        cgroup.add("path", r.cgroup.attributionPath)
        cgroup.add("unified", optional: r.cgroup.unified)
        cgroup.add("paths", strings: r.cgroup.paths)
        json.add("cgroup", object: cgroup)
        var namespaces = JSONLine()
        for kind in ProcNamespaces.kinds {
            guard let inode = r.namespaces[kind] else { continue }
            var entry = JSONLine()
            entry.add("inode", inode)
            entry.add("shared_with_host", r.sharedWithHost.contains(kind))
            switch kind {
            case "mnt": namespaces.add("mnt", object: entry)
            case "net": namespaces.add("net", object: entry)
            case "pid": namespaces.add("pid", object: entry)
            case "uts": namespaces.add("uts", object: entry)
            case "ipc": namespaces.add("ipc", object: entry)
            case "user": namespaces.add("user", object: entry)
            case "cgroup": namespaces.add("cgroup", object: entry)
            default: namespaces.add("time", object: entry)
            }
        }
        json.add("namespaces", object: namespaces)
        if let refused = r.namespaces.refused { json.add("namespaces_unreadable", refused.name ?? String(refused.rawValue)) }
        var netns = JSONLine()
        netns.add("inode", optional: r.namespaces["net"])
        netns.add("names", strings: r.netnsNames)
        netns.add("interfaces", objects: r.links.map(LinkRender.json))
        DefaultRouteRender.add(r.defaultRoutes, to: &netns)
        json.add("netns", object: netns)
        return json
    }
}
