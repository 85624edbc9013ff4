// The exec storm of the benchmark: WORKERS processes each fork + exec /bin/true (or PROGRAM)
// COUNT times, with argv in read-only data (as execsnoop fails to read it). PROGRAM: a copy of
// /bin/true under a name nothing else on the host runs, so a host-wide count of it is the storm's.
// Prints the number of execs and the wall time.
// usage: exec_storm WORKERS COUNT [PROGRAM]
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static char *true_argv[] = { "/bin/true", "storm-arg-one", "storm-arg-two", NULL };

static void worker(long count)
{
	extern char **environ;
	for (long i = 0; i < count; i++) {
		pid_t pid = fork();
		if (pid == 0) {
			execve(true_argv[0], true_argv, environ);
			_exit(127);
		}
		if (pid > 0)
			waitpid(pid, NULL, 0);
	}
}

int main(int argc, char **argv)
{
	int workers = argc > 1 ? atoi(argv[1]) : 2;
	long count = argc > 2 ? atol(argv[2]) : 1000;
	if (argc > 3)
		true_argv[0] = argv[3];
	struct timespec a, b;
	clock_gettime(CLOCK_MONOTONIC, &a);
	for (int w = 0; w < workers; w++) {
		if (fork() == 0) {
			worker(count);
			_exit(0);
		}
	}
	while (wait(NULL) > 0)
		;
	clock_gettime(CLOCK_MONOTONIC, &b);
	printf("execs=%ld seconds=%.3f\n", workers * count, (b.tv_sec - a.tv_sec) + (b.tv_nsec - a.tv_nsec) / 1e9);
	return 0;
}
