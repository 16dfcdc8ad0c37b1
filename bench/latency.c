// SPDX-License-Identifier: GPL-2.0
/*
 * latency: how long after a process crosses a warn level does each kind of
 * watcher know?  The process (this one) tags itself with one level, then
 * steps its anonymous memory up across the level and back down below the
 * recover threshold, -crossings times, noting CLOCK_BOOTTIME right before
 * the page fault that takes it across.  Meanwhile, in a thread, the
 * detectors of detect.h watch its memory cgroup: `gomemctl monitor -j`, a
 * periodic memory.current reader with the same crossing as threshold, and a
 * PSI trigger.  Lines:
 *
 *   setup anon=<B> level_bytes=<L> cross_page=<k> step_pages=<n>
 *         memcg_low=<bytes> poll_high=<bytes>
 *   cross i=<n> t=<ns> t_start=<ns> t_end=<ns>   (the crossing fault, the
 *                                                 step's first, its last)
 *   down i=<n> t=<ns>
 *
 * plus the detectors' lines; bench/report.py pairs them up.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "detect.h"
#include "wl.h"

static void usage(void)
{
	fprintf(stderr,
		"usage: latency -gomemctl PATH -cgroup DIR [-crossings N] [-soft-limit SIZE]\n"
		"               [-level PCT] [-low PCT] [-high PCT] [-up DURATION] [-down DURATION]\n"
		"               [-poll DURATION] [-psi TRIGGER]\n"
		"\n"
		"Tag this process with one warn level and step its anonymous memory across\n"
		"it and back, timing the crossing against gomemctl monitor, a memory.current\n"
		"poller and a PSI trigger on the memory cgroup DIR (which it joins).\n"
		"\n"
		"  -gomemctl PATH     gomemctl to tag with and to monitor\n"
		"  -cgroup DIR        cgroup v2 directory to run in (created by the caller)\n"
		"  -crossings N       upward crossings (default 200)\n"
		"  -soft-limit SIZE   the tag's soft limit (default 64M)\n"
		"  -level PCT         the one warn level (default 50)\n"
		"  -low PCT           usage between steps, %% of the soft limit (default 40)\n"
		"  -high PCT          usage after a step (default 53)\n"
		"  -up DURATION       time spent above, from the crossing (default 300ms)\n"
		"  -down DURATION     time spent below before the next step (default 250ms)\n"
		"  -poll DURATION     memory.current poller period (default 100ms)\n"
		"  -psi TRIGGER       PSI trigger (default \"some 150000 500000\")\n");
}

#define ROOT_CGROUP "/sys/fs/cgroup"

static char *gomemctl_path;

static void gomemctl(const char *root, char *out, size_t len, const char *a1,
		     const char *a2, const char *a3, const char *a4, const char *a5,
		     const char *a6, const char *a7)
{
	char *argv[] = { gomemctl_path, (char *)a1, (char *)a2, (char *)a3, (char *)a4,
			 (char *)a5, (char *)a6, (char *)a7, NULL };
	int rc = detect_run(argv, root, out, len);

	if (rc)
		wl_die("gomemctl %s %s failed (%d)", a1, a2 ? a2 : "", rc);
}

static uint64_t json_u64(const char *json, const char *key)
{
	char pat[64];
	const char *p;

	snprintf(pat, sizeof(pat), "\"%s\":", key);
	p = strstr(json, pat);
	if (!p)
		wl_die("no %s in: %s", key, json);
	return strtoull(p + strlen(pat), NULL, 10);
}

static uint64_t read_u64_file(const char *dir, const char *name)
{
	char path[4096];
	unsigned long long v;
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "re");
	if (!f || fscanf(f, "%llu", &v) != 1)
		wl_die("cannot read %s", path);
	fclose(f);
	return v;
}

/* The tools run from the root cgroup, outside the numbers measured. */
static void join_cgroup(const char *cgroup)
{
	char path[4096];
	FILE *f;

	snprintf(path, sizeof(path), "%s/cgroup.procs", cgroup);
	f = fopen(path, "we");
	if (!f || fprintf(f, "0\n") < 0 || fclose(f))
		wl_die("cannot join %s", cgroup);
}

static void *detect_thread(void *d)
{
	detect_loop(d);
	return NULL;
}

