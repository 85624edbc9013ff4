// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Probes for `tracer check`: one tiny program per attach type. Each is loaded
 * and attached on its own, so the report says exactly which kinds work here.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

char LICENSE[] SEC("license") = "Dual BSD/GPL";

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 4096);
} check_ring SEC(".maps");

__u64 hits = 0;

static __always_inline int hit(void)
{
	__sync_fetch_and_add(&hits, 1);
	return 0;
}

SEC("tp/sched/sched_process_fork")
int check_tracepoint(void *ctx) { return hit(); }

SEC("raw_tp/sched_process_fork")
int check_raw_tracepoint(void *ctx) { return hit(); }

SEC("tp_btf/sched_process_fork")
int BPF_PROG(check_btf_tracepoint, struct task_struct *parent, struct task_struct *child) { return hit(); }

SEC("kprobe/do_nanosleep")
int check_kprobe(void *ctx) { return hit(); }

SEC("fentry/do_nanosleep")
int BPF_PROG(check_fentry) { return hit(); }

SEC("tp/sched/sched_process_fork")
int check_ring_buffer(void *ctx)
{
	__u64 *slot = bpf_ringbuf_reserve(&check_ring, sizeof(*slot), 0);

	if (slot) {
		*slot = 1;
		bpf_ringbuf_submit(slot, 0);
	}
	return 0;
}
