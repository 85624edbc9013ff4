/// The ports Docker publishes, from `containers/<id>/config.v2.json` and `hostconfig.json`.
///
/// config.v2.json's `NetworkSettings.Ports` is what dockerd bound: the host port it chose for
/// `-p 80` (an empty HostPort), and one entry per family (docker 28 writes 0.0.0.0 and :: for
/// an empty HostIp; 20.10 only 0.0.0.0). hostconfig.json's `PortBindings` is what was asked;
/// a binding there that NetworkSettings.Ports lacks was not bound (20.10 skips an IPv6 HostIp on
/// a network without IPv6) and is kept with a note. A container that is not running publishes
/// nothing: dockerd removes its rules on stop. Needs read access to the Docker root (root).
extension DockerMetadata {
    public func publishedPorts() -> PublishedPortReading {
        containerIDs().reduce(PublishedPortReading()) { $0 + publishedPorts(id: $1) }
    }

    public func publishedPorts(id: String) -> PublishedPortReading {
        switch read(id: id) {
        case nil, .missing?: return PublishedPortReading()
        case .corrupt(let why)?: return PublishedPortReading(unchecked: ["docker: \(why)"])
        case .object(let config)?:
            var reading = PublishedPortReading()
            var hostConfig: JSONObject?
            switch MetadataFile.read(hostConfigPath(id)) {
            case .object(let object): hostConfig = object
            case .corrupt(let why): reading.unchecked.append("docker: \(why)")
            case .missing: break
            }
            reading.ports = Self.publishedPorts(config: config, hostConfig: hostConfig, directoryID: id,
                                                configPath: configPath(id), hostConfigPath: hostConfigPath(id))
            return reading
        }
    }

    func hostConfigPath(_ id: String) -> String {
        FileSystem.join(root, "containers", id, "hostconfig.json")
    }

    static func publishedPorts(config: JSONObject, hostConfig: JSONObject?, directoryID: String, configPath: String,
                               hostConfigPath: String) -> [PublishedPort] {
        guard config.bool("State", "Running") == true else { return [] }
        let identity = identity(config, directoryID: directoryID)
        // The address DNAT leads to: the container's only address of the family. On several
        // networks docker picks one; which one the rules say.
        var v4: [IPAddress] = [], v6: [IPAddress] = []
        for network in (config.value(["NetworkSettings", "Networks"])?.objectValue ?? [:]).values {
            let n = network.objectValue.map(JSONObject.init)
            if let a = n?.string("IPAddress").flatMap(IPAddress.init) { v4.append(a) }
            if let a = n?.string("GlobalIPv6Address").flatMap(IPAddress.init) { v6.append(a) }
        }
        func containerAddress(_ host: PublishedPort.HostAddress) -> IPAddress? {
            let candidates = host.family == .v6 ? v6 : v4
            return candidates.count == 1 ? candidates[0] : nil
        }

        var ports: [PublishedPort] = []
        let bound = config.value(["NetworkSettings", "Ports"])?.objectValue ?? [:]
        for (key, bindings) in bound.sorted(by: { $0.key < $1.key }) {
            guard let (containerPorts, transport) = portKey(key) else { continue }
            for binding in bindings.arrayValue ?? [] {
                let b = binding.objectValue.map(JSONObject.init)
                guard let host = PublishedPort.HostAddress(runtimeText: b?.string("HostIp") ?? ""),
                      let hostPorts = b?.string("HostPort").flatMap({ PortRange(text: $0) }) else { continue }
                ports.append(PublishedPort(
                    hostAddress: host, hostPorts: hostPorts, transport: transport, containerAddress: containerAddress(host),
                    containerPorts: containerPorts, container: identity,
                    sources: [.runtime(RuntimePortRecord(runtime: .docker, path: configPath, field: "NetworkSettings.Ports"))]))
            }
        }
        // Asked for but not bound: only a fixed host port can be named.
        for (key, bindings) in (hostConfig?.value(["PortBindings"])?.objectValue ?? [:]).sorted(by: { $0.key < $1.key }) {
            guard let (containerPorts, transport) = portKey(key) else { continue }
            for binding in bindings.arrayValue ?? [] {
                let b = binding.objectValue.map(JSONObject.init)
                guard let host = PublishedPort.HostAddress(runtimeText: b?.string("HostIp") ?? ""),
                      let hostPorts = b?.string("HostPort").flatMap({ PortRange(text: $0) }) else { continue }
                let isBound = ports.contains { p in
                    p.transport == transport && p.containerPorts == containerPorts && p.hostPorts == hostPorts
                        && (host.family == nil ? true : p.hostAddress == host || p.hostAddress == .unspecified(nil))
                }
                if isBound { continue }
                ports.append(PublishedPort(
                    hostAddress: host, hostPorts: hostPorts, transport: transport, containerAddress: containerAddress(host),
                    containerPorts: containerPorts, container: identity,
                    sources: [.runtime(RuntimePortRecord(runtime: .docker, path: hostConfigPath, field: "PortBindings"))],
                    note: "asked for in hostconfig.json PortBindings but not in config.v2.json NetworkSettings.Ports: docker did not bind it"))
            }
        }
        return ports
    }

    /// "80/tcp" -> (80, tcp); docker writes one key per container port.
    static func portKey(_ key: String) -> (PortRange, TransportProtocol)? {
        let parts = key.split(separator: "/", maxSplits: 1)
        guard let ports = parts.first.flatMap({ PortRange(text: $0) }) else { return nil }
        guard let transport = parts.count == 2 ? TransportProtocol(name: parts[1]) : .tcp else { return nil }
        return (ports, transport)
    }
}
