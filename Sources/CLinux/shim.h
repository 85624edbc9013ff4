#ifndef TRACER_CLINUX_SHIM_H
#define TRACER_CLINUX_SHIM_H
// Linux system calls newer than Debian 12's glibc and kernel headers. Swift cannot call the
// variadic syscall(2), so each gets a small wrapper here; the numbers are the same on every
// architecture that has them (the unified syscall table since 6.8).
#include <stdint.h>
#include <stddef.h>
#include <unistd.h>
#include <sys/syscall.h>
#include <fcntl.h>

// O_PATH (open a name without opening the file) is behind _GNU_SOURCE, which Swift's Glibc
// module does not define; glibc's fcntl.h defines its value unconditionally as __O_PATH.
#define TRACER_O_PATH __O_PATH

// memfd_create(2) is behind _GNU_SOURCE too: an anonymous file, here to take what a library
// writes to standard error by itself (see NftablesLibrary).
static inline int tracer_memfd(const char *name) {
    return (int)syscall(SYS_memfd_create, name, 1U /* MFD_CLOEXEC */);
}

// prctl(2) is variadic too: names the calling thread (PR_SET_NAME, at most 15 bytes), so
// `top -H`, /proc/PID/task/*/comm and the agent's benchmarks tell its sessions apart.
#include <sys/prctl.h>
static inline int tracer_name_thread(const char *name) {
    return prctl(PR_SET_NAME, (unsigned long)name, 0UL, 0UL, 0UL);
}

#define TRACER_NR_STATMOUNT 457
#define TRACER_NR_LISTMOUNT 458
#define TRACER_LSMT_ROOT 0xffffffffffffffffULL
#define TRACER_STATMOUNT_SB_BASIC 0x1U
#define TRACER_STATMOUNT_MNT_ROOT 0x8U
#define TRACER_STATMOUNT_MNT_POINT 0x10U

// struct mnt_id_req, version 1 (Linux 6.8+).
struct tracer_mnt_id_req {
    uint32_t size;
    uint32_t spare;
    uint64_t mnt_id;
    uint64_t param;
    uint64_t mnt_ns_id;
};

// The head of struct statmount that tracer reads; strings follow at `str` (offset 512).
struct tracer_statmount {
    uint32_t size;
    uint32_t mnt_opts;
    uint64_t mask;
    uint32_t sb_dev_major;
    uint32_t sb_dev_minor;
    uint64_t sb_magic;
    uint32_t sb_flags;
    uint32_t fs_type;
    uint64_t mnt_id;
    uint64_t mnt_parent_id;
    uint32_t mnt_id_old;
    uint32_t mnt_parent_id_old;
    uint64_t mnt_attr;
    uint64_t mnt_propagation;
    uint64_t mnt_peer_group;
    uint64_t mnt_master;
    uint64_t propagate_from;
    uint32_t mnt_root;
    uint32_t mnt_point;
    uint64_t mnt_ns_id;
    uint64_t spare2[49];
    char str[];
};
_Static_assert(sizeof(struct tracer_statmount) == 512, "struct statmount layout");

/// Mount ids of every mount in the caller's mount namespace, after `last` (0 to start).
static inline long tracer_listmount(uint64_t last, uint64_t *ids, size_t count) {
    struct tracer_mnt_id_req req = { sizeof req, 0, TRACER_LSMT_ROOT, last, 0 };
    return syscall(TRACER_NR_LISTMOUNT, &req, ids, count, 0);
}

/// Fills `buffer` with the `mask` fields of mount `id`.
static inline long tracer_statmount(uint64_t id, uint64_t mask, void *buffer, size_t size) {
    struct tracer_mnt_id_req req = { sizeof req, 0, id, mask, 0 };
    return syscall(TRACER_NR_STATMOUNT, &req, buffer, size, 0);
}
#endif
