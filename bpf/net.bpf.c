// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * The network probe: where packets die, and how far each flow got.
 *
 * Drops come from skb:kfree_skb with the kernel's reason and location. The
 * stages come from net:netif_receive_skb and net:net_dev_queue on the devices
 * user space put in scope (an endpoint's interface, the host veth, the
 * bridge, the uplink, each as (netns, ifindex)); every other device costs one
 * array load. (net:net_dev_start_xmit would add "past the qdisc", but it
 * fires for every packet on every device too; qdisc drops name themselves.)
 *
 * A flow is keyed from the endpoint's side, as the endpoint sees it, with who
 * opened it: the endpoint (egress) or the remote (inbound: a published port, a
 * DNAT, or routed to its address). Conntrack's original direction says which
 * wherever a packet has an entry; elsewhere the flow table remembers it, and a
 * packet of a flow not seen before opens it in the direction it travels. Past
 * NAT the key is the tuple the packet's conntrack entry kept. On the uplink the
 * masqueraded tuple of an egress flow is remembered so the reply can be
 * recognised before it is de-NATed, and a packet to a published port is known
 * before DNAT from the published ports user space put in scope.
 *
 * These programs run for every packet on every device of the host, several
 * times per packet: for a packet of a known flow nothing is written but the
 * flow's per-CPU counters.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_endian.h>
#include "tracer/net_event.h"

char LICENSE[] SEC("license") = "Dual BSD/GPL";

#define ETH_P_IP 0x0800
#define ETH_P_ARP 0x0806
#define ETH_P_IPV6 0x86DD
#define IPPROTO_ICMP_ 1
#define IPPROTO_TCP_ 6
#define IPPROTO_UDP_ 17
#define IPPROTO_ICMPV6_ 58
#define AF_INET_ 2
#define AF_INET6_ 10
#define NFCT_INFOMASK_ 7UL

const volatile struct tracer_net_config net_config = {};

/* Weak: absent before 6.2, and only called where net_config.direct_reads says it works. */
extern void *bpf_rdonly_cast(const void *obj, __u32 btf_id) __ksym __weak;

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 1 << 20); /* resized by the loader */
} events SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} lost_events SEC(".maps");

/* The devices in scope by ifindex (see net_event.h), written by user space. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, TRACER_DEVICE_SLOTS);
	__type(key, __u32);
	__type(value, struct tracer_device_slot);
} scoped_ifindex SEC(".maps");

/* Every device in scope; looked up only when its ifindex slot cannot say. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 1024);
	__type(key, struct tracer_device_key);
	__type(value, struct tracer_device_scope);
} scoped_devices SEC(".maps");

/* The namespaces of the paths in scope (endpoints' and host sides'): addresses repeat
 * across namespaces, so an address only counts inside one of these. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 1024);
	__type(key, __u32);
	__type(value, struct tracer_netns_scope);
} scoped_netns SEC(".maps");

/* Which low bits endpoint addresses have (TRACER_ENDPOINT_HINTS): nonzero when some may. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, TRACER_ENDPOINT_HINTS);
	__type(key, __u32);
	__type(value, __u32);
} endpoint_hints SEC(".maps");

/* The endpoints' own addresses (of both families) -> path index. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 1024);
	__type(key, struct tracer_addr);
	__type(value, __u32);
} endpoint_addrs SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 1024);
	__type(key, struct tracer_device_key);
	__type(value, struct tracer_device_stats);
} device_stats SEC(".maps");

/* Published ports of the endpoints in scope, by the destination a client addresses. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 4096);
	__type(key, struct tracer_published_key);
	__type(value, struct tracer_published_target);
} published_ports SEC(".maps");

/* Nonzero for a host port (host order) that some published port uses: every packet received on
 * an uplink is asked, and nearly all are told no by this one load. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 65536);
	__type(key, __u32);
	__type(value, __u32);
} published_port_hints SEC(".maps");

/* Flow counters, per CPU: a flow's packets are seen on several CPUs at once (sender, receiver,
 * softirqs); one shared value would bounce its cache line between them on every packet.
 * The slot table (see net_event.h) first, the LRU hash for flows whose slot is taken. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, TRACER_FLOW_SLOTS);
	__type(key, __u32);
	__type(value, struct tracer_flow_slot);
} flow_slots SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LRU_PERCPU_HASH);
	__uint(max_entries, 16384);
	__type(key, struct tracer_flow_key);
	__type(value, struct tracer_flow_stats);
} flows SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 16384);
	__type(key, struct tracer_nat_key);
	__type(value, struct tracer_flow_key);
} nat_flows SEC(".maps");

/* The same mappings in a table indexed by a hash of the NAT key, looked up first for every reply
 * on the uplink: one load where the hash costs a hash, a bucket walk and a call. A slot holds the
 * latest mapping that hashed to it; all CPUs read and write it, so an entry carries a check of
 * its words, and a read that raced a write fails it and asks nat_flows. */
#define NAT_SLOT_BITS 12

struct nat_slot {
	struct tracer_nat_key nat;
	struct tracer_flow_key flow;
	__u32 check;
	__u32 pad;
};

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1 << NAT_SLOT_BITS);
	__type(key, __u32);
	__type(value, struct nat_slot);
} nat_slots SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 8192);
	__type(key, struct tracer_drop_key);
	__type(value, __u64);
} drop_counts SEC(".maps");

