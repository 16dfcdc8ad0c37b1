// SPDX-License-Identifier: GPL-2.0
/*
 * sleepers: N small processes that do nothing, for the scale benchmark --
 * each one a separate mm for gomemguard to watch.  Children are plain forks
 * of this small program (a few private pages each); they pause() until the
 * parent dies (PR_SET_PDEATHSIG), so killing the parent ends them all.
 */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <unistd.h>

#include "wl.h"

static void usage(void)
{
	fprintf(stderr,
		"usage: sleepers -n N [-readyfile PATH]\n"
		"\n"
		"Fork N children that sleep until this process dies; then sleep too.\n"
		"Prints \"forked n=<N> ns=<time to fork them all>\".\n");
}

int main(int argc, char **argv)
{
	enum { O_N, O_READY, O_HELP };
	static const struct option opts[] = {
		{ "n", required_argument, NULL, O_N },
		{ "readyfile", required_argument, NULL, O_READY },
		{ "help", no_argument, NULL, O_HELP },
		{ NULL, 0, NULL, 0 },
	};
	const char *readyfile = NULL;
	unsigned int n = 0, i;
	pid_t parent = getpid(), pid;
	uint64_t t0;
	int opt;

	wl_init("sleepers", usage);
	while ((opt = getopt_long_only(argc, argv, "", opts, NULL)) != -1) {
		switch (opt) {
		case O_N:
			n = wl_uint_arg("n", optarg);
			break;
		case O_READY:
			readyfile = optarg;
			break;
		case O_HELP:
			usage();
			return 0;
		default:
			wl_usage();
		}
	}
	wl_no_args(argc, argv);
	if (!n)
		wl_usage_error("-n is required");

	t0 = wl_now_ns();
	for (i = 0; i < n; i++) {
		pid = fork();
		if (pid < 0)
			wl_die("fork %u: %s", i + 1, strerror(errno));
		if (!pid) {
			if (prctl(PR_SET_PDEATHSIG, SIGKILL) || getppid() != parent)
				_exit(1);
			for (;;)
				pause();
		}
	}
	printf("forked n=%u ns=%llu\n", n, (unsigned long long)(wl_now_ns() - t0));
	wl_ready(readyfile);
	for (;;)
		pause();
}
