/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * The map ABI of bpf/top.bpf.c: exact counters of execs, exits and CPU by
 * (cgroup, parent command, command), kept in the kernel and read by
 * `tracer top` each interval. Included by the BPF program and, through the
 * TracerABI module, by Swift. Layouts pinned by _Static_assert.
 */
#ifndef TRACER_TOP_COUNTS_H
#define TRACER_TOP_COUNTS_H

#include "tracer/exec_event.h"

/* argv bytes kept per group: the last exec's, for the view. */
#define TRACER_TOP_ARGS_LEN 256
/* A failed exec's filename is read this far to find its last component. */
#define TRACER_TOP_FILENAME_LEN 256

/* What a row of counters is about. The command of a failed exec is the basename of its
 * filename, cut to TRACER_COMM_LEN - 1 bytes as the kernel would have named it. */
struct tracer_top_key {
	__u64 cgroup_id;    /* cgroup v2 id, as in tracer_process_keys */
	__u64 cgroup_v1_id; /* 0 without a v1 hierarchy */
	char parent_comm[TRACER_COMM_LEN]; /* the parent process's command (its leader's comm) at exec or fork */
	char comm[TRACER_COMM_LEN];
};

/* Per CPU and cumulative since load, except the interval maxima. */
struct tracer_top_counts {
	__u64 execs;
	__u64 failed_execs;
	__u64 exits;
	__u64 failed_exits;  /* exit code != 0, or killed by a signal */
	__u64 cpu_ns;        /* scheduler runtime of the processes that exited */
	__u64 lifetime_ns;   /* sum over exits */
	/* Maximum lifetime by interval parity: slot (interval & 1) holds the maximum of
	 * interval max_interval[slot]; user space reads the slot of the interval it just closed. */
	__u64 max_lifetime_ns[2];
	__u64 max_interval[2];
};

/* Attribution keys and last argv of a group: written on its first event, argv on each exec. */
struct tracer_top_detail {
	struct tracer_process_keys keys;
	__u32 args_len;
	__u32 flags; /* TRACER_EXEC_ARGS_TRUNCATED */
	char args[TRACER_TOP_ARGS_LEN]; /* NUL-separated */
};

/* Non-zero exit statuses by group: the histogram of a crash loop. */
struct tracer_top_exit_key {
	struct tracer_top_key group;
	__u32 status; /* wait status: code << 8, or the signal | 0x80 for a core dump */
	__u32 pad;
};

/* A process started (forked or exec'd) while top runs: where its exit is counted. Its exit is
 * noted at sched_process_exit and counted at the last thread's final context switch, the
 * first point where the scheduler has charged it all its runtime (at the exit tracepoint
 * the running slice is still unaccounted: up to a tick, most of a short process's CPU). */
struct tracer_top_process {
	__u64 start_time_ns; /* CLOCK_BOOTTIME; with the tgid, the process's identity */
	struct tracer_top_key group;
	__u64 dead_threads_cpu_ns; /* runtime of the threads that exited before the last one */
	__u64 lifetime_ns;
	__u32 status;      /* wait status of the process */
	__u32 exiting_tid; /* the last thread, once it has exited; 0 before */
};

/* Slots of the failed-exit histogram of struct tracer_top_other: one per exit code (0-255),
 * then one per signal byte (the signal number, | 0x80 for a core dump). */
#define TRACER_TOP_STATUS_SLOTS 512

/* The slot of a wait status: a code at its value, a signal at 256 + its low byte. */
static inline __u32 tracer_top_status_slot(__u32 status)
{
	return (status & 0x7f) ? 256 + (status & 0xff) : (status >> 8) & 0xff;
}

/* What happened in groups the counts map had no room for (an attacker exec'ing ever-new command
 * names fills it): the "(other)" row. One per CPU in an array, which cannot fill, so every exec,
 * failed exec and exit is counted exactly once, in its group or here, and the host's totals are
 * exact whatever the map holds. Statuses are kept host-wide here because the group is unknown. */
struct tracer_top_other {
	struct tracer_top_counts counts;
	__u64 failed_exit_statuses[TRACER_TOP_STATUS_SLOTS]; /* by tracer_top_status_slot */
};

/* Indices of the lost map: what could not be counted because a map was full. (A full counts
 * map loses nothing: those events go to struct tracer_top_other.) */
enum tracer_top_loss {
	TRACER_TOP_LOST_PROCESSES = 0,  /* a new process: the process table was full, its exit is not counted */
	TRACER_TOP_LOST_DETAILS = 1,    /* a group without keys or argv: the details map was full */
	TRACER_TOP_LOST_EXIT_CODES = 2, /* a failed exit of a counted group missing from its histogram */
	TRACER_TOP_LOSS_KINDS = 3,
};

_Static_assert(sizeof(struct tracer_top_key) == 48, "top key layout");
_Static_assert(sizeof(struct tracer_top_counts) == 80, "top counts layout");
_Static_assert(sizeof(struct tracer_top_detail) == sizeof(struct tracer_process_keys) + 8 + TRACER_TOP_ARGS_LEN, "top detail layout");
_Static_assert(sizeof(struct tracer_top_exit_key) == 56, "top exit key layout");
_Static_assert(sizeof(struct tracer_top_process) == 80, "top process layout");
_Static_assert(sizeof(struct tracer_top_other) == 80 + 8 * TRACER_TOP_STATUS_SLOTS, "top other layout");
_Static_assert(__builtin_offsetof(struct tracer_top_other, failed_exit_statuses) == 80, "top other layout");

#endif
