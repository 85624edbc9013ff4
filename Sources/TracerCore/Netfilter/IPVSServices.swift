import Glibc

/// One IPVS virtual service (kube-proxy's IPVS mode makes one per Service port) and the real
/// servers it balances over, as /proc/net/ip_vs lists them. IPVS picks the real server in the
/// kernel's own table, not in a firewall rule: its cost per connection is not a rule walk.
public struct IPVSService: Sendable, Equatable {
    /// What the virtual service answers: an address and port of a protocol, or a firewall mark
    /// that rules set (`ipvsadm -A -f 1`).
    public enum Key: Sendable, Equatable {
        case address(TransportProtocol, IPAddress, port: UInt16)
        case firewallMark(UInt32)
    }

    public struct RealServer: Sendable, Equatable {
        public var address: IPAddress
        /// 0 for a firewall mark's real server that keeps the packet's port.
        public var port: UInt16
        public var forward: Forward
        public var weight: Int

        public init(address: IPAddress, port: UInt16, forward: Forward, weight: Int) {
            self.address = address
            self.port = port
            self.forward = forward
            self.weight = weight
        }
    }

    /// How a packet reaches the real server, as the kernel names it (ip_vs_fwd_name).
    public enum Forward: String, Sendable, Equatable {
        /// NAT (`ipvsadm -m`): the destination is rewritten, as kube-proxy does.
        case masquerade = "Masq"
        case local = "Local"
        case tunnel = "Tunnel"
        /// Direct routing (`-g`).
        case route = "Route"
    }

    public var key: Key
    /// rr, wrr, lc, sh, ...
    public var scheduler: String
    /// What the kernel prints after the scheduler: "ops" (one-packet scheduling), "persistent"
    /// with its timeout and netmask.
    public var flags: [String]
    public var realServers: [RealServer]

    public init(key: Key, scheduler: String, flags: [String] = [], realServers: [RealServer] = []) {
        self.key = key
        self.scheduler = scheduler
        self.flags = flags
        self.realServers = realServers
    }
}

/// Reads /proc/net/ip_vs: the IPVS virtual services of the reading thread's network namespace.
enum IPVSServices {
    /// The namespace's virtual services; nil where the file does not exist, a kernel without
    /// IPVS (or the ip_vs module not loaded). Pass /proc/thread-self/net/ip_vs inside
    /// `RouteNetlink.inNamespace` for another namespace's.
    static func read(path: String = "/proc/net/ip_vs") throws(FileSystem.ReadError) -> [IPVSService]? {
        do {
            return parse(try FileSystem.readText(path, kind: .kernelTable))
        } catch {
            if error.errno == ENOENT { return nil }
            throw error
        }
    }

    /// The format of ip_vs_info_seq_show (net/netfilter/ipvs/ip_vs_ctl.c): three header lines,
    /// then each service (`TCP  0A600001:0050 rr `, `UDP  [2001:0db8:...:0001]:0035 rr `,
    /// `FWM  00000001 rr `) followed by its real servers (`  -> 0AF40001:1F90      Masq    1      0          0`).
    /// IPv4 addresses and ports are hexadecimal in network order, IPv6 addresses written out in
    /// full. A line that does not read is skipped, and so are the real servers of a service that
    /// does not (they would land on the service before it).
    static func parse(_ text: String) -> [IPVSService] {
        var services: [IPVSService] = []
        var current: IPVSService?
        for line in text.split(separator: "\n") {
            let fields = line.split(separator: " ")
            guard let first = fields.first else { continue }
            if first == "->" {
                if current != nil, let server = realServer(fields) { current?.realServers.append(server) }
                continue
            }
            if let done = current { services.append(done) }
            current = service(fields)
        }
        if let done = current { services.append(done) }
        return services
    }

    /// `TCP  0A600001:0050 rr ops persistent 360 FFFFFFFF`, `FWM  00000001 rr`; nil for a header
    /// line, a protocol other than TCP, UDP or SCTP (AH, ESP), or one that does not read.
    private static func service(_ fields: [Substring]) -> IPVSService? {
        guard fields.count >= 3 else { return nil }
        let key: IPVSService.Key
        if fields[0] == "FWM" {
            guard let mark = UInt32(fields[1], radix: 16) else { return nil }
            key = .firewallMark(mark)
        } else {
            guard let proto = TransportProtocol(name: fields[0]), let (address, port) = addressAndPort(fields[1]) else { return nil }
            key = .address(proto, address, port: port)
        }
        return IPVSService(key: key, scheduler: String(fields[2]), flags: fields.dropFirst(3).map(String.init))
    }

    /// `->`, address:port, forward, weight, active and inactive connections.
    private static func realServer(_ fields: [Substring]) -> IPVSService.RealServer? {
        guard fields.count >= 4, let (address, port) = addressAndPort(fields[1]),
              let forward = IPVSService.Forward(rawValue: String(fields[2])), let weight = Int(fields[3]) else { return nil }
        return IPVSService.RealServer(address: address, port: port, forward: forward, weight: weight)
    }

    /// `0A600001:0050` -> 10.96.0.1, 80; `[2001:0db8:0000:0000:0000:0000:0000:0001]:0050` -> 2001:db8::1, 80.
    private static func addressAndPort(_ text: Substring) -> (IPAddress, UInt16)? {
        guard let colon = text.lastIndex(of: ":"), let port = UInt16(text[text.index(after: colon)...], radix: 16) else { return nil }
        let host = text[..<colon]
        if host.first == "[", host.last == "]" {
            return IPAddress(String(host.dropFirst().dropLast())).flatMap { $0.family == .v6 ? ($0, port) : nil }
        }
        guard host.count == 8, let word = UInt32(host, radix: 16) else { return nil }
        return (IPAddress(UInt8(word >> 24), UInt8(word >> 16 & 0xff), UInt8(word >> 8 & 0xff), UInt8(word & 0xff)), port)
    }
}
