// SPDX-License-Identifier: GPL-2.0
/*
 * tmpfswriter: grows a file in -dir (meant to be a tmpfs) at a steady rate
 * and keeps it. Its pages are shmem, charged to the writer's memory cgroup
 * but counted in no process's RSS, and without swap nothing can reclaim
 * them: memory a per-process tracker does not see, which can still OOM the
 * cgroup.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "wl.h"

#define TICK_NS (50 * 1000 * 1000ULL)

static void usage(void)
{
	fprintf(stderr,
		"usage: tmpfswriter -dir DIR [-name NAME] [-rate SIZE] [-step SIZE] [-max SIZE]\n"
		"                   [-hold DURATION] [-unlink] [-readyfile PATH] [-sigfile PATH]\n"
		"\n"
		"Write DIR/NAME at -rate bytes/s in -step chunks up to -max, keep it, hold.\n"
		"\n"
		"  -dir DIR           directory to write in, normally a tmpfs (required)\n"
		"  -name NAME         file name (default tmpfswriter.<pid>)\n"
		"  -rate SIZE         bytes per second (default 8M)\n"
		"  -step SIZE         bytes per write (default 1M)\n"
		"  -max SIZE          stop at this size, then hold (default 0: never stop)\n"
		"  -hold DURATION     once -max is reached, exit 0 after this (default 0: never)\n"
		"  -unlink            unlink the file at once: its pages go when the writer does\n"
		"  -readyfile PATH    write the pid here once the file is open\n"
		"  -sigfile PATH      append a line here for each SIGUSR1\n"
		"\n"
		"The file stays after exit unless -unlink: remove it yourself.\n");
}

static void write_all(int fd, const char *buf, size_t n, const char *path)
{
	ssize_t w;

	while (n) {
		w = write(fd, buf, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0)
			wl_die("write %s: %s", path, strerror(errno));
		buf += w;
		n -= (size_t)w;
	}
}

int main(int argc, char **argv)
{
	enum { O_DIR, O_NAME, O_RATE, O_STEP, O_MAX, O_HOLD, O_UNLINK, O_READY, O_SIG, O_HELP };
	static const struct option opts[] = {
		{ "dir", required_argument, NULL, O_DIR },
		{ "name", required_argument, NULL, O_NAME },
		{ "rate", required_argument, NULL, O_RATE },
		{ "step", required_argument, NULL, O_STEP },
		{ "max", required_argument, NULL, O_MAX },
		{ "hold", required_argument, NULL, O_HOLD },
		{ "unlink", no_argument, NULL, O_UNLINK },
		{ "readyfile", required_argument, NULL, O_READY },
		{ "sigfile", required_argument, NULL, O_SIG },
		{ "help", no_argument, NULL, O_HELP },
		{ NULL, 0, NULL, 0 },
	};
	const char *dir = NULL, *name = NULL, *readyfile = NULL, *sigfile = NULL;
	uint64_t rate = 8 << 20, step = 1 << 20, max = 0, hold = 0;
	uint64_t start, now, max_at = 0, next_report, target, written = 0, n;
	bool unlink_it = false;
	char path[PATH_MAX], defname[64];
	char *buf;
	int opt, fd;

	wl_init("tmpfswriter", usage);
	while ((opt = getopt_long_only(argc, argv, "", opts, NULL)) != -1) {
		switch (opt) {
		case O_DIR:
			dir = optarg;
			break;
		case O_NAME:
			name = optarg;
			break;
		case O_RATE:
			rate = wl_size_arg("rate", optarg);
			break;
		case O_STEP:
			step = wl_size_arg("step", optarg);
			break;
		case O_MAX:
			max = wl_size_arg("max", optarg);
			break;
		case O_HOLD:
			hold = wl_duration_arg("hold", optarg);
			break;
		case O_UNLINK:
			unlink_it = true;
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
	if (!dir)
		wl_usage_error("-dir is required");
	if (!step)
		wl_usage_error("-step must not be 0");
	if (!name) {
		snprintf(defname, sizeof(defname), "tmpfswriter.%d", getpid());
		name = defname;
	}
	if (snprintf(path, sizeof(path), "%s/%s", dir, name) >= (int)sizeof(path))
		wl_die("path too long");

	buf = wl_map(step, false);
	memset(buf, 0xa5, step);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0)
		wl_die("open %s: %s", path, strerror(errno));
	if (unlink_it && unlink(path))
		wl_die("unlink %s: %s", path, strerror(errno));
	printf("file=%s\n", path);
	wl_sigusr1_init(sigfile, false);
	wl_ready(readyfile);

	start = wl_now_ns();
	next_report = start + NSEC_PER_SEC;
	for (now = start;; now = wl_now_ns()) {
		if (!max_at) {
			/* Whole steps up to rate × elapsed; the last one before -max may be short. */
			target = (uint64_t)((double)rate * (double)(now - start) / 1e9);
			if (max && target > max)
				target = max;
			for (;;) {
				n = step;
				if (max && max - written < n)
					n = max - written;
				if (!n || written + n > target)
					break;
				write_all(fd, buf, n, path);
				written += n;
				atomic_store(&wl_bytes, (long long)written);
			}
			if (max && written >= max) {
				max_at = now;
				printf("max written=%llu t=%.3f\n", (unsigned long long)written,
				       (double)(now - start) / 1e9);
			}
		}
		if (now >= next_report) {
			printf("written=%llu t=%.3f\n", (unsigned long long)written,
			       (double)(now - start) / 1e9);
			while (next_report <= now)
				next_report += NSEC_PER_SEC;
		}
		if (max_at && hold && now - max_at >= hold) {
			printf("exit written=%llu t=%.3f\n", (unsigned long long)written,
			       (double)(now - start) / 1e9);
			return 0;
		}
		wl_sleep_until(now + TICK_NS);
	}
}
