/// The names of the running kernel's drop reasons (enum skb_drop_reason), read from the
/// skb:kfree_skb tracepoint's format file: the numbers change between kernels, so they are
/// never hard-coded.
public struct DropReasons: Sendable {
    private var names: [UInt32: String]

    public init(names: [UInt32: String]) {
        self.names = names
    }

    /// From `<tracefs>/events/skb/kfree_skb/format`; nil when it cannot be read.
    public static func load(tracefs: String = "/sys/kernel/tracing") -> DropReasons? {
        guard let text = try? FileSystem.readText(tracefs + "/events/skb/kfree_skb/format", kind: .kernelSetting) else {
            return nil
        }
        let names = parse(format: text)
        return names.isEmpty ? nil : DropReasons(names: names)
    }

    /// The `{ N, "NAME" }` pairs of the format file's `__print_symbolic(REC->reason, ...)`.
    public static func parse(format: String) -> [UInt32: String] {
        guard let symbolic = format[...].firstOccurrence(of: "__print_symbolic(REC->reason") else { return [:] }
        var names: [UInt32: String] = [:]
        var rest = format[symbolic...]
        while let open = rest.firstIndex(of: "{"), let close = rest[open...].firstIndex(of: "}") {
            let pair = rest[rest.index(after: open)..<close]
            let parts = pair.split(separator: ",", maxSplits: 1)
            if parts.count == 2, let number = UInt32(parts[0].trimmed) {
                let name = parts[1].trimmed.filter { $0 != "\"" }
                names[number] = String(name)
            }
            rest = rest[rest.index(after: close)...]
        }
        return names
    }

    /// The kernel's name, or the number when this kernel does not name it.
    public func name(_ reason: UInt32) -> String { names[reason] ?? "REASON_\(reason)" }

    /// The number of a named reason on this kernel.
    public func number(_ name: String) -> UInt32? { names.first { $0.value == name }?.key }

    /// Reasons a healthy host produces all the time, hidden unless asked for: packets for
    /// closed ports, purged queues on close, multicast nobody listens to.
    public static let healthyHostNoise: Set<DropReason.Name> = [
        "NO_SOCKET", "SOCKET_CLOSE", "QUEUE_PURGE", "SOCKET_RCVBUFF", "TCP_OLD_DATA", "TCP_OFO_DROP",
        "TCP_OFOMERGE", "TCP_CLOSE", "TCP_RESET", "TCP_ZEROWINDOW", "UNIX_DISCONNECT", "UNIX_SKIP_OOB",
        "DUP_FRAG", "PKT_TOO_SMALL", "OTHERHOST", "IPV6_NDISC_NS_OTHERHOST", "TCP_OLD_ACK", "TCP_INVALID_SEQUENCE",
    ]
}
