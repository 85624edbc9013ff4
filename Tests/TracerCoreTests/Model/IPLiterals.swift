import TracerCore

// Addresses and prefixes as literals in tests: `gateway: "192.0.2.1"`. Only tests get this: in
// the tool a literal that fails to parse would stop the program (`gateway ?? "-"` compiles
// with it), so TracerCore parses text with the failable initialisers only.
extension IPAddress: ExpressibleByStringLiteral {
    public init(stringLiteral text: String) {
        guard let address = IPAddress(text) else { preconditionFailure("not an IP address: \(text)") }
        self = address
    }
}

extension IPPrefix: ExpressibleByStringLiteral {
    public init(stringLiteral text: String) {
        guard let prefix = IPPrefix(text) else { preconditionFailure("not an IP prefix: \(text)") }
        self = prefix
    }
}
