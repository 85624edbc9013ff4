/// The published ports one source holds, and what could not be read and why.
public struct PublishedPortReading: Sendable, Equatable {
    public var ports: [PublishedPort]
    /// One line per record that could not be read ("podman: .../db.sql: podman's SQLite database is not read").
    public var unchecked: [String]

    public init(ports: [PublishedPort] = [], unchecked: [String] = []) {
        self.ports = ports
        self.unchecked = unchecked
    }

    public static func + (a: PublishedPortReading, b: PublishedPortReading) -> PublishedPortReading {
        PublishedPortReading(ports: a.ports + b.ports, unchecked: a.unchecked + b.unchecked)
    }
}
