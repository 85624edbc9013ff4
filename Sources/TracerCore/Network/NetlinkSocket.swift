import BPF
import Glibc

/// A netlink socket (NETLINK_ROUTE unless said otherwise) used for dump requests or to listen
/// to a multicast group, then closed.
struct NetlinkSocket: ~Copyable {
    private let fd: Int32
    var seq: UInt32
    private var buffer: [UInt8]

    /// Opens socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE) in the calling
    /// thread's network namespace, with a receive timeout so a silent kernel cannot hang us.
    init(protocol netlinkProtocol: Int32 = NL.NETLINK_ROUTE, receiveTimeoutSeconds: Int = 5) throws(NetlinkError) {
        let type = Int32(SOCK_RAW.rawValue) | Int32(SOCK_CLOEXEC.rawValue)
        let fd = socket(AF_NETLINK, type, netlinkProtocol)
        guard fd >= 0 else { throw .socket(errno) }
        var timeout = timeval(tv_sec: receiveTimeoutSeconds, tv_usec: 0)
        if setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size)) != 0 {
            let e = errno
            close(fd)
            throw .socket(e)
        }
        self.fd = fd
        // Start from a time-derived sequence number, as iproute2 does.
        self.seq = UInt32(truncatingIfNeeded: time(nil))
        self.buffer = [UInt8](repeating: 0, count: 64 * 1024)
    }

    deinit { close(fd) }

    /// Binds (the kernel picks the port id) and subscribes to a multicast group
    /// (NETLINK_ADD_MEMBERSHIP), e.g. NFNLGRP_NFTRACE. Call once. An unbound socket gets no
    /// broadcasts: the kernel only delivers them to bound sockets.
    func join(group: UInt32) throws(NetlinkError) {
        // struct sockaddr_nl (not in Glibc's Swift module): u16 family, u16 pad, u32 pid, u32 groups.
        var address = [UInt8](repeating: 0, count: 12)
        address[0] = UInt8(AF_NETLINK & 0xff)
        address[1] = UInt8(AF_NETLINK >> 8)
        let fd = self.fd
        let bound = address.withUnsafeBytes { raw in
            bind(fd, raw.baseAddress!.assumingMemoryBound(to: sockaddr.self), socklen_t(raw.count))
        }
        guard bound == 0 else { throw .socket(errno) }
        var value = group
        guard setsockopt(fd, NL.SOL_NETLINK, NL.NETLINK_ADD_MEMBERSHIP, &value, socklen_t(MemoryLayout<UInt32>.size)) == 0 else {
            throw .socket(errno)
        }
    }

    /// Asks for a receive buffer of `bytes` (SO_RCVBUFFORCE, past rmem_max with CAP_NET_ADMIN;
    /// else SO_RCVBUF, capped there): a busy multicast group overflows the default one.
    func receiveBuffer(bytes: Int32) {
        var size = bytes
        let length = socklen_t(MemoryLayout<Int32>.size)
        if setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &size, length) != 0 {
            _ = setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, length)
        }
    }

    /// Waits until a datagram is pending; false on timeout.
    func waitReadable(timeoutMilliseconds: Int32) -> Bool {
        var entry = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
        return (try? Errno.retryingOnInterrupt { poll(&entry, 1, timeoutMilliseconds) }.get()).map { $0 > 0 } ?? false
    }

    /// Sends a dump request and collects every data message of the reply until NLMSG_DONE.
    /// Retries a few times when the kernel flags the dump as interrupted (NLM_F_DUMP_INTR).
    /// `flags`: a byte of the request's header set, where the dump's kind is chosen by one
    /// (ndm_flags NTF_PROXY: the proxy entries instead of the neighbours).
    mutating func dump(type: UInt16, family: UInt8, headerLength: Int,
                       flags: (offset: Int, value: UInt8)? = nil) throws(NetlinkError) -> [NetlinkMessage] {
        var attempts = 0
        while true {
            attempts += 1
            let (messages, interrupted) = try dumpOnce(type: type, family: family, headerLength: headerLength, flags: flags)
            if !interrupted || attempts >= 4 { return messages }
        }
    }

    private mutating func dumpOnce(
        type: UInt16, family: UInt8, headerLength: Int, flags: (offset: Int, value: UInt8)?
    ) throws(NetlinkError) -> (messages: [NetlinkMessage], interrupted: Bool) {
        seq &+= 1
        let request = dumpRequest(type: type, seq: seq, family: family, headerLength: headerLength, flags: flags)
        try send(request)

        var messages: [NetlinkMessage] = []
        var interrupted = false
        while true {
            let datagram = try receiveDatagram()
            let chunk = try parseDumpChunk(datagram, seq: seq)
            messages += chunk.messages
            interrupted = interrupted || chunk.interrupted
            if chunk.done { return (messages, interrupted) }
        }
    }

    /// Sends one request. Unconnected netlink sockets send to the kernel (nl_pid 0) and
    /// autobind on first send.
    func send(_ request: [UInt8]) throws(NetlinkError) {
        let fd = self.fd
        let sent = request.withUnsafeBytes { raw in Errno.retryingOnInterrupt { Glibc.send(fd, raw.baseAddress, raw.count, 0) } }
        switch sent {
        case .failure(let e): throw .send(e.rawValue)
        case .success(let n): guard n == request.count else { throw .send(EMSGSIZE) }
        }
    }

    /// Receives one datagram, growing the buffer first if the pending one is larger.
    mutating func receiveDatagram() throws(NetlinkError) -> [UInt8] {
        let peekFlags = Int32(MSG_PEEK) | Int32(MSG_TRUNC)
        let pending = try receive(flags: peekFlags)
        if pending > buffer.count {
            buffer = [UInt8](repeating: 0, count: NL.align(pending))
        }
        let n = try receive(flags: 0)
        guard n <= buffer.count else { throw .receive(EMSGSIZE) }
        return Array(buffer[0..<n])
    }

    private mutating func receive(flags: Int32) throws(NetlinkError) -> Int {
        let fd = self.fd
        switch Errno.retryingOnInterrupt({ buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, flags) } }) {
        case .success(let n): return n
        case .failure(let e): throw .receive(e.rawValue)
        }
    }
}
