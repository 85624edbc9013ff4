// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * The top probe: exact counters of execs, failed execs, exits, CPU and lifetime of
 * processes, by (cgroup, parent command, command), in per-CPU hash maps that user
 * space reads and diffs each interval. Nothing goes through a ring buffer, so
 * nothing is dropped. What the group map has no room for is counted in a per-CPU
 * array instead (the "(other)" row), so the host's totals stay exact when ever-new
 * command names fill the map; what another full map could not hold is counted in `lost`.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_tracing.h>
#include "tracer/top_counts.h"
#include "lib/process_keys.bpf.h"

char LICENSE[] SEC("license") = "Dual BSD/GPL";

/* The interval user space is in; it advances it just before reading the maxima. */
volatile __u64 interval = 0;

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_HASH);
	__uint(max_entries, 16384);
	__type(key, struct tracer_top_key);
	__type(value, struct tracer_top_counts);
} counts SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 16384);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, struct tracer_top_key);
	__type(value, struct tracer_top_detail);
} details SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_HASH);
	__uint(max_entries, 16384);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, struct tracer_top_exit_key);
	__type(value, __u64);
} exit_codes SEC(".maps");

/* Processes started while we run, by tgid; removed at their exit. Without an entry, an
 * exit is not counted: a process that started before top has no lifetime to compare. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 65536);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, __u32);
	__type(value, struct tracer_top_process);
} processes SEC(".maps");

/* Every event whose group is not in (and cannot enter) counts: an array cannot fill. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct tracer_top_other);
} other SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, TRACER_TOP_LOSS_KINDS);
	__type(key, __u32);
	__type(value, __u64);
} lost SEC(".maps");

/* A failed exec's filename pointer, saved at syscall entry by thread. */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 10240);
	__type(key, __u32);
	__type(value, __u64);
} exec_filenames SEC(".maps");

/* Scratch space too large for the BPF stack: a new detail, or a failed exec's filename. */
struct top_scratch {
	struct tracer_top_detail detail;
	char filename[TRACER_TOP_FILENAME_LEN];
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct top_scratch);
} scratch SEC(".maps");

static __always_inline void count_lost(__u32 kind)
{
	__u64 *n = bpf_map_lookup_elem(&lost, &kind);

	if (n)
		*n += 1;
}

static __always_inline struct top_scratch *scratch_space(void)
{
	__u32 zero = 0;

	return bpf_map_lookup_elem(&scratch, &zero);
}

/* The group's counters on this CPU, created at zero; *created says whether it is new.
 * NULL when the map is full: the caller counts the event in other_counts() instead. */
static __always_inline struct tracer_top_counts *group_counts(struct tracer_top_key *key, bool *created)
{
	static const struct tracer_top_counts zero = {};
	struct tracer_top_counts *c = bpf_map_lookup_elem(&counts, key);

	*created = false;
	if (c)
		return c;
	if (bpf_map_update_elem(&counts, key, &zero, BPF_NOEXIST) == 0)
		*created = true;
	return bpf_map_lookup_elem(&counts, key);
}

/* This CPU's counters of the groups the counts map has no room for. */
static __always_inline struct tracer_top_other *other_counts(void)
{
	__u32 zero = 0;

	return bpf_map_lookup_elem(&other, &zero);
}

/* The group's detail, created with the task's attribution keys when missing. */
static __always_inline struct tracer_top_detail *group_detail(struct tracer_top_key *key, struct task_struct *task)
{
	struct tracer_top_detail *d = bpf_map_lookup_elem(&details, key);
	struct top_scratch *s;

	if (d)
		return d;
	s = scratch_space();
	if (!s)
		return NULL;
	__builtin_memset(&s->detail, 0, sizeof(s->detail));
	read_process_keys(task, &s->detail.keys);
	bpf_map_update_elem(&details, key, &s->detail, BPF_NOEXIST);
	d = bpf_map_lookup_elem(&details, key);
	if (!d)
		count_lost(TRACER_TOP_LOST_DETAILS);
	return d;
}

static __always_inline void remember_process(__u32 tgid, __u64 start, struct tracer_top_key *key)
{
	struct tracer_top_process p = { .start_time_ns = start, .group = *key };

	if (bpf_map_update_elem(&processes, &tgid, &p, BPF_ANY))
		count_lost(TRACER_TOP_LOST_PROCESSES);
}

SEC("tp_btf/sched_process_fork")
int BPF_PROG(handle_fork, struct task_struct *parent, struct task_struct *child)
{
	struct tracer_top_key key = {};

	/* A new thread is not a new process. */
	if (BPF_CORE_READ(child, pid) != BPF_CORE_READ(child, tgid))
		return 0;
	read_cgroup_ids(child, &key.cgroup_id, &key.cgroup_v1_id);
	BPF_CORE_READ_STR_INTO(&key.parent_comm, child, real_parent, group_leader, comm);
	BPF_CORE_READ_STR_INTO(&key.comm, child, comm);
	remember_process(BPF_CORE_READ(child, tgid), BPF_CORE_READ(child, start_boottime), &key);
	return 0;
}

