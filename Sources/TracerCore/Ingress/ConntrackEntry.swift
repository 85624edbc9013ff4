import Glibc

/// One entry of a namespace's conntrack table as /proc/net/nf_conntrack lists it: the
/// original tuple (what the client sent) and the reply tuple (what the other end answers
/// from; after DNAT, the container's address).
public struct ConntrackEntry: Sendable, Equatable {
    public struct Tuple: Sendable, Equatable {
        public var source: IPAddress
        public var destination: IPAddress
        public var sourcePort: UInt16?
        public var destinationPort: UInt16?

        public init(source: IPAddress, destination: IPAddress, sourcePort: UInt16? = nil, destinationPort: UInt16? = nil) {
            self.source = source
            self.destination = destination
            self.sourcePort = sourcePort
            self.destinationPort = destinationPort
        }
    }

    /// Nil for a protocol other than tcp and udp.
    public var transport: TransportProtocol?
    public var original: Tuple
    public var reply: Tuple
    /// The TCP state (ESTABLISHED, SYN_SENT...); nil for udp.
    public var state: String?
    /// [UNREPLIED], [ASSURED].
    public var flags: [String]
    /// The line as the kernel printed it, for evidence.
    public var text: String

    /// `conntrack -D` arguments that delete exactly this entry.
    public var deleteArguments: String {
        var words = ["-D", "-p", transport?.rawValue ?? "?", "--orig-src", "\(original.source)", "--orig-dst", "\(original.destination)"]
        if let port = original.sourcePort { words += ["--orig-port-src", "\(port)"] }
        if let port = original.destinationPort { words += ["--orig-port-dst", "\(port)"] }
        return words.joined(separator: " ")
    }

    /// Parses the lines of /proc/net/nf_conntrack:
    /// `ipv4 2 tcp 6 431999 ESTABLISHED src=A dst=B sport=1 dport=2 src=B dst=A sport=2 dport=1 [ASSURED] mark=0 zone=0 use=2`.
    /// Lines it cannot read are skipped: the table changes while it is read.
    /// `wanted`: the entries to keep, by transport and original destination port, asked before
    /// the rest of a line is read.
    public static func parse(_ text: String, wanted: ((TransportProtocol, UInt16) -> Bool)? = nil) -> [ConntrackEntry] {
        text.split(separator: "\n").compactMap { line in
            if let wanted {
                let words = line.prefix(64).split(separator: " ", maxSplits: 3)
                guard words.count > 2, let dport = line.firstRange(of: "dport="),
                      let port = UInt16(line[dport.upperBound...].prefix { $0 != " " }),
                      let transport = TransportProtocol(name: words[2]), wanted(transport, port) else { return nil }
            }
            return parseLine(line)
        }
    }

    static func parseLine(_ line: Substring) -> ConntrackEntry? {
        let words = line.split(separator: " ")
        guard words.count > 6 else { return nil }
        var tuples: [[String: Substring]] = []
        var flags: [String] = []
        var state: String?
        for (i, word) in words.enumerated() where i >= 5 {
            if word.hasPrefix("[") {
                flags.append(String(word))
                continue
            }
            guard let eq = word.firstIndex(of: "=") else {
                if i == 5 { state = String(word) }
                continue
            }
            let key = String(word[..<eq]), value = word[word.index(after: eq)...]
            if key == "src" { tuples.append([:]) }
            guard !tuples.isEmpty, ["src", "dst", "sport", "dport"].contains(key) else { continue }
            tuples[tuples.count - 1][key] = value
        }
        guard tuples.count >= 2, let original = tuple(tuples[0]), let reply = tuple(tuples[1]) else { return nil }
        return ConntrackEntry(transport: TransportProtocol(name: words[2]), original: original, reply: reply, state: state,
                              flags: flags, text: String(line))
    }

    private static func tuple(_ fields: [String: Substring]) -> Tuple? {
        guard let src = fields["src"].flatMap(IPAddress.init), let dst = fields["dst"].flatMap(IPAddress.init) else { return nil }
        return Tuple(source: src, destination: dst, sourcePort: fields["sport"].flatMap { UInt16($0) },
                     destinationPort: fields["dport"].flatMap { UInt16($0) })
    }

    /// The conntrack table of the calling thread's network namespace (run it inside
    /// `RouteNetlink.inNamespace`): /proc/thread-self/net/nf_conntrack, since /proc/net follows the
    /// process's first thread, not the one that entered the namespace. Nil with the reason when
    /// the kernel has no such file (built without CONFIG_NF_CONNTRACK_PROCFS, or nf_conntrack not
    /// loaded) or it cannot be read.
    public static func readTable(wanted: ((TransportProtocol, UInt16) -> Bool)? = nil) -> (entries: [ConntrackEntry]?, why: String?) {
        let path = "/proc/thread-self/net/nf_conntrack"
        do {
            return (parse(try FileSystem.readText(path, kind: .kernelTable), wanted: wanted), nil)
        } catch {
            if error.errno == ENOENT { return (nil, "\(path) does not exist (nf_conntrack not loaded, or a kernel without CONFIG_NF_CONNTRACK_PROCFS)") }
            return (nil, error.description)
        }
    }
}
