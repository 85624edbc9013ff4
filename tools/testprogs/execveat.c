// Execs its arguments through execveat(fd, "", ..., AT_EMPTY_PATH), as fexecve does.
// usage: execveat PATH ARG0 ARG...
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdio.h>
#include <sys/syscall.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	extern char **environ;
	if (argc < 3)
		return 2;
	int fd = open(argv[1], O_PATH | O_CLOEXEC);
	if (fd < 0)
		return 3;
	syscall(SYS_execveat, fd, "", &argv[2], environ, AT_EMPTY_PATH);
	perror("execveat");
	return 4;
}
