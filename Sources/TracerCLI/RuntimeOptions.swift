import TracerCore

/// Where the container runtimes keep their state. The defaults are the rootful locations;
/// a daemon started with its own --data-root (or a test lab) is pointed at with these.
struct RuntimeOptions {
    static let specs: [OptionSpec] = [
        .option("docker-root", value: "dir", help: "Docker's data root (config.v2.json files; default /var/lib/docker).", values: .directory),
        .option("podman-root", value: "dir", help: "Podman's and CRI-O's storage graph root (default /var/lib/containers/storage).", values: .directory),
        .option("podman-runroot", value: "dir", help: "Podman's and CRI-O's storage run root (default /run/containers/storage).", values: .directory),
        .option("containerd-state", value: "dir", help: "containerd's task state (default /run/containerd/io.containerd.runtime.v2.task).", values: .directory),
        .option("runc-root", value: "dir", help: "runc's state root (default /run/runc).", values: .directory),
    ]

    let dockerRoot: String
    let podmanRoot: String
    let podmanRunroot: String
    let containerdState: String
    let runcRoot: String

    init(_ arguments: ParsedArguments) {
        dockerRoot = arguments.strings("docker-root").last ?? "/var/lib/docker"
        podmanRoot = arguments.strings("podman-root").last ?? "/var/lib/containers/storage"
        podmanRunroot = arguments.strings("podman-runroot").last ?? "/run/containers/storage"
        containerdState = arguments.strings("containerd-state").last ?? "/run/containerd/io.containerd.runtime.v2.task"
        runcRoot = arguments.strings("runc-root").last ?? "/run/runc"
    }

    var resolver: ContainerResolver {
        ContainerResolver(
            docker: DockerMetadata(root: dockerRoot),
            podman: PodmanMetadata(graphRoot: podmanRoot, runRoot: podmanRunroot),
            crio: CRIOMetadata(graphRoot: podmanRoot, runRoot: podmanRunroot),
            containerd: ContainerdMetadata(stateRoot: containerdState),
            runc: RuncState(root: runcRoot))
    }
}
