import Foundation
import Testing
@testable import TracerCore

struct ByteTextTests {
    @Test func controlCharactersAreEscapedInTables() {
        #expect(ByteText.escaped(Array("a\nb\tc\r\u{1B}[31m\\".utf8)) == "a\\nb\\tc\\r\\x1b[31m\\\\")
        #expect(ByteText.escaped(Array("é日本".utf8)) == "é日本")
        #expect(ByteText.escaped([0x7F, 0xC2, 0x85]) == "\\x7f\\x85") // DEL and C1 NEL (U+0085)
    }

    @Test func invalidUTF8BecomesHexEscapes() {
        #expect(ByteText.escaped([0x41, 0xFF, 0xFE, 0x42]) == "A\\xff\\xfeB")
        #expect(ByteText.escaped([0xC0, 0xAF]) == "\\xc0\\xaf", "overlong slash")
        #expect(ByteText.escaped([0xED, 0xA0, 0x80]) == "\\xed\\xa0\\x80", "UTF-16 surrogate")
        #expect(ByteText.escaped([0xE6, 0x97]) == "\\xe6\\x97", "cut sequence")
    }

    @Test(arguments: [
        [UInt8](), Array("plain".utf8), [0x00, 0x01, 0x1F, 0x22, 0x5C, 0x7F], [0xFF, 0xC3, 0x28, 0xF0, 0x9F, 0x98],
        Array("quote \" backslash \\ emoji 😀".utf8), Array(0...255),
    ])
    func jsonIsValidForAnyBytes(bytes: [UInt8]) throws {
        let literal = ByteText.jsonString(bytes)
        let parsed = try JSONSerialization.jsonObject(with: Data("[\(literal)]".utf8)) as? [String]
        #expect(parsed?.count == 1)
        if let valid = String(validating: bytes, as: UTF8.self) {
            #expect(parsed?.first == valid, "valid UTF-8 round-trips exactly")
        }
    }

    @Test func jsonLineBuildsNestedObjects() throws {
        var inner = JSONLine()
        inner.add("id", 7)
        var line = JSONLine()
        line.add("type", "exec")
        line.add("args", strings: [Array("a b".utf8), [0xFF]])
        line.add("nested", object: inner)
        line.addNull("container")
        line.add("ok", true)
        let object = try #require(try JSONSerialization.jsonObject(with: Data(line.finished.utf8)) as? [String: Any])
        #expect(object["type"] as? String == "exec")
        #expect(object["args"] as? [String] == ["a b", "\\xff"])
        #expect((object["nested"] as? [String: Any])?["id"] as? Int == 7)
        #expect(object["container"] is NSNull)
        #expect(object["ok"] as? Bool == true)
    }
}

/// Bidirectional formatting characters reorder what follows them on the line: a name holding
/// U+202E can make a table show another name. They are escaped like control characters.
struct ByteTextBidiTests {
    static let bidi: [UInt32] = [0x061C, 0x200E, 0x200F, 0x202A, 0x202B, 0x202C, 0x202D, 0x202E,
                                 0x2066, 0x2067, 0x2068, 0x2069, 0x2028, 0x2029]

    @Test(arguments: bidi)
    func bidiCharactersAreEscapedInTablesAndMessages(value: UInt32) {
        let scalar = Unicode.Scalar(value)!
        let hex = String(value, radix: 16)
        let expected = "a\\u" + String(repeating: "0", count: 4 - hex.count) + hex + "b"
        let text = "a" + String(Character(scalar)) + "b"
        #expect(ByteText.escaped(Array(text.utf8)) == expected)
        #expect(ByteText.escaped(text) == expected)
        #expect(ByteText.controlsEscaped(text) == expected)
    }

    @Test func rightToLeftOverrideCannotDisguiseAName() {
        let name = "evil\u{1B}[2J\r\u{07}\nX\u{202E}txt.exe"
        #expect(ByteText.escaped(name) == "evil\\x1b[2J\\r\\x07\\nX\\u202etxt.exe")
        #expect(ByteText.controlsEscaped(name) == "evil\\x1b[2J\\x0d\\x07\\x0aX\\u202etxt.exe")
    }

    @Test func otherNonASCIITextIsKept() {
        // Arabic and Hebrew letters carry their own direction; only the invisible formatting is escaped.
        for text in ["é日本", "שלום", "مرحبا", "😀", "\u{200B}"] {
            #expect(ByteText.escaped(text) == text)
        }
    }

    @Test func jsonKeepsBidiAsDataAndStaysValid() throws {
        let text = "a\u{202E}b\u{2066}c\u{1B}"
        let literal = ByteText.jsonString(text)
        let parsed = try JSONSerialization.jsonObject(with: Data("[\(literal)]".utf8)) as? [String]
        #expect(parsed == [text])
    }
}
