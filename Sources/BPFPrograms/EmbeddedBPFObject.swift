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
        guard let bytes = Base64.decode(base64) else {
            preconditionFailure("embedded BPF object \(name) is not valid base64: the build is broken")
        }
        return bytes
    }
}

/// Standard base64 (RFC 4648, padded), decoded here so the tracer needs no Foundation: linking
/// it costs every command about 1.5 ms of start-up.
enum Base64 {
    static func decode(_ text: String) -> [UInt8]? {
        var utf8 = Array(text.utf8)
        guard utf8.count % 4 == 0 else { return nil }
        var padding = 0
        while padding < 2, utf8.last == UInt8(ascii: "=") { utf8.removeLast(); padding += 1 }
        var out: [UInt8] = []
        out.reserveCapacity(utf8.count * 3 / 4)
        var accumulator: UInt32 = 0
        var bits = 0
        for byte in utf8 {
            guard let value = sextet(byte) else { return nil }
            accumulator = accumulator << 6 | UInt32(value)
            bits += 6
            if bits >= 8 {
                bits -= 8
                out.append(UInt8(truncatingIfNeeded: accumulator >> UInt32(bits)))
            }
        }
        return out
    }

    private static func sextet(_ byte: UInt8) -> UInt8? {
        switch byte {
        case UInt8(ascii: "A")...UInt8(ascii: "Z"): byte - UInt8(ascii: "A")
        case UInt8(ascii: "a")...UInt8(ascii: "z"): byte - UInt8(ascii: "a") + 26
        case UInt8(ascii: "0")...UInt8(ascii: "9"): byte - UInt8(ascii: "0") + 52
        case UInt8(ascii: "+"): 62
        case UInt8(ascii: "/"): 63
        default: nil
        }
    }
}
