/// Whether NetworkManager manages a device, read from its files only (it is never asked or
/// run): its run directory says it is running and, per device, `managed=` in
/// /run/NetworkManager/devices/IFINDEX; its configuration (NetworkManager.conf, then the conf.d
/// files of /usr/lib, /run and /etc in that order, each directory sorted) may exclude the device
/// with `[keyfile] unmanaged-devices=` or a `[device*]` section with `match-device=` and
/// `managed=0`. A NetworkManager that manages docker0 takes its address away (the field case
/// behind `bridge-no-address`), so the durable fix is to exclude it.
public struct NetworkManagerState: Sendable, Equatable {
    /// Why NetworkManager is taken to manage the device ("/run/NetworkManager/devices/5: managed=true").
    public var evidence: String

    /// The configuration file the fix writes.
    public static let confFile = "/etc/NetworkManager/conf.d/90-tracer-unmanaged.conf"

    /// Nil when NetworkManager is not running under `root` or leaves `device` alone.
    /// `root`: "/" on a host; a fixture directory in tests.
    public static func managing(device: String, index: Int32?, root: String = "/") -> NetworkManagerState? {
        let run = FileSystem.join(root, "run/NetworkManager")
        guard FileSystem.isDirectory(run) else { return nil }
        if let index, let text = try? FileSystem.readText(FileSystem.join(run, "devices", "\(index)"), kind: .kernelSetting),
           let managed = value(of: "managed", in: "device", text) {
            guard isTrue(managed) else { return nil }
            return NetworkManagerState(evidence: "NetworkManager runs and its state file run/NetworkManager/devices/\(index) says managed=\(managed)")
        }
        for (_, text) in configuration(root: root) {
            if let list = value(of: "unmanaged-devices", in: "keyfile", text), matches(spec: list, device: device) { return nil }
            for section in sections(text) where section.name.hasPrefix("device") {
                if let spec = section.values["match-device"], matches(spec: spec, device: device),
                   let managed = section.values["managed"], !isTrue(managed) { return nil }
            }
        }
        return NetworkManagerState(evidence: "NetworkManager runs (\(run) exists) and no unmanaged-devices in its configuration names \(device)")
    }

    /// The files NetworkManager reads, in its order: later ones override earlier ones.
    static func configuration(root: String) -> [(String, String)] {
        var paths = [FileSystem.join(root, "etc/NetworkManager/NetworkManager.conf")]
        for directory in ["usr/lib/NetworkManager/conf.d", "run/NetworkManager/conf.d", "etc/NetworkManager/conf.d"] {
            let full = FileSystem.join(root, directory)
            paths += (FileSystem.entries(full) ?? []).filter { $0.hasSuffix(".conf") }.sorted().map { FileSystem.join(full, $0) }
        }
        return paths.compactMap { path in (try? FileSystem.readText(path, kind: .kernelSetting)).map { (path, $0) } }
    }

    struct Section {
        var name: String
        var values: [String: String]
    }

    /// An ini file's sections, keys trimmed, `#` and `;` comment lines skipped.
    static func sections(_ text: String) -> [Section] {
        var result: [Section] = []
        for raw in text.split(separator: "\n") {
            let line = raw.trimmed
            if line.isEmpty || line.hasPrefix("#") || line.hasPrefix(";") { continue }
            if line.hasPrefix("["), line.hasSuffix("]") {
                result.append(Section(name: String(line.dropFirst().dropLast()).trimmed, values: [:]))
            } else if let eq = line.firstIndex(of: "="), !result.isEmpty {
                result[result.count - 1].values[String(line[..<eq]).trimmed] = String(line[line.index(after: eq)...]).trimmed
            }
        }
        return result
    }

    static func value(of key: String, in section: String, _ text: String) -> String? {
        sections(text).last { $0.name == section && $0.values[key] != nil }?.values[key]
    }

    static func isTrue(_ value: String) -> Bool { ["1", "true", "yes", "on"].contains(value.lowercased()) }

    /// NetworkManager's device spec list (`interface-name:docker0;interface-name:veth*`, `*`,
    /// `interface-name:=docker0` for an exact name, `except:` entries): does it name `device`?
    static func matches(spec: String, device: String) -> Bool {
        var matched = false
        for item in spec.split(whereSeparator: { $0 == ";" || $0 == "," }).map({ String($0).trimmed }) where !item.isEmpty {
            let except = item.hasPrefix("except:")
            let body = except ? String(item.dropFirst("except:".count)) : item
            let hit: Bool
            if body == "*" {
                hit = true
            } else if body.hasPrefix("interface-name:=") {
                hit = String(body.dropFirst("interface-name:=".count)) == device
            } else if body.hasPrefix("interface-name:") {
                hit = glob(String(body.dropFirst("interface-name:".count)).replacingTilde, device)
            } else {
                continue // mac:, driver:, type: ... name other things than the interface
            }
            if except && hit { return false }
            if !except && hit { matched = true }
        }
        return matched
    }

    /// `*` and `?` as NetworkManager's interface-name patterns take them.
    static func glob(_ pattern: String, _ name: String) -> Bool {
        let p = Array(pattern), n = Array(name)
        func go(_ i: Int, _ j: Int) -> Bool {
            if i == p.count { return j == n.count }
            if p[i] == "*" { return (j...n.count).contains { go(i + 1, $0) } }
            guard j < n.count, p[i] == "?" || p[i] == n[j] else { return false }
            return go(i + 1, j + 1)
        }
        return go(0, 0)
    }

    /// The durable fix: keep NetworkManager's hands off `device`, then restart it and the runtime
    /// that owns the bridge so the address comes back.
    public static func durableFix(device: String, runtime: ContainerRuntime?) -> String {
        let restartRuntime: String
        switch runtime {
        case .docker?: restartRuntime = " && systemctl restart docker"
        case .podman?: restartRuntime = " && podman network reload --all"
        case .containerd?: restartRuntime = " && systemctl restart containerd"
        default: restartRuntime = "   # then restart the runtime that owns \(device)"
        }
        return "printf '[keyfile]\\nunmanaged-devices=interface-name:\(device)\\n' > \(confFile) && systemctl restart NetworkManager"
            + restartRuntime
    }
}

private extension String {
    /// NetworkManager's `~` prefix ("optional match") changes nothing for one name.
    var replacingTilde: String { hasPrefix("~") ? String(dropFirst()) : self }
}
