import Glibc

/// The containers/storage layout podman and CRI-O share: `<graphRoot>/overlay-containers/containers.json`
/// plus each container's `userdata/config.json` (OCI spec) and `userdata/pidfile`. The one reader of
/// those files; `PodmanMetadata` and `CRIOMetadata` only interpret what it returns.
struct ContainerStorage: Sendable {
    let graphRoot: String
    /// conmon writes the pidfile under the run root (`/run/containers/storage`); checked after graphRoot.
    let runRoot: String?

    /// One container as the storage layer knows it. Any part may be missing; `warnings` says why.
    struct StoredContainer {
        var id: String
        var names: [String] = []
        var imageID: String?
        /// containers.json `metadata`, a JSON object serialized into a string.
        var metadata: [String: String] = [:]
        var annotations: [String: String] = [:]
        var initPID: Int32?
        var warnings: [String] = []

        /// CRI-O's RuntimeContainerMetadata has pod-name/pod-id; its names are kubelet's k8s_ form.
        var belongsToCRIO: Bool {
            metadata["pod-name"] != nil || metadata["pod-id"] != nil
                || names.contains { $0.hasPrefix("k8s_") }
                || annotations["io.kubernetes.cri-o.Name"]?.hasPrefix("k8s_") == true
        }

        /// Whether anything at all says who owns it; when not, either reader may claim it.
        var ownerKnown: Bool { !metadata.isEmpty || !names.isEmpty || !annotations.isEmpty }
    }

    var containersDirectory: String {
        FileSystem.join(graphRoot, "overlay-containers")
    }

    /// All containers in containers.json, or every container directory when that index is corrupt.
    func all() -> [StoredContainer] {
        let index = readIndex()
        switch index {
        case .success(let records):
            return records.keys.sorted().compactMap { container(id: $0, index: index) }
        case .failure:
            let names = FileSystem.entries(containersDirectory) ?? []
            return names.filter { PathComponent.isPlain($0) && !$0.hasPrefix("containers.") }
                .sorted().compactMap { container(id: $0, index: index) }
        }
    }

    /// Nil when neither containers.json nor a container directory knows `id`.
    func container(id: String) -> StoredContainer? {
        container(id: id, index: readIndex(only: id))
    }

    func container(id: String, index: Result<[String: JSONObject], IndexError>) -> StoredContainer? {
        guard PathComponent.isPlain(id) else { return nil }
        let userdata = FileSystem.join(containersDirectory, id, "userdata")
        var stored = StoredContainer(id: id)
        var listed = false
        switch index {
        case .success(let records):
            if let record = records[id] {
                listed = true
                stored.names = record.strings("names")
                stored.imageID = record.string("image")
                stored.metadata = Self.metadata(record, warnings: &stored.warnings)
            }
        case .failure(let why):
            stored.warnings.append(why.reason)
        }
        let directoryExists = FileSystem.exists(FileSystem.join(containersDirectory, id))
        guard listed || directoryExists else { return nil }

        switch MetadataFile.read(FileSystem.join(userdata, "config.json")) {
        case .object(let json): stored.annotations = OCISpec(json).annotations
        case .corrupt(let why): stored.warnings.append(why)
        case .missing: break  // a created-but-never-started container has no bundle yet
        }
        stored.initPID = MetadataFile.readPID(FileSystem.join(userdata, "pidfile"))
        if stored.initPID == nil, let runRoot {
            stored.initPID = MetadataFile.readPID(FileSystem.join(runRoot, "overlay-containers", id, "userdata", "pidfile"))
        }
        return stored
    }

    struct IndexError: Error { var reason: String }

    /// containers.json keyed by id; with `only`, that id's record alone: the index is skimmed and
    /// only the element that mentions the id is parsed (the whole index when it is not a plain array).
    func readIndex(only id: String? = nil) -> Result<[String: JSONObject], IndexError> {
        let path = FileSystem.join(containersDirectory, "containers.json")
        let bytes: [UInt8]
        do {
            bytes = try FileSystem.readBytes(path, kind: .runtimeIndex)
        } catch {
            if error.errno == ENOENT { return .success([:]) }
            return .failure(IndexError(reason: error.isRefusal ? error.description : "\(path): unreadable"))
        }
        if let id, let ranges = JSONValue.arrayElementRanges(bytes) {
            let needle = Array("\"\(id)\"".utf8)
            for range in ranges where Self.contains(bytes[range], needle) {
                guard let object = JSONValue.parse(bytes[range])?.objectValue else { return Self.index(bytes, path: path) }
                let record = JSONObject(object)
                if record.string("id") == id { return .success([id: record]) }
            }
            return .success([:])
        }
        return Self.index(bytes, path: path)
    }

    private static func contains(_ haystack: ArraySlice<UInt8>, _ needle: [UInt8]) -> Bool {
        guard let first = needle.first, haystack.count >= needle.count else { return false }
        var i = haystack.startIndex
        let last = haystack.endIndex - needle.count
        while i <= last {
            if haystack[i] == first && haystack[i..<i + needle.count].elementsEqual(needle) { return true }
            i += 1
        }
        return false
    }

    private static func index(_ bytes: [UInt8], path: String) -> Result<[String: JSONObject], IndexError> {
        guard let array = JSONValue.parse(bytes)?.arrayValue else {
            return .failure(IndexError(reason: "\(path): not a JSON array"))
        }
        var records: [String: JSONObject] = [:]
        for object in array.compactMap(\.objectValue) {
            let record = JSONObject(object)
            if let id = record.string("id") { records[id] = record }
        }
        return .success(records)
    }

    /// Podman >= 4 and CRI-O write `metadata` as a string holding JSON; accept an object too.
    static func metadata(_ record: JSONObject, warnings: inout [String]) -> [String: String] {
        if let nested = record.object("metadata") { return nested.stringMap() }
        guard let text = record.string("metadata") else { return [:] }
        guard let parsed = JSONObject(jsonText: text) else {
            warnings.append("containers.json: metadata of \(record.string("id") ?? "?") is not JSON")
            return [:]
        }
        return parsed.stringMap()
    }
}

extension JSONObject {
    /// The whole object as a string map (variadic `stringMap` needs at least one key).
    func stringMap() -> [String: String] { fields.compactMapValues(\.stringValue) }
}
