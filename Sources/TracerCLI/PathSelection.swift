import TracerCore

/// The egress paths `--container` and `--netns` select (every endpoint without either), for
/// `tracer diagnose` and `tracer egress`; a selection that names nothing exits with its code.
enum PathSelection {
    static func paths(_ finder: EgressPathFinder, containers: [String], namespaces: [String], command: String) throws -> [EgressPath] {
        do {
            return try finder.paths(containers: containers, namespaces: namespaces)
        } catch {
            printError("tracer \(command): \(error)")
            switch error {
            case .unknownContainer: throw TracerExit.unknownContainer
            case .unknownNamespace, .notAnEndpoint: throw TracerExit.unknownNamespace
            case .noEgressPath: throw TracerExit.failure
            }
        }
    }
}
