import FoundationEssentials

/// The BPF objects compiled from `bpf/` at build time; each program file adds a static member.
public enum EmbeddedBPF {}

/// One compiled BPF object carried inside the binary.
public struct EmbeddedBPFObject: Sendable {
    public let name: String
    private let base64: String

    public init(name: String, base64: String) {
        self.name = name
        self.base64 = base64
    }

    /// The ELF bytes, as libbpf expects them.
    public var bytes: [UInt8] {
        guard let data = Data(base64Encoded: base64) else {
            preconditionFailure("embedded BPF object \(name) is not valid base64: the build is broken")
        }
        return [UInt8](data)
    }
}
