// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * The exec probe: one record per exec (successful or failed) and, when asked,
 * one per process exit, joined in user space by (pid, start time).
 * argv comes from the new process's memory (mm->arg_start..arg_end) at
 * sched_process_exec, where it is always resident, never from the caller.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_tracing.h>
#include "tracer/exec_event.h"
#include "lib/process_keys.bpf.h"

char LICENSE[] SEC("license") = "Dual BSD/GPL";

const volatile struct tracer_exec_config exec_config = {
	.args_size = TRACER_ARGS_DEFAULT,
	.report_failed = 1,
};

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 8 << 20); /* resized by the loader */
} events SEC(".maps");

/* Events the ring buffer could not take; read and reported by user space. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} lost_events SEC(".maps");

/* Scratch space for one event: too large for the BPF stack or a per-CPU value. */
struct exec_scratch {
	struct tracer_exec_event event;
	/* argv, then filename; twice TRACER_ARGS_MAX so masked offsets stay inside */
	char data[2 * TRACER_ARGS_MAX];
};

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1); /* set to the number of possible CPUs by the loader */
	__type(key, __u32);
	__type(value, struct exec_scratch);
} scratch SEC(".maps");

/* Processes whose exec passed the filters, so that their exit is reported. */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 65536);
	__type(key, __u32);   /* tgid */
	__type(value, __u64); /* start time, to ignore a reused pid */
} traced_processes SEC(".maps");

/* Cgroup v2 ids to trace when exec_config.filter_cgroup is set. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 1024);
	__type(key, __u64);
	__type(value, __u8);
} cgroup_filter SEC(".maps");

struct exec_call {
	const char *filename;
	const char *const *argv;
	__u32 via_execveat;
};

/* execve/execveat arguments saved at syscall entry, by thread, until the syscall returns. */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 10240);
	__type(key, __u32); /* tid */
	__type(value, struct exec_call);
} exec_calls SEC(".maps");

static __always_inline void count_lost(void)
{
	__u32 zero = 0;
	__u64 *lost = bpf_map_lookup_elem(&lost_events, &zero);

	if (lost)
		*lost += 1;
}

static __always_inline struct exec_scratch *scratch_space(void)
{
	__u32 cpu = bpf_get_smp_processor_id();

	return bpf_map_lookup_elem(&scratch, &cpu);
}

static __always_inline bool passes_filters(struct task_struct *task, __u32 pid, __u32 uid)
{
	if (exec_config.target_pid && exec_config.target_pid != pid)
		return false;
	if (exec_config.target_ppid && exec_config.target_ppid != (__u32)BPF_CORE_READ(task, real_parent, tgid))
		return false;
	if (exec_config.filter_uid && exec_config.target_uid != uid)
		return false;
	if (exec_config.filter_cgroup) {
		__u64 id = bpf_get_current_cgroup_id();
		if (!bpf_map_lookup_elem(&cgroup_filter, &id))
			return false;
	}
	return true;
}

/* Fills everything but the filename and argv. */
static __always_inline void fill_header(struct tracer_exec_event *e, struct task_struct *task, __u32 kind)
{
	struct task_struct *parent = BPF_CORE_READ(task, real_parent);

	e->kind = kind;
	e->pid = BPF_CORE_READ(task, tgid);
	e->tid = BPF_CORE_READ(task, pid);
	e->ppid = BPF_CORE_READ(parent, tgid);
	e->uid = (__u32)bpf_get_current_uid_gid();
	e->ret = 0;
	e->timestamp_ns = bpf_ktime_get_boot_ns();
	e->start_time_ns = BPF_CORE_READ(task, group_leader, start_boottime);
	e->flags = 0;
	e->filename_len = 0;
	e->args_len = 0;
	e->args_count = 0;
	bpf_get_current_comm(e->comm, sizeof(e->comm));
	BPF_CORE_READ_STR_INTO(&e->pcomm, parent, comm);
	__builtin_memset(&e->keys, 0, sizeof(e->keys));
	read_process_keys(task, &e->keys);
}

/* Waking the reader for every event costs more than the event. The reader sleeps while nothing
 * is queued, so the first record after it drained the ring wakes it (queued is what was there
 * before this record); later ones wait for its timer, unless the backlog grows large. */
static __always_inline __u64 wakeup_flag(__u64 queued)
{
	return queued == 0 || queued >= exec_config.wakeup_bytes ? BPF_RB_FORCE_WAKEUP : BPF_RB_NO_WAKEUP;
}

