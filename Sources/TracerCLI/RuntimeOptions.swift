import Glibc
import TracerCore

/// Where the container runtimes keep their state, and where the host's files are. The defaults
/// are the rootful locations on the host itself; a daemon started with its own --data-root (or a
/// test lab) is pointed at with these, and an agent in a container with the host's / mounted at
/// DIR with --host-root DIR (or HOST_ROOT=DIR). The runtime directories given are host paths:
/// they are read under the host root too.
struct RuntimeOptions {
    static let specs: [OptionSpec] = [
        .option("docker-root", value: "dir", help: "Docker's data root (config.v2.json files; default \(DockerMetadata.defaultRoot)).", values: .directory),
        .option("podman-root", value: "dir", help: "Podman's and CRI-O's storage graph root (default \(PodmanMetadata.defaultGraphRoot)).", values: .directory),
        .option("podman-runroot", value: "dir", help: "Podman's and CRI-O's storage run root (default \(PodmanMetadata.defaultRunRoot)).", values: .directory),
        .option("containerd-state", value: "dir", help: "containerd's task state (default \(ContainerdMetadata.defaultStateRoot)).", values: .directory),
        .option("runc-root", value: "dir", help: "runc's state root (default \(RuncState.defaultRoot)).", values: .directory),
        .option("host-root", value: "dir", help: "Where the host's / is mounted, in a container (default $HOST_ROOT, else /): its /proc, /sys, /run and the runtimes' state are read there.",
                values: .directory),
    ]

    let dockerRoot: String
    let podmanRoot: String
    let podmanRunroot: String
    let containerdState: String
    let runcRoot: String
    let hostRoot: HostRoot

    init(_ arguments: ParsedArguments) throws(UsageError) {
        dockerRoot = arguments.strings("docker-root").last ?? DockerMetadata.defaultRoot
        podmanRoot = arguments.strings("podman-root").last ?? PodmanMetadata.defaultGraphRoot
        podmanRunroot = arguments.strings("podman-runroot").last ?? PodmanMetadata.defaultRunRoot
        containerdState = arguments.strings("containerd-state").last ?? ContainerdMetadata.defaultStateRoot
        runcRoot = arguments.strings("runc-root").last ?? RuncState.defaultRoot
        let flag = arguments.strings("host-root").last
        do {
            hostRoot = try HostRoot.resolve(flag: flag, environment: getenv("HOST_ROOT").map { String(cString: $0) })
        } catch {
            throw UsageError("\(flag == nil ? "HOST_ROOT" : "--host-root"): \(error)")
        }
        // Once, here at the edge, before any thread starts: the cgroup namespace is the thread's
        // and is inherited, so every later reader of /proc/PID/cgroup sees the host's paths
        // (where it cannot be joined they read relative to ours; containers are still named).
        hostRoot.joinHostCgroupNamespace()
    }

    var resolver: ContainerResolver {
        ContainerResolver(
            docker: DockerMetadata(root: hostRoot.path(dockerRoot)),
            podman: PodmanMetadata(graphRoot: hostRoot.path(podmanRoot), runRoot: hostRoot.path(podmanRunroot)),
            crio: CRIOMetadata(graphRoot: hostRoot.path(podmanRoot), runRoot: hostRoot.path(podmanRunroot)),
            containerd: ContainerdMetadata(stateRoot: hostRoot.path(containerdState)),
            runc: RuncState(root: hostRoot.path(runcRoot)),
            hostRoot: hostRoot)
    }
}