/* Drop keys that did not fit in drop_counts: counted so the loss is shown. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} uncounted_drops SEC(".maps");

static __always_inline void count_in(void *map)
{
	__u32 zero = 0;
	__u64 *count = bpf_map_lookup_elem(map, &zero);
	if (count)
		*count += 1;
}

/* Direct loads of BTF-typed pointers (tp_btf arguments) compile to single guarded loads,
 * much cheaper than bpf_probe_read_kernel: this runs for every packet on every device. */
static __always_inline struct tracer_device_key device_of(struct net_device *dev)
{
	struct tracer_device_key key = {};
	if (!dev)
		return key;
	key.ifindex = dev->ifindex;
	key.netns = dev->nd_net.net->ns.inum;
	return key;
}

/* 0 when no device with this ifindex is in scope, in any namespace: nearly every packet's
 * answer, given by one load before the device's namespace is read (struct net is seldom in
 * the cache). */
static __always_inline int ifindex_in_scope(__s32 ifindex)
{
	__u32 index = (__u32)ifindex;
	if (index >= TRACER_DEVICE_SLOTS)
		return 1;
	struct tracer_device_slot *slot = bpf_map_lookup_elem(&scoped_ifindex, &index);
	return slot && slot->count != 0;
}

/* What a device is to the paths in scope; NULL for a device out of scope. */
static __always_inline struct tracer_device_scope *scope_of(const struct tracer_device_key *device)
{
	__u32 index = (__u32)device->ifindex;
	if (index < TRACER_DEVICE_SLOTS) {
		struct tracer_device_slot *slot = bpf_map_lookup_elem(&scoped_ifindex, &index);
		if (!slot || slot->count == 0)
			return 0;
		if (slot->count != TRACER_DEVICE_SLOT_SHARED) {
			for (int i = 0; i < TRACER_DEVICE_SLOT_WAYS; i++) {
				if (i < slot->count && slot->devices[i].netns == device->netns)
					return &slot->devices[i].scope;
			}
			return 0;
		}
	}
	return bpf_map_lookup_elem(&scoped_devices, device);
}

/* The headers of a packet, as far as they could be read. */
struct packet {
	__u16 protocol; /* ethertype, host order */
	__u8 l4_proto;  /* IPv6: the header after the extension headers */
	__u8 ip_version;
	struct tracer_addr saddr; /* IPv4 mapped (struct tracer_addr) */
	struct tracer_addr daddr;
	__u16 sport;
	__u16 dport;
	__u16 arp_op;
	__u8 icmp_echo; /* an ICMP or ICMPv6 echo request or reply: sport holds its identifier */
	__u8 ndp;       /* ICMPv6 neighbour solicitation (135) or advertisement (136): its type */
};

struct iphdr_min {
	__u8 ver_ihl;
	__u8 tos;
	__u16 tot_len;
	__u16 id;
	__u16 frag_off;
	__u8 ttl;
	__u8 protocol;
	__u16 check;
	__u32 saddr;
	__u32 daddr;
};

struct ipv6hdr_min {
	__u32 ver_tc_flow;
	__u16 payload_len;
	__u8 nexthdr;
	__u8 hop_limit;
	__u8 saddr[16];
	__u8 daddr[16];
};

struct icmp_echo {
	__u8 type;
	__u8 code;
	__u16 checksum;
	__u16 id;
	__u16 sequence;
};

#define ICMPV6_ECHO_REQUEST 128
#define ICMPV6_ECHO_REPLY 129
#define NDISC_NEIGHBOUR_SOLICITATION 135
#define NDISC_NEIGHBOUR_ADVERTISEMENT 136
/* IPv6 extension headers the transport header may follow: hop-by-hop options, routing,
 * fragment, destination options. */
#define IPV6_HOPOPTS 0
#define IPV6_ROUTING 43
#define IPV6_FRAGMENT 44
#define IPV6_DSTOPTS 60
#define IPV6_MAX_EXTENSIONS 4

static __always_inline int is_icmp(__u8 proto)
{
	return proto == IPPROTO_ICMP_ || proto == IPPROTO_ICMPV6_;
}

/* An IPv4 address (network order) as struct tracer_addr: ::ffff:a.b.c.d. */
static __always_inline void map_ipv4(struct tracer_addr *a, __u32 ip)
{
	a->words[0] = 0;
	a->words[1] = 0;
	a->words[2] = bpf_htonl(0xffff);
	a->words[3] = ip;
}

static __always_inline int is_mapped_ipv4(const struct tracer_addr *a)
{
	return a->words[0] == 0 && a->words[1] == 0 && a->words[2] == bpf_htonl(0xffff);
}

static __always_inline int same_words(const __u32 *x, const __u32 *y)
{
	return x[0] == y[0] && x[1] == y[1] && x[2] == y[2] && x[3] == y[3];
}

static __always_inline int same_addr(const struct tracer_addr *a, const struct tracer_addr *b)
{
	return same_words(a->words, b->words);
}

/* Copies `size` bytes of kernel memory (packet headers, a conntrack tuple); 0 on success. Where
 * the kernel lets a program read such memory with plain loads (pointers in BTF-typed structs such
 * as skb->head, and bpf_rdonly_cast to void: 6.18 here), the loader sets direct_reads: a faulting
 * load reads zeros instead of failing, so callers check what they read. Elsewhere the verifier
 * never sees this branch and bpf_probe_read_kernel does the copy, which costs a helper call per
 * read, several times per packet. */
