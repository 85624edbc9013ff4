import Glibc

/// A socket bound on the host side that could answer a published port itself: a userland proxy
/// (docker-proxy, rootlessport, slirp4netns' port handler) or any service on that port.
public struct ListeningSocket: Sendable, Equatable {
    public var transport: TransportProtocol
    public var address: IPAddress
    public var port: UInt16
    public var inode: UInt64
    /// The processes holding it (pid and command line, first word's base name first).
    public var owners: [Owner]

    public struct Owner: Sendable, Equatable {
        public var pid: Int32
        /// The program's base name: "docker-proxy".
        public var program: String
        /// The whole command line, for evidence.
        public var commandLine: String

        public init(pid: Int32, program: String, commandLine: String) {
            self.pid = pid
            self.program = program
            self.commandLine = commandLine
        }
    }

    public init(transport: TransportProtocol, address: IPAddress, port: UInt16, inode: UInt64, owners: [Owner] = []) {
        self.transport = transport
        self.address = address
        self.port = port
        self.inode = inode
        self.owners = owners
    }

    /// Does it receive what is sent to `address:port` (nil address: any local address)?
    public func answers(_ address: IPAddress?, port: UInt16, transport: TransportProtocol) -> Bool {
        guard transport == self.transport, port == self.port else { return false }
        let wildcard = self.address.bytes.allSatisfy { $0 == 0 }
        guard let address else { return wildcard }
        // A socket on :: takes IPv4 too unless it is v6only, which /proc does not say.
        return wildcard || self.address == address
    }

    /// Parses /proc/net/{tcp,tcp6,udp,udp6}: TCP sockets in LISTEN (0A), UDP sockets bound and
    /// unconnected (07). Addresses are in the kernel's byte order, 32 bits at a time.
    public static func parse(_ text: String, transport: TransportProtocol) -> [ListeningSocket] {
        var sockets: [ListeningSocket] = []
        for line in text.split(separator: "\n").dropFirst() {
            let fields = line.split(separator: " ")
            guard fields.count > 9 else { continue }
            let state = fields[3]
            guard transport == .tcp ? state == "0A" : state == "07" else { continue }
            let remote = fields[2].split(separator: ":")
            guard transport == .tcp || (remote.count == 2 && remote[1] == "0000") else { continue }
            let local = fields[1].split(separator: ":")
            guard local.count == 2, let address = procAddress(local[0]), let port = UInt16(local[1], radix: 16),
                  let inode = UInt64(fields[9]) else { continue }
            sockets.append(ListeningSocket(transport: transport, address: address, port: port, inode: inode))
        }
        return sockets
    }

    /// "0100007F" -> 127.0.0.1: each 32-bit word in host (little-endian) order.
    static func procAddress(_ hex: Substring) -> IPAddress? {
        guard hex.count == 8 || hex.count == 32 else { return nil }
        var bytes: [UInt8] = []
        var index = hex.startIndex
        while index < hex.endIndex {
            let end = hex.index(index, offsetBy: 8)
            guard let word = UInt32(hex[index..<end], radix: 16) else { return nil }
            bytes += [UInt8(word & 0xff), UInt8(word >> 8 & 0xff), UInt8(word >> 16 & 0xff), UInt8(word >> 24)]
            index = end
        }
        return IPAddress(bytes: bytes)
    }

    /// The listening sockets of the calling thread's network namespace (run it inside
    /// `RouteNetlink.inNamespace`), from /proc/thread-self/net; owners are not filled in.
    static func readTable() -> [ListeningSocket] {
        var all: [ListeningSocket] = []
        for (file, transport) in [("tcp", TransportProtocol.tcp), ("tcp6", .tcp), ("udp", .udp), ("udp6", .udp)] {
            guard let text = try? FileSystem.readText("/proc/thread-self/net/\(file)", kind: .kernelTable) else { continue }
            all += parse(text, transport: transport)
        }
        return all
    }

    /// Fills in who holds each socket by walking /proc/PID/fd for `socket:[INODE]` (socket inodes
    /// are unique across namespaces). Only for the few sockets that matter: a full walk of every
    /// process's descriptors is the costly part.
    static func withOwners(_ sockets: [ListeningSocket], procRoot: String = "/proc") -> [ListeningSocket] {
        guard !sockets.isEmpty else { return sockets }
        var wanted: [String: [Int]] = [:]
        for (i, socket) in sockets.enumerated() { wanted["socket:[\(socket.inode)]", default: []].append(i) }
        var result = sockets
        for entry in FileSystem.entries(procRoot) ?? [] {
            guard let pid = Int32(entry), pid > 0 else { continue }
            let fdDirectory = FileSystem.join(procRoot, entry, "fd")
            var found: Set<Int> = []
            for fd in FileSystem.entries(fdDirectory) ?? [] {
                var buffer = [CChar](repeating: 0, count: 64)
                let n = readlink(FileSystem.join(fdDirectory, fd), &buffer, buffer.count - 1)
                guard n > 0 else { continue }
                let target = String(decoding: buffer[0..<n].map { UInt8(bitPattern: $0) }, as: UTF8.self)
                for i in wanted[target] ?? [] { found.insert(i) }
            }
            guard !found.isEmpty else { continue }
            let words = ProcCmdline.read(pid: pid, procRoot: procRoot).map { String(decoding: $0, as: UTF8.self) }
            let program = words.first.map { String($0.split(separator: "/").last ?? Substring($0)) } ?? "?"
            let owner = Owner(pid: pid, program: program, commandLine: words.joined(separator: " "))
            for i in found where !result[i].owners.contains(where: { $0.pid == pid }) { result[i].owners.append(owner) }
        }
        return result
    }
}
