// exec_names: fork + exec DIR/PREFIX0 .. DIR/PREFIX<COUNT-1> once each, split over WORKERS
// processes: with symlinks to /bin/true under those names, COUNT distinct command names (the
// kernel names a process after the file it exec'd, the link). Fills `tracer top`'s group map.
// Prints the execs that succeeded, the children that exited non-zero, and the wall time.
// usage: exec_names DIR PREFIX COUNT WORKERS
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/* One worker: names w, w + workers, w + 2 * workers, ...; exits with its failure count (capped). */
static int worker(const char *dir, const char *prefix, long count, int w, int workers)
{
	extern char **environ;
	char path[4096];
	long failed = 0;

	for (long i = w; i < count; i += workers) {
		snprintf(path, sizeof(path), "%s/%s%ld", dir, prefix, i);
		pid_t pid = fork();
		if (pid == 0) {
			char *argv[] = { path, NULL };
			execve(path, argv, environ);
			_exit(127);
		}
		int status = 0;
		if (pid < 0 || waitpid(pid, &status, 0) < 0 || status != 0)
			failed++;
	}
	return failed > 255 ? 255 : (int)failed;
}

int main(int argc, char **argv)
{
	if (argc != 5) {
		fprintf(stderr, "usage: exec_names DIR PREFIX COUNT WORKERS\n");
		return 64;
	}
	long count = atol(argv[3]);
	int workers = atoi(argv[4]);
	struct timespec a, b;
	long failed = 0;

	clock_gettime(CLOCK_MONOTONIC, &a);
	for (int w = 0; w < workers; w++) {
		if (fork() == 0)
			_exit(worker(argv[1], argv[2], count, w, workers));
	}
	int status;
	while (wait(&status) > 0)
		failed += WIFEXITED(status) ? WEXITSTATUS(status) : 255;
	clock_gettime(CLOCK_MONOTONIC, &b);
	printf("execs=%ld nonzero=%ld seconds=%.3f\n", count, failed,
	       (b.tv_sec - a.tv_sec) + (b.tv_nsec - a.tv_nsec) / 1e9);
	return 0;
}