SEC("tp/sched/sched_process_exec")
int handle_exec(void *ctx)
{
	struct task_struct *task = (struct task_struct *)bpf_get_current_task();
	struct tracer_top_key key = {};
	struct tracer_top_counts *c;
	struct tracer_top_detail *d;
	unsigned long arg_start, arg_end;
	__u32 len, flags = 0;
	bool created;

	read_cgroup_ids(task, &key.cgroup_id, &key.cgroup_v1_id);
	BPF_CORE_READ_STR_INTO(&key.parent_comm, task, real_parent, group_leader, comm);
	bpf_get_current_comm(key.comm, sizeof(key.comm));

	c = group_counts(&key, &created);
	if (!c) {
		struct tracer_top_other *o = other_counts();

		if (o)
			o->counts.execs++;
		/* No detail either: it would stay in the details map, orphaned, for good. */
		goto remember;
	}
	c->execs++;

	d = group_detail(&key, task);
	if (d) {
		arg_start = BPF_CORE_READ(task, mm, arg_start);
		arg_end = BPF_CORE_READ(task, mm, arg_end);
		len = arg_end > arg_start ? arg_end - arg_start : 0;
		if (len > TRACER_TOP_ARGS_LEN) {
			len = TRACER_TOP_ARGS_LEN;
			flags = TRACER_EXEC_ARGS_TRUNCATED;
		}
		if (len && bpf_probe_read_user(d->args, len, (void *)arg_start))
			len = 0;
		d->args_len = len;
		d->flags = flags;
	}

remember:
	/* The exit belongs to what the process ran last. */
	remember_process(BPF_CORE_READ(task, tgid), BPF_CORE_READ(task, group_leader, start_boottime), &key);
	return 0;
}

static __always_inline int save_filename(const char *filename)
{
	__u32 tid = (__u32)bpf_get_current_pid_tgid();
	__u64 ptr = (__u64)filename;

	bpf_map_update_elem(&exec_filenames, &tid, &ptr, BPF_ANY);
	return 0;
}

SEC("tp/syscalls/sys_enter_execve")
int handle_execve_enter(struct trace_event_raw_sys_enter *ctx)
{
	return save_filename((const char *)ctx->args[0]);
}

SEC("tp/syscalls/sys_enter_execveat")
int handle_execveat_enter(struct trace_event_raw_sys_enter *ctx)
{
	return save_filename((const char *)ctx->args[1]);
}

struct basename_scan {
	__u32 end;  /* the filename's length */
	__u32 base; /* where its last component starts */
};

/* bpf_loop callback: the verifier checks one iteration instead of every unrolled one. */
static long find_basename(__u64 i, struct basename_scan *scan)
{
	struct top_scratch *s = scratch_space();

	if (!s || i >= scan->end)
		return 1;
	if (s->filename[i & (TRACER_TOP_FILENAME_LEN - 1)] == '/')
		scan->base = i + 1;
	return 0;
}

/* A failed exec counts against the command it tried to run: the filename's last component. */
static __always_inline int count_failed_exec(long ret)
{
	struct task_struct *task = (struct task_struct *)bpf_get_current_task();
	__u32 tid = (__u32)bpf_get_current_pid_tgid();
	__u64 *ptr = bpf_map_lookup_elem(&exec_filenames, &tid);
	struct tracer_top_key key = {};
	struct tracer_top_counts *c;
	struct tracer_top_detail *d;
	struct tracer_top_other *o;
	struct basename_scan scan = {};
	struct top_scratch *s;
	__u32 base = 0, end = 0;
	bool created;
	long n;

	if (ret >= 0)
		goto done;
	/* Without the filename (the exec began before we attached, or it cannot be read) the
	 * command is unknown: still a failed exec of the host, counted in (other). */
	if (!ptr)
		goto other;
	s = scratch_space();
	if (!s)
		goto other;
	n = bpf_probe_read_user_str(s->filename, sizeof(s->filename), (const char *)*ptr);
	if (n <= 0)
		goto other;
	end = n - 1;
	scan.end = end;
	bpf_loop(TRACER_TOP_FILENAME_LEN, find_basename, &scan, 0);
	base = scan.base;
	for (__u32 i = 0; i < TRACER_COMM_LEN - 1; i++) {
		__u32 at = base + i;
		if (at >= end)
			break;
		key.comm[i] = s->filename[at & (TRACER_TOP_FILENAME_LEN - 1)];
	}

	read_cgroup_ids(task, &key.cgroup_id, &key.cgroup_v1_id);
	BPF_CORE_READ_STR_INTO(&key.parent_comm, task, real_parent, group_leader, comm);
	c = group_counts(&key, &created);
	if (!c)
		goto other;
	c->failed_execs++;
	if (created) {
		/* The filename stands in for argv until the group has a successful exec. */
		d = group_detail(&key, task);
		s = scratch_space();
		if (d && s && end > 0) {
			__u32 len = end + 1 > TRACER_TOP_ARGS_LEN ? TRACER_TOP_ARGS_LEN : end + 1;
			bpf_probe_read_kernel(d->args, len, s->filename);
			d->args_len = len;
			d->flags = end + 1 > TRACER_TOP_ARGS_LEN ? TRACER_EXEC_ARGS_TRUNCATED : 0;
		}
	}
	goto done;
other:
	o = other_counts();
	if (o)
		o->counts.failed_execs++;
done:
	if (ptr)
		bpf_map_delete_elem(&exec_filenames, &tid);
	return 0;
}

