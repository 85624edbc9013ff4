import Glibc

extension NetlinkSocket {
    /// RTM_GETNSID / RTM_NEWNSID and NETNSA_* from linux/rtnetlink.h and linux/net_namespace.h.
    private static let RTM_NEWNSID: UInt16 = 88
    private static let RTM_GETNSID: UInt16 = 90
    private static let NETNSA_NSID: UInt16 = 1
    private static let NETNSA_FD: UInt16 = 3

    /// The id under which the calling thread's namespace knows the namespace open at `fd`
    /// (what IFLA_LINK_NETNSID refers to), or nil when it has none assigned.
    mutating func netnsID(ofNamespaceFD fd: Int32) throws(NetlinkError) -> Int32? {
        seq &+= 1
        // nlmsghdr, rtgenmsg (1 byte, padded to 4), then the NETNSA_FD attribute.
        var request: [UInt8] = []
        let length = NL.NLMSG_HDRLEN + 4 + 8
        withUnsafeBytes(of: UInt32(length)) { request += $0 }
        withUnsafeBytes(of: Self.RTM_GETNSID) { request += $0 }
        withUnsafeBytes(of: NL.NLM_F_REQUEST) { request += $0 }
        withUnsafeBytes(of: seq) { request += $0 }
        withUnsafeBytes(of: UInt32(0)) { request += $0 }
        request += [UInt8(AF_UNSPEC), 0, 0, 0]
        withUnsafeBytes(of: UInt16(8)) { request += $0 }
        withUnsafeBytes(of: Self.NETNSA_FD) { request += $0 }
        withUnsafeBytes(of: UInt32(bitPattern: fd)) { request += $0 }
        try send(request)
        while true {
            for message in try parseMessages(try receiveDatagram()) where message.seq == seq {
                if message.type == NL.NLMSG_ERROR {
                    let code = message.payload.read(Int32.self, at: 0) ?? 0
                    if code == 0 { continue }
                    throw .kernel(-code)
                }
                guard message.type == Self.RTM_NEWNSID else { continue }
                for attribute in parseAttributes(message.payload, from: 4) where attribute.type == Self.NETNSA_NSID {
                    guard let id = attribute.value.read(Int32.self, at: 0) else { return nil }
                    return id < 0 ? nil : id // NETNSA_NSID_NOT_ASSIGNED is -1
                }
                return nil
            }
        }
    }
}