static __always_inline long read_kernel(void *dst, __u32 size, const void *src)
{
	if (net_config.direct_reads) {
		/* Word loads, not byte loads (each load carries a fault check): the architectures the
		 * tracer is built for (x86-64, arm64) load unaligned words. */
		__builtin_memcpy(dst, __builtin_assume_aligned(src, 8), size);
		return 0;
	}
	return bpf_probe_read_kernel(dst, size, src);
}

/* Reads IPv4/IPv6/ARP headers starting at `network`. */
static __always_inline void read_packet(struct packet *p, const unsigned char *network, __u16 protocol)
{
	p->protocol = protocol;
	if (!network)
		return;
	if (protocol == ETH_P_IP) {
		/* One read for the usual header without options and the first 8 bytes after it. */
		struct {
			struct iphdr_min ip;
			union {
				__u16 ports[2];
				struct icmp_echo echo;
			};
		} h;
		if (read_kernel(&h, sizeof(h), network) && read_kernel(&h.ip, sizeof(h.ip), network))
			return;
		if ((h.ip.ver_ihl >> 4) != 4)
			return;
		p->ip_version = 4;
		p->l4_proto = h.ip.protocol;
		map_ipv4(&p->saddr, h.ip.saddr);
		map_ipv4(&p->daddr, h.ip.daddr);
		/* Only the first fragment has ports. */
		if (h.ip.frag_off & bpf_htons(0x1fff))
			return;
		__u32 ihl = (h.ip.ver_ihl & 0xf) << 2;
		if (ihl != sizeof(h.ip) && read_kernel(&h.echo, sizeof(h.echo), network + ihl))
			return;
		if (h.ip.protocol == IPPROTO_TCP_ || h.ip.protocol == IPPROTO_UDP_) {
			p->sport = h.ports[0];
			p->dport = h.ports[1];
		} else if (h.ip.protocol == IPPROTO_ICMP_ && (h.echo.type == 8 || h.echo.type == 0)) {
			/* Echo request and reply: the identifier keeps the flow apart. */
			p->sport = h.echo.id;
			p->icmp_echo = 1;
		}
	} else if (protocol == ETH_P_IPV6) {
		/* One read for the fixed header and the first 8 bytes after it, as for IPv4. */
		struct {
			struct ipv6hdr_min ip6;
			union {
				__u16 ports[2];
				struct icmp_echo echo;
				__u8 extension[8];
			};
		} h;
		if (read_kernel(&h, sizeof(h), network) && read_kernel(&h.ip6, sizeof(h.ip6), network))
			return;
		if ((*(__u8 *)&h.ip6 >> 4) != 6)
			return;
		p->ip_version = 6;
		__builtin_memcpy(p->saddr.words, h.ip6.saddr, 16);
		__builtin_memcpy(p->daddr.words, h.ip6.daddr, 16);
		/* Extension headers up to the transport header: each names the next and its length. */
		__u8 next = h.ip6.nexthdr;
		__u32 offset = sizeof(h.ip6);
		for (int i = 0; i < IPV6_MAX_EXTENSIONS; i++) {
			if (next != IPV6_HOPOPTS && next != IPV6_ROUTING && next != IPV6_DSTOPTS && next != IPV6_FRAGMENT)
				break;
			if (read_kernel(h.extension, sizeof(h.extension), network + offset))
				return;
			if (next == IPV6_FRAGMENT) {
				/* Only the first fragment has the transport header. */
				if (((__u16)h.extension[2] << 8 | h.extension[3]) & 0xfff8) {
					p->l4_proto = h.extension[0];
					return;
				}
				offset += 8;
			} else {
				offset += ((__u32)h.extension[1] + 1) * 8;
			}
			next = h.extension[0];
			if (read_kernel(&h.echo, sizeof(h.echo), network + offset))
				return;
		}
		p->l4_proto = next;
		if (next == IPPROTO_TCP_ || next == IPPROTO_UDP_) {
			p->sport = h.ports[0];
			p->dport = h.ports[1];
		} else if (next == IPPROTO_ICMPV6_) {
			if (h.echo.type == ICMPV6_ECHO_REQUEST || h.echo.type == ICMPV6_ECHO_REPLY) {
				p->sport = h.echo.id;
				p->icmp_echo = 1;
			} else if (h.echo.type == NDISC_NEIGHBOUR_ADVERTISEMENT ||
				   (h.echo.type == NDISC_NEIGHBOUR_SOLICITATION &&
				    (p->saddr.words[0] | p->saddr.words[1] | p->saddr.words[2] | p->saddr.words[3]))) {
				/* A solicitation from :: is duplicate address detection: no answer is the good outcome. */
				p->ndp = h.echo.type;
			}
		}
	} else if (protocol == ETH_P_ARP) {
		__u16 op;
		/* struct arphdr: hrd, pro, hln, pln, then op at byte 6 */
		if (!read_kernel(&op, sizeof(op), network + 6))
			p->arp_op = bpf_ntohs(op);
	}
}

/* The network header of an skb: on receive `data` points at it (the MAC header is pulled);
 * on transmit and at a drop the stack's network_header offset does. */
static __always_inline const unsigned char *network_header(struct sk_buff *skb, int received)
{
	if (received)
		return skb->data;
	__u16 offset = skb->network_header;
	if (offset == (__u16)~0U)
		return 0;
	return skb->head + offset;
}

static __always_inline int is_endpoint_addr(const struct tracer_addr *addr)
{
	return bpf_map_lookup_elem(&endpoint_addrs, addr) != 0;
}