static __always_inline int submit(struct exec_scratch *s)
{
	__u64 size = sizeof(s->event) + s->event.filename_len + s->event.args_len;

	if (size > sizeof(*s))
		return 0;
	if (bpf_ringbuf_output(&events, s, size, wakeup_flag(bpf_ringbuf_query(&events, BPF_RB_AVAIL_DATA))))
		count_lost();
	return 0;
}

/* The filename's length from a *_str read's result, flagging truncation. */
static __always_inline __u32 read_filename(struct exec_scratch *s, long n)
{
	if (n <= 0)
		return 0;
	if (n >= TRACER_FILENAME_MAX)
		s->event.flags |= TRACER_EXEC_FILENAME_TRUNCATED;
	return (n - 1) & (TRACER_FILENAME_MAX - 1);
}

static __always_inline __u32 args_limit(void)
{
	__u32 limit = exec_config.args_size;

	return limit > TRACER_ARGS_MAX ? TRACER_ARGS_MAX : limit;
}

SEC("tp/sched/sched_process_exec")
int handle_exec(struct trace_event_raw_sched_process_exec *ctx)
{
	struct task_struct *task = (struct task_struct *)bpf_get_current_task();
	__u32 pid = BPF_CORE_READ(task, tgid);
	__u32 uid = (__u32)bpf_get_current_uid_gid();
	__u32 old_tid = ctx->old_pid;
	struct exec_scratch *s;
	unsigned long arg_start, arg_end;
	__u32 args_len;

	/* A successful exec never returns to its syscall's caller thread if it was not the leader. */
	bpf_map_delete_elem(&exec_calls, &old_tid);

	if (!passes_filters(task, pid, uid))
		return 0;
	s = scratch_space();
	if (!s)
		return 0;

	fill_header(&s->event, task, TRACER_EVENT_EXEC);
	s->event.tid = old_tid;

	arg_start = BPF_CORE_READ(task, mm, arg_start);
	arg_end = BPF_CORE_READ(task, mm, arg_end);
	args_len = arg_end > arg_start ? arg_end - arg_start : 0;
	if (args_len > args_limit()) {
		args_len = args_limit();
		s->event.flags |= TRACER_EXEC_ARGS_TRUNCATED;
	}
	if (args_len > TRACER_ARGS_MAX)
		args_len = TRACER_ARGS_MAX;
	if (args_len && bpf_probe_read_user(s->data, args_len, (void *)arg_start))
		args_len = 0;
	s->event.args_len = args_len;

	/* filename as the caller passed it (for a script, the script, not the interpreter) */
	s->event.filename_len = read_filename(s, bpf_probe_read_kernel_str(s->data + args_len, TRACER_FILENAME_MAX,
		(void *)ctx + (ctx->__data_loc_filename & 0xFFFF)));

	if (exec_config.report_exits) {
		__u64 start = s->event.start_time_ns;
		bpf_map_update_elem(&traced_processes, &pid, &start, BPF_ANY);
	}
	return submit(s);
}

static __always_inline int save_exec_call(const char *filename, const char *const *argv, __u32 via_execveat)
{
	__u32 tid = (__u32)bpf_get_current_pid_tgid();
	struct exec_call call = { .filename = filename, .argv = argv, .via_execveat = via_execveat };

	if (!exec_config.report_failed)
		return 0;
	bpf_map_update_elem(&exec_calls, &tid, &call, BPF_ANY);
	return 0;
}

SEC("tp/syscalls/sys_enter_execve")
int handle_execve_enter(struct trace_event_raw_sys_enter *ctx)
{
	return save_exec_call((const char *)ctx->args[0], (const char *const *)ctx->args[1], 0);
}

SEC("tp/syscalls/sys_enter_execveat")
int handle_execveat_enter(struct trace_event_raw_sys_enter *ctx)
{
	return save_exec_call((const char *)ctx->args[1], (const char *const *)ctx->args[2], 1);
}

