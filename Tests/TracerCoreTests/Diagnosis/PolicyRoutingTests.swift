import Testing
@testable import TracerCore

/// The policy-rule walk on hand-built rule sets: the kernel's defaults, a per-source table,
/// wg-quick's full tunnel, drops, goto and marks.
struct PolicyRoutingTests {
    let defaults = [
        IPv4Rule(priority: 0, action: .lookup(table: 255)),
        IPv4Rule(priority: 32766, action: .lookup(table: 254)),
        IPv4Rule(priority: 32767, action: .lookup(table: 253)),
    ]
    let mainDefault = IPv4Route(destination: "0.0.0.0/0", gateway: "198.51.100.1", outputIndex: 2, table: 254)
    let tunnelDefault = IPv4Route(destination: "0.0.0.0/0", outputIndex: 9, table: 51820)

    func egress(_ rules: [IPv4Rule], _ routes: [IPv4Route], from source: IPAddress = "172.17.0.2", iif: String = "docker0") -> PolicyRouting.Decision {
        PolicyRouting.egress(from: source, inInterface: iif, rules: rules.sorted { $0.priority < $1.priority }, routes: routes)
    }

    @Test func defaultRulesEndInTheMainTable() {
        #expect(egress(defaults, [mainDefault]) == .route(mainDefault, rule: defaults[1]))
        #expect(egress(defaults, []) == .noRoute(tables: [255, 254, 253]))
        #expect(PolicyRouting.isDefault(defaults))
        // Rules that could not be read: the main table decides.
        #expect(egress([], [mainDefault]) == .route(mainDefault, rule: nil))
    }

    @Test func aSourceRuleSendsTheContainersToTheirOwnTable() {
        let rule = IPv4Rule(priority: 100, action: .lookup(table: 100), source: "172.17.0.0/16")
        let other = IPv4Route(destination: "0.0.0.0/0", outputIndex: 7, table: 100)
        #expect(egress(defaults + [rule], [mainDefault, other]) == .route(other, rule: rule))
        // Another subnet is not selected; an empty table 100 falls through to main.
        #expect(egress(defaults + [rule], [mainDefault, other], from: "10.88.0.2") == .route(mainDefault, rule: defaults[1]))
        #expect(egress(defaults + [rule], [mainDefault]) == .route(mainDefault, rule: defaults[1]))
        #expect(egress(defaults + [rule], []) == .noRoute(tables: [255, 100, 254, 253]))
        #expect(!PolicyRouting.isDefault(defaults + [rule]))
    }

    @Test func wgQuickFullTunnelLeavesByTheTunnel() {
        let rules = defaults + [
            IPv4Rule(priority: 32764, action: .lookup(table: 254), suppressPrefixLength: 0),
            IPv4Rule(priority: 32765, action: .lookup(table: 51820), fwmark: 0xca6c, inverted: true),
        ]
        #expect(egress(rules, [mainDefault, tunnelDefault]) == .route(tunnelDefault, rule: rules[4]))
    }

    @Test func dropsGotoMarksAndInterfaces() {
        let blackhole = IPv4Rule(priority: 50, action: .blackhole, source: "172.17.0.0/16")
        #expect(egress(defaults + [blackhole], [mainDefault]) == .dropped(by: blackhole))
        #expect(blackhole.description == "50: from 172.17.0.0/16 blackhole")

        // goto skips the blackhole between.
        let jump = IPv4Rule(priority: 10, action: .goto(priority: 60))
        let target = IPv4Rule(priority: 60, action: .lookup(table: 254))
        #expect(egress(defaults + [jump, blackhole, target], [mainDefault]) == .route(mainDefault, rule: target))

        // A packet is taken as unmarked: a fwmark rule does not select it.
        let marked = IPv4Rule(priority: 5, action: .unreachable, fwmark: 0x10)
        #expect(egress(defaults + [marked], [mainDefault]) == .route(mainDefault, rule: defaults[1]))
        // iif: only packets entering by that device.
        let bridgeRule = IPv4Rule(priority: 5, action: .prohibit, inInterface: "br-lab")
        #expect(egress(defaults + [bridgeRule], [mainDefault], iif: "br-lab") == .dropped(by: bridgeRule))
        #expect(egress(defaults + [bridgeRule], [mainDefault], iif: "docker0") == .route(mainDefault, rule: defaults[1]))
        // Unmodelled selectors never match, inverted or not.
        let uid = IPv4Rule(priority: 5, action: .blackhole, inverted: true, otherSelectors: ["uidrange"])
        #expect(egress(defaults + [uid], [mainDefault]) == .route(mainDefault, rule: defaults[1]))
    }
}
