/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * The event ABI of bpf/exec.bpf.c: the only definition of the records the
 * exec probe writes to its ring buffer and of its load-time configuration.
 * Included by the BPF program and, through the TracerABI module, by Swift.
 * Fixed-width types only; every layout is pinned by _Static_assert so a
 * change shows up on both sides of the line at compile time.
 */
#ifndef TRACER_EXEC_EVENT_H
#define TRACER_EXEC_EVENT_H

#ifndef __VMLINUX_H__
#include <linux/types.h>
#endif

#define TRACER_COMM_LEN 16
#define TRACER_CGROUP_NAME_LEN 128
#define TRACER_FILENAME_MAX 4096
/* The largest argv the probe can capture; the configured limit is at most this. */
#define TRACER_ARGS_MAX 32768
#define TRACER_ARGS_DEFAULT 4096
/* A failed exec's argv is read from the caller's memory, one string at a time. */
#define TRACER_FAILED_ARGS_MAX_COUNT 128

enum tracer_event_kind {
	TRACER_EVENT_EXEC = 1,        /* sched_process_exec: a successful exec */
	TRACER_EVENT_EXEC_FAILED = 2, /* sys_exit_execve(at) with a negative return */
	TRACER_EVENT_EXIT = 3,        /* sched_process_exit of the last thread of a traced process */
};

enum tracer_exec_flags {
	TRACER_EXEC_ARGS_TRUNCATED = 1 << 0,
	TRACER_EXEC_FILENAME_TRUNCATED = 1 << 1,
	TRACER_EXEC_VIA_EXECVEAT = 1 << 2, /* failed execs only: the syscall was execveat */
};

/* What the kernel knows about where a process runs, captured while it exists. */
struct tracer_process_keys {
	__u64 cgroup_id;    /* cgroup v2 (unified) id; 1 for the root */
	__u64 cgroup_v1_id; /* id in one v1 hierarchy (memory, pids or cpuset), 0 without v1 */
	__u32 mnt_ns;
	__u32 net_ns;
	__u32 pid_ns;       /* the task's own pid namespace, not pid_for_children */
	__u32 pid_in_ns;    /* tgid as seen inside that namespace */
	char cgroup_name[TRACER_CGROUP_NAME_LEN];      /* v2 leaf directory name */
	char cgroup_parent[TRACER_CGROUP_NAME_LEN];    /* its parent's name */
	char cgroup_v1_name[TRACER_CGROUP_NAME_LEN];
	char cgroup_v1_parent[TRACER_CGROUP_NAME_LEN];
};

/*
 * An exec (or failed exec). Followed in the ring buffer by args_len bytes of
 * argv (each argument NUL-terminated) and then filename_len bytes of filename (no NUL).
 */
struct tracer_exec_event {
	__u32 kind;
	__u32 pid;          /* tgid */
	__u32 tid;          /* thread that called exec (differs from pid for a non-leader exec) */
	__u32 ppid;
	__u32 uid;
	__s32 ret;          /* 0, or -errno for a failed exec */
	__u64 timestamp_ns; /* CLOCK_BOOTTIME */
	__u64 start_time_ns;/* process start, CLOCK_BOOTTIME: with pid, the process's identity */
	char comm[TRACER_COMM_LEN];
	char pcomm[TRACER_COMM_LEN];
	struct tracer_process_keys keys;
	__u32 flags;        /* enum tracer_exec_flags */
	__u32 filename_len;
	__u32 args_len;
	__u32 args_count;
};

/* The last thread of a process whose exec was traced has exited. */
struct tracer_exit_event {
	__u32 kind;
	__u32 pid;
	__u32 ppid;
	__u32 uid;
	__u64 timestamp_ns;  /* CLOCK_BOOTTIME */
	__u64 start_time_ns; /* CLOCK_BOOTTIME */
	__u64 cpu_ns;        /* scheduler runtime of all threads */
	__u64 user_ns;       /* cpu_ns split by the tick-sampled user/system ratio, as getrusage does */
	__u64 system_ns;
	__u64 max_rss_kb;
	__u32 exit_status;   /* wait status layout: code << 8, or signal | 0x80 for a core dump */
	__u32 pad;
	char comm[TRACER_COMM_LEN];
};

/* Read-only tunables, set by the loader before the program is loaded. */
struct tracer_exec_config {
	__u32 args_size;     /* argv bytes to capture, at most TRACER_ARGS_MAX */
	__u32 target_pid;    /* 0: any */
	__u32 target_ppid;   /* 0: any */
	__u32 target_uid;
	__u8 filter_uid;
	__u8 filter_cgroup;  /* only cgroup ids present in the cgroup_filter map */
	__u8 report_exits;
	__u8 report_failed;
	__u32 wakeup_bytes;  /* past this backlog every record wakes the reader; it also polls on a timer */
};

_Static_assert(sizeof(struct tracer_process_keys) == 32 + 4 * TRACER_CGROUP_NAME_LEN, "keys layout");
_Static_assert(sizeof(struct tracer_exec_event) == 72 + sizeof(struct tracer_process_keys) + 16, "exec event layout");
_Static_assert(sizeof(struct tracer_exit_event) == 88, "exit event layout");
_Static_assert(sizeof(struct tracer_exec_config) == 24, "config layout");

#endif
