import Foundation
import LabSupport
import Testing
import TracerCore

/// The table of the property over the static checks (`TracedCodes`), against the code itself:
/// no privileges, no lab. A new `FindingCode` fails here until it gets a lab breakage or a
/// stated reason it is not traced.
struct TracedCodesTableTests {
    @Test func everyCodeHasABreakageOrAStatedReason() {
        let traced = Set(TracedCodes.breakages.map(\.code) + TracedCodes.inboundBreakages.map(\.code))
        let untraced = Set(TracedCodes.untraced.keys)
        for code in FindingCode.allCases {
            let name = code.rawValue
            #expect(traced.contains(name) != untraced.contains(name),
                    "\(name): needs exactly one of a breakage in TracedCodes.breakages or a reason in TracedCodes.untraced")
        }
        for name in traced.union(untraced) {
            #expect(FindingCode(rawValue: name) != nil, "\(name) is no FindingCode")
        }
        #expect(TracedCodes.breakages.count == Set(TracedCodes.breakages.map { "\($0.code) \($0.ipv6)" }).count, "one egress breakage per code and family")
        #expect(TracedCodes.breakages.count == Set(TracedCodes.breakages.map(\.mode)).count, "one egress breakage per mode")
        #expect(TracedCodes.inboundBreakages.count == Set(TracedCodes.inboundBreakages.map(\.mode)).count, "one inbound breakage per mode")
        #expect(TracedCodes.untraced.values.allSatisfy { $0.count > 20 }, "each reason says why")
    }

    /// A code a lab breakage traces is a static check's that can stop a flow; a code that can
    /// stop one has a breakage unless its reason says why not (no stopped flow to trace). A
    /// finding's family is the finding's own
    /// (`Finding.family`), so a code is not IPv4's or IPv6's by itself.
    @Test func theBreakagesAreExactlyTheCodesThatStopFlows() {
        for code in FindingCode.allCases {
            let traced = TracedCodes.breakages.contains { $0.code == code.rawValue }
            let tracedInbound = TracedCodes.inboundBreakages.contains { $0.code == code.rawValue }
            if traced {
                #expect(code.effect != nil, "\(code.rawValue) is traced but its effect says it stops no flow")
            }
            if tracedInbound {
                #expect(code.effect?.stops.contains(where: \.inbound) == true,
                        "\(code.rawValue) is traced inbound but its effect stops no inbound flow")
            }
            if !traced && !tracedInbound, code.effect != nil {
                let reason = TracedCodes.untraced[code.rawValue] ?? ""
                #expect(reason.contains("no stopped flow"),
                        "\(code.rawValue) stops flows: it needs a lab breakage")
            }
        }
    }

    /// Each mode is one egress.sh knows.
    @Test func everyModeIsAnEgressLabBreakMode() throws {
        let script = try String(contentsOfFile: EgressLab.script, encoding: .utf8)
        for breakage in TracedCodes.breakages {
            #expect(script.contains("        \(breakage.mode))"), "egress.sh has no break mode '\(breakage.mode)'")
        }
        let inbound = Set(EgressLab.inboundModes.map(\.mode))
        for breakage in TracedCodes.inboundBreakages {
            // An IPv6 one may be an egress.sh mode of the dual-stack lab.
            #expect(inbound.contains(breakage.mode) || (breakage.probe.ipv6 && script.contains("        \(breakage.mode))")),
                    "\(breakage.mode) is no inbound mode of egress.sh")
        }
    }
}
