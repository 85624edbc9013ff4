/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * The ABI of bpf/net.bpf.c: devices and addresses in scope (written by user
 * space), per-flow stage counters and drop counters (read by user space), the
 * drop record on the ring buffer, and the load-time configuration.
 * Addresses and ports are in network byte order, as on the wire.
 */
#ifndef TRACER_NET_EVENT_H
#define TRACER_NET_EVENT_H

#ifndef __VMLINUX_H__
#include <linux/types.h>
#endif

#define TRACER_IFNAME_LEN 16

/* Where on the path a packet was seen, by device and way: in path order for an egress flow
 * (egress first, then the reply). An inbound flow meets them the other way round: UPLINK_RX,
 * BRIDGE_TX, HOST_VETH_TX, ENDPOINT_RX, then its reply ENDPOINT_TX ... UPLINK_QUEUE. */
enum tracer_net_stage {
	TRACER_STAGE_ENDPOINT_TX = 0,  /* queued on the endpoint's own interface (a container's eth0) */
	TRACER_STAGE_HOST_VETH_RX = 1, /* received by the host end of its veth */
	TRACER_STAGE_BRIDGE_RX = 2,    /* passed up by the bridge to routing */
	TRACER_STAGE_UPLINK_QUEUE = 3, /* routed, forwarded and through POSTROUTING: queued on the uplink */
	TRACER_STAGE_UPLINK_RX = 4,    /* a reply received on the uplink */
	TRACER_STAGE_BRIDGE_TX = 5,    /* the reply de-NATed, forwarded and queued on the bridge */
	TRACER_STAGE_HOST_VETH_TX = 6, /* the reply queued on the host end of the veth */
	TRACER_STAGE_ENDPOINT_RX = 7,  /* the reply received by the endpoint */
	TRACER_STAGE_COUNT = 8,
	/* Drops only (no counter): an inbound packet whose destination DNAT had rewritten to the
	 * endpoint's, dropped in the host side before it was queued on the bridge (FORWARD, say). */
	TRACER_STAGE_PAST_DNAT = 8,
	TRACER_STAGE_NONE = 255,
};

/* What a device in scope is to the path it belongs to. */
enum tracer_device_role {
	TRACER_ROLE_ENDPOINT = 1,
	TRACER_ROLE_HOST_VETH = 2,
	TRACER_ROLE_BRIDGE = 3,
	TRACER_ROLE_UPLINK = 4,
};

/* Interface indexes repeat across namespaces: a device is (netns inode, ifindex). */
struct tracer_device_key {
	__u32 netns;
	__s32 ifindex;
};

struct tracer_device_scope {
	__u32 role;     /* enum tracer_device_role */
	__u32 endpoint; /* user space's index of the path */
};

/* Devices in scope by ifindex, the first check of every packet on every device: an array slot
 * is a load or two where the (netns, ifindex) hash costs a hash and a bucket walk. Indexes
 * repeat across namespaces (every container's eth0 is 2), so a slot lists up to
 * TRACER_DEVICE_SLOT_WAYS devices; an index beyond the array or in scope more often than that
 * is looked up in the hash. */
#define TRACER_DEVICE_SLOTS 16384
#define TRACER_DEVICE_SLOT_WAYS 4
#define TRACER_DEVICE_SLOT_SHARED 0xffffffffU /* `count` of a slot that defers to the hash */

struct tracer_device_way {
	__u32 netns;
	struct tracer_device_scope scope;
};

struct tracer_device_slot {
	__u32 count; /* devices listed, or TRACER_DEVICE_SLOT_SHARED */
	struct tracer_device_way devices[TRACER_DEVICE_SLOT_WAYS];
};

/* Endpoint addresses by their low bits (host order), set for each endpoint: a bridge or
 * uplink carries anyone's packets, and most are told apart from the endpoints' by one load. */
#define TRACER_ENDPOINT_HINTS 4096

/* A namespace of a path in scope (map scoped_netns, keyed by netns inode). */
struct tracer_netns_scope {
	/* On a host side, the stage an endpoint's packet has passed once conntrack knows it there:
	 * the last device before routing (BRIDGE_RX, or HOST_VETH_RX on a routed path).
	 * TRACER_STAGE_NONE in an endpoint's namespace. */
	__u32 routed_stage;
};

/* Per device in scope: neighbour discovery, which a flow never shows when a neighbour is not
 * answering. IPv4's ARP and IPv6's NDP (neighbour solicitations and advertisements) alike. */
struct tracer_device_stats {
	__u64 arp_requests_tx;
	__u64 arp_replies_tx;
	__u64 arp_requests_rx;
	__u64 arp_replies_rx;
	__u64 ndp_solicits_tx;
	__u64 ndp_adverts_tx;
	__u64 ndp_solicits_rx;
	__u64 ndp_adverts_rx;
};

/* An address of either family in 16 bytes: IPv6 as it is, IPv4 mapped (::ffff:a.b.c.d, the
 * IPv4 address in the last word), so one key and one comparison serve both families. */
struct tracer_addr {
	__u32 words[4];
};

/* A flow, always from the endpoint's side, as the endpoint sees it (after DNAT): its address
 * and port, the remote's; and who opened it. Both addresses are of the flow's family. */
struct tracer_flow_key {
	struct tracer_addr endpoint_addr;
	struct tracer_addr remote_addr;
	__u16 endpoint_port; /* ICMP echo: the identifier */
	__u16 remote_port;   /* ICMP echo: 0 */
	__u8 proto;
	__u8 inbound;        /* 1: the remote opened it (a published port, a DNAT, or routed to the endpoint) */
	__u8 pad[2];
};

