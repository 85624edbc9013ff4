import Foundation
import Testing
@testable import TracerCore

/// /proc/kallsyms, parsed from bytes: text symbols only, sorted, an address named by the symbol it falls in.
struct KernelSymbolsTests {
    static let sample = """
        ffffffff81000000 T _stext
        ffffffff81a00100 t ip_error
        ffffffff81a00000 T ip_forward
        ffffffff82000000 D init_task
        0000000000000000 T hidden_by_kptr_restrict
        ffffffffc0200000 t nf_hook_slow\t[nf_tables]
        ffffffff81a00200 t ip_finish_output2.constprop.0
        not a line
        ffffffff81b00000 W weak_symbol

        """

    @Test func textSymbolsAreKeptSortedByAddress() {
        let (starts, names) = KernelSymbols.parse(Array(Self.sample.utf8))
        #expect(names == ["_stext", "ip_forward", "ip_error", "ip_finish_output2.constprop.0", "nf_hook_slow"])
        #expect(starts == starts.sorted())
        #expect(starts.first == 0xffffffff81000000)
    }

    @Test func anAddressIsNamedByTheSymbolItFallsIn() throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("kallsyms-\(getpid())").path
        try Self.sample.write(toFile: path, atomically: true, encoding: .utf8)
        defer { unlink(path) }
        let symbols = KernelSymbols(path: path)
        #expect(symbols.name(of: 0xffffffff81a00140) == "ip_error")
        #expect(symbols.name(of: 0xffffffff81a00000) == "ip_forward")
        #expect(symbols.name(of: 0xffffffffc0200010) == "nf_hook_slow")
        #expect(symbols.name(of: 0x1000) == "0x1000", "below the first symbol")
        #expect(symbols.name(of: 0) == "0x0", "kptr_restrict hides addresses as zero")
    }

    @Test func anUnreadableFileNamesNothing() {
        let symbols = KernelSymbols(path: "/nonexistent/kallsyms")
        #expect(symbols.name(of: 0xffffffff81a00140) == "0xffffffff81a00140")
    }
}
