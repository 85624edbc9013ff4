/// Safe text from bytes that may be anything: process names, arguments and container
/// names are not guaranteed UTF-8 and may hold control characters.
/// Invalid UTF-8 bytes become `\xHH`; control characters become `\n`, `\t`, `\r` or `\xHH`;
/// bidirectional formatting characters become `\u202e` (see `needsEscape`).
///
/// The one escaper of the tracer: every renderer passes host text (names, ids, cgroup paths,
/// comm, argv, rule text, interface names, images) through `escaped`, and stderr messages
/// through `controlsEscaped`, at the moment it prints it. The data stays raw until then.
public enum ByteText {
    enum Piece: Equatable {
        case scalar(Unicode.Scalar)
        case invalid(UInt8)
    }

    /// Walks the bytes as UTF-8, yielding scalars and the bytes that are not part of one.
    static func pieces(_ bytes: some Collection<UInt8>) -> [Piece] {
        let b = Array(bytes)
        var result: [Piece] = []
        result.reserveCapacity(b.count)
        var i = 0
        while i < b.count {
            let lead = b[i]
            if lead < 0x80 {
                result.append(.scalar(Unicode.Scalar(lead)))
                i += 1
                continue
            }
            if let length = validSequenceLength(b, at: i) {
                var value = UInt32(lead) & (length == 2 ? 0x1F : length == 3 ? 0x0F : 0x07)
                for k in 1..<length { value = value << 6 | UInt32(b[i + k] & 0x3F) }
                result.append(.scalar(Unicode.Scalar(value)!))
                i += length
            } else {
                result.append(.invalid(lead))
                i += 1
            }
        }
        return result
    }

    /// Text for a terminal or a table: printable characters as they are, everything else escaped.
    public static func escaped(_ bytes: some Collection<UInt8>) -> String {
        var out = ""
        for piece in pieces(bytes) {
            switch piece {
            case .invalid(let byte):
                out += hex(byte)
            case .scalar(let s):
                switch s {
                case "\n": out += "\\n"
                case "\t": out += "\\t"
                case "\r": out += "\\r"
                case "\\": out += "\\\\"
                default:
                    if needsEscape(s) { out += escape(s) } else { out.unicodeScalars.append(s) }
                }
            }
        }
        return out
    }

    /// `escaped` for text already in a String (names and ids read from metadata, cgroup paths).
    public static func escaped(_ text: String) -> String { escaped(Array(text.utf8)) }

    /// A message for stderr: control and bidirectional characters escaped (an argument or a
    /// name could hold any), everything else, backslashes included, as it is.
    public static func controlsEscaped(_ text: String) -> String {
        var out = ""
        for s in text.unicodeScalars {
            if needsEscape(s) { out += escape(s) } else { out.unicodeScalars.append(s) }
        }
        return out
    }

    /// A JSON string literal (with quotes), valid for any input bytes.
    /// Invalid UTF-8 bytes appear as the four characters `\xHH`.
    public static func jsonString(_ bytes: some Collection<UInt8>) -> String {
        var out: [UInt8] = []
        appendJSON(Array(bytes), to: &out)
        return String(decoding: out, as: UTF8.self)
    }

    /// Appends the JSON string literal of `bytes` to `out`. Plain ASCII, the common case, is
    /// copied as is; only what needs escaping takes the slow path.
    public static func appendJSON(_ bytes: [UInt8], to out: inout [UInt8]) {
        out.append(34)
        var i = 0
        let n = bytes.count
        while i < n {
            let b = bytes[i]
            if b >= 0x20 && b < 0x7F && b != 34 && b != 92 {
                out.append(b)
                i += 1
                continue
            }
            if b >= 0x80, let length = validSequenceLength(bytes, at: i) {
                // C1 controls (U+0080...U+009F) are two bytes starting 0xC2 0x80...0x9F.
                if length == 2 && b == 0xC2 && bytes[i + 1] <= 0x9F {
                    appendUnicodeEscape(UInt32(bytes[i + 1]), to: &out)
                } else {
                    out.append(contentsOf: bytes[i..<i + length])
                }
                i += length
                continue
            }
            switch b {
            case 34: out.append(contentsOf: [92, 34])
            case 92: out.append(contentsOf: [92, 92])
            case 10: out.append(contentsOf: [92, 110])
            case 9: out.append(contentsOf: [92, 116])
            case 13: out.append(contentsOf: [92, 114])
            case 0..<0x20, 0x7F: appendUnicodeEscape(UInt32(b), to: &out)
            default: out.append(contentsOf: Array(("\\" + hex(b)).utf8)) // invalid UTF-8 byte
            }
            i += 1
        }
        out.append(34)
    }

    /// The length of the valid UTF-8 sequence starting at `i`, or nil.
    static func validSequenceLength(_ b: [UInt8], at i: Int) -> Int? {
        let lead = b[i]
        let length: Int
        var value: UInt32
        switch lead {
        case 0xC2...0xDF: length = 2; value = UInt32(lead & 0x1F)
        case 0xE0...0xEF: length = 3; value = UInt32(lead & 0x0F)
        case 0xF0...0xF4: length = 4; value = UInt32(lead & 0x07)
        default: return nil
        }
        guard i + length <= b.count else { return nil }
        for k in 1..<length {
            let c = b[i + k]
            guard c & 0xC0 == 0x80 else { return nil }
            value = value << 6 | UInt32(c & 0x3F)
        }
        if length == 3 && (value < 0x800 || (0xD800...0xDFFF).contains(value)) { return nil }
        if length == 4 && (value < 0x10000 || value > 0x10FFFF) { return nil }
        return length
    }

    private static func appendUnicodeEscape(_ value: UInt32, to out: inout [UInt8]) {
        let digits = Array("0123456789abcdef".utf8)
        out.append(contentsOf: [92, 117, 48, 48, digits[Int(value >> 4 & 0xF)], digits[Int(value & 0xF)]])
    }

    public static func jsonString(_ text: String) -> String { jsonString(Array(text.utf8)) }

    /// What a terminal would act on instead of showing: C0, DEL and C1 controls; and the
    /// bidirectional formatting characters, which reorder the rest of the line so that a name can
    /// show as another (U+202E turns `exe.txt` into what reads as `txt.exe`): the embeddings and
    /// overrides U+202A...U+202E, the isolates U+2066...U+2069, the marks U+200E, U+200F and
    /// U+061C; and the line and paragraph separators U+2028, U+2029, which some terminals and
    /// viewers break lines at.
    static func needsEscape(_ s: Unicode.Scalar) -> Bool {
        switch s.value {
        case 0..<0x20, 0x7F, 0x80...0x9F: return true
        case 0x061C, 0x200E, 0x200F, 0x202A...0x202E, 0x2066...0x2069, 0x2028, 0x2029: return true
        default: return false
        }
    }

    /// `\x1b` for a control below U+0100, `\u202e` above.
    private static func escape(_ s: Unicode.Scalar) -> String {
        if s.value < 0x100 { return hex(UInt8(s.value)) }
        let digits = String(s.value, radix: 16)
        return "\\u" + String(repeating: "0", count: max(0, 4 - digits.count)) + digits
    }

    private static func hex(_ byte: UInt8) -> String {
        let digits = String(byte, radix: 16)
        return "\\x" + (digits.count == 1 ? "0" + digits : digits)
    }
}
