/// The container engines whose cgroups and on-disk state this library understands.
public enum ContainerRuntime: String, Sendable, Codable, CaseIterable {
    case docker
    case podman
    case containerd
    case crio = "cri-o"
    case runc
    case lxc
    /// systemd-nspawn and other guests registered with systemd-machined.
    case nspawn
}
