import Glibc

/// One runtime metadata file as read from disk. Readers switch on this instead of throwing so a
/// corrupt file becomes a warning on the identity, never a crash or a lost container.
enum MetadataFile {
    case missing
    /// Present but unreadable or not a JSON object; carries a short reason for the warning.
    case corrupt(String)
    case object(JSONObject)

    /// One open and read: `tracer pid` reads one of these per lookup.
    static func read(_ path: String) -> MetadataFile {
        let bytes: [UInt8]
        do {
            bytes = try FileSystem.readBytes(path, kind: .runtimeMetadata)
        } catch {
            if error.errno == ENOENT { return .missing }
            return .corrupt(error.isRefusal ? error.description : "\(path): unreadable (\(error))")
        }
        guard let object = JSONValue.parse(bytes)?.objectValue else { return .corrupt("\(path): not a JSON object") }
        return .object(JSONObject(object))
    }

    /// A pidfile or init.pid: a decimal PID, possibly newline-terminated. Zero or junk means none.
    static func readPID(_ path: String) -> Int32? {
        guard let text = try? FileSystem.readText(path, kind: .runtimeMetadata),
              let pid = Int32(text.trimmed),
              pid > 0
        else { return nil }
        return pid
    }
}

/// A parsed JSON object with forgiving typed lookups: a field of the wrong type reads as absent,
/// so one odd field does not discard the rest of the file.
struct JSONObject {
    let fields: [String: JSONValue]

    init(_ fields: [String: JSONValue]) { self.fields = fields }

    /// Parses JSON held in a string, as podman and CRI-O store containers.json `metadata`.
    init?(jsonText: String) {
        guard let object = JSONValue.parse(jsonText.utf8)?.objectValue else { return nil }
        self.fields = object
    }

    func value(_ path: [String]) -> JSONValue? {
        var current: JSONValue? = .object(fields)
        for key in path { current = current?.objectValue?[key] }
        return current
    }

    /// A non-empty string.
    func string(_ path: String...) -> String? {
        guard let s = value(path)?.stringValue, !s.isEmpty else { return nil }
        return s
    }

    func int(_ path: String...) -> Int? {
        guard let number = value(path)?.numberValue, number.isFinite, abs(number) < 1e15 else { return nil }
        return Int(number)
    }

    func bool(_ path: String...) -> Bool? {
        value(path)?.boolValue
    }

    func object(_ path: String...) -> JSONObject? {
        value(path)?.objectValue.map(JSONObject.init)
    }

    func strings(_ path: String...) -> [String] {
        value(path)?.arrayValue?.compactMap(\.stringValue) ?? []
    }

    /// String-valued members only; labels and annotations are string maps by spec.
    func stringMap(_ path: String...) -> [String: String] {
        guard let object = value(path)?.objectValue else { return [:] }
        return object.compactMapValues(\.stringValue)
    }
}