/* 0 when `addr` is certainly no endpoint's; 1 when it may be (is_endpoint_addr tells). The
 * hint is the low bits of the last word: an IPv4 address's, an IPv6 interface identifier's. */
static __always_inline int may_be_endpoint_addr(const struct tracer_addr *addr)
{
	__u32 index = bpf_ntohl(addr->words[3]) & (TRACER_ENDPOINT_HINTS - 1);
	__u32 *hint = bpf_map_lookup_elem(&endpoint_hints, &index);
	return hint && *hint;
}

/* ARP and NDP on a device in scope. */
static __always_inline void count_neighbour(struct tracer_device_key *device, struct packet *p, int received)
{
	struct tracer_device_stats *stats = bpf_map_lookup_elem(&device_stats, device);
	if (!stats) {
		struct tracer_device_stats zero = {};
		bpf_map_update_elem(&device_stats, device, &zero, BPF_NOEXIST);
		stats = bpf_map_lookup_elem(&device_stats, device);
		if (!stats)
			return;
	}
	if (p->arp_op == 1)
		__sync_fetch_and_add(received ? &stats->arp_requests_rx : &stats->arp_requests_tx, 1);
	else if (p->arp_op == 2)
		__sync_fetch_and_add(received ? &stats->arp_replies_rx : &stats->arp_replies_tx, 1);
	else if (p->ndp == NDISC_NEIGHBOUR_SOLICITATION)
		__sync_fetch_and_add(received ? &stats->ndp_solicits_rx : &stats->ndp_solicits_tx, 1);
	else if (p->ndp == NDISC_NEIGHBOUR_ADVERTISEMENT)
		__sync_fetch_and_add(received ? &stats->ndp_adverts_rx : &stats->ndp_adverts_tx, 1);
}

/* The same flow whoever opened it: a packet's tuple does not say, the flow table does. */
static __always_inline int same_tuple(const struct tracer_flow_key *a, const struct tracer_flow_key *b)
{
	return same_addr(&a->endpoint_addr, &b->endpoint_addr) && same_addr(&a->remote_addr, &b->remote_addr) &&
	       a->endpoint_port == b->endpoint_port && a->remote_port == b->remote_port && a->proto == b->proto;
}

static __always_inline int same_nat(const struct tracer_nat_key *a, const struct tracer_nat_key *b)
{
	return same_addr(&a->remote_addr, &b->remote_addr) && same_addr(&a->nat_addr, &b->nat_addr) &&
	       a->remote_port == b->remote_port && a->nat_port == b->nat_port && a->proto == b->proto;
}

/* The words of an address folded into one, for the tables' hashes. */
static __always_inline __u32 fold(const struct tracer_addr *a)
{
	return a->words[0] ^ a->words[1] ^ a->words[2] ^ a->words[3];
}

/* The counters of a known flow on this CPU: its slot, else its LRU entry; NULL when unknown.
 * `key->inbound` is the direction a new flow would get; a known flow's own replaces it unless
 * `certain` (conntrack said). `slot` is left pointing at the flow's slot, for new_flow. */
static __always_inline struct tracer_flow_stats *known_flow(struct tracer_flow_key *key,
							    struct tracer_flow_slot **slot, int certain)
{
	/* Fibonacci hashing of the tuple's words (not the direction): the top bits of the product
	 * index the table. */
	__u32 ports = (__u32)key->endpoint_port << 16 | key->remote_port;
	__u32 index = ((fold(&key->endpoint_addr) ^ fold(&key->remote_addr) ^ ports ^ key->proto) * 0x9e3779b1U) >>
		      (32 - TRACER_FLOW_SLOT_BITS);
	*slot = bpf_map_lookup_elem(&flow_slots, &index);
	if (*slot && same_tuple(&(*slot)->key, key)) {
		if (!certain || (*slot)->key.inbound == key->inbound) {
			key->inbound = (*slot)->key.inbound;
			return &(*slot)->stats;
		}
	}
	struct tracer_flow_stats *stats = bpf_map_lookup_elem(&flows, key);
	if (stats || certain)
		return stats;
	key->inbound ^= 1;
	stats = bpf_map_lookup_elem(&flows, key);
	if (!stats)
		key->inbound ^= 1;
	return stats;
}

/* Counters for a flow known_flow did not find: its slot if free and `claim`, else an LRU entry. */
static __always_inline struct tracer_flow_stats *new_flow(const struct tracer_flow_key *key,
							  struct tracer_flow_slot *slot, int claim)
{
	if (claim && slot && slot->key.proto == 0) {
		slot->stats.last_drop_stage = TRACER_STAGE_NONE;
		slot->key.endpoint_addr = key->endpoint_addr;
		slot->key.remote_addr = key->remote_addr;
		slot->key.endpoint_port = key->endpoint_port;
		slot->key.remote_port = key->remote_port;
		slot->key.inbound = key->inbound;
		/* proto last: user space takes a slot with a protocol for a flow */
		asm volatile("" ::: "memory");
		slot->key.proto = key->proto;
		return &slot->stats;
	}
	struct tracer_flow_stats zero = {};
	zero.last_drop_stage = TRACER_STAGE_NONE;
	bpf_map_update_elem(&flows, key, &zero, BPF_NOEXIST);
	return bpf_map_lookup_elem(&flows, key);
}

