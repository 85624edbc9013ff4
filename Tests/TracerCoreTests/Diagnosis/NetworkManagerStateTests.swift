import Foundation
import Testing
@testable import TracerCore

/// NetworkManager's state and configuration read from fixture roots (no NetworkManager runs),
/// and the durable fix it adds to `bridge-no-address`.
@Suite struct NetworkManagerStateTests {
    /// A root directory with NetworkManager's files as given (path -> contents), removed after.
    func withRoot(_ files: [String: String], _ body: (String) throws -> Void) throws {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("tracer-nm-\(getpid())-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: root) }
        try FileManager.default.createDirectory(atPath: root + "/run/NetworkManager", withIntermediateDirectories: true)
        for (path, text) in files {
            let full = root + "/" + path
            try FileManager.default.createDirectory(atPath: (full as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
            try text.write(toFile: full, atomically: true, encoding: .utf8)
        }
        try body(root)
    }

    @Test func managedUnlessConfiguredOrStatedOtherwise() throws {
        try withRoot(["etc/NetworkManager/NetworkManager.conf": "[main]\nplugins=ifupdown,keyfile\n"]) { root in
            let state = NetworkManagerState.managing(device: "docker0", index: 5, root: root)
            #expect(state?.evidence.contains("no unmanaged-devices") == true)
        }
        try withRoot(["etc/NetworkManager/NetworkManager.conf": "[main]\n",
                      "etc/NetworkManager/conf.d/10-docker.conf": "# docker\n[keyfile]\nunmanaged-devices=interface-name:veth*;interface-name:docker0\n"]) { root in
            #expect(NetworkManagerState.managing(device: "docker0", index: 5, root: root) == nil)
            #expect(NetworkManagerState.managing(device: "br-lab", index: 6, root: root) != nil)
        }
        try withRoot(["usr/lib/NetworkManager/conf.d/20-devices.conf": "[device-docker]\nmatch-device=interface-name:docker*\nmanaged=0\n"]) { root in
            #expect(NetworkManagerState.managing(device: "docker0", index: 5, root: root) == nil)
        }
        // The run state names the device: it decides, whatever the configuration says.
        try withRoot(["run/NetworkManager/devices/5": "[device]\nmanaged=true\nconnection-uuid=1234\n",
                      "etc/NetworkManager/conf.d/10-docker.conf": "[keyfile]\nunmanaged-devices=interface-name:docker0\n"]) { root in
            #expect(NetworkManagerState.managing(device: "docker0", index: 5, root: root)?.evidence.contains("devices/5 says managed=true") == true)
        }
        try withRoot(["run/NetworkManager/devices/5": "[device]\nmanaged=false\n"]) { root in
            #expect(NetworkManagerState.managing(device: "docker0", index: 5, root: root) == nil)
        }
        #expect(NetworkManagerState.managing(device: "docker0", index: 5, root: "/nonexistent-\(getpid())") == nil)
        #expect(NetworkManagerState.matches(spec: "*,except:interface-name:docker0", device: "docker0") == false)
        #expect(NetworkManagerState.matches(spec: "interface-name:=docker0", device: "docker0"))
    }

    @Test func bridgeNoAddressGetsTheDurableFix() throws {
        let docker = ContainerIdentity(runtime: .docker, id: String(repeating: "cd", count: 32), name: "web")
        let path = EgressPath(endpoint: .init(name: "web", container: docker, netnsInode: 7, netnsPath: "/proc/42/ns/net", interface: "eth0",
                                              interfaceIndex: 2, ipv4: [IPPrefix("172.17.0.2/16")], mtu: 1500),
                              hostNetnsInode: 1, hostNetnsPath: "/proc/1/ns/net", hostIsRoot: true,
                              hostVeth: .init(name: "veth1", index: 6), bridge: .init(name: "docker0", index: 5),
                              uplink: .init(name: "eth0", index: 2), gateway: IPAddress(192, 0, 2, 1))
        let host = EgressPathState.Side(interfaces: [
            NetworkInterface(index: 5, name: "docker0", kind: "bridge", mtu: 1500, isUp: true, hasCarrier: true, operState: "up"),
            NetworkInterface(index: 6, name: "veth1", kind: "veth", mtu: 1500, isUp: true, hasCarrier: true, operState: "up", masterIndex: 5),
        ])
        let endpoint = EgressPathState.Side(interfaces: [NetworkInterface(index: 2, name: "eth0", mtu: 1500, isUp: true, hasCarrier: true,
                                                                          operState: "up", ipv4: [IPPrefix("172.17.0.2/16")])],
                                            routes: [IPv4Route(destination: IPPrefix("0.0.0.0/0"), gateway: IPAddress(172, 17, 0, 1), outputIndex: 2)])
        var state = EgressPathState(endpoint: endpoint, host: host)
        let plain = try #require(EgressDiagnosis.findings(for: path, state: state).first { $0.code == .bridgeNoAddress })
        #expect(plain.fix == "ip addr add 172.17.0.1/16 dev docker0")
        try withRoot(["run/NetworkManager/devices/5": "[device]\nmanaged=true\n"]) { root in
            state.networkManager = NetworkManagerState.managing(device: "docker0", index: 5, root: root)
        }
        let durable = try #require(EgressDiagnosis.findings(for: path, state: state).first { $0.code == .bridgeNoAddress })
        #expect(durable.fix == "ip addr add 172.17.0.1/16 dev docker0 && printf '[keyfile]\\nunmanaged-devices=interface-name:docker0\\n' > /etc/NetworkManager/conf.d/90-tracer-unmanaged.conf && systemctl restart NetworkManager && systemctl restart docker")
        #expect(durable.message.contains("NetworkManager manages docker0"))
        #expect(durable.evidence.contains("managed=true"))
    }
}
