// Execs its arguments from a second thread, not the thread-group leader.
// usage: thread_exec PATH ARG0 ARG...
#include <pthread.h>
#include <stdio.h>
#include <unistd.h>

static char **args;

static void *run(void *unused)
{
	extern char **environ;
	(void)unused;
	execve(args[1], &args[2], environ);
	perror("execve");
	_exit(4);
}

int main(int argc, char **argv)
{
	pthread_t thread;
	if (argc < 3)
		return 2;
	args = argv;
	pthread_create(&thread, NULL, run, NULL);
	pthread_join(thread, NULL);
	return 5;
}
