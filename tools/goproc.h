/* SPDX-License-Identifier: GPL-2.0 */
/*
 * A running Go program as /proc and cgroupfs show it, for discover, tag
 * --go and show: what its binary says (through /proc/PID/exe, so a binary
 * deleted, replaced or in another mount namespace is still the one that
 * runs), its GOMEMLIMIT and GOGC, the memory cgroup it runs in and that
 * cgroup's limits; and what is wrong with that combination.
 */
#ifndef GOMEMCTL_GOPROC_H
#define GOMEMCTL_GOPROC_H

#include <stdbool.h>
#include <stdint.h>

#include <linux/gomemguard.h>

#include "goelf.h"
#include "goenv.h"

/* Where procfs is: "/proc"; the tests point it at a tree of their own. */
extern const char *goproc_root;

#define GOPROC_COMM_MAX 64
#define GOPROC_EXE_MAX 512

struct goproc {
	int pid;
	char comm[GOPROC_COMM_MAX];	/* printable */
	char exe[GOPROC_EXE_MAX];	/* as /proc/PID/exe links it, printable */
	struct goelf_info elf;
	struct goenv env;		/* all unset when unreadable */
	/* Its memory cgroup, as in /proc/PID/cgroup; "" when unknown. */
	char memcg[GOMEMGUARD_PATH_MAX];
	/*
	 * The tightest memory.max and memory.high on the way from its memory
	 * cgroup up to the root (as far as this cgroup namespace sees): the
	 * limits that will stop it.  Absent: unlimited, or unknown.
	 */
	bool has_max, has_high;
	uint64_t memcg_max, memcg_high;
	bool has_anon;			/* RssAnon of /proc/PID/status */
	uint64_t anon;
};

/*
 * Reads process pid.  Returns 0 for a Go program; -ENOEXEC for a process
 * that is not one (kernel threads and zombies included), with pid and comm
 * set; -ESRCH when there is no such process; -EACCES (or another -errno)
 * when its executable cannot be read.
 */
int goproc_read(int pid, struct goproc *p);

/*
 * Calls fn for every Go program, by ascending PID.  Processes that cannot
 * be read -- another user's, gone half-way, kernel threads -- are skipped.
 * Returns 0, fn's first non-zero return, or -errno when procfs cannot be
 * listed.
 */
int goproc_scan(int (*fn)(const struct goproc *p, void *arg), void *arg);

/*
 * Whether this process may read every other one's /proc/PID/exe and
 * environ: CAP_SYS_PTRACE in CapEff of goproc_root/self/status (root has
 * it, unless a container took it away).  Unreadable: assumed so.
 */
bool goproc_can_read_all(void);

/*
 * The smallest memory.max from process pid's memory cgroup up to the root
 * of the cgroup2 mount, as discover shows it, and that cgroup in memcg:
 * 0, or -1 when unlimited or unknown.
 */
int goproc_memcg_max(int pid, uint64_t *max, char *memcg, size_t len);

/*
 * The soft limit the Go runtime itself aims at: GOMEMLIMIT when it is a
 * positive byte count and the program's Go reads it (1.19 and later, or a
 * version that does not say).
 */
bool goproc_gomemlimit(const struct goproc *p, uint64_t *bytes);

/*
 * A soft limit for tag --go without --soft-limit: the GOMEMLIMIT, else 90 %
 * of memory.max.  Returns 0 with the limit and its origin, or -ENOENT when
 * there is neither.
 */
int goproc_default_limit(const struct goproc *p, uint64_t *limit,
			 uint32_t *origin);

/* The classic misconfigurations of Go programs under memory limits. */
enum {
	/* Under a memory.max, but Go's GC does not know of any limit. */
	GOPROC_WARN_GOMEMLIMIT_UNSET		= 1 << 0,
	/* Go aims above what the memcg allows: the OOM kill comes first. */
	GOPROC_WARN_GOMEMLIMIT_ABOVE_MAX	= 1 << 1,
	/* Anon > 110 % of GOMEMLIMIT: memory Go does not account (cgo...). */
	GOPROC_WARN_ANON_ABOVE_GOMEMLIMIT	= 1 << 2,
	/* GOMEMLIMIT is set, but this Go (before 1.19) ignores it. */
	GOPROC_WARN_GOMEMLIMIT_IGNORED		= 1 << 3,
};

/* Which of them apply, with anon (if known) from wherever it came. */
unsigned int goproc_warnings(const struct goproc *p, bool has_anon,
			     uint64_t anon);

/*
 * The "warnings" array of stable identifiers into the current JSON object
 * (empty for none; p may be NULL: not a Go program), or for people one
 * indented line per warning, after the row.
 */
void goproc_print_warnings(const struct goproc *p, unsigned int warnings,
			   uint64_t anon);

#endif /* GOMEMCTL_GOPROC_H */
