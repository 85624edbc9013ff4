import LabSupport
import Foundation
import Glibc
import Testing
@testable import TracerCore

/// Path of the `ip` binary, if any.
let ipTool: String? = ["/sbin/ip", "/usr/sbin/ip", "/bin/ip", "/usr/bin/ip"].first { access($0, X_OK) == 0 }

struct CommandFailed: Error, CustomStringConvertible {
    var description: String
}

/// Runs `ip ARGS...` and throws with its stderr when it fails.
@discardableResult
func ip(_ arguments: String...) throws -> String {
    guard let tool = ipTool else { throw CommandFailed(description: "no ip binary") }
    let process = Process()
    process.executableURL = URL(fileURLWithPath: tool)
    process.arguments = arguments
    let out = Pipe(), err = Pipe()
    process.standardOutput = out
    process.standardError = err
    try process.run()
    let output = out.fileHandleForReading.readDataToEndOfFile()
    let errors = err.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    guard process.terminationStatus == 0 else {
        throw CommandFailed(description: "ip \(arguments.joined(separator: " ")): \(String(decoding: errors, as: UTF8.self))")
    }
    return String(decoding: output, as: UTF8.self)
}

/// Inode of a namespace file, e.g. /proc/thread-self/ns/net.
func namespaceInode(_ path: String) -> UInt64 {
    var st = stat()
    guard stat(path, &st) == 0 else { return 0 }
    return UInt64(st.st_ino)
}

/// Read-only checks of the namespace the tests run in; nothing is changed there.
@Suite struct CurrentNamespaceTests {
    @Test func readsCurrentNamespace() throws {
        let interfaces = try RouteNetlink.interfaces()
        #expect(!interfaces.isEmpty)
        #expect(Set(interfaces.map(\.index)).count == interfaces.count)
        #expect(interfaces.allSatisfy { !$0.name.isEmpty && $0.index > 0 })
        let lo = try #require(interfaces.first { $0.name == "lo" })
        #expect(lo.kind == nil)
        #expect(lo.mtu > 0)
        if lo.isUp { #expect(lo.ipv4.contains("127.0.0.1/8")) }
        _ = try RouteNetlink.ipv4Routes()
    }

    /// What `tracer pid` asks for: the interfaces alone, no routes, rules or sysctls.
    @Test func interfacesOnlyDirectoryReadsNoRouting() {
        let inode = namespaceInode("/proc/thread-self/ns/net")
        let lean = NetnsDirectory(allProcesses: false, readsRouting: false).contents(of: inode)
        let full = NetnsDirectory(allProcesses: false).contents(of: inode)
        #expect(lean.error == nil && full.error == nil)
        #expect(lean.interfaces.map(\.name) == full.interfaces.map(\.name))
        #expect(lean.routes.isEmpty && lean.rules.isEmpty && lean.ipForward == nil)
        #expect(full.ipForward != nil && !full.rules.isEmpty, "the kernel's default rules are always there")
    }

    /// What `tracer pid` asks of its process's own namespace: the routes of both families too,
    /// still no rules or sysctls.
    @Test func interfacesOnlyDirectoryReadsTheRoutesOfOneNamespaceWhenAsked() {
        let inode = namespaceInode("/proc/thread-self/ns/net")
        let lean = NetnsDirectory(allProcesses: false, readsRouting: false)
        let routed = lean.contentsWithRoutes(of: inode)
        let full = NetnsDirectory(allProcesses: false).contents(of: inode)
        #expect(routed.error == nil)
        #expect(routed.routes == full.routes && routed.ipv6Routes == full.ipv6Routes)
        #expect(routed.defaultRoutes == full.defaultRoutes)
        #expect(routed.rules.isEmpty && routed.ipForward == nil)
        #expect(lean.contents(of: inode).routes == full.routes, "kept for the next look")
    }

    @Test func missingNamespaceThrows() {
        let before = namespaceInode("/proc/thread-self/ns/net")
        var ran = false
        #expect(throws: NetlinkError.namespace(path: "/nonexistent/ns/net", errno: ENOENT)) {
            try RouteNetlink.inNamespace("/nonexistent/ns/net") { ran = true }
        }
        #expect(!ran)
        #expect(namespaceInode("/proc/thread-self/ns/net") == before)
    }
}