static __always_inline __u32 stage_of(__u32 role, int received)
{
	switch (role) {
	case TRACER_ROLE_ENDPOINT:
		return received ? TRACER_STAGE_ENDPOINT_RX : TRACER_STAGE_ENDPOINT_TX;
	case TRACER_ROLE_HOST_VETH:
		return received ? TRACER_STAGE_HOST_VETH_RX : TRACER_STAGE_HOST_VETH_TX;
	case TRACER_ROLE_BRIDGE:
		return received ? TRACER_STAGE_BRIDGE_RX : TRACER_STAGE_BRIDGE_TX;
	case TRACER_ROLE_UPLINK:
		return received ? TRACER_STAGE_UPLINK_RX : TRACER_STAGE_UPLINK_QUEUE;
	}
	return TRACER_STAGE_NONE;
}

#define FLOW_KEY_WORDS (sizeof(struct tracer_flow_key) / 4)
#define NAT_KEY_WORDS (sizeof(struct tracer_nat_key) / 4)

/* FNV-1a over the 32-bit words of a NAT key and its flow: a slot's check. An empty slot (all
 * zero) matches no key: a key's protocol is set. */
static __always_inline __u32 nat_check(const struct tracer_nat_key *nat, const struct tracer_flow_key *flow)
{
	const __u32 *a = (const __u32 *)nat, *b = (const __u32 *)flow;
	__u32 h = 0x811c9dc5U;
#pragma unroll
	for (int i = 0; i < NAT_KEY_WORDS; i++)
		h = (h ^ a[i]) * 0x01000193U;
#pragma unroll
	for (int i = 0; i < FLOW_KEY_WORDS; i++)
		h = (h ^ b[i]) * 0x01000193U;
	return h;
}

static __always_inline struct nat_slot *nat_slot_of(const struct tracer_nat_key *nat)
{
	__u32 ports = (__u32)nat->remote_port << 16 | nat->nat_port;
	__u32 index = ((fold(&nat->remote_addr) ^ fold(&nat->nat_addr) ^ ports ^ nat->proto) * 0x9e3779b1U) >> (32 - NAT_SLOT_BITS);
	return bpf_map_lookup_elem(&nat_slots, &index);
}

/* The flow a reply addressed to the masqueraded side belongs to; 0 when none is known. */
static __always_inline int flow_of_reply(const struct tracer_nat_key *nat, struct tracer_flow_key *key)
{
	struct nat_slot *slot = nat_slot_of(nat);
	if (slot) {
		struct nat_slot entry = *slot;
		if (same_nat(&entry.nat, nat) && entry.check == nat_check(&entry.nat, &entry.flow)) {
			*key = entry.flow;
			return 1;
		}
	}
	struct tracer_flow_key *known = bpf_map_lookup_elem(&nat_flows, nat);
	if (!known)
		return 0;
	*key = *known;
	return 1;
}

/* Remembers a flow's masqueraded side, for its replies. */
static __always_inline void remember_nat(const struct tracer_nat_key *nat, const struct tracer_flow_key *key)
{
	bpf_map_update_elem(&nat_flows, nat, key, BPF_ANY);
	struct nat_slot *slot = nat_slot_of(nat);
	if (!slot)
		return;
	slot->check = 0;
	asm volatile("" ::: "memory");
	slot->nat = *nat;
	slot->flow = *key;
	asm volatile("" ::: "memory");
	slot->check = nat_check(nat, key);
}

/* What a packet's conntrack entry says of the flow it belongs to. */
struct ct_flow {
	struct tracer_flow_key key;       /* the endpoint's side, with who opened it */
	struct tracer_addr published_addr; /* inbound through DNAT: the destination the client addressed */
	__u16 published_port;
	__u8 published;                   /* the entry was DNATed: published_addr is set */
	__u8 reply;                       /* the packet travels in the entry's reply direction */
};

/* An address of a conntrack tuple of `family` as struct tracer_addr. */
static __always_inline void ct_addr(struct tracer_addr *out, const union nf_inet_addr *a, __u16 family)
{
	if (family == AF_INET_)
		map_ipv4(out, a->ip);
	else
		__builtin_memcpy(out->words, a->all, 16);
}

/* The flow of a packet with a conntrack entry in this namespace, if an endpoint's (NAT rewrites
 * the packet, not the entry): egress when the entry's original source is an endpoint, inbound
 * when its reply source is (the remote opened it; the original destination is then what the
 * client addressed). The skb holds a reference to the entry. 0 when the packet has no entry here
 * (no conntrack in this namespace, or not yet: it is attached in PREROUTING), the entry is no
 * endpoint's, or the kernel's types do not match ours. */
