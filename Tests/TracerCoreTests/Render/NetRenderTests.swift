import Testing
@testable import TracerCore

/// The network sessions' records as `tracer drops` and `tracer egress` print them.
struct NetRenderTests {
    func text(_ lines: [RenderedLine]) -> [String] {
        lines.map { line in
            switch line {
            case .output(let bytes): return String(decoding: bytes, as: UTF8.self)
            case .message(let text): return "stderr: " + text
            }
        }
    }

    let row = DropCountRow(containers: ["web1", "c2"], reason: "IP_INADDRERRORS", location: "ip_error", device: "br-lab",
                           netns: "lab-host", count: 12)

    @Test func countsAsATableAndAsOneJSONObject() {
        let table = NetRender(format: .table, command: "drops")
        #expect(text(table.lines(.counts([]))) == ["", DropRender.countHeader, "(no drops)"])
        let lines = text(table.lines(.counts([row])))
        #expect(lines.count == 3 && lines[2].hasPrefix("12         IP_INADDRERRORS           ip_error") && lines[2].hasSuffix("web1,c2"))
        #expect(text(NetRender(format: .json, command: "drops").lines(.counts([row])))
            == [#"{"type":"counts","counts":[{"count":12,"reason":"IP_INADDRERRORS","location":"ip_error","device":"br-lab","netns":"lab-host","containers":["web1","c2"]}]}"#])
    }

    @Test func summariesGoToStandardErrorInATableAndToTheStreamInJSON() {
        let drops = DropsSummary(durationNanoseconds: 2_000_000_000, drops: 3, lost: 1, uncounted: 0)
        #expect(text(NetRender(format: .table, command: "drops").lines(.dropsSummary(drops))) == ["stderr: tracer drops: 3 drops shown, 1 lost in 2.00s"])
        #expect(text(NetRender(format: .json, command: "drops").lines(.dropsSummary(drops)))
            == [#"{"type":"summary","duration_ns":2000000000,"drops":3,"lost":1,"uncounted":0}"#])
        let flows = FlowsSummary(durationNanoseconds: 1_000_000_000, endpoints: 1, flows: 2, stopped: 1, drops: 4, lost: 0, findings: 1, errors: 1)
        #expect(text(NetRender(format: .table, command: "egress").lines(.flowsSummary(flows)))
            == ["stderr: tracer egress: 1 endpoint, 2 flows (1 stopped), 4 drops shown, 0 lost in 1.00s"])
        #expect(text(NetRender(format: .json, command: "egress").lines(.flowsSummary(flows)))
            == [#"{"type":"summary","duration_ns":1000000000,"endpoints":1,"flows":2,"stopped":1,"drops":4,"lost":0,"findings":1}"#])
    }

    @Test func noticesAreMessagesAndNoContainersOnlyInATable() {
        #expect(text(NetRender(format: .table, command: "drops").lines(.notice(.noContainers))) == ["stderr: tracer drops: no containers found; showing host drops"])
        #expect(NetRender(format: .json, command: "drops").lines(.notice(.noContainers)).isEmpty)
        #expect(text(NetRender(format: .json, command: "egress").lines(.notice(.couldNotWatch("x"))))
            == ["stderr: tracer egress: could not watch x"])
    }

    @Test func findingsAndStagesAsTables() {
        let table = NetRender(format: .table, command: "egress")
        #expect(text(table.lines(.findings([]))) == ["", "ok: every traced flow got its reply"])
        #expect(text(table.lines(.stages([]))) == ["", DropRender.stageHeader(), "(no packets from the endpoints yet)"])
        let finding = Finding(code: .bridgeDown, severity: .error, message: "br-lab is down", evidence: "DOWN", fix: "ip link set br-lab up")
        #expect(text(table.lines(.findings([EndpointFinding(finding: finding, path: NetFixture.path)])))
            == ["", "web1 (docker 3f2a1b0c9d8e):"] + FindingRender.tableLines(finding))
        #expect(text(table.lines(.path(NetFixture.path))) == ["tracing " + FindingRender.pathLine(NetFixture.path)])
    }

    @Test func aLossCarriesTheTimeItWasNoticed() {
        let clock = BootClock()
        let json = text(NetRender(format: .json, command: "drops", clock: clock).lines(.lost(count: 2, at: 5_000_000_000)))
        #expect(json == ["{\"type\":\"lost\",\"time\":\"\(Formatting.rfc3339(clock.wallClock(5_000_000_000)))\",\"count\":2}"])
        #expect(text(NetRender(format: .table, command: "drops").lines(.lost(count: 1, at: 0)))
            == ["LOST 1 drop record (the ring buffer was full; the counts below stay exact)"])
    }
}