/// Builds two namespaces, A and B, joined by a veth pair:
///   A: br0 (bridge, 10.123.0.1/24) <- va (veth)  ==  vb (veth, 10.123.0.2/24) :B, default via 10.123.0.1
/// Only the created namespaces are modified; the root namespace is left alone and no traffic is sent.
@Suite(.serialized) struct NamespaceIntegrationTests {
    @Test(.requires(geteuid() == 0, "needs root to create network namespaces"),
          .requires(ipTool != nil, "needs iproute2"))
    func vethBridgeAcrossNamespaces() throws {
        let a = "tracer-nltest-\(getpid())-a"
        let b = "tracer-nltest-\(getpid())-b"
        defer {
            _ = try? ip("netns", "del", a)
            _ = try? ip("netns", "del", b)
        }
        try ip("netns", "add", a)
        try ip("netns", "add", b)
        try ip("-n", a, "link", "add", "va", "type", "veth", "peer", "name", "vb", "netns", b)
        try ip("-n", a, "link", "add", "br0", "type", "bridge")
        try ip("-n", a, "link", "set", "va", "master", "br0")
        try ip("-n", a, "addr", "add", "10.123.0.1/24", "dev", "br0")
        try ip("-n", a, "link", "set", "br0", "up")
        try ip("-n", a, "link", "set", "va", "up")
        try ip("-n", b, "addr", "add", "10.123.0.2/24", "dev", "vb")
        try ip("-n", b, "link", "set", "vb", "up")
        try ip("-n", b, "route", "add", "default", "via", "10.123.0.1")

        let pathA = "/run/netns/\(a)", pathB = "/run/netns/\(b)"
        let original = namespaceInode("/proc/thread-self/ns/net")

        // Everything below is synchronous, so the test stays on one thread and the
        // per-thread namespace switch is observable.
        var insideA: UInt64 = 0
        let linksA = try RouteNetlink.inNamespace(pathA) { () throws -> [NetworkInterface] in
            insideA = namespaceInode("/proc/thread-self/ns/net")
            return try RouteNetlink.interfaces()
        }
        #expect(namespaceInode("/proc/thread-self/ns/net") == original)
        #expect(insideA == namespaceInode(pathA))
        #expect(insideA != original)

        let linksB = try RouteNetlink.interfaces(inNamespace: pathB)
        let routesB = try RouteNetlink.ipv4Routes(inNamespace: pathB)
        #expect(namespaceInode("/proc/thread-self/ns/net") == original)

        let va = try #require(linksA.first { $0.name == "va" })
        let br0 = try #require(linksA.first { $0.name == "br0" })
        let loA = try #require(linksA.first { $0.name == "lo" })
        let vb = try #require(linksB.first { $0.name == "vb" })
        #expect(!linksA.contains { $0.name == "vb" })
        #expect(!linksB.contains { $0.name == "va" || $0.name == "br0" })

        #expect(va.kind == "veth")
        #expect(va.masterIndex == br0.index)
        #expect(va.peerIndex == vb.index)
        #expect(va.peerNetnsID != nil)
        #expect(va.isUp)
        #expect(va.macAddress?.split(separator: ":").count == 6)
        #expect(va.ipv4.isEmpty)

        #expect(vb.kind == "veth")
        #expect(vb.peerIndex == va.index)
        #expect(vb.peerNetnsID != nil)
        #expect(vb.ipv4 == ["10.123.0.2/24"])
        #expect(vb.masterIndex == nil)

        #expect(br0.kind == "bridge")
        #expect(br0.ipv4 == ["10.123.0.1/24"])
        #expect(br0.isUp)
        #expect(br0.peerNetnsID == nil)
        #expect(br0.masterIndex == nil)

        #expect(loA.kind == nil)
        #expect(!loA.isUp)

        let defaultRoute = try #require(routesB.first { $0.destination == "0.0.0.0/0" })
        #expect(defaultRoute.gateway == "10.123.0.1")
        #expect(defaultRoute.outputIndex == vb.index)
        #expect(defaultRoute.table == 254)
        #expect(defaultRoute.origin == 3)   // proto boot: what `ip route add` installs
        #expect(!defaultRoute.isFromRouterAdvertisement)
        // The connected route comes from the kernel (proto kernel).
        #expect(routesB.contains(IPRoute(destination: "10.123.0.0/24", gateway: nil, outputIndex: vb.index, table: 254, origin: 2)))
        // The local table's entries (type RTN_LOCAL/BROADCAST) are not unicast routes.
        #expect(!routesB.contains { $0.destination == "10.123.0.2/32" })

        // Switching back also happens when the body throws.
        struct Boom: Error {}
        #expect(throws: Boom.self) {
            try RouteNetlink.inNamespace(pathB) { () throws -> Void in
                #expect(namespaceInode("/proc/thread-self/ns/net") == namespaceInode(pathB))
                throw Boom()
            }
        }
        #expect(namespaceInode("/proc/thread-self/ns/net") == original)
    }
}