static __always_inline int conntrack_flow(struct sk_buff *skb, struct ct_flow *out)
{
	/* Resolved at load time: without conntrack (or with another layout) this is dead code. */
	if (!bpf_core_field_exists(skb->_nfct) || !bpf_core_type_exists(struct nf_conn) ||
	    bpf_core_type_size(struct nf_conntrack_tuple) != sizeof(struct nf_conntrack_tuple))
		return 0;
	unsigned long nfct = skb->_nfct;
	const struct nf_conn *ct = (const struct nf_conn *)(nfct & ~NFCT_INFOMASK_);
	if (net_config.direct_reads)
		ct = bpf_rdonly_cast(ct, 0); /* the entry as memory to load from */
	if (!ct)
		return 0;
	out->reply = (nfct & NFCT_INFOMASK_) >= IP_CT_IS_REPLY;
	/* One read of a whole tuple; its fields are then read at the kernel's offsets. */
	struct nf_conntrack_tuple original;
	if (read_kernel(&original, sizeof(original), &ct->tuplehash[0].tuple))
		return 0;
	__u16 family = original.src.l3num;
	if (family != AF_INET_ && family != AF_INET6_)
		return 0;
	struct tracer_flow_key *key = &out->key;
	key->proto = original.dst.protonum;
	ct_addr(&key->endpoint_addr, &original.src.u3, family);
	if (may_be_endpoint_addr(&key->endpoint_addr) && is_endpoint_addr(&key->endpoint_addr)) {
		ct_addr(&key->remote_addr, &original.dst.u3, family);
		key->inbound = 0;
		if (is_icmp(key->proto)) {
			key->endpoint_port = original.src.u.icmp.id; /* the echo identifier, as the endpoint sent it */
			key->remote_port = 0;
		} else {
			key->endpoint_port = original.src.u.all;
			key->remote_port = original.dst.u.all;
		}
		return 1;
	}
	struct nf_conntrack_tuple reply;
	if (read_kernel(&reply, sizeof(reply), &ct->tuplehash[1].tuple))
		return 0;
	ct_addr(&key->endpoint_addr, &reply.src.u3, family);
	if (!may_be_endpoint_addr(&key->endpoint_addr) || !is_endpoint_addr(&key->endpoint_addr))
		return 0;
	ct_addr(&key->remote_addr, &reply.dst.u3, family);
	key->inbound = 1;
	if (is_icmp(key->proto)) {
		key->endpoint_port = reply.src.u.icmp.id;
		key->remote_port = 0;
	} else {
		key->endpoint_port = reply.src.u.all;
		key->remote_port = reply.dst.u.all;
	}
	ct_addr(&out->published_addr, &original.dst.u3, family);
	if (!same_addr(&out->published_addr, &key->endpoint_addr) || (!is_icmp(key->proto) && original.dst.u.all != reply.src.u.all)) {
		out->published = 1;
		out->published_port = is_icmp(key->proto) ? 0 : original.dst.u.all;
	}
	return 1;
}

/* The endpoint a packet addressed to a published port leads to: the inbound flow's key. */
static __always_inline int published_flow(const struct packet *p, struct tracer_flow_key *key)
{
	if (p->l4_proto != IPPROTO_TCP_ && p->l4_proto != IPPROTO_UDP_)
		return 0;
	__u32 port = bpf_ntohs(p->dport);
	__u32 *hint = bpf_map_lookup_elem(&published_port_hints, &port);
	if (!hint || !*hint)
		return 0;
	struct tracer_published_key published = { .addr = p->daddr, .port = p->dport, .proto = p->l4_proto };
	struct tracer_published_target *target = bpf_map_lookup_elem(&published_ports, &published);
	if (!target) {
		/* Published on every local address of the packet's family. */
		published.addr.words[3] = 0;
		if (!is_mapped_ipv4(&published.addr))
			published.addr.words[0] = published.addr.words[1] = published.addr.words[2] = 0;
		target = bpf_map_lookup_elem(&published_ports, &published);
		if (!target)
			return 0;
	}
	key->endpoint_addr = target->endpoint_addr;
	key->endpoint_port = target->endpoint_port;
	key->remote_addr = p->saddr;
	key->remote_port = p->sport;
	key->proto = p->l4_proto;
	key->inbound = 1;
	return 1;
}

/* How a packet was matched to its flow (flow_of). */
struct flow_found {
	int check;     /* the key's endpoint address must be checked (is_endpoint_addr) before a new flow is made of it */
	int certain;   /* conntrack said who opened the flow */
	int published; /* a packet to a published port, before DNAT: its destination is what the client addressed */
};

/* Finds the flow a packet at `stage` belongs to; 0 when it belongs to none. */
static __always_inline int flow_of(struct sk_buff *skb, struct packet *p, __u32 stage, __u32 role,
				   struct tracer_flow_key *key, struct flow_found *m)
{
	m->check = 1;
	if (stage == TRACER_STAGE_UPLINK_QUEUE) {
		/* After POSTROUTING: the source may be masqueraded (egress) or un-DNATed (an inbound
		 * flow's reply); conntrack kept the endpoint's tuple. */
		struct ct_flow ct = {};
		if (conntrack_flow(skb, &ct) && ct.key.proto == p->l4_proto) {
			*key = ct.key;
			m->check = 0;
			m->certain = 1;
			return 1;
		}
	} else if (stage == TRACER_STAGE_UPLINK_RX) {
		/* A reply before de-NAT: addressed to the masqueraded side. */
		struct tracer_nat_key nat = {
			.remote_addr = p->saddr, .nat_addr = p->daddr,
			.remote_port = p->sport, .nat_port = p->dport, .proto = p->l4_proto,
		};
		if (is_icmp(p->l4_proto)) {
			nat.nat_port = p->sport;
			nat.remote_port = 0;
		}
		if (flow_of_reply(&nat, key)) {
			m->check = 0;
			m->certain = 1;
			return 1;
		}
		/* A client's packet to a published port, before DNAT. */
		if (published_flow(p, key)) {
			m->check = 0;
			m->certain = 1;
			m->published = 1;
			return 1;
		}
	}

