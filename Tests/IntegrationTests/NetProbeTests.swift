import Foundation
import Glibc
import Testing
@testable import TracerCore
import LabSupport
import TracerABI

/// A namespace inode from the lab's facts.
func inode(_ lab: EgressLab, _ key: String) -> UInt32 { UInt32(lab[key] ?? "") ?? 0 }

/// The network probe on the real kernel, against the egress lab.
@Suite(.serialized, .requires(Privilege.canTrace && access("/usr/bin/ping", X_OK) == 0, "SKIPPED LOUDLY: the network probe tests need root and the egress lab (tools/setup.sh --test)"))
struct NetProbeTests {
    /// Puts the lab's devices and c1's address in scope, as `tracer egress` does.
    static func scopeLab(_ probe: NetProbe, _ lab: EgressLab) throws {
        let host = try RouteNetlink.interfaces(inNamespace: lab["host_netns_path"] ?? "")
        let container = try RouteNetlink.interfaces(inNamespace: lab["c1_netns_path"] ?? "")
        func index(_ interfaces: [NetworkInterface], _ name: String) throws -> Int32 {
            try #require(interfaces.first { $0.name == name }?.index)
        }
        let hostNS = inode(lab, "host_netns_inode"), containerNS = inode(lab, "c1_netns_inode")
        try probe.scope(device: DeviceKey(netnsInode: containerNS, ifindex: index(container, "eth0")), role: .endpoint, endpoint: 0)
        try probe.scope(device: DeviceKey(netnsInode: hostNS, ifindex: index(host, "veth-c1")), role: .hostVeth, endpoint: 0)
        try probe.scope(device: DeviceKey(netnsInode: hostNS, ifindex: index(host, "br-lab")), role: .bridge, endpoint: 0, beforeRouting: true)
        try probe.scope(device: DeviceKey(netnsInode: hostNS, ifindex: index(host, "uplink0")), role: .uplink, endpoint: 0)
        try probe.scope(endpointAddress: try #require(IPAddress(lab["c1_ip"] ?? "")), endpoint: 0)
        if let ipv6 = lab["c1_ip6"] { try probe.scope(endpointAddress: try #require(IPAddress(ipv6)), endpoint: 0) }
        try probe.scope(netnsInode: hostNS)
        try probe.scope(netnsInode: containerNS)
    }

    /// The probe following the lab's path, as `tracer egress` loads it.
    static func stageProbe(_ lab: EgressLab, ignoring ignored: Set<UInt32> = [], directReads: Bool = true) throws -> NetProbe {
        var options = NetProbeOptions()
        options.stages = true
        options.ignoredReasons = ignored
        options.directReads = directReads
        let probe = try NetProbe(options: options)
        try scopeLab(probe, lab)
        return probe
    }

    static var healthyNoise: Set<UInt32> { Set(DropReasons.healthyHostNoise.compactMap { DropReasons.load()?.number($0) }) }

    /// Both ways of reading headers: plain loads (this kernel) and bpf_probe_read_kernel (older ones).
    @Test(arguments: [true, false])
    func aHealthyPingPassesEveryStageAndIsMasqueraded(directReads: Bool) throws {
        let lab = try EgressLab.up(EgressLab.uniqueName(directReads ? "np1" : "np1h"))
        defer { lab.down() }
        let probe = try Self.stageProbe(lab, ignoring: Self.healthyNoise, directReads: directReads)
        defer { probe.close() }
        if !directReads {
            #expect(!probe.readsHeadersDirectly)
        } else if KernelRelease.current >= (6, 18) {
            #expect(probe.readsHeadersDirectly, "this kernel allows plain loads through skb->head; the helper path was taken")
        }
        #expect(try lab.probe())
        let flows = try probe.flows()
        let icmp = try #require(flows.first { $0.key.proto == 1 && $0.key.remoteAddress == IPAddress(203, 0, 113, 10) })
        for stage in PathStage.counted {
            #expect(icmp.value.packets(at: stage) >= 1, "stage \(stage.name(in: .egress))")
        }
        #expect(icmp.value.natAddress == IPAddress(198, 51, 100, 2))
        #expect(!icmp.value.privateSourceSeen)
        let reasons = DropReasons.load()
        let symbols = KernelSymbols()
        #expect(icmp.value.drops == 0, "\(icmp.value.lastDrop.map { "\(reasons?.name($0.reason) ?? "") at \(symbols.name(of: $0.location)) stage \(String(describing: $0.stage))" } ?? "")")
    }

    /// Dual stack: ICMPv6 echo and TCP over IPv6 pass every stage of the same path, NAT66'd on the
    /// uplink (the flow keeps the ULA source, the NAT address is the uplink's), and IPv4 beside
    /// them is unchanged; with both ways of reading headers.
    @Test(arguments: [true, false])
    func dualStackFlowsPassEveryStageAndAreMasqueradedPerFamily(directReads: Bool) throws {
        let lab = try EgressLab.up(EgressLab.uniqueName(directReads ? "np6" : "np6h"), ipv6: true)
        defer { lab.down() }
        let probe = try Self.stageProbe(lab, ignoring: Self.healthyNoise, directReads: directReads)
        defer { probe.close() }
        #expect(try lab.probe(ipv6: true))
        #expect(try lab.probe(tcp: true, ipv6: true))
        #expect(try lab.probe())
        let flows = try probe.flows()
        let world6 = try #require(IPAddress(lab["world_ip6"] ?? ""))
        let c1v6 = try #require(IPAddress(lab["c1_ip6"] ?? ""))
        let echo = try #require(flows.first { $0.key.proto == 58 && $0.key.remoteAddress == world6 }, "\(flows.keys.map(\.tuple))")
        let tcp = try #require(flows.first { $0.key.proto == 6 && $0.key.remoteAddress == world6 })
        let ping4 = try #require(flows.first { $0.key.proto == 1 && $0.key.remoteAddress == IPAddress(203, 0, 113, 10) })
        for (name, flow) in [("icmpv6", echo), ("tcp6", tcp), ("icmp", ping4)] {
            #expect(flow.key.direction == .egress, "\(name)")
            for stage in PathStage.counted {
                #expect(flow.value.packets(at: stage) >= 1, "\(name) stage \(stage.name(in: .egress))")
            }
            #expect(flow.value.drops == 0, "\(name)")
        }
        #expect(echo.key.endpointAddress == c1v6 && tcp.key.endpointAddress == c1v6)
        #expect(echo.value.natAddress == IPAddress(lab["uplink_ip6"] ?? ""), "NAT66: the uplink's address")
        #expect(tcp.value.natAddress == IPAddress(lab["uplink_ip6"] ?? ""))
        #expect(ping4.value.natAddress == IPAddress(198, 51, 100, 2))
        // NDP on the endpoint's interface is counted as ARP's twin: c1 solicited its gateway and was answered.
        let neighbours = try probe.neighbourStats()
        let host = try RouteNetlink.interfaces(inNamespace: lab["c1_netns_path"] ?? "")
        let eth0 = DeviceKey(netnsInode: inode(lab, "c1_netns_inode"), ifindex: try #require(host.first { $0.name == "eth0" }?.index))
        if let ndp = neighbours[eth0]?.ndp, ndp.requestsSent > 0 { #expect(ndp.repliesReceived > 0) }
    }

    /// IPv6 forwarding off in the host side: the ping6's flow stops at bridge-rx with the kernel's
    /// reason, and the drop record carries the flow.
    @Test func anIPv6FlowStoppedByForwardingShowsItsStageAndReason() throws {
        let lab = try EgressLab.up(EgressLab.uniqueName("np7"), ipv6: true)
        defer { lab.down() }
        try lab.breakIt("ipv6-forwarding-disabled")
        let probe = try Self.stageProbe(lab, ignoring: Self.healthyNoise)
        defer { probe.close() }
        #expect(try !lab.probe(ipv6: true))
        let world6 = try #require(IPAddress(lab["world_ip6"] ?? ""))
        let flow = try #require(try probe.flows().first { $0.key.proto == 58 && $0.key.remoteAddress == world6 })
        #expect(flow.value.packets(at: .bridgeRX) >= 1)
        #expect(flow.value.packets(at: .uplinkQueue) == 0)
        #expect(flow.value.drops >= 1)
        let reasons = try #require(DropReasons.load())
        #expect(flow.value.lastDrop.flatMap { reasons.name($0.reason) } == "IP_INADDRERRORS")
        #expect(flow.value.lastDrop?.stage == .bridgeRX)
        let drops = try probe.poll(timeoutMilliseconds: 100)
        let drop = try #require(drops.first { $0.flow?.remoteAddress == world6 })
        #expect(drop.ipVersion == 6 && drop.source == IPAddress(lab["c1_ip6"] ?? ""))
    }

    /// Devices in scope that share an ifindex beyond what its array slot lists are found in the
    /// (netns, ifindex) hash, and one more namespace with the index changes nothing.
    @Test func devicesSharingAnIndexAreFoundBeyondTheirSlot() throws {
        let lab = try EgressLab.up(EgressLab.uniqueName("np5"))
        defer { lab.down() }
        let probe = try Self.stageProbe(lab, ignoring: Self.healthyNoise)
        defer { probe.close() }
        let host = try RouteNetlink.interfaces(inNamespace: lab["host_netns_path"] ?? "")
        let bridge = try #require(host.first { $0.name == "br-lab" }?.index)
        // Other namespaces (made-up inodes) with a device of the same index: more than a slot lists.
        for fake in UInt32(1)...UInt32(TRACER_DEVICE_SLOT_WAYS) {
            try probe.scope(device: DeviceKey(netnsInode: fake, ifindex: bridge), role: .uplink, endpoint: 1)
        }
        #expect(try lab.probe())
        let flows = try probe.flows()
        let icmp = try #require(flows.first { $0.key.proto == 1 && $0.key.remoteAddress == IPAddress(203, 0, 113, 10) })
        for stage in PathStage.counted {
            #expect(icmp.value.packets(at: stage) >= 1, "stage \(stage.name(in: .egress))")
        }
    }

    /// More flows than the per-CPU slot table holds: those whose slot is taken are counted in the
    /// LRU hash, and every flow is counted once per stage either way.
    @Test func flowsBeyondTheSlotTableAreCountedToo() throws {
        let lab = try EgressLab.up(EgressLab.uniqueName("np6"))
        defer { lab.down() }
        let probe = try Self.stageProbe(lab, ignoring: Self.healthyNoise)
        defer { probe.close() }
        let flowCount = 3 * Int(TRACER_FLOW_SLOTS)
        // One UDP datagram from each of flowCount source ports to the world (nothing listens there).
        let script = "import socket\nfor port in range(20000, 20000 + \(flowCount)):\n"
            + "    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)\n    s.bind(('', port))\n"
            + "    s.sendto(b'x', ('203.0.113.10', 9))\n    s.close()\n"
        #expect(try EgressLab.inNamespace(lab.endpointNetns, ["python3", "-c", script]) == 0)
        usleep(200_000)
        let udp = try probe.flows().filter { $0.key.proto == 17 && $0.key.remoteAddress == IPAddress(203, 0, 113, 10) && $0.key.remotePort == 9 }
        #expect(udp.count == flowCount)
        for stage in [PathStage.endpointTX, .hostVethRX, .bridgeRX, .uplinkQueue] {
            #expect(udp.values.allSatisfy { $0.packets(at: stage) == 1 }, "stage \(stage.name(in: .egress))")
        }
        #expect(udp.values.allSatisfy { $0.natAddress == IPAddress(198, 51, 100, 2) })
    }

    /// More masqueraded flows than the table of NAT slots holds, twice: in the second round the
    /// slots of most flows hold later ones, and their replies are recognised through the hash.
    @Test func repliesOfMoreFlowsThanNATSlotsAreRecognised() throws {
        let lab = try EgressLab.up(EgressLab.uniqueName("np7"))
        defer { lab.down() }
        let probe = try Self.stageProbe(lab, ignoring: Self.healthyNoise)
        defer { probe.close() }
        let flowCount = 6000
        // Echo requests, one per identifier (a flow each), from a raw socket, in two rounds; the
        // world answers each.
        let script = """
            import socket, struct, time
            def checksum(b):
                s = sum(struct.unpack('!%dH' % (len(b) // 2), b))
                s = (s >> 16) + (s & 0xffff)
                return ~(s + (s >> 16)) & 0xffff
            s = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_ICMP)
            for seq in (1, 2):
                for ident in range(1, \(flowCount) + 1):
                    body = struct.pack('!BBHHH', 8, 0, 0, ident, seq) + b'tracer'
                    s.sendto(struct.pack('!BBHHH', 8, 0, checksum(body), ident, seq) + b'tracer', ('203.0.113.10', 0))
                    if ident % 500 == 0: time.sleep(0.01)
            """
        #expect(try EgressLab.inNamespace(lab.endpointNetns, ["python3", "-c", script]) == 0)
        usleep(300_000)
        let echoes = try probe.flows().filter { $0.key.proto == 1 && $0.key.remoteAddress == IPAddress(203, 0, 113, 10) }
        #expect(echoes.count == flowCount)
        for stage in PathStage.counted {
            #expect(echoes.values.filter { $0.packets(at: stage) == 2 }.count == flowCount, "stage \(stage.name(in: .egress))")
        }
    }

    @Test func forwardingOffDropsOnTheBridgeWithTheKernelsReason() throws {
        let lab = try EgressLab.up(EgressLab.uniqueName("np2"))
        defer { lab.down() }
        try lab.breakIt("ip-forward-disabled")
        let probe = try Self.stageProbe(lab)
        defer { probe.close() }
        #expect(try !lab.probe())
        let reasons = try #require(DropReasons.load())
        let drops = try probe.poll(timeoutMilliseconds: 100)
        let drop = try #require(drops.first { $0.inScope && $0.flow != nil })
        #expect(reasons.name(drop.reason) == "IP_INADDRERRORS")
        #expect(KernelSymbols().name(of: drop.location) == "ip_error")
        #expect(drop.deviceName == "br-lab")
        #expect(drop.device.netnsInode == inode(lab, "host_netns_inode"))
        #expect(drop.stage == .bridgeRX)
        #expect(drop.source?.description == lab["c1_ip"] && drop.destination == "203.0.113.10")
        let flow = try #require(try probe.flows()[drop.flow!])
        #expect(flow.packets(at: .bridgeRX) > 0 && flow.packets(at: .uplinkQueue) == 0)
        #expect(flow.packets(at: .uplinkQueue) == 0)
        let counted = try probe.dropCounts().filter { $0.reason == drop.reason && $0.device == drop.device }
        #expect(counted.reduce(0) { $0 + $1.count } >= 1)
    }

    @Test func missingMasqueradeLeavesWithThePrivateSource() throws {
        let lab = try EgressLab.up(EgressLab.uniqueName("np3"))
        defer { lab.down() }
        try lab.breakIt("masquerade-missing")
        let probe = try Self.stageProbe(lab)
        defer { probe.close() }
        #expect(try !lab.probe())
        let flow = try #require(try probe.flows().first { $0.key.proto == 1 }?.value)
        #expect(flow.packets(at: .uplinkQueue) >= 1)
        #expect(flow.privateSourceSeen)
        #expect(flow.natAddress == nil)
        #expect(flow.packets(at: .uplinkRX) == 0)
    }

    @Test func hostWideDropsNameReasonsFromTheRunningKernel() throws {
        let lab = try EgressLab.up(EgressLab.uniqueName("np4"))
        defer { lab.down() }
        try lab.breakIt("no-default-route")
        var options = NetProbeOptions()
        options.allDrops = true
        let probe = try NetProbe(options: options)
        defer { probe.close() }
        #expect(try !lab.probe())
        let reasons = try #require(DropReasons.load())
        let drops = try probe.poll(timeoutMilliseconds: 100)
        let drop = try #require(drops.first { $0.device.netnsInode == inode(lab, "host_netns_inode") && $0.destination == "203.0.113.10" })
        #expect(reasons.name(drop.reason) == "IP_INNOROUTES")
        #expect(drop.deviceName == "br-lab")
        #expect(drop.flow == nil, "nothing is in scope, so no flow is followed")
    }
}
