import BPF
import Testing
@testable import TracerCore

/// What the network probe would report, recorded: one batch of drops per poll, the flows,
/// counters and ARP statistics as they stand at the end, a running count of losses.
final class RecordedNetSource: NetEventSource {
    var batches: [[DropEvent]]
    var flowTable: [FlowKey: FlowStats] = [:]
    var counts: [DropCount] = []
    var neighbours: [DeviceKey: DeviceNeighbourStats] = [:]
    /// Successive answers of `lostEvents` (the last one repeats).
    var lost: [UInt64] = []
    var uncounted: UInt64 = 0
    private(set) var polls = 0
    private(set) var flowReads = 0

    init(_ batches: [[DropEvent]] = []) {
        self.batches = batches
    }

    /// The timeout of every poll, and whether it was given a stop event.
    private(set) var waits: [(milliseconds: Int32, stoppable: Bool)] = []

    func poll(timeoutMilliseconds: Int32, stop: StopEvent?) throws -> [DropEvent] {
        polls += 1
        waits.append((timeoutMilliseconds, stop != nil))
        return batches.isEmpty ? [] : batches.removeFirst()
    }

    func flows() throws -> [FlowKey: FlowStats] {
        flowReads += 1
        return flowTable
    }

    func dropCounts() throws -> [DropCount] { counts }
    func neighbourStats() throws -> [DeviceKey: DeviceNeighbourStats] { neighbours }
    func lostEvents() throws -> UInt64 { lost.isEmpty ? 0 : (lost.count > 1 ? lost.removeFirst() : lost[0]) }
    func uncountedDrops() throws -> UInt64 { uncounted }
}

/// The egress lab's shape, by hand: container web1 (docker) in netns 11 behind veth-c1 and
/// br-lab in host side 22 (/run/netns/lab-host), out by uplink0; the kernel's reasons and
/// symbols as a 6.x kernel names them.
enum NetFixture {
    static let web1 = ContainerIdentity(runtime: .docker, id: "3f2a1b0c9d8e7f6a5b4c", name: "web1")

    static let path = EgressPath(
        endpoint: .init(name: "web1", container: web1, netnsInode: 11, netnsPath: "/proc/42/ns/net", interface: "eth0",
                        interfaceIndex: 2, ipv4: ["172.17.0.2/16"], mtu: 1500),
        hostNetnsInode: 22, hostNetnsPath: "/run/netns/lab-host", hostIsRoot: false,
        hostVeth: .init(name: "veth-c1", index: 5), bridge: .init(name: "br-lab", index: 3),
        uplink: .init(name: "uplink0", index: 4), gateway: "198.51.100.1")

    /// A second endpoint behind the same bridge.
    static let path2: EgressPath = {
        var path = NetFixture.path
        path.endpoint = .init(name: "c2", netnsInode: 12, netnsPath: "/run/netns/lab-c2", interface: "eth0",
                              interfaceIndex: 2, ipv4: ["172.17.0.3/16"], mtu: 1500)
        path.hostVeth = .init(name: "veth-c2", index: 6)
        return path
    }()

    static let reasons = DropReasons(names: [2: "NOT_SPECIFIED", 3: "NO_SOCKET", 5: "NETFILTER_DROP", 6: "IP_INADDRERRORS", 7: "IP_INNOROUTES"])

    static let ipError: UInt64 = 0xffffffff81a00140
    static let finishOutput: UInt64 = 0xffffffff81a00210 // ip_finish_output2.constprop.0
    static let nfHookSlow: UInt64 = 0xffffffff81a00410

    static let bridge = DeviceKey(netns: 22, ifindex: 3)
    static let uplink = DeviceKey(netns: 22, ifindex: 4)

    static func describer(_ scope: EgressScope) -> DropDescriber {
        DropDescriber(reasons: reasons, symbols: KernelSymbols(path: FixtureFiles.path("kallsyms-net.txt")), scope: scope,
                      directory: nil, inventory: nil)
    }

    /// A forwarded packet of web1's dropped on a host device.
    static func drop(reason: UInt32 = 6, at location: UInt64 = ipError, on device: DeviceKey = bridge, name: String = "br-lab",
                     from source: IPAddress = "172.17.0.2", to destination: IPAddress = "203.0.113.10", time: UInt64 = 1) -> DropEvent {
        DropEvent(timestamp: time, location: location, reason: reason, device: device, deviceName: name, ethertype: 0x0800,
                  ipVersion: 4, l4Protocol: 1, source: source, destination: destination, sourcePort: 7, destinationPort: 0,
                  inScope: true)
    }

    /// An ICMP echo flow of `endpoint` that reached every stage up to `last` (nil: none), with
    /// its last drop if given.
    static func flow(_ endpoint: IPAddress = "172.17.0.2", to remote: IPAddress = "203.0.113.10", id: UInt16 = 7,
                     upTo last: PathStage?, drop: (reason: UInt32, location: UInt64, device: DeviceKey)? = nil) -> (FlowKey, FlowStats) {
        var packets = [UInt64](repeating: 0, count: PathStage.counted.count)
        for stage in PathStage.counted where last.map({ stage.rawValue <= $0.rawValue }) ?? false { packets[stage.rawValue] = 3 }
        let stats = FlowStats(packets: packets, drops: drop == nil ? 0 : 3,
                              lastDrop: drop.map { (timestamp: 5, location: $0.location, reason: $0.reason, device: $0.device, stage: last) },
                              natAddress: nil, natPort: 0, privateSourceSeen: false)
        return (FlowKey(endpointAddress: endpoint, remoteAddress: remote, endpointPort: id, remotePort: 0, proto: 1), stats)
    }
}

extension Array where Element == NetRecord {
    var drops: [DropRecord] { compactMap { if case .drop(let d) = $0 { return d } else { return nil } } }
    var countRounds: [[DropCountRow]] { compactMap { if case .counts(let c) = $0 { return c } else { return nil } } }
    var stageRounds: [[EgressExplainer.Evidence]] { compactMap { if case .stages(let s) = $0 { return s } else { return nil } } }
    var findings: [EndpointFinding] { compactMap { if case .findings(let f) = $0 { return f } else { return nil } }.last ?? [] }
    var notices: [NetNotice] { compactMap { if case .notice(let n) = $0 { return n } else { return nil } } }
    var lostCounts: [UInt64] { compactMap { if case .lost(let n, _) = $0 { return n } else { return nil } } }
}
