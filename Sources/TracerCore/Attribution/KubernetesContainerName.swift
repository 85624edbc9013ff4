/// Kubelet's composite container name `k8s_<container>_<pod>_<namespace>_<uid>_<attempt>`, used by
/// CRI-O in containers.json and by cri-dockerd as the Docker name. Kubernetes names never contain
/// "_", so splitting on it is exact.
struct KubernetesContainerName: Equatable {
    var container: String
    var pod: String
    var namespace: String
    var uid: String

    init?(_ name: String) {
        let trimmed = name.hasPrefix("/") ? String(name.dropFirst()) : name
        let parts = trimmed.split(separator: "_", omittingEmptySubsequences: false).map(String.init)
        guard parts.count == 6, parts[0] == "k8s", !parts[1].isEmpty, !parts[2].isEmpty else { return nil }
        container = parts[1]
        pod = parts[2]
        namespace = parts[3]
        uid = parts[4]
    }
}
