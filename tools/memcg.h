/* SPDX-License-Identifier: GPL-2.0 */
/*
 * A memory cgroup as MEMCG_GET replies and PRESSURE events describe it: how
 * full it is, and how much of that the kernel could reclaim.
 */
#ifndef GOMEMCTL_MEMCG_H
#define GOMEMCTL_MEMCG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <netlink/attr.h>

#include "memstat.h"

/* What every MEMCG_GET reply carries (the rest may be absent: null, "-"). */
extern const int memcg_required[];
extern const size_t memcg_n_required;

/* What every PRESSURE event carries, besides EVENT, SEQ and TIME_NS. */
extern const int pressure_required[];
extern const size_t pressure_n_required;

/* The headings of memcg_print()'s table; nothing in JSON. */
void memcg_print_header(void);

/*
 * Every field into the current JSON object, or a table row for people; ms
 * is what memstat_read() found of the memcg.
 */
void memcg_print(struct nlattr *tb[], const struct memstat *ms);

/* A PRESSURE event's fields into the current JSON object; nothing in text. */
void pressure_print(struct nlattr *tb[], const struct memstat *ms);

/*
 * The same event as prose, as monitor prints it: "memcg /app.slice medium
 * (cache churn): reclaim failed on 62% of 1024 pages scanned; usage 1.9
 * GiB/2 GiB, anon 1.1 GiB, shmem 100 MiB, reclaimable 700 MiB, pinned 200
 * MiB" (no reclaim clause for an event without a reclaim window: the end
 * of pressure); without memory.stat "..., anon + shmem 1.2 GiB,
 * reclaimable 700 MiB (no memory.stat)".  Text only.
 */
void pressure_describe(struct nlattr *tb[], const struct memstat *ms);

/*
 * An ETA or RECOVER event about a memcg rather than a process: one without
 * COMM (and PID) -- growth no watched process owns, tmpfs say.
 */
bool memcg_eta_event(uint32_t type, struct nlattr *tb[]);

/* What every such event carries, besides EVENT, SEQ and TIME_NS. */
extern const int memcg_eta_required[];
extern const size_t memcg_eta_n_required;

/* Its fields into the current JSON object ("scope": "memcg"); nothing in text. */
void memcg_eta_print(struct nlattr *tb[], const struct memstat *ms);

/*
 * As prose: "memcg /bench reaches memory.max in 3s, +4 MiB/s (usage
 * 50 MiB/64 MiB, shmem 46 MiB, anon 2 MiB, reclaimable 1 MiB): growth no
 * watched process owns".  Text only.
 */
void memcg_eta_describe(uint32_t type, struct nlattr *tb[],
			const struct memstat *ms);

#endif /* GOMEMCTL_MEMCG_H */
