/* SPDX-License-Identifier: GPL-2.0 */
/*
 * What the module leaves to user space about a memory cgroup: it reads page
 * counters and LRU sizes, never cgroupfs files, so the finer breakdown
 * (anon apart from shmem, dirty and under-writeback page cache) and the PSI
 * averages come from memory.stat and memory.pressure in the cgroup2 mount.
 */
#ifndef GOMEMCTL_MEMSTAT_H
#define GOMEMCTL_MEMSTAT_H

#include <stdbool.h>
#include <stdint.h>

/*
 * The directory of the global cgroup2 root, instead of the mount found in
 * mountinfo (see cgroup_global_root()): a host's hierarchy mounted
 * elsewhere in a container, or the tests' tree.
 */
#define MEMSTAT_ROOT_ENV "GOMEMCTL_CGROUP2_ROOT"

struct memstat {
	/* memory.stat read, with every key below. */
	bool has_stat;
	uint64_t anon, file, shmem, file_dirty, file_writeback;
	/* memory.pressure read: avg10 of "some" and "full", 1/100 %. */
	bool has_psi;
	uint32_t psi_some, psi_full;
};

/*
 * Reads the files of memcg, a path as the module gives it (from the global
 * root).  What cannot be read -- no cgroup2 mount of the global root here,
 * another cgroup namespace, a cgroup gone since, no permission -- is left
 * unknown (has_* false), never 0; nothing is reported.
 */
void memstat_read(const char *memcg, struct memstat *ms);

/*
 * What reclaim cannot drop of the page cache without swap or writeback:
 * shmem, dirty and under writeback.  Not file_mapped, which counts mapped
 * shmem again (and mapped clean pages reclaim can drop).  has_stat only.
 */
uint64_t memstat_pinned(const struct memstat *ms);

#endif /* GOMEMCTL_MEMSTAT_H */
