/// runc's systemd cgroup driver takes `cgroupsPath` as `<slice>:<prefix>:<name>` and creates
/// `<expanded slice>/<prefix>-<name>.scope`; this turns the spec into that path so it can be
/// compared with /proc/PID/cgroup.
enum SystemdCgroupSpec {
    /// Nil when `spec` is not in the three-part form.
    static func path(_ spec: String) -> String? {
        let parts = spec.split(separator: ":", omittingEmptySubsequences: false).map(String.init)
        guard parts.count == 3, !parts[2].isEmpty else { return nil }
        // runc defaults an empty slice to system.slice.
        let slice = parts[0].isEmpty ? "system.slice" : parts[0]
        let scope = parts[1].isEmpty ? "\(parts[2]).scope" : "\(parts[1])-\(parts[2]).scope"
        return "/" + (expand(slice: slice) + [scope]).joined(separator: "/")
    }

    /// systemd nests slices by dashes: `a-b-c.slice` lives at `a.slice/a-b.slice/a-b-c.slice`.
    static func expand(slice: String) -> [String] {
        guard slice != "-.slice", slice.hasSuffix(".slice") else { return slice == "-.slice" ? [] : [slice] }
        let stem = slice.dropLast(".slice".count)
        var path: [String] = []
        var prefix = ""
        for word in stem.split(separator: "-", omittingEmptySubsequences: false) {
            prefix = prefix.isEmpty ? String(word) : prefix + "-" + word
            path.append(prefix + ".slice")
        }
        return path
    }
}
