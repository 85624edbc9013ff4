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

/* Where on the path a packet was seen, in path order: egress first, then the reply. */
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

enum tracer_scope_flags {
	/* The last device before routing and NAT: remember each packet's flow by skb address. */
	TRACER_SCOPE_REMEMBER = 1 << 0,
};

struct tracer_device_scope {
	__u32 role;     /* enum tracer_device_role */
	__u32 endpoint; /* user space's index of the path */
	__u32 flags;    /* enum tracer_scope_flags */
};

/* Per device in scope: ARP, which a flow never shows when a neighbour is not answering. */
struct tracer_device_stats {
	__u64 arp_requests_tx;
	__u64 arp_replies_tx;
	__u64 arp_requests_rx;
	__u64 arp_replies_rx;
};

/* An IPv4 flow, always from the endpoint's side: its address and port, the remote's. */
struct tracer_flow_key {
	__u32 endpoint_addr;
	__u32 remote_addr;
	__u16 endpoint_port; /* ICMP echo: the identifier */
	__u16 remote_port;   /* ICMP echo: 0 */
	__u8 proto;
	__u8 pad[3];
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
	__u32 nat_addr;          /* the source the uplink saw after SNAT/MASQUERADE, 0 if none yet */
	__u16 nat_port;
	__u8 private_source_seen; /* the uplink saw the endpoint's own source: no SNAT */
	__u8 pad;
};

/* Reply lookup on the uplink: the masqueraded side of a flow, as the reply arrives. */
struct tracer_nat_key {
	__u32 remote_addr;
	__u32 nat_addr;
	__u16 remote_port;
	__u16 nat_port;
	__u8 proto;
	__u8 pad[3];
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
	__u8 saddr[16];      /* IPv4 in the first 4 bytes */
	__u8 daddr[16];
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
	__u8 pad[6];
	__u64 ignored_reasons[4]; /* bitmap: drop reasons below 256 not to count or report (healthy-host noise) */
};

_Static_assert(sizeof(struct tracer_flow_key) == 16, "flow key layout");
_Static_assert(sizeof(struct tracer_device_scope) == 12, "device scope layout");
_Static_assert(sizeof(struct tracer_flow_stats) == 112, "flow stats layout");
_Static_assert(sizeof(struct tracer_nat_key) == 16, "nat key layout");
_Static_assert(sizeof(struct tracer_drop_key) == 24, "drop key layout");
_Static_assert(sizeof(struct tracer_drop_event) == 112, "drop event layout");
_Static_assert(sizeof(struct tracer_net_config) == 40, "net config layout");

#endif
