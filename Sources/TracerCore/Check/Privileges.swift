import BPF
import Glibc

/// What each command needs from the kernel's permission checks, and what this process lacks of
/// it: the one place that decides, so `tracer check` advises exactly what the commands demand.
///
/// Measured with setpriv on Linux 6.18 (perf_event_paranoid 2, kptr_restrict 0, tracefs mode 0700
/// root), as uid 0 and as uid 65534 with only the named capabilities (README "Privileges"):
/// - loading and attaching the tracepoint programs and their maps: CAP_BPF and CAP_PERFMON
///   (CAP_SYS_ADMIN covers both);
/// - tracefs, where libbpf reads each tracepoint's id and `drops` the kernel's drop reasons: for any
///   uid but 0, CAP_DAC_READ_SEARCH (tracefs is root's, mode 0700, its files 0440);
/// - entering network namespaces (setns), for the endpoints' paths: CAP_SYS_ADMIN;
/// - reading nftables and iptables rules and adding the trace table: CAP_NET_ADMIN;
/// - the function names of drop locations (/proc/kallsyms): CAP_SYSLOG at perf_event_paranoid 2;
///   without it a location is an address, nothing else is lost.
public struct Privileges: Sendable, Equatable {
    /// The commands that need more than an ordinary user has.
    public enum Command: String, Sendable, CaseIterable {
        case exec, top, drops, egress, diagnose, rules, netns
    }

    /// Something a command cannot do with this process's privileges.
    public struct Shortfall: Sendable, Equatable {
        /// The capabilities to grant, in the order they are named; empty when granting one
        /// would not help (tracefs denied although CAP_DAC_READ_SEARCH is held).
        public var capabilities: [Capability]
        /// What they are for, in the user's words: "load BPF programs".
        public var purpose: String

        /// "CAP_BPF and CAP_PERFMON to load BPF programs".
        public var text: String {
            capabilities.isEmpty ? purpose : Privileges.list(capabilities.map(\.name)) + " to " + purpose
        }
    }

    /// The effective capabilities.
    public var capabilities: Set<Capability>
    public var uid: UInt32
    public var tracefs: TraceFS.Access
    /// /proc/kallsyms shows real addresses (CAP_SYSLOG, or a permissive perf_event_paranoid).
    public var kernelAddressesVisible: Bool

    public init(capabilities: Set<Capability>, uid: UInt32, tracefs: TraceFS.Access, kernelAddressesVisible: Bool) {
        self.capabilities = capabilities
        self.uid = uid
        self.tracefs = tracefs
        self.kernelAddressesVisible = kernelAddressesVisible
    }

    /// This process's privileges, as the kernel will judge them.
    public static func current(procRoot: String = "/proc") -> Privileges {
        let status = try? ProcStatus.readSelf(procRoot: procRoot)
        return Privileges(capabilities: Set(Capability.allCases.filter { status?.has(capability: $0) == true }),
                          uid: status?.uid ?? getuid(), tracefs: TraceFS.access,
                          kernelAddressesVisible: KernelSymbols.addressesVisible())
    }

    /// What `command` cannot run without; empty when it can run.
    public func shortfalls(for command: Command) -> [Shortfall] {
        var result: [Shortfall] = []
        let traces = command == .exec || command == .top || command == .drops || command == .egress
        if traces {
            if let bpf = bpfShortfall { result.append(bpf) }
            if let tracefs = tracefsShortfall { result.append(tracefs) }
        }
        if command == .egress || command == .diagnose || command == .rules || command == .netns, !capabilities.contains(.sysAdmin) {
            result.append(Shortfall(capabilities: [.sysAdmin], purpose: "enter network namespaces"))
        }
        if command == .egress || command == .diagnose || command == .rules, !capabilities.contains(.netAdmin) {
            result.append(Shortfall(capabilities: [.netAdmin], purpose: "read the firewall's rules"))
        }
        return result
    }

    /// Something a command does less well without a capability; it runs all the same.
    public struct Limitation: Sendable, Equatable {
        public var capability: Capability
        /// What is lost: "drop locations are kernel addresses, not function names".
        public var consequence: String
        /// "without CAP_SYSLOG, drop locations are kernel addresses, not function names".
        public var text: String { "without \(capability.name), \(consequence)" }
    }

