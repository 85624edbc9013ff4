import Foundation
import Testing
@testable import TracerCore

struct JSONValueTests {
    @Test func parsesEveryKindOfValue() throws {
        let text = #"{"a": [1, -2.5e3, true, false, null], "s": "q\"\\\/\n\u00e9\ud83d\ude00", "o": {}, "e": []}"#
        let value = try #require(JSONValue.parse(Data(text.utf8)))
        let object = try #require(value.objectValue)
        #expect(object["a"] == .array([.number(1), .number(-2500), .bool(true), .bool(false), .null]))
        #expect(object["s"]?.stringValue == "q\"\\/\né😀")
        #expect(object["o"] == .object([:]))
        #expect(object["e"] == .array([]))
    }

    @Test(arguments: ["", "{", "[1,]", "{\"a\" 1}", "tru", "\"unterminated", "[1] 2", "{\"a\":\"\u{01}\"}",
                      String(repeating: "[", count: 10000)])
    func rejectsMalformedDocuments(text: String) {
        #expect(JSONValue.parse(Data(text.utf8)) == nil)
    }

    @Test func agreesWithJSONSerializationOnTheFixtures() throws {
        let path = Fixture.path("storage/overlay-containers/containers.json")
        let data = try Data(contentsOf: URL(fileURLWithPath: path))
        let ours = try #require(JSONValue.parse(data)?.arrayValue)
        let theirs = try #require(try JSONSerialization.jsonObject(with: data) as? [[String: Any]])
        #expect(ours.count == theirs.count)
        #expect(ours.compactMap { $0.objectValue?["id"]?.stringValue } == theirs.compactMap { $0["id"] as? String })
    }

    @Test func elementRangesSkimAnArrayWithoutParsingIt() throws {
        let text = #" [ {"id":"a","names":["x,]"],"m":"{\"q\":1}"} , "s\"]", 12 ,[1,[2]] ,null] "#
        let bytes = Array(text.utf8)
        let ranges = try #require(JSONValue.arrayElementRanges(bytes))
        let pieces = ranges.map { String(decoding: bytes[$0], as: UTF8.self) }
        #expect(pieces == [#"{"id":"a","names":["x,]"],"m":"{\"q\":1}"}"#, #""s\"]""#, "12", "[1,[2]]", "null"])
        #expect(JSONValue.parse(bytes[ranges[0]])?.objectValue?["id"]?.stringValue == "a")
        #expect(JSONValue.arrayElementRanges(Array("{}".utf8)) == nil)
        #expect(JSONValue.arrayElementRanges(Array("[1,2".utf8)) == nil)
        #expect(JSONValue.arrayElementRanges(Array("[,1]".utf8)) == nil)
        #expect(JSONValue.arrayElementRanges(Array("[]".utf8)) == [])
    }

    @Test func skimmingFindsEveryFixtureRecordAsAFullParseDoes() throws {
        let data = try Data(contentsOf: URL(fileURLWithPath: Fixture.path("storage/overlay-containers/containers.json")))
        let bytes = [UInt8](data)
        let ranges = try #require(JSONValue.arrayElementRanges(bytes))
        let full = try #require(JSONValue.parse(data)?.arrayValue)
        #expect(ranges.map { JSONValue.parse(bytes[$0]) } == full.map { Optional($0) })
    }
}
