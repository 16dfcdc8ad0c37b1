/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The detectors the benchmarks set side by side, all watching one memory
 * cgroup from one poll() loop and printing what each saw, when, as one line
 * on stdout (CLOCK_BOOTTIME nanoseconds, the clock of gomemguard's TIME_NS):
 *
 *   gmg t=<ns> <json>        a line of `gomemctl monitor -j`, as read here
 *   psi t=<ns>               the PSI trigger on memory.pressure fired
 *   events t=<ns> high=<n> max=<n> oom=<n> oom_kill=<n>
 *                            memory.events high, oom or oom_kill changed
 *   poll t=<ns> current=<bytes>
 *                            the periodic memory.current reader saw usage
 *                            reach its threshold (re-armed below its low mark)
 *   empty t=<ns>             cgroup.events: the cgroup has no process left
 *
 * The timestamp is taken right after the read that revealed the news: it is
 * when a user-space watcher of that kind would know.
 */
#ifndef BENCH_DETECT_H
#define BENCH_DETECT_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

struct detect_opts {
	const char *cgroup;	/* the memcg's directory, e.g. /sys/fs/cgroup/b */
	const char *gomemctl;	/* run `gomemctl monitor -j`; NULL: not */
	const char *tool_cgroup; /* run it in this cgroup; NULL: the caller's */
	const char *psi;	/* trigger to write to memory.pressure; NULL: none */
	bool events;		/* watch memory.events */
	uint64_t high_grace_ns;	/* return this long after "high" first rises */
	uint64_t poll_ns;	/* memory.current period; 0: no poller */
	uint64_t poll_high;	/* report when memory.current >= this */
	uint64_t poll_low;	/* re-arm once it is below this again */
	bool until_empty;	/* return once the cgroup, populated once, empties */
	uint64_t grace_ns;	/* ...and this much later (late events) */
	uint64_t end_ns;	/* CLOCK_BOOTTIME to return at; 0: none */
};

struct detect;

uint64_t detect_now(void);	/* CLOCK_BOOTTIME */

/*
 * Open what the options ask for and start the monitor; returns once the
 * monitor receives events.  Exits on failure.  A trigger that the kernel
 * refuses (no PSI) is reported as "psi unavailable" and left out.
 */
struct detect *detect_start(const struct detect_opts *o);

/* Move the poller's thresholds; safe while detect_loop() runs. */
void detect_set_poll(struct detect *d, uint64_t high, uint64_t low);

/* Poll and print until detect_stop(), the deadline or the cgroup empties. */
void detect_loop(struct detect *d);

/* From another thread: make detect_loop() return. */
void detect_stop(struct detect *d);

/* Stop the monitor, print what it still had, free everything. */
void detect_finish(struct detect *d);

/*
 * Run argv[0] with argv, from the cgroup v2 directory @cgroup (NULL: the
 * caller's), stdout into @out (NUL-terminated, truncated to @len), and
 * return its exit status (-1: did not exit).
 */
int detect_run(char *const argv[], const char *cgroup, char *out, size_t len);

#endif
