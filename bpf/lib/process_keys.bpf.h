/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Kernel-only helpers: the attribution keys of a task (cgroups, namespaces,
 * pid inside its namespace), read with CO-RE so one object fits every kernel.
 * User space resolves them to containers later, after the process may be gone.
 */
#ifndef TRACER_PROCESS_KEYS_BPF_H
#define TRACER_PROCESS_KEYS_BPF_H

#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>
#include "tracer/exec_event.h"

/* kernfs_node->parent became __parent in 6.15; this flavour matches older kernels. */
struct kernfs_node___pre615 {
	struct kernfs_node *parent;
} __attribute__((preserve_access_index));

static __always_inline struct kernfs_node *kernfs_parent(struct kernfs_node *kn)
{
	if (bpf_core_field_exists(struct kernfs_node___pre615, parent))
		return BPF_CORE_READ((struct kernfs_node___pre615 *)kn, parent);
	return BPF_CORE_READ(kn, __parent);
}

static __always_inline void read_cgroup_names(struct cgroup *cgrp, __u64 *id, char *name, char *parent)
{
	struct kernfs_node *kn = BPF_CORE_READ(cgrp, kn);

	if (!kn)
		return;
	*id = BPF_CORE_READ(kn, id);
	bpf_probe_read_kernel_str(name, TRACER_CGROUP_NAME_LEN, BPF_CORE_READ(kn, name));
	kn = kernfs_parent(kn);
	if (kn)
		bpf_probe_read_kernel_str(parent, TRACER_CGROUP_NAME_LEN, BPF_CORE_READ(kn, name));
}

/* The first v1 controller this kernel has, in the order Tetragon uses: memory, pids, cpuset. */
static __always_inline int v1_subsys_index(void)
{
	if (bpf_core_enum_value_exists(enum cgroup_subsys_id, memory_cgrp_id))
		return bpf_core_enum_value(enum cgroup_subsys_id, memory_cgrp_id);
	if (bpf_core_enum_value_exists(enum cgroup_subsys_id, pids_cgrp_id))
		return bpf_core_enum_value(enum cgroup_subsys_id, pids_cgrp_id);
	if (bpf_core_enum_value_exists(enum cgroup_subsys_id, cpuset_cgrp_id))
		return bpf_core_enum_value(enum cgroup_subsys_id, cpuset_cgrp_id);
	return -1;
}

/* On v1 and hybrid hosts the container's cgroup is only certain in a v1 hierarchy: that one, or NULL. */
static __always_inline struct cgroup *v1_cgroup(struct css_set *cset, struct cgroup *dfl)
{
	int idx = v1_subsys_index();
	struct cgroup_subsys_state *css;
	struct cgroup *cgrp;

	if (idx < 0 || idx >= CGROUP_SUBSYS_COUNT)
		return NULL;
	css = BPF_CORE_READ(cset, subsys[idx]);
	cgrp = css ? BPF_CORE_READ(css, cgroup) : NULL;
	/* A controller mounted on v2 reports the unified cgroup here: not a v1 key. */
	if (!cgrp || cgrp == dfl || BPF_CORE_READ(cgrp, root, hierarchy_id) == 0)
		return NULL;
	return cgrp;
}

/* Only the ids of read_process_keys: cheap enough for every fork and exec. */
static __always_inline void read_cgroup_ids(struct task_struct *task, __u64 *v2, __u64 *v1)
{
	struct css_set *cset = BPF_CORE_READ(task, cgroups);
	struct cgroup *dfl = BPF_CORE_READ(cset, dfl_cgrp);
	struct cgroup *cgrp = v1_cgroup(cset, dfl);

	*v2 = BPF_CORE_READ(dfl, kn, id);
	*v1 = cgrp ? BPF_CORE_READ(cgrp, kn, id) : 0;
}

static __always_inline void read_process_keys(struct task_struct *task, struct tracer_process_keys *keys)
{
	struct css_set *cset = BPF_CORE_READ(task, cgroups);
	struct cgroup *dfl = BPF_CORE_READ(cset, dfl_cgrp);
	struct cgroup *cgrp = v1_cgroup(cset, dfl);
	struct pid *pid = BPF_CORE_READ(task, thread_pid);
	struct upid upid = {};
	unsigned int level;

	read_cgroup_names(dfl, &keys->cgroup_id, keys->cgroup_name, keys->cgroup_parent);
	if (cgrp)
		read_cgroup_names(cgrp, &keys->cgroup_v1_id, keys->cgroup_v1_name, keys->cgroup_v1_parent);

	keys->mnt_ns = BPF_CORE_READ(task, nsproxy, mnt_ns, ns.inum);
	keys->net_ns = BPF_CORE_READ(task, nsproxy, net_ns, ns.inum);

	level = BPF_CORE_READ(pid, level);
	bpf_core_read(&upid, sizeof(upid), &pid->numbers[level & 31]);
	keys->pid_in_ns = upid.nr;
	keys->pid_ns = BPF_CORE_READ(upid.ns, ns.inum);
}

#endif
