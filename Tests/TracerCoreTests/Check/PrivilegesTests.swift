import BPF
import Glibc
import Testing
@testable import TracerCore

/// The rules `tracer check` reports and every command applies, on values (no privileges needed).
struct PrivilegesTests {
    static let denied = TraceFS.Access.denied(path: "/sys/kernel/tracing", errno: EACCES, mode: 0o700, owner: 0)
    static let readable = TraceFS.Access.readable(path: "/sys/kernel/tracing")

    func privileges(_ caps: Set<Capability>, uid: UInt32 = 65534, tracefs: TraceFS.Access = denied, addresses: Bool = false) -> Privileges {
        Privileges(capabilities: caps, uid: uid, tracefs: tracefs, kernelAddressesVisible: addresses)
    }

    @Test func bpfAndPerfmonAloneCannotReadRootOnlyTracefs() {
        let p = privileges([.bpf, .perfmon])
        let missing = p.shortfalls(for: .exec)
        #expect(missing.map(\.capabilities) == [[.dacReadSearch]])
        let text = Privileges.refusal(missing)
        #expect(text.contains("CAP_DAC_READ_SEARCH to read tracefs (/sys/kernel/tracing is mode 0700, owner uid 0: EACCES"), "\(text)")
        #expect(!text.contains("5.8") && !text.contains("not mounted"))
        #expect(p.recommended(for: [.exec]) == [.bpf, .perfmon, .dacReadSearch])
    }

    @Test func withReadSearchTracingNeedsNothingMore() {
        let p = privileges([.bpf, .perfmon, .dacReadSearch], tracefs: Self.readable)
        for command in [Privileges.Command.exec, .top, .drops] { #expect(p.shortfalls(for: command).isEmpty) }
        #expect(p.shortfalls(for: .egress).map(\.capabilities) == [[.sysAdmin], [.netAdmin]])
        #expect(p.shortfalls(for: .diagnose).map(\.capabilities) == [[.sysAdmin], [.netAdmin]])
        #expect(p.shortfalls(for: .netns).map(\.capabilities) == [[.sysAdmin]])
        #expect(p.limitations(for: .drops).map(\.capability) == [.sysAdmin, .syslog])
        #expect(p.limitations(for: .exec).isEmpty)
    }

    @Test func rootWithoutCapabilitiesIsNamedTheBPFOnes() {
        // uid 0 owns tracefs: only the BPF capabilities are missing.
        let p = privileges([], uid: 0, tracefs: Self.readable)
        #expect(p.shortfalls(for: .top).map(\.capabilities) == [[.bpf, .perfmon]])
        #expect(p.recommended(for: [.exec]) == [.bpf, .perfmon])
        #expect(Privileges.refusal(p.shortfalls(for: .top)).hasPrefix("needs CAP_BPF and CAP_PERFMON to load BPF programs"))
    }

    @Test func sysAdminCoversTheBPFChecksButNotTracefsForOtherUids() {
        let p = privileges([.sysAdmin, .netAdmin])
        #expect(p.shortfalls(for: .egress).map(\.capabilities) == [[.dacReadSearch]])
        #expect(p.shortfalls(for: .diagnose).isEmpty)
    }

    @Test func tracefsDeniedDespiteReadSearchNamesNoCapability() {
        let p = privileges([.bpf, .perfmon, .dacReadSearch])
        let missing = p.shortfalls(for: .exec)
        #expect(missing.count == 1 && missing[0].capabilities.isEmpty)
        #expect(missing[0].text.contains("security module"))
    }

    @Test func visibleKernelAddressesNeedNoSyslog() {
        let p = privileges([.bpf, .perfmon, .dacReadSearch, .sysAdmin], tracefs: Self.readable, addresses: true)
        #expect(p.limitations(for: .drops).isEmpty)
    }

    @Test func octalModes() {
        #expect(Privileges.octal(0o700) == "0700")
        #expect(Privileges.octal(0o4755) == "4755")
    }
}