/* A failed exec's argv is still in the caller's memory, which the kernel has just read. */
static __always_inline int report_failed_exec(long ret)
{
	struct task_struct *task = (struct task_struct *)bpf_get_current_task();
	__u32 tid = (__u32)bpf_get_current_pid_tgid();
	struct exec_call *call = bpf_map_lookup_elem(&exec_calls, &tid);
	struct exec_scratch *s;
	const char *arg;
	__u32 off = 0, count = 0;
	long n;

	if (!call)
		return 0;
	if (ret >= 0)
		goto done;
	if (!passes_filters(task, BPF_CORE_READ(task, tgid), (__u32)bpf_get_current_uid_gid()))
		goto done;
	s = scratch_space();
	if (!s)
		goto done;

	fill_header(&s->event, task, TRACER_EVENT_EXEC_FAILED);
	s->event.ret = ret;
	if (call->via_execveat)
		s->event.flags |= TRACER_EXEC_VIA_EXECVEAT;

	for (int i = 0; i < TRACER_FAILED_ARGS_MAX_COUNT; i++) {
		__u32 room;

		if (bpf_probe_read_user(&arg, sizeof(arg), &call->argv[i]) || !arg)
			break;
		if (off >= args_limit() || i == TRACER_FAILED_ARGS_MAX_COUNT - 1) {
			s->event.flags |= TRACER_EXEC_ARGS_TRUNCATED;
			break;
		}
		off &= TRACER_ARGS_MAX - 1;
		room = args_limit() - off;
		if (room > TRACER_ARGS_MAX)
			break;
		n = bpf_probe_read_user_str(s->data + off, room, arg);
		if (n <= 0)
			break;
		if (n == room)
			s->event.flags |= TRACER_EXEC_ARGS_TRUNCATED;
		off += n;
		count++;
	}
	if (off > TRACER_ARGS_MAX)
		off = TRACER_ARGS_MAX;
	s->event.args_len = off;
	s->event.args_count = count;
	s->event.filename_len = read_filename(s, bpf_probe_read_user_str(s->data + off, TRACER_FILENAME_MAX, call->filename));
	submit(s);
done:
	bpf_map_delete_elem(&exec_calls, &tid);
	return 0;
}

SEC("tp/syscalls/sys_exit_execve")
int handle_execve_exit(struct trace_event_raw_sys_exit *ctx)
{
	return report_failed_exec(ctx->ret);
}

SEC("tp/syscalls/sys_exit_execveat")
int handle_execveat_exit(struct trace_event_raw_sys_exit *ctx)
{
	return report_failed_exec(ctx->ret);
}

SEC("tp/sched/sched_process_exit")
int handle_exit(void *ctx)
{
	struct task_struct *task = (struct task_struct *)bpf_get_current_task();
	struct signal_struct *sig = BPF_CORE_READ(task, signal);
	__u32 pid = BPF_CORE_READ(task, tgid);
	__u64 *start, cpu, utime, stime, queued;
	struct tracer_exit_event *e;

	if (!exec_config.report_exits)
		return 0;
	/* Only the last thread of the group reports the process. */
	if (BPF_CORE_READ(sig, live.counter) != 0)
		return 0;
	start = bpf_map_lookup_elem(&traced_processes, &pid);
	if (!start)
		return 0;
	if (*start != BPF_CORE_READ(task, group_leader, start_boottime)) {
		bpf_map_delete_elem(&traced_processes, &pid);
		return 0;
	}

	queued = bpf_ringbuf_query(&events, BPF_RB_AVAIL_DATA);
	e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);
	if (!e) {
		count_lost();
		bpf_map_delete_elem(&traced_processes, &pid);
		return 0;
	}
	e->kind = TRACER_EVENT_EXIT;
	e->pid = pid;
	e->ppid = BPF_CORE_READ(task, real_parent, tgid);
	e->uid = (__u32)bpf_get_current_uid_gid();
	e->timestamp_ns = bpf_ktime_get_boot_ns();
	e->start_time_ns = *start;

	/* Dead threads' time is already folded into signal_struct; add the exiting one. */
	cpu = BPF_CORE_READ(sig, sum_sched_runtime) + BPF_CORE_READ(task, se.sum_exec_runtime);
	utime = BPF_CORE_READ(sig, utime) + BPF_CORE_READ(task, utime);
	stime = BPF_CORE_READ(sig, stime) + BPF_CORE_READ(task, stime);
	e->cpu_ns = cpu;
	if (utime + stime == 0) {
		e->user_ns = 0;
		e->system_ns = cpu;
	} else {
		e->user_ns = cpu / (utime + stime) * utime + (cpu % (utime + stime)) * utime / (utime + stime);
		e->system_ns = cpu - e->user_ns;
	}
	e->max_rss_kb = BPF_CORE_READ(sig, maxrss) * 4; /* pages of 4 KiB on x86_64 and arm64 defaults */
	/* A fatal signal's status is in the group's exit code before it reaches the task. */
	e->exit_status = BPF_CORE_READ(task, exit_code);
	if (e->exit_status == 0)
		e->exit_status = BPF_CORE_READ(sig, group_exit_code);
	e->pad = 0;
	bpf_get_current_comm(e->comm, sizeof(e->comm));
	bpf_ringbuf_submit(e, wakeup_flag(queued));
	bpf_map_delete_elem(&traced_processes, &pid);
	return 0;
}
