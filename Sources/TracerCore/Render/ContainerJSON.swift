/// The `container` object shared by every command's JSON: `runtime`, `id`, `name`, `image`, `pod`.
public enum ContainerJSON {
    public static func object(_ identity: ContainerIdentity) -> JSONLine {
        var json = JSONLine()
        json.add("runtime", identity.runtime.rawValue)
        json.add("id", identity.id)
        json.add("name", optional: identity.name)
        json.add("image", optional: identity.image)
        if let pod = identity.pod {
            var podJSON = JSONLine()
            podJSON.add("namespace", optional: pod.namespace)
            podJSON.add("name", optional: pod.name)
            podJSON.add("uid", optional: pod.uid)
            json.add("pod", object: podJSON)
        } else {
            json.addNull("pod")
        }
        if let warning = identity.warning { json.add("warning", warning) }
        return json
    }

    /// Adds `container` (or null for the host) to `json`, and `attribution` when it is neither.
    public static func add(_ attribution: Attribution, to json: inout JSONLine) {
        switch attribution {
        case .container(let identity):
            json.add("container", object: object(identity))
        case .host:
            json.addNull("container")
        case .notAContainer(let reason):
            json.addNull("container")
            json.add("attribution", reason)
        }
    }

    /// The table form: the name, else the short id, else "-" for the host.
    public static func column(_ attribution: Attribution) -> String {
        switch attribution {
        case .container(let identity): return ByteText.escaped(Array((identity.name ?? identity.shortID).utf8))
        case .host, .notAContainer: return "-" // the JSON `attribution` field says why
        }
    }
}