SEC("tp/syscalls/sys_exit_execve")
int handle_execve_exit(struct trace_event_raw_sys_exit *ctx)
{
	return count_failed_exec(ctx->ret);
}

SEC("tp/syscalls/sys_exit_execveat")
int handle_execveat_exit(struct trace_event_raw_sys_exit *ctx)
{
	return count_failed_exec(ctx->ret);
}

SEC("tp/sched/sched_process_exit")
int handle_exit(void *ctx)
{
	struct task_struct *task = (struct task_struct *)bpf_get_current_task();
	struct signal_struct *sig = BPF_CORE_READ(task, signal);
	__u32 tgid = BPF_CORE_READ(task, tgid);
	struct tracer_top_process *p;
	__u64 now;
	__u32 status;

	/* Only the last thread of the group ends the process. */
	if (BPF_CORE_READ(sig, live.counter) != 0)
		return 0;
	p = bpf_map_lookup_elem(&processes, &tgid);
	if (!p || p->start_time_ns != BPF_CORE_READ(task, group_leader, start_boottime))
		return 0;

	now = bpf_ktime_get_boot_ns();
	/* A fatal signal's status is in the group's exit code before it reaches the task. */
	status = BPF_CORE_READ(task, exit_code);
	if (status == 0)
		status = BPF_CORE_READ(sig, group_exit_code);
	p->lifetime_ns = now > p->start_time_ns ? now - p->start_time_ns : 0;
	p->status = status;
	p->dead_threads_cpu_ns = BPF_CORE_READ(sig, sum_sched_runtime);
	p->exiting_tid = BPF_CORE_READ(task, pid);
	/* Attribution keys need the namespaces, which are gone by the final switch: a group
	 * that forked without exec is created here, with its detail, if the map has room. */
	if (!bpf_map_lookup_elem(&counts, &p->group)) {
		bool created;

		if (group_counts(&p->group, &created))
			group_detail(&p->group, task);
	}
	return 0;
}

#define TOP_TASK_DEAD 0x80 /* TASK_DEAD in task->__state */

/* The last thread's final switch: its runtime is complete now. Every other switch returns at once. */
SEC("tp_btf/sched_switch")
int BPF_PROG(handle_switch, bool preempt, struct task_struct *prev, struct task_struct *next, unsigned int prev_state)
{
	struct tracer_top_process *found, p;
	struct tracer_top_other *o = NULL;
	struct tracer_top_counts *c;
	__u64 current, slot;
	__u32 tgid;
	bool created;

	if (prev_state != TOP_TASK_DEAD)
		return 0;
	tgid = prev->tgid;
	found = bpf_map_lookup_elem(&processes, &tgid);
	if (!found || found->exiting_tid != prev->pid)
		return 0;
	p = *found;
	/* Whoever deletes the entry counts the process, once. */
	if (bpf_map_delete_elem(&processes, &tgid))
		return 0;

	c = group_counts(&p.group, &created);
	if (!c) {
		o = other_counts();
		if (!o)
			return 0;
		c = &o->counts;
	}
	c->exits++;
	c->cpu_ns += p.dead_threads_cpu_ns + prev->se.sum_exec_runtime;
	c->lifetime_ns += p.lifetime_ns;
	current = interval;
	slot = current & 1;
	if (c->max_interval[slot] != current) {
		c->max_interval[slot] = current;
		c->max_lifetime_ns[slot] = p.lifetime_ns;
	} else if (p.lifetime_ns > c->max_lifetime_ns[slot]) {
		c->max_lifetime_ns[slot] = p.lifetime_ns;
	}

	if (p.status != 0) {
		struct tracer_top_exit_key ek = { .group = p.group, .status = p.status };
		static const __u64 one = 1;
		__u64 *n;

		c->failed_exits++;
		if (o) {
			o->failed_exit_statuses[tracer_top_status_slot(p.status) & (TRACER_TOP_STATUS_SLOTS - 1)]++;
			return 0;
		}
		n = bpf_map_lookup_elem(&exit_codes, &ek);
		if (n)
			*n += 1;
		else if (bpf_map_update_elem(&exit_codes, &ek, &one, BPF_NOEXIST))
			count_lost(TRACER_TOP_LOST_EXIT_CODES);
	}
	return 0;
}
