import ArgumentParser
import TracerCore

/// Where the container runtimes keep their state. The defaults are the rootful locations;
/// a daemon started with its own --data-root (or a test lab) is pointed at with these.
struct RuntimeOptions: ParsableArguments {
    @Option(help: ArgumentHelp("Docker's data root (config.v2.json files).", valueName: "dir"))
    var dockerRoot = "/var/lib/docker"

    @Option(help: ArgumentHelp("Podman's and CRI-O's storage graph root.", valueName: "dir"))
    var podmanRoot = "/var/lib/containers/storage"

    @Option(help: ArgumentHelp("Podman's and CRI-O's storage run root.", valueName: "dir"))
    var podmanRunroot = "/run/containers/storage"

    @Option(help: ArgumentHelp("containerd's task state (io.containerd.runtime.v2.task).", valueName: "dir"))
    var containerdState = "/run/containerd/io.containerd.runtime.v2.task"

    @Option(help: ArgumentHelp("runc's state root.", valueName: "dir"))
    var runcRoot = "/run/runc"

    var resolver: ContainerResolver {
        ContainerResolver(
            docker: DockerMetadata(root: dockerRoot),
            podman: PodmanMetadata(graphRoot: podmanRoot, runRoot: podmanRunroot),
            crio: CRIOMetadata(graphRoot: podmanRoot, runRoot: podmanRunroot),
            containerd: ContainerdMetadata(stateRoot: containerdState),
            runc: RuncState(root: runcRoot))
    }
}