    /// What `command` does less well with this process's privileges.
    public func limitations(for command: Command) -> [Limitation] {
        var result: [Limitation] = []
        if command == .drops, !capabilities.contains(.sysAdmin) {
            result.append(Limitation(capability: .sysAdmin, consequence: "drops are not attributed to container endpoints (entering their network namespaces needs it)"))
        }
        if command == .drops || command == .egress, !kernelAddressesVisible, !capabilities.contains(.syslog) {
            result.append(Limitation(capability: .syslog, consequence: "drop locations are kernel addresses, not function names"))
        }
        return result
    }

    /// The capabilities `commands` lack here, beyond what is held.
    public func missing(for commands: [Command]) -> [Capability] {
        let needed = Set(commands.flatMap { shortfalls(for: $0).flatMap(\.capabilities) })
        return Capability.allCases.filter { needed.contains($0) }
    }

    /// The narrowest complete set for `commands` at this uid, as a `setcap` on the binary must
    /// name it (setcap replaces the file's set): CAP_BPF and CAP_PERFMON rather than
    /// CAP_SYS_ADMIN for tracing; CAP_DAC_READ_SEARCH only where the uid is not 0.
    public func recommended(for commands: [Command], fullDetail: Bool = false) -> [Capability] {
        var set: Set<Capability> = []
        for command in commands {
            switch command {
            case .exec, .top, .drops, .egress:
                set.formUnion([.bpf, .perfmon])
                if uid != 0 { set.insert(.dacReadSearch) }
            case .diagnose, .rules, .netns:
                break
            }
            if command == .egress || command == .diagnose || command == .rules || command == .netns { set.insert(.sysAdmin) }
            if command == .egress || command == .diagnose || command == .rules { set.insert(.netAdmin) }
            if fullDetail && command == .drops { set.formUnion([.sysAdmin, .syslog]) }
            if fullDetail && command == .egress { set.insert(.syslog) }
        }
        return Capability.allCases.filter { set.contains($0) }
    }

    private var bpfShortfall: Shortfall? {
        // CAP_SYS_ADMIN alone passes both of the kernel's checks (bpf_capable, perfmon_capable).
        if capabilities.contains(.sysAdmin) { return nil }
        let lacking = [Capability.bpf, .perfmon].filter { !capabilities.contains($0) }
        return lacking.isEmpty ? nil : Shortfall(capabilities: lacking, purpose: "load BPF programs")
    }

    private var tracefsShortfall: Shortfall? {
        switch tracefs {
        case .readable:
            return nil
        case .notMounted:
            // The probes mount it themselves when they may (CAP_SYS_ADMIN).
            return capabilities.contains(.sysAdmin) ? nil
                : Shortfall(capabilities: [.sysAdmin], purpose: "mount tracefs (it is not mounted; or mount it: mount -t tracefs nodev /sys/kernel/tracing)")
        case .denied(let path, let e, let mode, let owner):
            let why = "read tracefs (\(path) is mode \(Privileges.octal(mode)), owner uid \(owner): \(Privileges.errnoName(e)))"
            if capabilities.contains(.dacReadSearch) || capabilities.contains(.dacOverride) {
                return Shortfall(capabilities: [], purpose: why + " although CAP_DAC_READ_SEARCH is held: a security module or user namespace denies it")
            }
            return Shortfall(capabilities: [.dacReadSearch], purpose: why)
        }
    }

    /// "A", "A and B", "A, B and C".
    static func list(_ items: [String]) -> String {
        guard items.count > 1 else { return items.first ?? "" }
        return items.dropLast().joined(separator: ", ") + " and " + items.last!
    }

    /// "0700".
    public static func octal(_ mode: UInt32) -> String {
        let digits = String(mode, radix: 8)
        return String(repeating: "0", count: max(0, 4 - digits.count)) + digits
    }

    static func errnoName(_ e: Int32) -> String {
        (Errno(e).name ?? "errno \(e)") + ", " + Errno(e).text
    }

    /// One line for a command refused: "needs CAP_BPF and CAP_PERFMON to load BPF programs; ...".
    public static func refusal(_ shortfalls: [Shortfall]) -> String {
        "needs " + shortfalls.map(\.text).joined(separator: "; ") + ". Run as root, or see `tracer check`"
    }
}
