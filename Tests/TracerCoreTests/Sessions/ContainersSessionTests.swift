import Foundation
import Testing
@testable import TracerCore

/// `tracer containers` without the host: a /proc tree written for the test and recorded links.
struct ContainersSessionTests {
    final class RecordedContainers: ContainerSource {
        let proc: FakeProc
        let linksByNamespace: [UInt64: [LinkReport]]
        private(set) var asked: [UInt64] = []

        init(_ proc: FakeProc, links: [UInt64: [LinkReport]] = [:]) {
            self.proc = proc
            linksByNamespace = links
        }

        func inventory() -> ContainerInventory {
            var inventory = ContainerInventory.scan(resolver: Fixture.resolver(), procRoot: proc.path)
            // The fake tree has no ns/ links: the test says where each container's network is.
            for i in inventory.containers.indices { inventory.containers[i].netnsInode = 4026532000 }
            return inventory
        }

        func links(inNamespace inode: UInt64) -> [LinkReport] {
            asked.append(inode)
            return linksByNamespace[inode] ?? []
        }
    }

    static func link(_ name: String, ipv4: [IPPrefix], peer: String?) -> LinkReport {
        var interface = NetworkInterface(index: 2, name: name, kind: "veth", isUp: true)
        interface.ipv4 = ipv4
        return LinkReport(interface: interface, peer: peer.map { NetnsDirectory.Peer(netnsInode: 1, name: $0, index: 9, bridge: nil) })
    }

    @Test func eachContainerComesWithItsHostVethsAndAddresses() throws {
        let proc = try FakeProc.webAndHost()
        let source = RecordedContainers(proc, links: [4026532000: [Self.link("lo", ipv4: ["127.0.0.1/8"], peer: nil),
                                                                   Self.link("eth0", ipv4: ["10.88.0.2/16"], peer: "veth1a2b")]])
        let sink = CollectingSink<ContainersRecord>()
        ContainersSession(source: source).run(into: sink)
        #expect(source.asked == [4026532000])
        guard sink.records.count == 2, case .started(containers: 1) = sink.records[0], case .container(let web) = sink.records[1] else {
            Issue.record("\(sink.records)"); return
        }
        #expect(web.container.identity.name == "web" && web.container.members.count == 2)
        #expect(web.hostVeths == ["veth1a2b"])
        #expect(web.ipv4 == ["10.88.0.2/16"], "lo's address is no container's")

        let table = ContainersRender(format: .table)
        guard case .output(let header)? = table.lines(sink.records[0]).first else { Issue.record("no header"); return }
        #expect(String(decoding: header, as: UTF8.self).hasPrefix("RUNTIME     ID            NAME"))
        #expect(table.lines(sink.records[1]) == [.output("docker      f31f384749f9  web                  nginx:1.25                     4242    2     4026532000  veth1a2b     10.88.0.2/16       -")])
        let json = ContainersRender(format: .json)
        #expect(json.lines(sink.records[0]).isEmpty)
        guard case .output(let line)? = json.lines(sink.records[1]).first else { Issue.record("no JSON"); return }
        let object = try #require(try JSONSerialization.jsonObject(with: Data(line)) as? [String: Any])
        #expect(object["type"] as? String == "container" && object["processes"] as? Int == 2 && object["init_pid"] as? Int == 4242)
        #expect(object["host_veths"] as? [String] == ["veth1a2b"] && object["ipv4"] as? [String] == ["10.88.0.2/16"])
        #expect(object["cgroup"] as? String == "/system.slice/docker-\(Fixture.dockerWeb).scope")
    }

    @Test func noContainersIsAMessageInTheTableAndNothingInJSON() throws {
        let proc = try FakeProc()
        let sink = CollectingSink<ContainersRecord>()
        ContainersSession(source: RecordedContainers(proc)).run(into: sink)
        guard sink.records.count == 1, case .started(containers: 0) = sink.records[0] else { Issue.record("\(sink.records)"); return }
        #expect(ContainersRender(format: .table).lines(sink.records[0]) == [.message("tracer containers: no running containers found")])
        #expect(ContainersRender(format: .json).lines(sink.records[0]).isEmpty)
    }

    @Test func aContainerWithoutNetworkShowsDashes() {
        let identity = ContainerIdentity(runtime: .runc, id: "abc\u{1B}def", name: nil)
        let container = ContainerInventory.Container(identity: identity, cgroupPath: "/x", cgroup: ProcCgroup(unified: "/x", v1: [:]),
                                                     members: [], initPID: nil, netnsInode: nil)
        let line = ContainersRender(format: .table).lines(.container(RunningContainer(container: container, links: [])))
        #expect(line == [.output("runc        abc\\x1bdef    -                    -                              -       0     -           -            -                  -")])
    }
}
