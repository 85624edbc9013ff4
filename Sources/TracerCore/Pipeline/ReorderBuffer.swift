/// Holds events briefly so they leave in kernel-timestamp order: CPUs reserve ring-buffer
/// space a little out of step with the moment they took their timestamp.
public struct ReorderBuffer<Element> {
    private var held: [Element] = []
    private let timestamp: (Element) -> UInt64
    /// How long an event waits for earlier ones from other CPUs.
    public let window: UInt64

    public init(window: UInt64 = 20_000_000, timestamp: @escaping (Element) -> UInt64) {
        self.window = window
        self.timestamp = timestamp
    }

    public mutating func insert(_ elements: [Element]) {
        held.append(contentsOf: elements)
    }

    /// Events stamped before `now - window`, oldest first; all of them when `now` is nil.
    public mutating func release(now: UInt64?) -> [Element] {
        guard !held.isEmpty else { return [] }
        held.sort { timestamp($0) < timestamp($1) }
        guard let now else {
            defer { held.removeAll() }
            return held
        }
        let cutoff = now > window ? now - window : 0
        let ready = held.prefix { timestamp($0) < cutoff }
        held.removeFirst(ready.count)
        return Array(ready)
    }

    public var isEmpty: Bool { held.isEmpty }
}
