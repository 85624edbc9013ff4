/// The ports nerdctl publishes for containerd containers: nerdctl keeps them in the container's
/// label `nerdctl/ports` and passes its labels to the OCI spec as annotations, so the running
/// task's config.json has them (a JSON array of the CNI portmap plugin's PortMapping:
/// `{"HostPort":8080,"ContainerPort":80,"Protocol":"tcp","HostIP":"0.0.0.0"}`). The container's
/// address is not there (it is in the CNI result cache): the DNAT rules give it. Docker's
/// namespace (`moby`) is skipped: DockerMetadata reads those. Needs read access to /run/containerd.
extension ContainerdMetadata {
    public static let nerdctlPortsAnnotation = "nerdctl/ports"

    public func publishedPorts() -> PublishedPortReading {
        var reading = PublishedPortReading()
        for namespace in namespaces() where namespace != Self.dockerNamespace {
            for id in taskIDs(namespace) {
                let path = FileSystem.join(taskPath(namespace, id), "config.json")
                switch MetadataFile.read(path) {
                case .object(let json):
                    let spec = OCISpec(json)
                    guard let label = spec.annotations[Self.nerdctlPortsAnnotation] else { continue }
                    let identity = Self.identity(spec, runtime: .containerd, id: id)
                    guard let ports = Self.nerdctlPorts(label, container: identity, path: path) else {
                        reading.unchecked.append("containerd: \(path): annotation \(Self.nerdctlPortsAnnotation) is not a JSON array")
                        continue
                    }
                    reading.ports += ports
                case .corrupt(let why):
                    reading.unchecked.append("containerd: \(why)")
                case .missing:
                    continue
                }
            }
        }
        return reading
    }

    /// Nil when the label is not a JSON array; entries that are not port mappings are skipped.
    static func nerdctlPorts(_ label: String, container: ContainerIdentity, path: String) -> [PublishedPort]? {
        guard let array = JSONValue.parse(label.utf8)?.arrayValue else { return nil }
        let record = RuntimePortRecord(runtime: .containerd, path: path, field: "annotations.\(nerdctlPortsAnnotation)")
        return array.compactMap { element in
            let m = element.objectValue.map(JSONObject.init)
            guard let host = PublishedPort.HostAddress(runtimeText: m?.string("HostIP") ?? ""),
                  let hostPort = m?.int("HostPort"), let containerPort = m?.int("ContainerPort"),
                  let hostPorts = PortRange(first: hostPort, last: hostPort),
                  let containerPorts = PortRange(first: containerPort, last: containerPort),
                  let transport = TransportProtocol(name: m?.string("Protocol") ?? "tcp") else { return nil }
            return PublishedPort(hostAddress: host, hostPorts: hostPorts, transport: transport, containerPorts: containerPorts,
                                 container: container, sources: [.runtime(record)])
        }
    }
}
