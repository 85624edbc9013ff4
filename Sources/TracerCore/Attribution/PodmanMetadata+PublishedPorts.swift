import Glibc

/// The ports podman publishes. podman 4.3 (Debian 12) records them in one place only: the
/// container's configuration in its BoltDB, `<graphRoot>/libpod/bolt_state.db`, bucket
/// `ctr/<id>`, key `config`, field `newPortMappings` (`{host_ip, host_port, container_port,
/// range, protocol}`, the random host port of `-p 80` already chosen). containers.json, the
/// OCI config.json and the run root hold none of it; the addresses are in key `state`,
/// `networkStatus`. podman >= 4.8 can keep the same records in SQLite (`libpod/db.sql`), which is
/// not read: it is named as unchecked. Only running and paused containers publish (netavark's
/// rules go with the container's network). Needs read access to the graph root (root).
extension PodmanMetadata {
    /// libpod's ContainerState: 3 running, 5 paused (its network and rules stay).
    static let publishingStates: Set<Int> = [3, 5]

    public func publishedPorts() -> PublishedPortReading {
        let path = FileSystem.join(graphRoot, "libpod", "bolt_state.db")
        let bytes: [UInt8]
        do {
            bytes = try FileSystem.readBytes(path, kind: .runtimeIndex)
        } catch {
            if error.errno == ENOENT {
                let sqlite = FileSystem.join(graphRoot, "libpod", "db.sql")
                return PublishedPortReading(unchecked: FileSystem.exists(sqlite)
                    ? ["podman: \(sqlite): podman's SQLite database is not read; its published ports come from the DNAT rules only"]
                    : [])
            }
            return PublishedPortReading(unchecked: ["podman: \(error.isRefusal ? error.description : "\(path): unreadable (\(error))")"])
        }
        guard let database = BoltDatabase(bytes: bytes) else {
            return PublishedPortReading(unchecked: ["podman: \(path): not a BoltDB file, or torn by a write while it was read"])
        }
        return Self.publishedPorts(database, path: path)
    }

    static func publishedPorts(_ database: BoltDatabase, path: String) -> PublishedPortReading {
        var reading = PublishedPortReading()
        guard let containers = database.bucket("ctr", in: database.root) else { return reading }
        for entry in database.entries(of: containers) where entry.isBucket {
            let id = String(decoding: entry.key, as: UTF8.self)
            guard PathComponent.isPlain(id), let bucket = database.nestedBucket(entry) else { continue }
            guard let configBytes = database.value("config", in: bucket),
                  let config = JSONValue.parse(configBytes)?.objectValue.map(JSONObject.init) else {
                reading.unchecked.append("podman: \(path): container \(id) has no readable config")
                continue
            }
            let state = database.value("state", in: bucket).flatMap { JSONValue.parse($0)?.objectValue.map(JSONObject.init) }
            guard let status = state?.int("state"), publishingStates.contains(status) else { continue }
            let netns = database.value("netns", in: bucket).map { String(decoding: $0, as: UTF8.self) }
            reading.ports += publishedPorts(config: config, state: state, netns: netns, id: id, path: path)
        }
        return reading
    }

    /// `netns`: the bucket's `netns` key, the container's network namespace (`/run/netns/netns-<uuid>`).
    static func publishedPorts(config: JSONObject, state: JSONObject?, netns: String?, id: String, path: String) -> [PublishedPort] {
        var identity = ContainerIdentity(runtime: .podman, id: config.string("id") ?? id, name: config.string("name"),
                                         image: config.string("rootfsImageName"),
                                         initPID: state?.int("pid").flatMap { Int32(exactly: $0) }.flatMap { $0 > 0 ? $0 : nil })
        identity.netnsPath = netns.flatMap { $0.isEmpty ? nil : $0 }
        // networkStatus.<network>.interfaces.<name>.subnets[].ipnet: "10.88.0.3/16".
        var v4: [IPAddress] = [], v6: [IPAddress] = []
        for network in (state?.value(["networkStatus"])?.objectValue ?? [:]).values {
            for interface in (network.objectValue?["interfaces"]?.objectValue ?? [:]).values {
                for subnet in interface.objectValue?["subnets"]?.arrayValue ?? [] {
                    guard let text = subnet.objectValue?["ipnet"]?.stringValue, let prefix = IPPrefix(text) else { continue }
                    if prefix.family == .v4 { v4.append(prefix.address) } else { v6.append(prefix.address) }
                }
            }
        }
        let record = RuntimePortRecord(runtime: .podman, path: path, field: "ctr/\(identity.id)/config newPortMappings")
        var ports: [PublishedPort] = []
        for mapping in config.value(["newPortMappings"])?.arrayValue ?? [] {
            let m = mapping.objectValue.map(JSONObject.init)
            let count = max(1, m?.int("range") ?? 1)
            guard let host = PublishedPort.HostAddress(runtimeText: m?.string("host_ip") ?? ""),
                  let hostPort = m?.int("host_port"), let containerPort = m?.int("container_port"),
                  let hostPorts = PortRange(first: hostPort, last: hostPort + count - 1),
                  let containerPorts = PortRange(first: containerPort, last: containerPort + count - 1) else { continue }
            let candidates = host.family == .v6 ? v6 : v4
            // "tcp,udp" publishes both.
            for name in (m?.string("protocol") ?? "tcp").split(separator: ",") {
                guard let transport = TransportProtocol(name: name) else { continue }
                ports.append(PublishedPort(hostAddress: host, hostPorts: hostPorts, transport: transport,
                                           containerAddress: candidates.count == 1 ? candidates[0] : nil,
                                           containerPorts: containerPorts, container: identity, sources: [.runtime(record)]))
            }
        }
        return ports
    }
}
