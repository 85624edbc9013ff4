// bpf_stats: runs a command with the kernel's BPF run-time statistics switched on for as
// long as it runs (BPF_ENABLE_STATS hands back a descriptor; stats stay on while it is open).
// No sysctl changes: the statistics go off again when the command exits. The command can
// then read run_time_ns and run_cnt of its own programs from /proc/self/fdinfo.
// usage: bpf_stats COMMAND [ARG...]
#include <fcntl.h>
#include <linux/bpf.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	if (argc < 2) {
		fprintf(stderr, "usage: bpf_stats COMMAND [ARG...]\n");
		return 64;
	}
	union bpf_attr attr;
	memset(&attr, 0, sizeof(attr));
	attr.enable_stats.type = BPF_STATS_RUN_TIME;
	long fd = syscall(SYS_bpf, BPF_ENABLE_STATS, &attr, sizeof(attr));
	if (fd < 0) {
		perror("bpf_stats: BPF_ENABLE_STATS");
		return 69;
	}
	/* The kernel makes the descriptor close-on-exec; the command must inherit it. */
	fcntl((int)fd, F_SETFD, 0);
	execvp(argv[1], argv + 1);
	perror("bpf_stats: exec");
	return 127;
}
