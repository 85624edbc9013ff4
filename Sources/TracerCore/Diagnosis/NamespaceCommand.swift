/// Spells a command to paste so that it runs in a given network namespace: as is in the root
/// namespace, `ip -n NAME` for an `ip netns` name, `nsenter --net=PATH` otherwise.
struct NamespaceCommand: Sendable {
    let path: String
    let isRoot: Bool

    /// The `ip netns` name when the namespace is bound under /run/netns.
    var ipNetnsName: String? {
        let prefix = "/run/netns/"
        guard path.hasPrefix(prefix) else { return nil }
        let name = String(path.dropFirst(prefix.count))
        return name.isEmpty || name.contains("/") ? nil : name
    }

    /// `ip ARGS` in the namespace.
    func ip(_ arguments: String) -> String { iproute2("ip", arguments) }

    /// `bridge ARGS` in the namespace.
    func bridge(_ arguments: String) -> String { iproute2("bridge", arguments) }

    /// iproute2's tools take `-n NAME` for an `ip netns` name.
    private func iproute2(_ tool: String, _ arguments: String) -> String {
        if isRoot { return "\(tool) \(arguments)" }
        if let name = ipNetnsName { return "\(tool) -n \(shellWord(name)) \(arguments)" }
        return "nsenter --net=\(shellWord(path)) \(tool) \(arguments)"
    }

    /// Any command in the namespace.
    func run(_ command: String) -> String {
        isRoot ? command : "nsenter --net=\(shellWord(path)) \(command)"
    }

    /// `sysctl -w KEY=VALUE` for a /proc/sys path ("net/ipv4/conf/br0/forwarding"): dotted when
    /// no part holds a dot (a device like eth0.100 does), the slash form otherwise.
    func sysctl(_ key: String, _ value: String) -> String {
        run("sysctl -w \(shellWord(EgressChecks.dotted(key) + "=" + value))")
    }
}

/// A word safe to paste into a shell: as is when plain, else in single quotes.
func shellWord(_ text: String) -> String {
    let plain = !text.isEmpty && text.unicodeScalars.allSatisfy { c in
        (c >= "a" && c <= "z") || (c >= "A" && c <= "Z") || (c >= "0" && c <= "9") || "-_.,:/=@+%".unicodeScalars.contains(c)
    }
    if plain { return text }
    return "'" + text.split(separator: "'", omittingEmptySubsequences: false).joined(separator: "'\\''") + "'"
}
