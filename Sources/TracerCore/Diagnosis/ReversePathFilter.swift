/// Reverse-path filtering on one device as the kernel applies it: the higher of
/// `conf.all.rp_filter` and the device's own (0 off, 1 strict, 2 loose). One reading for the
/// egress check, the inbound check and the traced explanation, so they name the same keys and
/// give the same fix.
struct ReversePathFilter {
    static func allKey() -> String { "net/ipv4/conf/all/rp_filter" }
    static func deviceKey(_ device: String) -> String { "net/ipv4/conf/\(device)/rp_filter" }

    let device: String
    let all: Int
    let own: Int

    /// The two settings through `sysctl` (a namespace's readings); unreadable counts as 0.
    init(device: String, sysctl: (String) -> SysctlFile.Reading) {
        self.device = device
        all = sysctl(Self.allKey()).value.flatMap(Int.init) ?? 0
        own = sysctl(Self.deviceKey(device)).value.flatMap(Int.init) ?? 0
    }

    var mode: Int { max(all, own) }

    /// "net.ipv4.conf.all.rp_filter = 1, net.ipv4.conf.uplink0.rp_filter = 0".
    var evidence: String {
        "\(EgressChecks.dotted(Self.allKey())) = \(all), \(EgressChecks.dotted(Self.deviceKey(device))) = \(own)"
    }

    /// Loose mode on the device (any route back will do), in the namespace `command` runs in.
    static func looseFix(device: String, _ command: NamespaceCommand) -> String {
        command.sysctl(allKey(), "2") + " && " + command.sysctl(deviceKey(device), "2")
    }
}
