import Foundation
import Testing

/// Unsafe pointers in TracerCore stay at its edges: the decoders of the kernel's bytes and the few
/// types that make system calls. A new file that needs them either belongs to that list or should
/// ask one of those types instead.
struct UnsafeCodeTests {
    static let edges: Set<String> = [
        // Decoders of the kernel's and netlink's bytes.
        "Events/NetEvents.swift", "Events/ProcessEventDecoder.swift", "Events/TopMapDecoder.swift",
        "Network/NetlinkParsing.swift", "System/MountTable.swift",
        // System calls: files, sockets, namespaces' mounts, spawning, writing output.
        "System/FileSystem.swift", "System/NetnsMounts.swift", "Network/NetlinkSocket.swift",
        "Network/NetlinkSocket+NetnsID.swift", "Netfilter/SaveTool.swift", "Render/OutputSink.swift",
    ]

    @Test func onlyTheEdgesUseUnsafePointers() throws {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("Sources/TracerCore")
        let walker = try #require(FileManager.default.enumerator(atPath: root.path))
        var users: Set<String> = []
        while let name = walker.nextObject() as? String {
            guard name.hasSuffix(".swift") else { continue }
            let text = try String(contentsOf: root.appendingPathComponent(name), encoding: .utf8)
            if text.contains(/Unsafe(Mutable)?(Raw)?(Buffer)?Pointer|withUnsafe|OpaquePointer/) { users.insert(name) }
        }
        #expect(users.subtracting(Self.edges).sorted() == [], "unsafe pointers outside TracerCore's edges")
        #expect(!users.isEmpty)
    }
}
