import BPF
import Foundation
import Testing
@testable import TracerCore

/// `tracer pid` prints every host string through the one escaper: a name, pod, cgroup path,
/// warning, namespace name or interface name holding terminal controls or a bidi override
/// reaches the terminal escaped, and the JSON keeps the raw text, valid.
struct ProcessReportRenderTests {
    static let hostile = "ev\u{1B}[2J\r\u{07}\nil\u{202E}X"
    static let escaped = "ev\\x1b[2J\\r\\x07\\nil\\u202eX"

    func report(_ attribution: Attribution) -> ProcessReport {
        let h = Self.hostile
        var eth = NetworkInterface(index: 4, name: "eth" + h, kind: "veth" + h, isUp: true)
        eth.ipv4 = ["10.0.0.2/24"]
        return ProcessReport(
            pid: 4242, comm: "sh" + h, commandLine: [Array("sh".utf8), Array(h.utf8)], ppid: 1, startTime: 0,
            namespacePIDs: [4242, 1], isKernelThread: false,
            cgroup: ProcCgroup(unified: "/lxc.payload." + h, v1: ["memory": "/m" + h]),
            namespaces: ProcNamespaces(inodes: ["net": 4026531833]), sharedWithHost: [],
            attribution: attribution, initPID: 4242, netnsNames: ["/run/netns/n" + h],
            links: [LinkReport(interface: eth, peer: NetnsDirectory.Peer(netnsInode: 1, name: "veth" + h, index: 9, bridge: "br" + h))])
    }

    func expectEscaped(_ lines: [String], _ what: String) {
        let text = lines.joined(separator: "\n")
        for raw in ["\u{1B}", "\r", "\u{07}", "\u{202E}"] {
            #expect(!text.contains(raw), "raw \(raw.unicodeScalars.first!.value) in \(what)")
        }
        #expect(!text.contains("\nil"), "a raw newline split a line in \(what)")
    }

    @Test func everyHostStringInTheTableIsEscaped() {
        let h = Self.hostile
        let container = ContainerIdentity(runtime: .docker, id: "id" + h, name: h, image: "img" + h,
                                          pod: PodIdentity(namespace: "ns" + h, name: "pod" + h, uid: "uid" + h),
                                          initPID: 4242, warning: "refused to read /c" + h + ": a FIFO, not a regular file")
        let lines = ProcessReportRender.table(report(.container(container)), clock: BootClock(realtimeOffset: 0))
        expectEscaped(lines, "the container report")
        let e = Self.escaped
        for expected in ["container:        \(e) (docker id\(e))", "image:            img\(e)",
                         "pod:              ns\(e)/pod\(e) uid uid\(e)", "warning:          refused to read /c\(e): a FIFO",
                         "cgroup:           0::/lxc.payload.\(e)", "memory:/m\(e)", "/run/netns/n\(e)",
                         "  eth\(e):", "veth\(e) up", "peer veth\(e) (index 9, netns 1, bridge br\(e))", "sh \(e)"] {
            #expect(lines.contains { $0.contains(expected) }, "missing \(expected)")
        }
    }

    @Test func theReasonForNoContainerIsEscaped() {
        let lines = ProcessReportRender.table(report(.notAContainer(reason: "unrecognised cgroup /" + Self.hostile)),
                                              clock: BootClock(realtimeOffset: 0))
        expectEscaped(lines, "a host process report")
        #expect(lines.contains("container:        none: unrecognised cgroup /\(Self.escaped)"))
    }

    @Test func jsonKeepsTheRawTextAndStaysValid() throws {
        let container = ContainerIdentity(runtime: .lxc, id: Self.hostile, name: Self.hostile)
        let line = ProcessReportRender.json(report(.container(container)), clock: BootClock(realtimeOffset: 0)).finished
        #expect(!line.contains("\u{1B}") && !line.contains("\n"))
        let object = try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
        #expect((object["container"] as? [String: Any])?["name"] as? String == Self.hostile)
    }

    /// Namespaces the kernel refused (another user's process without CAP_SYS_PTRACE) are said to
    /// be unreadable, with the kernel's reason, not left blank.
    @Test func refusedNamespacesAreSaidWithTheKernelsReason() throws {
        var r = report(.host)
        r.namespaces = ProcNamespaces(inodes: [:], refused: Errno(EACCES))
        let lines = ProcessReportRender.table(r, clock: BootClock(realtimeOffset: 0))
        #expect(lines.contains("namespaces:       unreadable: /proc/4242/ns: Permission denied (the kernel's ptrace access check; CAP_SYS_PTRACE passes it)"),
                "\(lines)")
        let line = ProcessReportRender.json(r, clock: BootClock(realtimeOffset: 0)).finished
        let object = try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
        #expect(object["namespaces_unreadable"] as? String == "EACCES")
    }
}