struct tracer_flow_stats {
	__u64 packets[TRACER_STAGE_COUNT];
	__u64 drops;
	__u64 last_drop_ns;
	__u64 last_drop_location;
	__u32 last_drop_reason;
	__u32 last_drop_netns;
	__s32 last_drop_ifindex;
	__u32 last_drop_stage;   /* the last stage the dropped packet had reached, or TRACER_STAGE_NONE */
	struct tracer_addr nat_addr; /* egress: the source the uplink saw after SNAT/MASQUERADE; inbound: the
	                          * destination the client addressed before DNAT (the published port); all zero if none */
	__u16 nat_port;
	__u8 private_source_seen; /* the uplink saw the endpoint's own source: no SNAT */
	__u8 pad[5];
};

/* A flow's counters on the packet path: a per-CPU table indexed by a hash of the key, where a
 * flow's counters are found with one array load and a key compare (the LRU hash costs a
 * hash, a bucket walk and a call, several times per packet). A slot belongs to the first flow
 * that hashes to it for the rest of the run; a flow finding its slot taken is counted in the
 * LRU hash `flows` instead, as is a flow a drop made known before a packet did. On each CPU a
 * flow's counters live in one of the two; user space adds up both. An empty slot has proto 0. */
#define TRACER_FLOW_SLOT_BITS 10
#define TRACER_FLOW_SLOTS (1 << TRACER_FLOW_SLOT_BITS)

struct tracer_flow_slot {
	struct tracer_flow_key key;
	struct tracer_flow_stats stats;
};

/* Reply lookup on the uplink: the masqueraded side of a flow, as the reply arrives. */
struct tracer_nat_key {
	struct tracer_addr remote_addr;
	struct tracer_addr nat_addr;
	__u16 remote_port;
	__u16 nat_port;
	__u8 proto;
	__u8 pad[3];
};

/* Published ports (DNAT to an endpoint), by the destination a client addresses on the uplink,
 * before DNAT: an inbound flow is known from its first packet there. */
struct tracer_published_key {
	struct tracer_addr addr; /* a local address, or the family's unspecified address for any */
	__u16 port;
	__u8 proto;
	__u8 pad;
};

struct tracer_published_target {
	struct tracer_addr endpoint_addr;
	__u16 endpoint_port;
	__u16 pad;
};

/* Exact drop counts, host-wide or in scope. */
struct tracer_drop_key {
	__u64 location;
	__u32 reason;
	__u32 netns;
	__s32 ifindex;
	__u32 pad;
};

enum tracer_drop_flags {
	TRACER_DROP_IN_SCOPE = 1 << 0,   /* on a device in scope or of a traced flow */
	TRACER_DROP_FLOW = 1 << 1,       /* `flow` and `stage` are set */
	TRACER_DROP_HAS_TUPLE = 1 << 2,  /* addresses (and ports for TCP/UDP) were read */
};

/* One dropped packet (skb:kfree_skb). */
struct tracer_drop_event {
	__u64 timestamp_ns;  /* CLOCK_BOOTTIME */
	__u64 location;      /* kernel address of the caller of kfree_skb */
	__u32 reason;        /* enum skb_drop_reason of the running kernel */
	__u32 netns;         /* of the device, 0 without one */
	__s32 ifindex;
	__u16 protocol;      /* ethertype, host byte order */
	__u8 ip_version;     /* 4, 6, or 0 when not IP */
	__u8 l4_proto;
	struct tracer_addr saddr;
	struct tracer_addr daddr;
	__u16 sport;
	__u16 dport;
	__u32 flags;         /* enum tracer_drop_flags */
	__u32 stage;         /* enum tracer_net_stage the packet had last reached */
	__u32 pad;
	struct tracer_flow_key flow;
	char ifname[TRACER_IFNAME_LEN];
};

/* Read-only tunables, set by the loader. */
struct tracer_net_config {
	__u8 all_drops;     /* report drops anywhere on the host, not just in scope */
	__u8 stages;        /* follow flows through the stages of the devices in scope */
	__u8 direct_reads;  /* read packet headers with plain loads (kernels that allow them, 6.18 here) */
	__u8 pad[5];
	__u64 ignored_reasons[4]; /* bitmap: drop reasons below 256 not to count or report (healthy-host noise) */
};

_Static_assert(sizeof(struct tracer_addr) == 16, "address layout");
_Static_assert(sizeof(struct tracer_flow_key) == 40, "flow key layout");
_Static_assert(sizeof(struct tracer_device_scope) == 8, "device scope layout");
_Static_assert(sizeof(struct tracer_device_way) == 12, "device way layout");
_Static_assert(sizeof(struct tracer_device_slot) == 4 + 12 * TRACER_DEVICE_SLOT_WAYS, "device slot layout");
_Static_assert(sizeof(struct tracer_netns_scope) == 4, "netns scope layout");
_Static_assert(sizeof(struct tracer_flow_stats) == 128, "flow stats layout");
_Static_assert(sizeof(struct tracer_flow_slot) == 168, "flow slot layout");
_Static_assert(sizeof(struct tracer_nat_key) == 40, "nat key layout");
_Static_assert(sizeof(struct tracer_drop_key) == 24, "drop key layout");
_Static_assert(sizeof(struct tracer_published_key) == 20, "published key layout");
_Static_assert(sizeof(struct tracer_published_target) == 20, "published target layout");
_Static_assert(sizeof(struct tracer_drop_event) == 136, "drop event layout");
_Static_assert(sizeof(struct tracer_net_config) == 40, "net config layout");

#endif
