import Foundation
import Testing
@testable import BPFPrograms

/// The embedded BPF objects are carried as base64 and decoded without Foundation.
struct EmbeddedObjectTests {
    @Test(arguments: [0, 1, 2, 3, 4, 5, 57, 1000, 4099])
    func base64DecodesWhatFoundationEncodes(size: Int) {
        var generator = SystemRandomNumberGenerator()
        let bytes = (0..<size).map { _ in UInt8.random(in: 0...255, using: &generator) }
        #expect(Base64.decode(Data(bytes).base64EncodedString()) == bytes)
    }

    @Test(arguments: ["A", "AB=", "A===", "AB*D", "AB C"])
    func malformedBase64IsRejected(text: String) {
        #expect(Base64.decode(text) == nil)
    }

    @Test func embeddedObjectsAreELF() {
        let elf = EmbeddedBPF.exec.bytes
        #expect(elf.starts(with: [0x7f, 0x45, 0x4c, 0x46]))
    }
}
