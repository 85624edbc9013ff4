import BPF
import BPFPrograms
import Glibc

/// `tracer check`: can tracing work on this host, and if not, exactly why and what to do.
public struct TracingCheck: Sendable {
    public enum Status: String, Sendable {
        case ok, warning, problem
        /// A feature the tracer does not need, reported for the record.
        case unavailable
        case info
    }

    public struct Item: Sendable {
        public var name: String
        public var status: Status
        public var detail: String
        public var fix: String?
    }

    public var items: [Item] = []

    /// True when nothing the tracer needs is missing.
    public var tracingWorks: Bool { !items.contains { $0.status == .problem } }
    public var missingPrivileges: Bool { items.contains { $0.name == "privileges" && $0.status == .problem } }

    /// Every tracepoint a tracer command attaches to.
    public static let tracepoints = [
        "sched/sched_process_exec", "sched/sched_process_exit",
        "syscalls/sys_enter_execve", "syscalls/sys_exit_execve",
        "syscalls/sys_enter_execveat", "syscalls/sys_exit_execveat",
        "net/netif_receive_skb", "net/net_dev_queue",
        "skb/kfree_skb",
    ]

    /// Runs every check. Loads and attaches one tiny program per attach type (needs root to pass).
    public static func run(procRoot: String = "/proc", sysRoot: String = "/sys") -> TracingCheck {
        var check = TracingCheck()
        check.kernel()
        check.btf(sysRoot: sysRoot)
        let mountedTraceFS = TraceFS.mountIfNeeded()
        let privileged = check.privileges(Privileges.current(procRoot: procRoot))
        check.lockdown(sysRoot: sysRoot)
        let mounts = try? MountTable.read()
        let tracefs = TraceFS.access
        check.fileSystems(tracefs, mountedTraceFS: mountedTraceFS, mounts: mounts)
        check.attachTypes(privileged: privileged)
        check.requiredTracepoints(tracefs)
        check.cgroups(mounts: mounts)
        return check
    }

    private mutating func add(_ name: String, _ status: Status, _ detail: String, fix: String? = nil) {
        items.append(Item(name: name, status: status, detail: detail, fix: fix))
    }

    private mutating func kernel() {
        var u = utsname()
        uname(&u)
        let release = String(decoding: ProcessEventDecoder.cString(&u.release), as: UTF8.self)
        let machine = String(decoding: ProcessEventDecoder.cString(&u.machine), as: UTF8.self)
        let parts = release.split(whereSeparator: { !$0.isNumber }).compactMap { Int($0) }
        let recent = parts.count >= 2 && (parts[0], parts[1]) >= (5, 8)
        add("kernel", recent ? .ok : .problem, "\(release) \(machine)",
            fix: recent ? nil : "tracer needs Linux 5.8 or later (ring buffer, BTF, boot-time clock)")
    }

    private mutating func btf(sysRoot: String) {
        let path = "\(sysRoot)/kernel/btf/vmlinux"
        if access(path, R_OK) == 0 {
            add("btf", .ok, path)
        } else {
            add("btf", .problem, "\(path) is missing: the kernel has no BTF, so CO-RE programs cannot load",
                fix: "boot a kernel built with CONFIG_DEBUG_INFO_BTF=y")
        }
    }

    /// One line for tracing (exec, top, drops), one for the commands that enter namespaces and read
    /// the firewall (egress, diagnose, netns), one for what works less well: all from `Privileges`,
    /// the rules the commands themselves apply.
    private mutating func privileges(_ privileges: Privileges) -> Bool {
        let relevant: [Capability] = [.bpf, .perfmon, .dacReadSearch, .sysAdmin, .netAdmin, .syslog]
        let held = relevant.filter { privileges.capabilities.contains($0) }.map(\.name)
        let who = "uid \(privileges.uid), " + (held.isEmpty ? "none of " + relevant.map(\.name).joined(separator: " ") : held.joined(separator: " "))
        let tracing = privileges.shortfalls(for: .exec)
        add("privileges", tracing.isEmpty ? .ok : .problem,
            who + (tracing.isEmpty ? ": enough for exec, top and drops" : "; exec, top and drops need " + tracing.map(\.text).joined(separator: "; ")),
            fix: tracing.isEmpty ? nil : Self.grantFix(privileges.missing(for: [.exec]), setcap: privileges.recommended(for: [.exec])))
        let network = privileges.shortfalls(for: .egress).filter { $0.capabilities.contains(.sysAdmin) || $0.capabilities.contains(.netAdmin) }
        let everything: [Privileges.Command] = [.exec, .egress, .diagnose, .rules, .netns]
        add("privileges for egress, diagnose, netns", network.isEmpty ? .ok : .warning,
            network.isEmpty ? "enough to enter network namespaces and read the firewall"
                : "missing " + network.map(\.text).joined(separator: "; "),
            fix: network.isEmpty ? nil : Self.grantFix(network.flatMap(\.capabilities), setcap: privileges.recommended(for: everything)))
        let limits = privileges.limitations(for: .drops)
        if !limits.isEmpty {
            add("privileges for drop details", .warning, limits.map(\.text).joined(separator: "; "),
                fix: Self.grantFix(limits.map(\.capability), setcap: privileges.recommended(for: everything + [.drops], fullDetail: true)))
        }
        return tracing.isEmpty
    }

