/// Turns a cgroup path (or the leaf and parent names the kernel captured) into a runtime and id.
///
/// Pure string work: no files are read, so it needs no privilege and works for processes that
/// already exited. Patterns follow the runtimes' own cgroup naming (see docs/attribution.md §1).
///
/// Rules, in order:
/// 1. A `<slice>:<prefix>:<id>` component (a systemd cgroup spec used literally by a runtime
///    configured for cgroupfs) is read as `<slice>/<prefix>-<id>.scope`.
/// 2. Components are scanned from the leaf upwards and the first (innermost) one that names a
///    container or a runtime helper wins. Scanning, rather than anchoring at the root, copes with
///    `--cgroup-root`, kind/sysbox nesting, crun's `/container` and nspawn's `/payload` subgroups,
///    and sub-cgroups a container creates for itself.
/// 3. ctr's `/<namespace>/<id>`: only when the whole path has exactly two components (or, for the
///    leaf+parent form, the two names given), both are valid containerd identifiers, neither is a
///    systemd unit name (`.slice`, `.service`, `.scope`, ...), and the namespace is not a name
///    other layouts use (`docker`, `lxc`, `libpod_parent`, `kubepods`, ...). This is a guess by
///    shape: any two-level cgroupfs path fits it, so the resolver confirms it against containerd's
///    task directory and runc's state before calling it a container.
/// 4. A path made only of systemd unit names, or the root, is the host.
/// 5. Anything else is unrecognised.
public enum CgroupPathClassifier {
    /// Classifies a full path as in /proc/PID/cgroup (`0::` line on v2, any controller on v1).
    public static func classify(path: String) -> CgroupClassification {
        let components = path.split(separator: "/").map(String.init)
        // "/" and the empty path both mean the root: the kernel's root cgroup name is "".
        guard !components.isEmpty else { return .host }
        return classify(components: splitLiteralSystemdSpecs(components), wholePath: true, shown: path)
    }

    /// Classifies from the two names the kernel captured at exec time (each up to 127 bytes):
    /// the leaf cgroup's name and its parent's. An empty parent means the leaf sits under the root.
    public static func classify(leaf: String, parent: String) -> CgroupClassification {
        guard !leaf.isEmpty, leaf != "/" else { return .host }
        let parentIsRoot = parent.isEmpty || parent == "/"
        let components = parentIsRoot ? [leaf] : [parent, leaf]
        return classify(
            components: splitLiteralSystemdSpecs(components),
            wholePath: parentIsRoot,
            shown: parentIsRoot ? "/" + leaf : parent + "/" + leaf
        )
    }

    static func classify(components: [String], wholePath: Bool, shown: String) -> CgroupClassification {
        for index in components.indices.reversed() {
            if let verdict = classify(component: index, of: components) { return verdict }
        }
        if components.count == 2, let match = containerdTask(namespace: components[0], id: components[1]) {
            return .container(match)
        }
        if components.allSatisfy(CgroupName.isSystemdUnit) { return .host }
        return .unrecognised(shown)
    }

