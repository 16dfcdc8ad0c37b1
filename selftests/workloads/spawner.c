// SPDX-License-Identifier: GPL-2.0
/*
 * spawner: forks children one by one, each holding a little touched memory
 * and then sleeping; for tests of tags that must catch processes joining a
 * cgroup late and of tags inherited on fork.
 */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "wl.h"

static void usage(void)
{
	fprintf(stderr,
		"usage: spawner [-children N] [-interval DURATION] [-touch SIZE] [-life DURATION]\n"
		"               [-readyfile PATH] [-sigfile PATH]\n"
		"\n"
		"Fork N children, -interval apart. Each touches SIZE bytes, prints\n"
		"\"child pid=<pid>\" and sleeps for -life (default: until killed; children\n"
		"die with the parent). The parent waits for all of them.\n"
		"\n"
		"  -children N         children to fork (default 4)\n"
		"  -interval DURATION  pause between forks (default 100ms)\n"
		"  -touch SIZE         bytes each child allocates and touches (default 4M)\n"
		"  -life DURATION      each child exits 0 after this (default 0: never)\n"
		"  -readyfile PATH     write the parent's pid here once all children are up\n"
		"  -sigfile PATH       append a line here for each SIGUSR1 (parent or child;\n"
		"                      lines end with pid=<pid>)\n");
}

static _Noreturn void child(unsigned int index, pid_t parent, int ready_fd, uint64_t touch,
			    uint64_t life)
{
	char c = 1;

	if (prctl(PR_SET_PDEATHSIG, SIGKILL) || getppid() != parent)
		_exit(1);
	wl_touch(wl_map(touch, false), touch);
	atomic_store(&wl_bytes, (long long)touch);
	printf("child pid=%d index=%u\n", getpid(), index);
	fflush(stdout);
	if (write(ready_fd, &c, 1) != 1)
		_exit(1);
	close(ready_fd);
	if (!life)
		for (;;)
			pause();
	wl_sleep_until(wl_now_ns() + life);
	exit(0);
}

int main(int argc, char **argv)
{
	enum { O_CHILDREN, O_INTERVAL, O_TOUCH, O_LIFE, O_READY, O_SIG, O_HELP };
	static const struct option opts[] = {
		{ "children", required_argument, NULL, O_CHILDREN },
		{ "interval", required_argument, NULL, O_INTERVAL },
		{ "touch", required_argument, NULL, O_TOUCH },
		{ "life", required_argument, NULL, O_LIFE },
		{ "readyfile", required_argument, NULL, O_READY },
		{ "sigfile", required_argument, NULL, O_SIG },
		{ "help", no_argument, NULL, O_HELP },
		{ NULL, 0, NULL, 0 },
	};
	const char *readyfile = NULL, *sigfile = NULL;
	uint64_t interval = 100 * 1000 * 1000ULL, touch = 4 << 20, life = 0;
	unsigned int children = 4, i, failed = 0;
	pid_t parent = getpid(), pid;
	int opt, fds[2], status;
	ssize_t r;
	char c;

	wl_init("spawner", usage);
	while ((opt = getopt_long_only(argc, argv, "", opts, NULL)) != -1) {
		switch (opt) {
		case O_CHILDREN:
			children = wl_uint_arg("children", optarg);
			break;
		case O_INTERVAL:
			interval = wl_duration_arg("interval", optarg);
			break;
		case O_TOUCH:
			touch = wl_size_arg("touch", optarg);
			break;
		case O_LIFE:
			life = wl_duration_arg("life", optarg);
			break;
		case O_READY:
			readyfile = optarg;
			break;
		case O_SIG:
			sigfile = optarg;
			break;
		case O_HELP:
			usage();
			return 0;
		default:
			wl_usage();
		}
	}
	wl_no_args(argc, argv);

	wl_sigusr1_init(sigfile, true);
	printf("parent pid=%d\n", parent);
	for (i = 0; i < children; i++) {
		if (i && interval)
			wl_sleep_until(wl_now_ns() + interval);
		if (pipe(fds))
			wl_die("pipe: %s", strerror(errno));
		fflush(stdout);
		pid = fork();
		if (pid < 0)
			wl_die("fork: %s", strerror(errno));
		if (!pid) {
			close(fds[0]);
			child(i, parent, fds[1], touch, life);
		}
		close(fds[1]);
		/* Wait until the child has touched its memory and said so. */
		while ((r = read(fds[0], &c, 1)) < 0 && errno == EINTR)
			;
		if (r != 1)
			wl_die("child %u (pid %d) died before it was up", i, pid);
		close(fds[0]);
	}
	printf("spawned children=%u\n", children);
	wl_ready(readyfile);

	while ((pid = wait(&status)) > 0 || errno == EINTR)
		if (pid > 0 && (!WIFEXITED(status) || WEXITSTATUS(status)))
			failed++;
	printf("exit failed=%u\n", failed);
	return failed ? 1 : 0;
}
