// SPDX-License-Identifier: GPL-2.0
/*
 * cachereader: a small, steady anonymous heap and a file read over and over
 * through a small buffer. The file's page cache grows to fill the memory
 * cgroup while anonymous memory stays flat: reclaimable memory that must
 * never raise an out-of-memory warning. Give it a file on a real
 * block-device filesystem; tmpfs pages are shmem and never reclaimable
 * without swap.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "wl.h"

static void usage(void)
{
	fprintf(stderr,
		"usage: cachereader -file PATH [-heap SIZE] [-bufsize SIZE] [-duration DURATION]\n"
		"                   [-passes N] [-readyfile PATH] [-sigfile PATH]\n"
		"\n"
		"Read PATH sequentially again and again; print each pass's throughput.\n"
		"\n"
		"  -file PATH          file to read (required)\n"
		"  -heap SIZE          steady anonymous heap, touched (default 8M)\n"
		"  -bufsize SIZE       read() buffer (default 64K)\n"
		"  -duration DURATION  exit 0 after this long (default 0: never)\n"
		"  -passes N           exit 0 after N passes (default 0: never)\n"
		"  -readyfile PATH     write the pid here once the file is open\n"
		"  -sigfile PATH       append a line here for each SIGUSR1\n");
}

int main(int argc, char **argv)
{
	enum { O_FILE, O_HEAP, O_BUFSIZE, O_DURATION, O_PASSES, O_READY, O_SIG, O_HELP };
	static const struct option opts[] = {
		{ "file", required_argument, NULL, O_FILE },
		{ "heap", required_argument, NULL, O_HEAP },
		{ "bufsize", required_argument, NULL, O_BUFSIZE },
		{ "duration", required_argument, NULL, O_DURATION },
		{ "passes", required_argument, NULL, O_PASSES },
		{ "readyfile", required_argument, NULL, O_READY },
		{ "sigfile", required_argument, NULL, O_SIG },
		{ "help", no_argument, NULL, O_HELP },
		{ NULL, 0, NULL, 0 },
	};
	const char *file = NULL, *readyfile = NULL, *sigfile = NULL;
	uint64_t heap = 8 << 20, bufsize = 64 << 10, duration = 0;
	uint64_t start, end = 0, t0, now, bytes, total = 0;
	unsigned int passes = 0, pass;
	bool done = false;
	char *buf;
	ssize_t r;
	int opt, fd;

	wl_init("cachereader", usage);
	while ((opt = getopt_long_only(argc, argv, "", opts, NULL)) != -1) {
		switch (opt) {
		case O_FILE:
			file = optarg;
			break;
		case O_HEAP:
			heap = wl_size_arg("heap", optarg);
			break;
		case O_BUFSIZE:
			bufsize = wl_size_arg("bufsize", optarg);
			break;
		case O_DURATION:
			duration = wl_duration_arg("duration", optarg);
			break;
		case O_PASSES:
			passes = wl_uint_arg("passes", optarg);
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
	if (!file)
		wl_usage_error("-file is required");
	if (!bufsize)
		wl_usage_error("-bufsize must not be 0");

	wl_touch(wl_map(heap, false), heap);
	buf = wl_map(bufsize, false);
	wl_touch(buf, bufsize);
	atomic_store(&wl_bytes, (long long)(heap + bufsize));
	fd = open(file, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		wl_die("open %s: %s", file, strerror(errno));
	wl_sigusr1_init(sigfile, false);
	wl_ready(readyfile);

	start = wl_now_ns();
	if (duration)
		end = start + duration;
	for (pass = 1; !passes || pass <= passes; pass++) {
		if (lseek(fd, 0, SEEK_SET) < 0)
			wl_die("lseek %s: %s", file, strerror(errno));
		t0 = wl_now_ns();
		bytes = 0;
		for (;;) {
			r = read(fd, buf, bufsize);
			if (r < 0 && errno == EINTR)
				continue;
			if (r < 0)
				wl_die("read %s: %s", file, strerror(errno));
			if (!r)
				break;
			bytes += (uint64_t)r;
			if (end && wl_now_ns() >= end) {
				done = true;
				break;
			}
		}
		if (!bytes && !done)
			wl_die("%s is empty", file);
		now = wl_now_ns();
		total += bytes;
		if (done)
			break;
		printf("pass=%u bytes=%llu ns=%llu mib_per_s=%.1f t=%.3f\n", pass,
		       (unsigned long long)bytes,
		       (unsigned long long)(now - t0),
		       (double)bytes / 1048576.0 / ((double)(now - t0) / 1e9),
		       (double)(now - start) / 1e9);
	}
	printf("exit passes=%u bytes=%llu t=%.3f\n", pass - 1, (unsigned long long)total,
	       (double)(wl_now_ns() - start) / 1e9);
	return 0;
}
