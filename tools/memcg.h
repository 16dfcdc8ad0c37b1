/* SPDX-License-Identifier: GPL-2.0 */
/*
 * A memory cgroup as MEMCG_GET replies and PRESSURE events describe it: how
 * full it is, and how much of that the kernel could reclaim.
 */
#ifndef GOMEMCTL_MEMCG_H
#define GOMEMCTL_MEMCG_H

#include <stddef.h>

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
 * (cache churn): usage 1.9 GiB/2 GiB, anon 1.1 GiB, shmem 100 MiB,
 * reclaimable 700 MiB, pinned 200 MiB"; without memory.stat "..., anon +
 * shmem 1.2 GiB, reclaimable 700 MiB (no memory.stat)".  Text only.
 */
void pressure_describe(struct nlattr *tb[], const struct memstat *ms);

#endif /* GOMEMCTL_MEMCG_H */