/// The two readers of namespace bind mounts must agree: listmount/statmount (fast) and mountinfo.
@Suite(.serialized) struct NetnsMountsTests {
    @Test(.requires(getuid() == 0 && ipTool != nil, "SKIPPED LOUDLY: adding a named netns needs root and ip"))
    func statmountAgreesWithMountinfo() throws {
        let name = "tracer-nsmount-\(getpid())"
        defer { _ = try? ip("netns", "del", name) }
        try ip("netns", "add", name)
        let inode = namespaceInode("/run/netns/\(name)")
        #expect(inode != 0)

        let fromMountinfo = try MountTable.read(types: ["nsfs"]).networkNamespaceNames
        #expect(fromMountinfo[inode]?.contains("/run/netns/\(name)") == true)
        guard let fast = NetnsMounts.fromStatmount() else {
            // listmount(2) arrived in Linux 6.8; older kernels use mountinfo, which is checked above.
            Issue.record("listmount/statmount unavailable on this kernel: only the mountinfo reader was tested")
            return
        }
        #expect(fast[inode]?.contains("/run/netns/\(name)") == true)
        // Other suites add and remove namespaces meanwhile: compare what both mountinfo reads agree on.
        let after = try MountTable.read(types: ["nsfs"]).networkNamespaceNames
        let stable = fromMountinfo.filter { after[$0.key].map(Set.init) == Set($0.value) }
        #expect(stable.count > 0)
        for (found, paths) in stable {
            #expect(fast[found].map(Set.init) == Set(paths), "statmount \(fast[found] ?? []) vs mountinfo \(paths)")
        }
        #expect(NetnsMounts.names()[inode] != nil)
    }

    @Test(.requires(getuid() == 0 && ipTool != nil, "SKIPPED LOUDLY: adding a named netns needs root and ip"))
    func conventionalDirectoriesAgreeWithTheMountWalkThere() throws {
        let name = "tracer-nsconv-\(getpid())"
        defer { _ = try? ip("netns", "del", name) }
        try ip("netns", "add", name)
        let inode = namespaceInode("/run/netns/\(name)")
        let conventional = NetnsMounts.conventionalNames()
        #expect(conventional[inode] == ["/run/netns/\(name)"])
        // The full walk names the same namespace by the same path (other suites' namespaces come and go).
        #expect(NetnsMounts.names()[inode]?.contains("/run/netns/\(name)") == true)
        // A plain file is no bind mount.
        let plain = "/run/netns/tracer-plain-\(getpid())"
        FileManager.default.createFile(atPath: plain, contents: nil)
        defer { unlink(plain) }
        #expect(NetnsMounts.inode(ofBindMount: plain) == nil)
        #expect(NetnsMounts.conventionalNames()[inode] == ["/run/netns/\(name)"])
    }
}
