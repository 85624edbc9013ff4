// Constants from the Linux UAPI headers. Swift does not import the function-like
// NLMSG_*/RTA_* macros (nor most of these enums through Glibc), so they are spelled out here.

enum NL {
    // <linux/netlink.h>
    static let NETLINK_ROUTE: Int32 = 0
    static let NETLINK_NETFILTER: Int32 = 12
    static let SOL_NETLINK: Int32 = 270
    static let NETLINK_ADD_MEMBERSHIP: Int32 = 1

    static let NLMSG_NOOP: UInt16 = 1
    static let NLMSG_ERROR: UInt16 = 2
    static let NLMSG_DONE: UInt16 = 3
    static let NLMSG_OVERRUN: UInt16 = 4

    static let NLM_F_REQUEST: UInt16 = 0x01
    static let NLM_F_MULTI: UInt16 = 0x02
    static let NLM_F_ACK: UInt16 = 0x04
    static let NLM_F_DUMP_INTR: UInt16 = 0x10
    static let NLM_F_ROOT: UInt16 = 0x100
    static let NLM_F_MATCH: UInt16 = 0x200
    static let NLM_F_DUMP: UInt16 = NLM_F_ROOT | NLM_F_MATCH

    /// sizeof(struct nlmsghdr): u32 len, u16 type, u16 flags, u32 seq, u32 pid.
    static let NLMSG_HDRLEN = 16
    /// sizeof(struct nlmsgerr) prefix: s32 error followed by the offending nlmsghdr.
    static let NLMSGERR_ERROR_LEN = 4

    /// NLA_F_NESTED / NLA_F_NET_BYTEORDER live in the top bits of nla_type.
    static let NLA_TYPE_MASK: UInt16 = 0x3fff

    /// NLMSG_ALIGN / RTA_ALIGN / NLA_ALIGN: round up to 4 bytes.
    static func align(_ n: Int) -> Int { (n + 3) & ~3 }
    /// sizeof(struct rtattr): u16 len, u16 type.
    static let RTA_HDRLEN = 4

    // <linux/rtnetlink.h>
    static let RTM_NEWLINK: UInt16 = 16
    static let RTM_GETLINK: UInt16 = 18
    static let RTM_NEWADDR: UInt16 = 20
    static let RTM_GETADDR: UInt16 = 22
    static let RTM_NEWROUTE: UInt16 = 24
    static let RTM_GETROUTE: UInt16 = 26
    static let RTM_NEWRULE: UInt16 = 32
    static let RTM_GETRULE: UInt16 = 34
    static let RTM_NEWNEIGH: UInt16 = 28
    static let RTM_GETNEIGH: UInt16 = 30
    /// struct ndmsg (family, pads, ifindex, state, flags, type) and its NDA_DST (linux/neighbour.h).
    static let NDMSG_LEN = 12
    /// ndm_flags: a proxy entry (pneigh), not a neighbour.
    static let NTF_PROXY: UInt8 = 0x08
    static let NDA_DST: UInt16 = 1
    static let NDA_LLADDR: UInt16 = 2
    /// struct fib_rule_hdr, and its attributes (linux/fib_rules.h).
    static let FIB_RULE_HDR_LEN = 12
    static let FIB_RULE_INVERT: UInt32 = 0x2
    static let FRA_DST: UInt16 = 1
    static let FRA_SRC: UInt16 = 2
    static let FRA_IIFNAME: UInt16 = 3
    static let FRA_GOTO: UInt16 = 4
    static let FRA_PRIORITY: UInt16 = 6
    static let FRA_FWMARK: UInt16 = 10
    static let FRA_SUPPRESS_PREFIXLEN: UInt16 = 14
    static let FRA_TABLE: UInt16 = 15
    static let FRA_FWMASK: UInt16 = 16
    static let FRA_OIFNAME: UInt16 = 17
    static let FRA_L3MDEV: UInt16 = 19
    static let FRA_UID_RANGE: UInt16 = 20
    static let FRA_IP_PROTO: UInt16 = 22
    static let FRA_SPORT_RANGE: UInt16 = 23
    static let FRA_DPORT_RANGE: UInt16 = 24

    /// sizeof(struct ifinfomsg): u8 family, u8 pad, u16 type, s32 index, u32 flags, u32 change.
    static let IFINFOMSG_LEN = 16
    /// sizeof(struct ifaddrmsg): u8 family, u8 prefixlen, u8 flags, u8 scope, u32 index.
    static let IFADDRMSG_LEN = 8
    /// sizeof(struct rtmsg): u8 family, dst_len, src_len, tos, table, protocol, scope, type; u32 flags.
    static let RTMSG_LEN = 12

    // enum rt_class_t / enum rtattr_type_t / route types (<linux/rtnetlink.h>)
    static let RT_TABLE_MAIN: UInt32 = 254
    static let RTN_UNICAST: UInt8 = 1
    /// rtm_protocol of a route learned from a router advertisement (`proto ra`).
    static let RTPROT_RA: UInt8 = 9
    static let RTA_DST: UInt16 = 1
    static let RTA_OIF: UInt16 = 4
    static let RTA_GATEWAY: UInt16 = 5
    static let RTA_TABLE: UInt16 = 15

    // <linux/if_link.h>
    static let IFLA_ADDRESS: UInt16 = 1
    static let IFLA_IFNAME: UInt16 = 3
    static let IFLA_MTU: UInt16 = 4
    static let IFLA_LINK: UInt16 = 5
    static let IFLA_MASTER: UInt16 = 10
    static let IFLA_OPERSTATE: UInt16 = 16
    static let IFLA_LINKINFO: UInt16 = 18
    static let IFLA_LINK_NETNSID: UInt16 = 37
    static let IFLA_INFO_KIND: UInt16 = 1

    // <linux/if_addr.h>
    static let IFA_ADDRESS: UInt16 = 1
    static let IFA_LOCAL: UInt16 = 2
    /// u32 flags, superseding ifaddrmsg's 8-bit ifa_flags.
    static let IFA_FLAGS: UInt16 = 8
    static let IFA_F_DADFAILED: UInt32 = 0x08
    static let IFA_F_TENTATIVE: UInt32 = 0x40

    // <linux/if.h> (net_device_flags; IFF_LOWER_UP is not exported by Glibc's <net/if.h>)
    static let IFF_UP: UInt32 = 0x1
    static let IFF_LOWER_UP: UInt32 = 0x10000

    // <linux/socket.h> / <sys/socket.h>
    static let AF_UNSPEC: UInt8 = 0
    static let AF_INET: UInt8 = 2
    static let AF_INET6: UInt8 = 10

    // <linux/sched.h>
    static let CLONE_NEWNET: Int32 = 0x4000_0000
}
