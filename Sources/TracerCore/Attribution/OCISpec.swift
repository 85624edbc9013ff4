/// The few fields of an OCI runtime spec (a bundle's config.json) attribution needs. It parses an
/// already-read object; the reader that owns each config.json file decides where it lives.
struct OCISpec {
    var annotations: [String: String]
    var cgroupsPath: String?

    init(_ json: JSONObject) {
        annotations = json.stringMap("annotations")
        cgroupsPath = json.string("linux", "cgroupsPath")
    }
}
