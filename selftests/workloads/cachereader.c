// SPDX-License-Identifier: GPL-2.0
/*
 * cachereader: a small, steady anonymous heap and a file read over and over
 * through a small buffer. The file's page cache grows to fill the memory
 * cgroup while anonymous memory stays flat: reclaimable memory that must
 * never raise an out-of-memory warning. Give it a file on a real
 * block-device filesystem; tmpfs pages are shmem and never reclaimable
 * without swap.
 *
 * With -mmap the file is mapped and one byte of each page read instead:
 * every page faulted in is referenced through its page table entry, so
 * reclaim keeps it when it first looks at it. Cycling through a file
 * bigger than the memory cgroup, reclaim then fails on a real share of
 * what it scans, where read() pages, used once, go at the first look.
 */
#include <sys/mman.h>
#include <sys/stat.h>

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
		"usage: cachereader -file PATH [-heap SIZE] [-bufsize SIZE | -mmap]\n"
		"                   [-duration DURATION] [-passes N] [-readyfile PATH]\n"
		"                   [-sigfile PATH]\n"
		"\n"
		"Read PATH sequentially again and again; print each pass's throughput.\n"
		"\n"
		"  -file PATH          file to read (required)\n"
		"  -heap SIZE          steady anonymous heap, touched (default 8M)\n"
		"  -bufsize SIZE       read() buffer (default 64K)\n"
		"  -mmap               map PATH (shared, read-only) and read one byte of\n"
		"                      each page instead of read(): pages stay referenced\n"
		"                      by the mapping, so reclaim keeps some it scans\n"
		"  -duration DURATION  exit 0 after this long (default 0: never)\n"
		"  -passes N           exit 0 after N passes (default 0: never)\n"
		"  -readyfile PATH     write the pid here once the file is open\n"
		"  -sigfile PATH       append a line here for each SIGUSR1\n");
}

/* One pass of read() through @buf; sets *@done at @end (0: never). */
static uint64_t pass_read(int fd, const char *file, char *buf, uint64_t bufsize,
			  uint64_t end, bool *done)
{
	uint64_t bytes = 0;
	ssize_t r;

	if (lseek(fd, 0, SEEK_SET) < 0)
		wl_die("lseek %s: %s", file, strerror(errno));
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
			*done = true;
			break;
		}
	}
	return bytes;
}

/* One pass over the mapping @map of @size bytes, a byte of each page. */
static uint64_t pass_mmap(const volatile char *map, uint64_t size, uint64_t end,
			  bool *done)
{
	uint64_t off, page = (uint64_t)sysconf(_SC_PAGESIZE);

	for (off = 0; off < size; off += page) {
		/* A volatile read: the fault happens, nothing is kept. */
		(void)map[off];
		/* Now and then: a clock read per page would cost more than the page. */
		if (end && !(off & ((1 << 20) - 1)) && wl_now_ns() >= end) {
			*done = true;
			break;
		}
	}
	return off < size ? off : size;
}

int main(int argc, char **argv)
{
	enum { O_FILE, O_HEAP, O_BUFSIZE, O_MMAP, O_DURATION, O_PASSES, O_READY, O_SIG,
	       O_HELP };
	static const struct option opts[] = {
		{ "file", required_argument, NULL, O_FILE },
		{ "heap", required_argument, NULL, O_HEAP },
		{ "bufsize", required_argument, NULL, O_BUFSIZE },
		{ "mmap", no_argument, NULL, O_MMAP },
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
	bool done = false, use_mmap = false, bufsize_given = false;
	char *buf = NULL, *map = NULL;
	struct stat st;
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
			bufsize_given = true;
			break;
		case O_MMAP:
			use_mmap = true;
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
	if (use_mmap && bufsize_given)
		wl_usage_error("-bufsize and -mmap exclude each other");
	if (!bufsize)
		wl_usage_error("-bufsize must not be 0");

	wl_touch(wl_map(heap, false), heap);
	if (!use_mmap) {
		buf = wl_map(bufsize, false);
		wl_touch(buf, bufsize);
	}
	atomic_store(&wl_bytes, (long long)(heap + (use_mmap ? 0 : bufsize)));
	fd = open(file, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		wl_die("open %s: %s", file, strerror(errno));
	if (use_mmap) {
		if (fstat(fd, &st))
			wl_die("stat %s: %s", file, strerror(errno));
		if (!st.st_size)
			wl_die("%s is empty", file);
		map = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_SHARED, fd, 0);
		if (map == MAP_FAILED)
			wl_die("mmap %s: %s", file, strerror(errno));
	}
	wl_sigusr1_init(sigfile, false);
	wl_ready(readyfile);

	start = wl_now_ns();
	if (duration)
		end = start + duration;
	for (pass = 1; !passes || pass <= passes; pass++) {
		t0 = wl_now_ns();
		if (use_mmap)
			bytes = pass_mmap(map, (uint64_t)st.st_size, end, &done);
		else
			bytes = pass_read(fd, file, buf, bufsize, end, &done);
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
