/// Builds one JSON object, field by field, in the order written. Strings go through
/// `ByteText.appendJSON`, so the line is valid JSON whatever bytes the kernel saw.
public struct JSONLine: Sendable {
    private var bytes: [UInt8] = [123]
    private var empty = true

    public init() {
        bytes.reserveCapacity(512)
    }

    private mutating func key(_ name: StaticString) {
        if !empty { bytes.append(44) }
        empty = false
        bytes.append(34)
        name.withUTF8Buffer { bytes.append(contentsOf: $0) }
        bytes.append(contentsOf: [34, 58])
    }

    public mutating func add(_ name: StaticString, _ value: String) { key(name); ByteText.appendJSON(Array(value.utf8), to: &bytes) }
    public mutating func add(_ name: StaticString, bytes value: [UInt8]) { key(name); ByteText.appendJSON(value, to: &bytes) }
    /// Bytes known to need no escaping (numbers, timestamps), added as a string.
    public mutating func add(_ name: StaticString, plainBytes value: [UInt8]) {
        key(name)
        bytes.append(34)
        bytes.append(contentsOf: value)
        bytes.append(34)
    }
    public mutating func add(_ name: StaticString, _ value: Bool) { key(name); bytes.append(contentsOf: value ? Array("true".utf8) : Array("false".utf8)) }
    public mutating func add<T: BinaryInteger>(_ name: StaticString, _ value: T) { key(name); bytes.append(contentsOf: String(value).utf8) }
    public mutating func add(_ name: StaticString, _ value: Double) {
        key(name)
        bytes.append(contentsOf: (value.isFinite ? String(value) : "null").utf8)
    }
    public mutating func addNull(_ name: StaticString) { key(name); bytes.append(contentsOf: [110, 117, 108, 108]) }
    public mutating func add(_ name: StaticString, object: JSONLine) { key(name); bytes.append(contentsOf: object.finishedBytes) }
    public mutating func add(_ name: StaticString, objects: [JSONLine]) {
        key(name)
        bytes.append(91)
        for (i, object) in objects.enumerated() {
            if i > 0 { bytes.append(44) }
            bytes.append(contentsOf: object.finishedBytes)
        }
        bytes.append(93)
    }
    public mutating func add(_ name: StaticString, strings: [[UInt8]]) {
        key(name)
        bytes.append(91)
        for (i, string) in strings.enumerated() {
            if i > 0 { bytes.append(44) }
            ByteText.appendJSON(string, to: &bytes)
        }
        bytes.append(93)
    }
    public mutating func add(_ name: StaticString, strings: [String]) { add(name, strings: strings.map { Array($0.utf8) }) }
    public mutating func add<T: BinaryInteger>(_ name: StaticString, optional value: T?) {
        if let value { add(name, value) } else { addNull(name) }
    }
    public mutating func add(_ name: StaticString, optional value: String?) {
        if let value { add(name, value) } else { addNull(name) }
    }

    public var finishedBytes: [UInt8] { bytes + [125] }
    public var finished: String { String(decoding: finishedBytes, as: UTF8.self) }
}