    /// Names what is missing, and the complete set a `setcap` must give the binary.
    static func grantFix(_ missing: [Capability], setcap: [Capability]) -> String {
        "run as root, or grant \(Privileges.list(missing.map(\.name))) too: sudo setcap \(setcap.map(\.setcapName).joined(separator: ","))+ep $(command -v tracer)"
    }

    private mutating func lockdown(sysRoot: String) {
        guard let text = try? FileSystem.readText("\(sysRoot)/kernel/security/lockdown", kind: .kernelSetting) else {
            add("lockdown", .info, "not reported (no lockdown LSM)")
            return
        }
        let mode = text.split(separator: " ").first { $0.hasPrefix("[") }.map { String($0.dropFirst().dropLast()) } ?? text
        let detail = mode == "none" ? "none" : "\(mode): kprobes and fentry may be refused; tracepoints still work"
        add("lockdown", mode == "confidentiality" ? .warning : .info, detail,
            fix: mode == "confidentiality" ? "confidentiality lockdown blocks reading kernel memory; boot with lockdown=integrity or none" : nil)
    }

    private mutating func fileSystems(_ tracefs: TraceFS.Access, mountedTraceFS: Bool, mounts: MountTable?) {
        switch tracefs {
        case .readable(let path):
            add("tracefs", .ok, path + (mountedTraceFS ? " (mounted by tracer)" : ""))
        case .denied(let path, let e, let mode, let owner):
            // Mounted: a permission, never the kernel, is what is missing.
            add("tracefs", .problem, "\(path) is mounted but not readable: \(Privileges.errnoName(e)) (mode \(Privileges.octal(mode)), owner uid \(owner))",
                fix: "run as root, or grant CAP_DAC_READ_SEARCH (libbpf reads the tracepoints' ids there)")
        case .notMounted:
            add("tracefs", .problem, "tracefs is not mounted and could not be mounted",
                fix: "mount -t tracefs nodev /sys/kernel/tracing")
        }
        let bpffs = mounts?.mounts(ofType: "bpf").first?.mountPoint
        add("bpffs", .info, bpffs.map { "mounted at \($0)" } ?? "not mounted (not needed: tracer pins nothing)")
    }

    /// One object per program, so that one refusal does not hide the others.
    private mutating func attachTypes(privileged: Bool) {
        let probes: [(String, ProgramSchema, needed: Bool)] = [
            ("tracepoint", CheckObject.tracepoint, true),
            ("raw_tracepoint", CheckObject.rawTracepoint, false),
            ("tp_btf", CheckObject.btfTracepoint, false),
            ("ring buffer", CheckObject.ringBuffer, true),
            ("kprobe", CheckObject.kprobe, false),
            ("fentry", CheckObject.fentry, false),
        ]
        for (name, program, needed) in probes {
            do {
                let object = try BPFObject(name: "check", bytes: EmbeddedBPF.check.bytes)
                defer { object.close() }
                for other in object.programNames where other != program.name {
                    try object.setAutoload(program: other, false)
                }
                try object.load()
                try object.attach(program)
                add(name, .ok, name == "ring buffer" ? "BPF_MAP_TYPE_RINGBUF loads" : "loads and attaches")
            } catch let error as BPFError {
                let detail = "\(error)"
                if needed {
                    // A refusal for want of privileges (or of tracefs access) says so: only a
                    // program the kernel turned down with everything granted points at the kernel.
                    let refused = !privileged || error.isPermissionDenied
                    add(name, .problem, detail, fix: refused ? "a permission is missing: see privileges and tracefs above"
                        : "tracer needs \(name) support: Linux 5.8+ with BPF enabled")
                } else {
                    add(name, .unavailable, detail + " (not needed: tracer uses tracepoints only)")
                }
            } catch {
                add(name, needed ? .problem : .unavailable, "\(error)")
            }
        }
    }

    private mutating func requiredTracepoints(_ tracefs: TraceFS.Access) {
        for tracepoint in TracingCheck.tracepoints {
            let parts = tracepoint.split(separator: "/").map(String.init)
            if case .denied(_, let e, _, _) = tracefs {
                add("tracepoint \(tracepoint)", .problem, "cannot tell: tracefs is not readable (\(Errno(e).name ?? "errno \(e)"))")
            } else if case .notMounted = tracefs {
                add("tracepoint \(tracepoint)", .problem, "cannot tell: tracefs is not mounted")
            } else if TraceFS.hasTracepoint(category: parts[0], name: parts[1]) {
                add("tracepoint \(tracepoint)", .ok, "present")
            } else {
                add("tracepoint \(tracepoint)", .problem, "missing on this kernel",
                    fix: "the commands using \(tracepoint) cannot work on this kernel")
            }
        }
    }

    private mutating func cgroups(mounts: MountTable?) {
        guard let mounts else {
            add("cgroups", .warning, "cannot read /proc/self/mountinfo")
            return
        }
        let layout = CgroupLayout(mounts: mounts)
        add("cgroups", layout.kind == .none ? .warning : .ok, layout.summary,
            fix: layout.kind == .none ? "mount cgroup2 (mount -t cgroup2 none /sys/fs/cgroup) for container attribution" : nil)
    }
}
