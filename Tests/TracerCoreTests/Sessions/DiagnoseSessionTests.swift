import Testing
@testable import TracerCore

/// `tracer diagnose`'s session with fixed findings, and its records rendered.
struct DiagnoseSessionTests {
    let error = Finding(code: .ipForwardDisabled, severity: .error, message: "IPv4 forwarding is off", evidence: "ip_forward = 0",
                        fix: "sysctl -w net.ipv4.ip_forward=1")
    let warning = Finding(code: .unchecked, severity: .warning, message: "could not check netfilter", evidence: "nft missing")
    let info = Finding(code: .brNetfilter, severity: .info, message: "br_netfilter is loaded", evidence: "bridge-nf-call-iptables = 1")

    func run(_ paths: [EgressPath]) -> (records: [DiagnoseRecord], summary: DiagnoseSummary) {
        let sink = CollectingSink<DiagnoseRecord>()
        let summary = DiagnoseSession(paths: paths) { [error, warning, info] path in
            path.endpoint.name == "web1" ? [error, warning, info] : []
        }.run(into: sink)
        return (sink.records, summary)
    }

    @Test func oneRecordPerEndpointThenTheCounts() {
        let (records, summary) = run([NetFixture.path, NetFixture.path2])
        #expect(records == [.endpoint(NetFixture.path, findings: [error, warning, info]), .endpoint(NetFixture.path2, findings: []),
                            .summary(summary)])
        #expect(summary == DiagnoseSummary(endpoints: 2, errors: 1, warnings: 1, infos: 1))
    }

    @Test func noEndpointIsSaidAndCountsNothing() {
        let (records, summary) = run([])
        #expect(records == [.noEndpoints, .summary(DiagnoseSummary(endpoints: 0, errors: 0, warnings: 0, infos: 0))])
        #expect(summary.errors == 0)
    }

    @Test func theTableKeepsItsBlankLinesAndTheSummaryLine() {
        let render = DiagnoseRender(format: .table)
        let (records, _) = run([NetFixture.path, NetFixture.path2])
        let text = records.flatMap(render.lines).map { line -> String in
            guard case .output(let bytes) = line else { return "stderr" }
            return String(decoding: bytes, as: UTF8.self)
        }
        #expect(text == [FindingRender.pathLine(NetFixture.path)] + FindingRender.tableLines(error) + FindingRender.tableLines(warning)
            + FindingRender.tableLines(info) + ["", FindingRender.pathLine(NetFixture.path2), "  ok: no problems found", "",
            "2 endpoints checked: 1 error, 1 warning"])
        #expect(render.lines(.summary(DiagnoseSummary(endpoints: 0, errors: 0, warnings: 0, infos: 0))).isEmpty,
                "no endpoint: the message says so, no count line")
        #expect(render.lines(.noEndpoints) == [.message("tracer diagnose: no container networks found (no container or named namespace routes out through a veth)")])
    }

    @Test func jsonHasThePathItsFindingsAndTheSummary() {
        let render = DiagnoseRender(format: .json)
        let lines = render.lines(.endpoint(NetFixture.path, findings: [error]))
        #expect(lines == [.output(FindingRender.pathJSON(NetFixture.path).finishedBytes),
                          .output(FindingRender.json(error, path: NetFixture.path).finishedBytes)])
        #expect(render.lines(.summary(DiagnoseSummary(endpoints: 2, errors: 1, warnings: 0, infos: 3)))
            == [.output(#"{"type":"summary","endpoints":2,"errors":1,"warnings":0,"infos":3,"published_ports":0}"#)])
    }
}
