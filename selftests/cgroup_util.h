/* SPDX-License-Identifier: GPL-2.0 */
/*
 * cgroup v2 and process helpers for the selftests, after the kernel's
 * tools/testing/selftests/cgroup/cgroup_util.c: short tests, real cgroups.
 */
#ifndef GMG_CGROUP_UTIL_H
#define GMG_CGROUP_UTIL_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define CG_ROOT "/sys/fs/cgroup"

/* Create CG_ROOT/gmgtest.<name> (removing a leftover first); path in @path. */
int cg_create(const char *name, char *path, size_t len);
int cg_write(const char *cg, const char *file, const char *value);
long long cg_read_ll(const char *cg, const char *file);
/* The value of "key N" in a flat-keyed file such as memory.events. */
long long cg_read_key(const char *cg, const char *file, const char *key);
/* Kill everything in @cg, wait for it to empty, remove it. */
int cg_destroy(const char *cg);

/*
 * Start argv[0] with @argv in @cg (NULL: the caller's cgroup), stdout and
 * stderr to @log (NULL: /dev/null).  Returns the PID or -errno.
 */
pid_t spawn(const char *cg, const char *const argv[], const char *log);
/* Up to 5 s (scaled) for @pid's comm to read @comm: it has exec'd. */
int wait_comm(pid_t pid, const char *comm);
/* Path of workload @name (in $GMG_WORKLOADS) in @buf. */
const char *workload(const char *name, char *buf, size_t len);

/* Up to @ms (scaled) for @file (a workload's -readyfile) to appear. */
int wait_ready(const char *file, int ms);
/* sync, then drop clean caches, dentries and inodes: what nobody uses goes. */
void drop_caches(void);
/*
 * cachereader in @cg over @file, with @heap of anon, its ready file @ready;
 * after drop_caches(), so that what it reads is charged to @cg.
 */
pid_t spawn_cachereader(const char *cg, const char *file, const char *heap,
			const char *ready);
/*
 * The same with -mmap: @file mapped, one byte of each page read, so that
 * reclaim finds the pages referenced and keeps some of what it scans.
 */
pid_t spawn_cachereader_mapped(const char *cg, const char *file, const char *heap,
			       const char *ready);

/* CLOCK_BOOTTIME in ns: the clock of the module's event timestamps. */
uint64_t boottime_ns(void);
void sleep_ms(unsigned int ms);

#endif /* GMG_CGROUP_UTIL_H */