int main(int argc, char **argv)
{
	enum { O_GOMEMCTL, O_CGROUP, O_CROSSINGS, O_SOFT, O_LEVEL, O_LOW, O_HIGH, O_UP,
	       O_DOWN, O_POLL, O_PSI, O_HELP };
	static const struct option opts[] = {
		{ "gomemctl", required_argument, NULL, O_GOMEMCTL },
		{ "cgroup", required_argument, NULL, O_CGROUP },
		{ "crossings", required_argument, NULL, O_CROSSINGS },
		{ "soft-limit", required_argument, NULL, O_SOFT },
		{ "level", required_argument, NULL, O_LEVEL },
		{ "low", required_argument, NULL, O_LOW },
		{ "high", required_argument, NULL, O_HIGH },
		{ "up", required_argument, NULL, O_UP },
		{ "down", required_argument, NULL, O_DOWN },
		{ "poll", required_argument, NULL, O_POLL },
		{ "psi", required_argument, NULL, O_PSI },
		{ "help", no_argument, NULL, O_HELP },
		{ NULL, 0, NULL, 0 },
	};
	struct detect_opts dopt = { .psi = "some 150000 500000" };
	uint64_t soft = 64 << 20, up = 300000000ULL, down = 250000000ULL;
	uint64_t poll_ns = 100000000ULL, base, level_bytes, low_bytes, memcg_low;
	uint64_t t_start, t_cross = 0, t_end;
	unsigned int crossings = 200, level = 50, low = 40, high = 53, i;
	size_t page = wl_page_size(), k, n, lowpages, p;
	char pidbuf[16], soft_arg[32], level_arg[16], out[65536];
	const char *cgroup = NULL;
	struct detect *d;
	pthread_t thread;
	char *mem, *step;
	int opt;

	wl_init("latency", usage);
	while ((opt = getopt_long_only(argc, argv, "", opts, NULL)) != -1) {
		switch (opt) {
		case O_GOMEMCTL:
			gomemctl_path = optarg;
			break;
		case O_CGROUP:
			cgroup = optarg;
			break;
		case O_CROSSINGS:
			crossings = wl_uint_arg("crossings", optarg);
			break;
		case O_SOFT:
			soft = wl_size_arg("soft-limit", optarg);
			break;
		case O_LEVEL:
			level = wl_uint_arg("level", optarg);
			break;
		case O_LOW:
			low = wl_uint_arg("low", optarg);
			break;
		case O_HIGH:
			high = wl_uint_arg("high", optarg);
			break;
		case O_UP:
			up = wl_duration_arg("up", optarg);
			break;
		case O_DOWN:
			down = wl_duration_arg("down", optarg);
			break;
		case O_POLL:
			poll_ns = wl_duration_arg("poll", optarg);
			break;
		case O_PSI:
			dopt.psi = optarg;
			break;
		case O_HELP:
			usage();
			return 0;
		default:
			wl_usage();
		}
	}
	wl_no_args(argc, argv);
	if (!gomemctl_path || !cgroup)
		wl_usage_error("-gomemctl and -cgroup are required");
	/* Below the recover threshold (level - 5 points) between steps. */
	if (!level || low + 5 >= level || high <= level || !soft)
		wl_usage_error("want -low + 5 < -level < -high and a soft limit");

	join_cgroup(cgroup);
	level_bytes = soft / 100 * level;
	low_bytes = soft / 100 * low;
	n = (soft / 100 * high - low_bytes) / page;
	mem = wl_map(soft / 100 * high + page, true);
	/* Most of the low part; the program's own memory makes up the rest. */
	lowpages = (low_bytes - (low_bytes / 16)) / page;
	wl_touch(mem, lowpages * page);
	step = mem + lowpages * page;

	snprintf(pidbuf, sizeof(pidbuf), "%d", (int)getpid());
	snprintf(soft_arg, sizeof(soft_arg), "%" PRIu64, soft);
	snprintf(level_arg, sizeof(level_arg), "%u", level);
	dopt.cgroup = cgroup;
	dopt.gomemctl = gomemctl_path;
	dopt.tool_cgroup = ROOT_CGROUP;
	dopt.poll_ns = poll_ns;
	/* Armed once the thresholds are known, below. */
	dopt.poll_high = UINT64_MAX;
	dopt.poll_low = 0;
	d = detect_start(&dopt);
	/* Everything that allocates runs before the baseline is taken. */
	if (pthread_create(&thread, NULL, detect_thread, d))
		wl_die("pthread_create failed");
	gomemctl(ROOT_CGROUP, out, sizeof(out), "tag", pidbuf, "--soft-limit",
		 soft_arg, "--levels", level_arg, NULL);
	printf("tagged pid=%s\n", pidbuf);
	/* The 1 s sampler has run at least once: anon is the exact sum. */
	usleep(1500000);
	gomemctl(ROOT_CGROUP, out, sizeof(out), "-j", "show", pidbuf, NULL, NULL,
		 NULL, NULL);
	base = json_u64(out, "anon_bytes");
	if (base >= level_bytes)
		wl_die("already at %" PRIu64 " bytes, above the level", base);
	k = (level_bytes - base + page - 1) / page;
	if (k > n || base + k * page < low_bytes)
		wl_die("the step of %zu pages from %" PRIu64 " does not cross at page %zu", n,
		       base, k);
	memcg_low = read_u64_file(cgroup, "memory.current");
	/*
	 * The poller's threshold: the same crossing, in memory.current, which
	 * counts the same pages (and charges in batches: within 64 pages).
	 */
	printf("setup anon=%" PRIu64 " level_bytes=%" PRIu64 " cross_page=%zu step_pages=%zu"
	       " memcg_low=%" PRIu64 " poll_high=%" PRIu64 "\n", base, level_bytes, k, n,
	       memcg_low, memcg_low + k * page);

	detect_set_poll(d, memcg_low + k * page, memcg_low + k * page / 2);

	for (i = 1; i <= crossings; i++) {
		t_start = detect_now();
		for (p = 0; p < n; p++) {
			/*
			 * Just before the fault that takes usage across: a
			 * preemption in between counts against the detectors,
			 * never for them.
			 */
			if (p + 1 == k)
				t_cross = detect_now();
			step[p * page] = 1;
		}
		t_end = detect_now();
		printf("cross i=%u t=%" PRIu64 " t_start=%" PRIu64 " t_end=%" PRIu64 "\n", i,
		       t_cross, t_start, t_end);
		wl_sleep_until(wl_now_ns() + up - (t_end - t_cross));
		if (madvise(step, n * page, MADV_DONTNEED))
			wl_die("madvise: %s", strerror(errno));
		printf("down i=%u t=%" PRIu64 "\n", i, detect_now());
		wl_sleep_until(wl_now_ns() + down);
	}

	detect_stop(d);
	pthread_join(thread, NULL);
	gomemctl(ROOT_CGROUP, out, sizeof(out), "untag", pidbuf, NULL, NULL, NULL,
		 NULL, NULL);
	detect_finish(d);
	return 0;
}
