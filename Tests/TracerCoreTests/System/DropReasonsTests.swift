import Testing
@testable import TracerCore

/// Drop reason names come from the running kernel's kfree_skb format file, never from a table.
struct DropReasonsTests {
    static let format = """
        name: kfree_skb
        ID: 2310
        format:
        \tfield:enum skb_drop_reason reason;\toffset:36;\tsize:4;\tsigned:0;

        print fmt: "skbaddr=%p reason: %s", REC->skbaddr, __print_symbolic(REC->reason, { 2, "NOT_SPECIFIED" }, { 3, "NO_SOCKET" }, { 12, "NETFILTER_DROP" }, { 58, "NEIGH_FAILED" }, { 130, "MAX" })
        """

    @Test func theSymbolicTableIsRead() {
        let names = DropReasons.parse(format: Self.format)
        #expect(names == [2: "NOT_SPECIFIED", 3: "NO_SOCKET", 12: "NETFILTER_DROP", 58: "NEIGH_FAILED", 130: "MAX"])
        let reasons = DropReasons(names: names)
        #expect(reasons.name(12) == "NETFILTER_DROP")
        #expect(reasons.name(99) == "REASON_99", "a number this kernel does not name")
        #expect(reasons.number("NEIGH_FAILED") == 58)
        #expect(reasons.number("NOT_A_REASON") == nil)
    }

    @Test func aFormatWithoutTheTableNamesNothing() {
        #expect(DropReasons.parse(format: "print fmt: \"reason: %d\", REC->reason").isEmpty)
        #expect(DropReasons.load(tracefs: "/nonexistent") == nil)
    }
}
