import Foundation
import Testing
@testable import TracerCore

/// `tracer check`'s report: the verdict first, a line (and a fix) per item, host text escaped.
struct CheckRenderTests {
    static let check: TracingCheck = {
        var check = TracingCheck()
        check.items = [
            .init(name: "kernel", status: .ok, detail: "6.1.0 x86_64", fix: nil),
            .init(name: "btf", status: .problem, detail: "/sys/kernel/btf/vmlinux\u{1B}[2J is missing", fix: "boot a kernel with BTF"),
            .init(name: "lockdown", status: .info, detail: "none", fix: nil),
        ]
        return check
    }()

    @Test func theTableSaysWhetherTracingWorksAndHowToFixWhatFails() {
        let lines = CheckRender(format: .table).lines(Self.check)
        #expect(lines == [
            "tracer check: tracing cannot work here yet",
            "  ok   kernel                                 6.1.0 x86_64",
            "  FAIL btf                                    /sys/kernel/btf/vmlinux\\x1b[2J is missing",
            "       fix: boot a kernel with BTF",
            "  info lockdown                               none",
        ].map { RenderedLine.output($0) })
        var fine = Self.check
        fine.items.remove(at: 1)
        #expect(CheckRender(format: .table).lines(fine).first == .output("tracer check: tracing works here"))
    }

    @Test func theJSONIsOneObjectWithEveryItem() throws {
        let lines = CheckRender(format: .json).lines(Self.check)
        guard lines.count == 1, case .output(let bytes) = lines[0] else { Issue.record("\(lines)"); return }
        let object = try #require(try JSONSerialization.jsonObject(with: Data(bytes)) as? [String: Any])
        #expect(object["type"] as? String == "check" && object["ok"] as? Bool == false)
        let items = try #require(object["items"] as? [[String: Any]])
        #expect(items.map { $0["status"] as? String } == ["ok", "problem", "info"])
        #expect(items[1]["detail"] as? String == "/sys/kernel/btf/vmlinux\u{1B}[2J is missing")
        #expect(items[1]["fix"] as? String == "boot a kernel with BTF" && items[0]["fix"] is NSNull)
    }
}