	/* Received by the uplink, queued towards the endpoint: the packet heads for it. */
	int towards = stage >= TRACER_STAGE_UPLINK_RX;
	const struct tracer_addr *local = towards ? &p->daddr : &p->saddr;
	/* The endpoint's own veth carries only its traffic; a bridge or uplink carries anyone's. */
	int own_device = role == TRACER_ROLE_ENDPOINT || role == TRACER_ROLE_HOST_VETH;
	if (own_device)
		m->check = 0;
	else if (!may_be_endpoint_addr(local))
		return 0;
	key->endpoint_addr = *local;
	key->remote_addr = towards ? p->saddr : p->daddr;
	key->proto = p->l4_proto;
	/* A flow not seen before was opened by whoever sent this packet. */
	key->inbound = towards;
	if (is_icmp(p->l4_proto)) {
		key->endpoint_port = p->sport;
		key->remote_port = 0;
	} else {
		key->endpoint_port = towards ? p->dport : p->sport;
		key->remote_port = towards ? p->sport : p->dport;
	}
	return 1;
}

static __always_inline void see_packet(struct sk_buff *skb, struct net_device *dev, int received)
{
	if (!net_config.stages || !dev || !ifindex_in_scope(dev->ifindex))
		return;
	struct tracer_device_key device = device_of(dev);
	struct tracer_device_scope *scope = scope_of(&device);
	if (!scope)
		return;
	__u32 stage = stage_of(scope->role, received);
	if (stage == TRACER_STAGE_NONE)
		return;

	struct packet p = {};
	__u16 protocol = bpf_ntohs(skb->protocol);
	read_packet(&p, network_header(skb, received), protocol);
	if (protocol == ETH_P_ARP || p.ndp) {
		count_neighbour(&device, &p, received);
		return;
	}
	/* ICMP errors (unreachable, too big) carry someone else's flow; the drops say why. */
	if (!p.ip_version || (is_icmp(p.l4_proto) && !p.icmp_echo))
		return;

	struct tracer_flow_key key = {};
	struct flow_found m = {};
	if (!flow_of(skb, &p, stage, scope->role, &key, &m))
		return;
	struct tracer_flow_slot *slot;
	struct tracer_flow_stats *stats = known_flow(&key, &slot, m.certain);
	if (!stats) {
		if (m.check && !is_endpoint_addr(&key.endpoint_addr))
			return;
		stats = new_flow(&key, slot, 1);
		if (!stats)
			return;
	}
	if (stage < TRACER_STAGE_COUNT)
		stats->packets[stage] += 1; /* this CPU's copy: no atomics needed */

	if (key.inbound) {
		/* What the client addressed: on the uplink before DNAT, or the reply's source after. */
		const struct tracer_addr *addr = m.published ? &p.daddr : &p.saddr;
		__u16 port = m.published ? p.dport : p.sport;
		if ((m.published || stage == TRACER_STAGE_UPLINK_QUEUE) && !same_addr(addr, &key.endpoint_addr) &&
		    (!same_addr(&stats->nat_addr, addr) || stats->nat_port != port)) {
			stats->nat_addr = *addr;
			stats->nat_port = port;
		}
		return;
	}
	if (stage == TRACER_STAGE_UPLINK_QUEUE) {
		if (same_addr(&p.saddr, &key.endpoint_addr)) {
			stats->private_source_seen = 1;
		} else if (!same_addr(&stats->nat_addr, &p.saddr) || stats->nat_port != p.sport) {
			/* Once per flow (and whenever conntrack picks another source): the reply's key. */
			stats->nat_addr = p.saddr;
			stats->nat_port = p.sport; /* ICMP echo: the identifier */
			struct tracer_nat_key nat = {
				.remote_addr = p.daddr, .nat_addr = p.saddr,
				.remote_port = is_icmp(key.proto) ? 0 : p.dport,
				.nat_port = p.sport, .proto = key.proto,
			};
			remember_nat(&nat, &key);
		}
	}
}

SEC("tp_btf/netif_receive_skb")
int BPF_PROG(handle_receive, struct sk_buff *skb)
{
	see_packet(skb, skb->dev, 1);
	return 0;
}

SEC("tp_btf/net_dev_queue")
int BPF_PROG(handle_queue, struct sk_buff *skb)
{
	see_packet(skb, skb->dev, 0);
	return 0;
}

static __always_inline int reason_ignored(__u32 reason)
{
	if (reason >= 256)
		return 0;
	return (net_config.ignored_reasons[(reason >> 6) & 3] >> (reason & 63)) & 1;
}

