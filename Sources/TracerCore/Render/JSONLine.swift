/// Builds one JSON object, field by field, in the order written. Strings go through
/// `ByteText.jsonString`, so the line is valid JSON whatever bytes the kernel saw.
public struct JSONLine: Sendable {
    private var text = "{"
    private var empty = true

    public init() {}

    private mutating func key(_ name: String) {
        if !empty { text += "," }
        empty = false
        text += "\"\(name)\":"
    }

    public mutating func add(_ name: String, _ value: String) { key(name); text += ByteText.jsonString(value) }
    public mutating func add(_ name: String, bytes: [UInt8]) { key(name); text += ByteText.jsonString(bytes) }
    public mutating func add(_ name: String, _ value: Bool) { key(name); text += value ? "true" : "false" }
    public mutating func add<T: BinaryInteger>(_ name: String, _ value: T) { key(name); text += String(value) }
    public mutating func add(_ name: String, _ value: Double) {
        key(name)
        text += value.isFinite ? String(value) : "null"
    }
    public mutating func addNull(_ name: String) { key(name); text += "null" }
    public mutating func add(_ name: String, object: JSONLine) { key(name); text += object.finished }
    public mutating func add(_ name: String, objects: [JSONLine]) {
        key(name)
        text += "[" + objects.map(\.finished).joined(separator: ",") + "]"
    }
    public mutating func add(_ name: String, strings: [[UInt8]]) {
        key(name)
        text += "[" + strings.map { ByteText.jsonString($0) }.joined(separator: ",") + "]"
    }
    public mutating func add(_ name: String, strings: [String]) {
        key(name)
        text += "[" + strings.map { ByteText.jsonString($0) }.joined(separator: ",") + "]"
    }
    public mutating func add<T: BinaryInteger>(_ name: String, optional value: T?) {
        if let value { add(name, value) } else { addNull(name) }
    }
    public mutating func add(_ name: String, optional value: String?) {
        if let value { add(name, value) } else { addNull(name) }
    }

    public var finished: String { text + "}" }
}
