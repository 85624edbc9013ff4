/// Safe text from bytes that may be anything: process names, arguments and container
/// names are not guaranteed UTF-8 and may hold control characters.
/// Invalid UTF-8 bytes become `\xHH`; control characters become `\n`, `\t`, `\r` or `\xHH`.
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
            let length: Int
            var value: UInt32
            switch lead {
            case 0xC2...0xDF: length = 2; value = UInt32(lead & 0x1F)
            case 0xE0...0xEF: length = 3; value = UInt32(lead & 0x0F)
            case 0xF0...0xF4: length = 4; value = UInt32(lead & 0x07)
            default: length = 0; value = 0
            }
            var valid = length > 0 && i + length <= b.count
            if valid {
                for k in 1..<length {
                    let c = b[i + k]
                    if c & 0xC0 != 0x80 { valid = false; break }
                    value = value << 6 | UInt32(c & 0x3F)
                }
            }
            // Reject overlong forms, surrogates and values past U+10FFFF.
            if valid, let scalar = Unicode.Scalar(value),
               !(length == 3 && value < 0x800), !(length == 4 && (value < 0x10000 || value > 0x10FFFF)) {
                result.append(.scalar(scalar))
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
                    if s.value < 0x20 || s.value == 0x7F || (0x80...0x9F).contains(s.value) {
                        out += s.value < 0x100 ? hex(UInt8(s.value)) : "\\u{\(String(s.value, radix: 16))}"
                    } else {
                        out.unicodeScalars.append(s)
                    }
                }
            }
        }
        return out
    }

    /// A JSON string literal (with quotes), valid for any input bytes.
    /// Invalid UTF-8 bytes appear as the four characters `\xHH`.
    public static func jsonString(_ bytes: some Collection<UInt8>) -> String {
        var out = "\""
        for piece in pieces(bytes) {
            switch piece {
            case .invalid(let byte):
                out += "\\" + hex(byte)
            case .scalar(let s):
                switch s {
                case "\"": out += "\\\""
                case "\\": out += "\\\\"
                case "\n": out += "\\n"
                case "\t": out += "\\t"
                case "\r": out += "\\r"
                default:
                    if s.value < 0x20 || s.value == 0x7F || (0x80...0x9F).contains(s.value) {
                        let digits = String(s.value, radix: 16)
                        out += "\\u" + String(repeating: "0", count: 4 - digits.count) + digits
                    } else {
                        out.unicodeScalars.append(s)
                    }
                }
            }
        }
        return out + "\""
    }

    public static func jsonString(_ text: String) -> String { jsonString(Array(text.utf8)) }

    private static func hex(_ byte: UInt8) -> String {
        let digits = String(byte, radix: 16)
        return "\\x" + (digits.count == 1 ? "0" + digits : digits)
    }
}