    /// Rule 2 for one component, given what is above and below it.
    static func classify(component index: Int, of components: [String]) -> CgroupClassification? {
        let name = components[index]
        let parent = index > 0 ? components[index - 1] : nil
        let child = index + 1 < components.count ? components[index + 1] : nil
        let ancestors = components[..<index]

        if name.hasPrefix("crio-conmon-") { return .runtimeHelper(runtime: .crio, what: "crio-conmon") }
        if name.hasPrefix("libpod-conmon-") || (name == "conmon" && parent == "libpod_parent") {
            return .runtimeHelper(runtime: .podman, what: "conmon")
        }
        if name.hasPrefix("lxc.monitor.") { return .runtimeHelper(runtime: .lxc, what: "lxc.monitor") }

        if let instance = CgroupName.between(name, prefix: "systemd-nspawn@", suffix: ".service") {
            // nspawn splits its unit into payload (the container) and supervisor (nspawn itself).
            if child == "supervisor" { return .runtimeHelper(runtime: .nspawn, what: "supervisor") }
            return named(.nspawn, CgroupName.unescapeSystemd(instance))
        }
        if let escaped = CgroupName.between(name, prefix: "machine-", suffix: ".scope") {
            let machine = CgroupName.unescapeSystemd(escaped)
            // libvirt's qemu VMs register with machined too, but they are not containers.
            if !machine.hasPrefix("qemu-") { return named(.nspawn, machine) }
        }
        if let container = CgroupName.after(name, prefix: "lxc.payload.") { return named(.lxc, container) }
        if parent == "lxc", !CgroupName.isSystemdUnit(name) { return named(.lxc, name) }

        for (prefix, runtime) in prefixedIDs {
            guard let rest = CgroupName.after(name, prefix: prefix) else { continue }
            let id = rest.hasSuffix(".scope") ? String(rest.dropLast(".scope".count)) : rest
            guard CgroupName.isHexID(id) else { continue }
            return .container(match(runtime, id, ancestors: ancestors, cri: criPrefixes.contains(prefix)))
        }
        // runc's systemd driver names the scope runc-<id>.scope; the id is any string.
        if let id = CgroupName.between(name, prefix: "runc-", suffix: ".scope") {
            return .container(CgroupMatch(runtime: .runc, containerID: id))
        }

        if CgroupName.isFullHexID(name), let parent {
            if parent == "docker" {
                return .container(match(.docker, name, ancestors: ancestors, cri: false))
            }
            // A bare id under pod<uid> is a CRI container; containerd unless the resolver finds it
            // in Docker's store (cri-dockerd writes the same shape).
            if CgroupName.kubernetesPodUID(parent) != nil {
                return .container(match(.containerd, name, ancestors: ancestors, cri: true))
            }
        }
        return nil
    }

    /// Prefix order matters: longer prefixes that share a start come first.
    static let prefixedIDs: [(String, ContainerRuntime)] = [
        ("libpod-payload-", .podman),
        ("libpod-", .podman),
        ("docker-", .docker),
        ("cri-containerd-", .containerd),
        ("crio-", .crio),
        ("nerdctl-", .containerd),
    ]
    static let criPrefixes: Set<String> = ["cri-containerd-", "crio-"]

    static func named(_ runtime: ContainerRuntime, _ name: String) -> CgroupClassification? {
        name.isEmpty ? nil : .container(CgroupMatch(runtime: runtime, containerID: name))
    }

    /// Fills pod and QoS from the ancestors of the component that matched.
    static func match(
        _ runtime: ContainerRuntime, _ id: String, ancestors: ArraySlice<String>, cri: Bool
    ) -> CgroupMatch {
        if let podUID = ancestors.lazy.compactMap(CgroupName.kubernetesPodUID).last {
            return CgroupMatch(
                runtime: runtime, containerID: id, podUID: podUID,
                qosClass: CgroupName.qosClass(ancestors), kubernetes: true)
        }
        if runtime == .podman, let podID = ancestors.lazy.compactMap(CgroupName.libpodPodID).last {
            return CgroupMatch(runtime: runtime, containerID: id, podUID: podID)
        }
        return CgroupMatch(runtime: runtime, containerID: id, kubernetes: cri)
    }

    /// Rule 3: ctr's `/<namespace>/<id>`, judged by shape only.
    static func containerdTask(namespace: String, id: String) -> CgroupMatch? {
        guard CgroupName.isContainerdIdentifier(namespace), CgroupName.isContainerdIdentifier(id),
              !CgroupName.isSystemdUnit(namespace), !CgroupName.isSystemdUnit(id),
              !notContainerdNamespaces.contains(namespace)
        else { return nil }
        return CgroupMatch(runtime: .containerd, containerID: id, containerdNamespace: namespace)
    }

    /// Top-level cgroupfs directories that belong to other layouts.
    static let notContainerdNamespaces: Set<String> = [
        "docker", "lxc", "libpod_parent", "kubepods", "kubelet", "machine", "user", "system",
    ]

    /// Rule 1: `kubepods-burstable-pod<uid>.slice:cri-containerd:<id>` -> slice, `cri-containerd-<id>.scope`.
    static func splitLiteralSystemdSpecs(_ components: [String]) -> [String] {
        components.flatMap { component -> [String] in
            let parts = component.split(separator: ":", omittingEmptySubsequences: false)
            guard parts.count == 3, !parts[1].isEmpty, !parts[2].isEmpty else { return [component] }
            let scope = "\(parts[1])-\(parts[2]).scope"
            return parts[0].isEmpty ? [scope] : [String(parts[0]), scope]
        }
    }
}