SEC("tp_btf/kfree_skb")
int BPF_PROG(handle_kfree_skb, struct sk_buff *skb, void *location, enum skb_drop_reason reason, struct sock *rx_sk)
{
	/* Healthy-host noise (NO_SOCKET at ping_rcv, QUEUE_PURGE...) unless asked for. */
	if (reason_ignored(reason))
		return 0;
	struct tracer_device_key device = device_of(skb->dev);
	__u32 flags = 0;
	__u32 stage = TRACER_STAGE_NONE;
	struct tracer_flow_key flow = {};

	struct packet p = {};
	__u16 protocol = bpf_ntohs(skb->protocol);
	read_packet(&p, network_header(skb, 0), protocol);

	/* A packet of an endpoint's flow that conntrack knows in a namespace of the scope: its entry
	 * names the flow even after NAT, and who opened it. In a host side, a packet leaving the
	 * endpoint has passed that side's last device before routing; one heading for it has passed
	 * the uplink, and DNAT when its destination is already the endpoint's. Without stages
	 * (`tracer drops`) too: the entry is what says who opened the flow. */
	struct tracer_netns_scope *netns = bpf_map_lookup_elem(&scoped_netns, &device.netns);
	struct ct_flow ct = {};
	if (netns && p.ip_version && conntrack_flow(skb, &ct) && ct.key.proto == p.l4_proto) {
		flow = ct.key;
		flags |= TRACER_DROP_IN_SCOPE | TRACER_DROP_FLOW;
		int towards = flow.inbound ? !ct.reply : ct.reply;
		if (netns->routed_stage == TRACER_STAGE_NONE)
			stage = towards ? TRACER_STAGE_ENDPOINT_RX : TRACER_STAGE_NONE;
		else if (!towards)
			stage = netns->routed_stage;
		else if (flow.inbound && ct.published && same_addr(&p.daddr, &flow.endpoint_addr))
			stage = TRACER_STAGE_PAST_DNAT;
		else
			stage = TRACER_STAGE_UPLINK_RX;
	} else if (netns && p.ip_version && netns->routed_stage != TRACER_STAGE_NONE &&
		   published_flow(&p, &flow)) {
		/* To a published port, dropped before conntrack (or DNAT) took it. */
		flags |= TRACER_DROP_IN_SCOPE | TRACER_DROP_FLOW;
		stage = TRACER_STAGE_UPLINK_RX;
	} else {
		__builtin_memset(&flow, 0, sizeof(flow));
		if (scope_of(&device))
			flags |= TRACER_DROP_IN_SCOPE;
	}

	/* A packet of an endpoint dropped in one of the scoped namespaces, on a device outside
	 * the scope or before any stage saw it (an unanswered neighbour, say). */
	int endpoint_packet = p.ip_version && netns && (is_endpoint_addr(&p.saddr) || is_endpoint_addr(&p.daddr));
	if (endpoint_packet)
		flags |= TRACER_DROP_IN_SCOPE;
	/* Outside the scope only host-wide tracing reports drops. */
	if (!(flags & TRACER_DROP_IN_SCOPE) && !net_config.all_drops)
		return 0;
	if (endpoint_packet && !(flags & TRACER_DROP_FLOW) && net_config.stages &&
	    !(is_icmp(p.l4_proto) && !p.icmp_echo)) {
		int leaving = is_endpoint_addr(&p.saddr);
		flow.endpoint_addr = leaving ? p.saddr : p.daddr;
		flow.remote_addr = leaving ? p.daddr : p.saddr;
		flow.proto = p.l4_proto;
		flow.endpoint_port = is_icmp(p.l4_proto) ? p.sport : (leaving ? p.sport : p.dport);
		flow.remote_port = is_icmp(p.l4_proto) ? 0 : (leaving ? p.dport : p.sport);
		/* Who opened it: the flow table knows a flow it has seen (known_flow below corrects
		 * this); a flow it has not was opened by this packet's sender. */
		flow.inbound = !leaving;
		flags |= TRACER_DROP_FLOW;
	}

	struct tracer_drop_key drop_key = {
		.location = (__u64)location, .reason = reason, .netns = device.netns, .ifindex = device.ifindex,
	};
	__u64 *count = bpf_map_lookup_elem(&drop_counts, &drop_key);
	if (count) {
		__sync_fetch_and_add(count, 1);
	} else {
		__u64 one = 1;
		if (bpf_map_update_elem(&drop_counts, &drop_key, &one, BPF_NOEXIST)) {
			count = bpf_map_lookup_elem(&drop_counts, &drop_key);
			if (count)
				__sync_fetch_and_add(count, 1);
			else
				count_in(&uncounted_drops);
		}
	}

	if (flags & TRACER_DROP_FLOW) {
		/* A drop never takes a slot: it may come in a hard IRQ, in the middle of the packet
		 * path taking that slot on this CPU. */
		struct tracer_flow_slot *slot;
		struct tracer_flow_stats *stats = known_flow(&flow, &slot, stage != TRACER_STAGE_NONE);
		if (!stats)
			stats = new_flow(&flow, slot, 0);
		if (stats) {
			stats->drops += 1;
			stats->last_drop_ns = bpf_ktime_get_boot_ns();
			stats->last_drop_location = (__u64)location;
			stats->last_drop_reason = reason;
			stats->last_drop_netns = device.netns;
			stats->last_drop_ifindex = device.ifindex;
			stats->last_drop_stage = stage;
		}
	}

	struct tracer_drop_event *event = bpf_ringbuf_reserve(&events, sizeof(*event), 0);
	if (!event) {
		count_in(&lost_events);
		return 0;
	}
	event->timestamp_ns = bpf_ktime_get_boot_ns();
	event->location = (__u64)location;
	event->reason = reason;
	event->netns = device.netns;
	event->ifindex = device.ifindex;
	event->protocol = protocol;
	event->ip_version = p.ip_version;
	event->l4_proto = p.l4_proto;
	/* Zero unless read (struct packet starts zeroed). */
	event->saddr = p.saddr;
	event->daddr = p.daddr;
	if (p.ip_version)
		flags |= TRACER_DROP_HAS_TUPLE;
	event->sport = p.sport;
	event->dport = p.dport;
	event->flags = flags;
	event->stage = stage;
	event->pad = 0;
	event->flow = flow;
	__builtin_memset(event->ifname, 0, sizeof(event->ifname));
	struct net_device *dev = BPF_CORE_READ(skb, dev);
	if (dev)
		BPF_CORE_READ_STR_INTO(&event->ifname, dev, name);
	/* Drops are rare next to packets: wake the reader for each one. */
	bpf_ringbuf_submit(event, 0);
	return 0;
}
