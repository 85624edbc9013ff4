// Runs a command N times (stdout and stderr to /dev/null) and prints the median wall time
// in milliseconds. The benchmarks use it instead of `date` around each run, which would add
// two forks of its own to every measurement.
// usage: wall_time N COMMAND [ARGS...]
#define _GNU_SOURCE
#include <fcntl.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <time.h>

extern char **environ;

static int compare(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

int main(int argc, char **argv) {
    if (argc < 3) { fprintf(stderr, "usage: wall_time N COMMAND [ARGS...]\n"); return 64; }
    int n = atoi(argv[1]);
    if (n < 1 || n > 100000) { fprintf(stderr, "wall_time: N must be 1..100000\n"); return 64; }
    double *ms = calloc(n, sizeof *ms);
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0);
    posix_spawn_file_actions_addopen(&actions, 2, "/dev/null", O_WRONLY, 0);
    for (int i = 0; i < n; i++) {
        struct timespec a, b;
        clock_gettime(CLOCK_MONOTONIC, &a);
        pid_t pid;
        if (posix_spawnp(&pid, argv[2], &actions, NULL, argv + 2, environ) != 0) { perror("wall_time: spawn"); return 1; }
        int status;
        if (waitpid(pid, &status, 0) < 0) { perror("wall_time: waitpid"); return 1; }
        clock_gettime(CLOCK_MONOTONIC, &b);
        if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
            fprintf(stderr, "wall_time: %s failed (status %d)\n", argv[2], status);
            return 1;
        }
        ms[i] = (b.tv_sec - a.tv_sec) * 1e3 + (b.tv_nsec - a.tv_nsec) / 1e6;
    }
    qsort(ms, n, sizeof *ms, compare);
    printf("%.2f\n", n % 2 ? ms[n / 2] : (ms[n / 2 - 1] + ms[n / 2]) / 2);
    return 0;
}
