/// Tests on single cgroup directory names, shared by the classifier and the readers.
enum CgroupName {
    static let systemdUnitSuffixes = [
        ".slice", ".service", ".scope", ".socket", ".mount", ".swap", ".target", ".device", ".path", ".timer",
    ]

    static func isSystemdUnit(_ name: String) -> Bool {
        systemdUnitSuffixes.contains { name.hasSuffix($0) && name.count > $0.count }
    }

    /// Prefixed ids (docker-, crio-, ...) are 64 hex; at least 12 tolerates a truncated capture.
    static func isHexID(_ s: String) -> Bool {
        (12...64).contains(s.utf8.count) && s.utf8.allSatisfy(isLowerHex)
    }

    /// A bare leaf has no prefix to vouch for it, so it must be a whole 64-hex id.
    static func isFullHexID(_ s: String) -> Bool {
        s.utf8.count == 64 && s.utf8.allSatisfy(isLowerHex)
    }

    static func isLowerHex(_ byte: UInt8) -> Bool {
        (byte >= 0x30 && byte <= 0x39) || (byte >= 0x61 && byte <= 0x66)
    }

    /// containerd's identifiers rule (pkg/identifiers): `[A-Za-z0-9]+([._-][A-Za-z0-9]+)*`, at most 76.
    static func isContainerdIdentifier(_ s: String) -> Bool {
        let bytes = Array(s.utf8)
        guard !bytes.isEmpty, bytes.count <= 76 else { return false }
        var previousWasSeparator = true
        for byte in bytes {
            let alnum = (byte >= 0x30 && byte <= 0x39) || (byte >= 0x41 && byte <= 0x5A) || (byte >= 0x61 && byte <= 0x7A)
            if alnum {
                previousWasSeparator = false
            } else if byte == 0x2E || byte == 0x5F || byte == 0x2D, !previousWasSeparator {
                previousWasSeparator = true
            } else {
                return false
            }
        }
        return !previousWasSeparator
    }

    static func after(_ name: String, prefix: String) -> String? {
        guard name.hasPrefix(prefix), name.count > prefix.count else { return nil }
        return String(name.dropFirst(prefix.count))
    }

    static func between(_ name: String, prefix: String, suffix: String) -> String? {
        guard let rest = after(name, prefix: prefix), rest.hasSuffix(suffix), rest.count > suffix.count
        else { return nil }
        return String(rest.dropLast(suffix.count))
    }

    /// Undoes systemd's unit_name_escape `\xNN` (machined writes "-" as `\x2d`). A sequence cut
    /// short by truncation is kept as written.
    static func unescapeSystemd(_ s: String) -> String {
        let bytes = Array(s.utf8)
        var out: [UInt8] = []
        out.reserveCapacity(bytes.count)
        var i = 0
        while i < bytes.count {
            if bytes[i] == 0x5C, i + 3 < bytes.count, bytes[i + 1] == 0x78,
               let value = UInt8(String(decoding: bytes[(i + 2)...(i + 3)], as: UTF8.self), radix: 16) {
                out.append(value)
                i += 4
            } else {
                out.append(bytes[i])
                i += 1
            }
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// `pod<uid>` (cgroupfs) or `...-pod<uid_with_underscores>.slice` (systemd) -> the UID with dashes.
    /// Accepts RFC 4122 UIDs and the 32-hex MD5 UIDs of static pods.
    static func kubernetesPodUID(_ name: String) -> String? {
        var stem = Substring(name)
        if stem.hasSuffix(".slice") { stem = stem.dropLast(".slice".count) }
        let candidate: Substring
        if stem.hasPrefix("pod") {
            candidate = stem.dropFirst(3)
        } else if let marker = stem.lastOccurrence(of: "-pod") {
            candidate = stem[marker...]
        } else {
            return nil
        }
        let uid = String(candidate).replacingAll("_", with: "-").lowercased()
        return isPodUID(uid) ? uid : nil
    }

    static func isPodUID(_ uid: String) -> Bool {
        let groups = uid.split(separator: "-", omittingEmptySubsequences: false)
        let hex = { (group: Substring) in group.utf8.allSatisfy(isLowerHex) }
        if groups.count == 1 { return groups[0].count == 32 && hex(groups[0]) }
        return groups.map(\.count) == [8, 4, 4, 4, 12] && groups.allSatisfy(hex)
    }

    /// Podman's pod slice: `machine-libpod_pod_<podid>.slice`, or `user-libpod_pod_<podid>.slice` rootless.
    static func libpodPodID(_ name: String) -> String? {
        guard name.hasSuffix(".slice"), let marker = Substring(name).firstOccurrence(of: "libpod_pod_") else { return nil }
        let id = String(name[marker...].dropLast(".slice".count))
        return isHexID(id) ? id : nil
    }

    /// Kubelet's QoS level from the ancestors of a container's cgroup; a kubepods root with no
    /// level below it means guaranteed. Nil when no kubepods component is visible.
    static func qosClass(_ ancestors: ArraySlice<String>) -> String? {
        for name in ancestors.reversed() {
            if name.contains("kubepods-burstable") { return "burstable" }
            if name.contains("kubepods-besteffort") { return "besteffort" }
        }
        var sawKubepods = false
        for (offset, name) in ancestors.enumerated() {
            if name == "kubepods" || name.hasSuffix("kubepods.slice") || name.contains("kubepods-pod") {
                sawKubepods = true
            }
            let previous = offset > 0 ? ancestors[ancestors.startIndex + offset - 1] : ""
            if previous.hasSuffix("kubepods"), name == "burstable" || name == "besteffort" { return name }
        }
        return sawKubepods ? "guaranteed" : nil
    }
}
