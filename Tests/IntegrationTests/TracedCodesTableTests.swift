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
        #expect(TracedCodes.breakages.count == Set(TracedCodes.breakages.map(\.code)).count, "one egress breakage per code")
        #expect(TracedCodes.inboundBreakages.count == Set(TracedCodes.inboundBreakages.map(\.mode)).count, "one inbound breakage per mode")
        #expect(TracedCodes.untraced.values.allSatisfy { $0.count > 20 }, "each reason says why")
    }

    /// A code a lab breakage traces is a static check's that can stop a flow of the breakage's
    /// family; a code that can stop one has a breakage unless its reason says why not.
    @Test func theBreakagesAreExactlyTheCodesThatStopFlows() {
        for code in FindingCode.allCases {
            let breakage = TracedCodes.breakages.first { $0.code == code.rawValue }
            let traced = breakage != nil
            let tracedInbound = TracedCodes.inboundBreakages.contains { $0.code == code.rawValue }
            if traced {
                #expect(code.effect != nil && code.effect?.ipv6 == breakage?.ipv6, "\(code.rawValue) is traced but its effect says it stops no flow of the breakage's family")
            }
            if tracedInbound {
                #expect(code.effect?.ipv6 == false && code.effect?.stops.contains(where: \.inbound) == true,
                        "\(code.rawValue) is traced inbound but its effect stops no inbound IPv4 flow")
            }
            if !traced && !tracedInbound, code.effect != nil {
                #expect(TracedCodes.untraced[code.rawValue]?.contains("no stopped flow") == true,
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
            #expect(inbound.contains(breakage.mode), "\(breakage.mode) is no inbound mode of egress.sh")
        }
    }
}
