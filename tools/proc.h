/* SPDX-License-Identifier: GPL-2.0 */
/*
 * A watched process as PROC_GET replies, EVENT notifications and the
 * SNAPSHOT of an OOM post-mortem describe it: the one place those
 * attributes become JSON keys and text, for show, monitor and oom alike.
 */
#ifndef GOMEMCTL_PROC_H
#define GOMEMCTL_PROC_H

#include <stddef.h>
#include <stdint.h>

#include <netlink/attr.h>

#include "nl.h"

/* What every PROC_GET reply carries (the rest may be absent: null, "-"). */
extern const int proc_required[];
extern const size_t proc_n_required;

enum proc_view {
	PROC_VIEW_SHOW,		/* show's table */
	/*
	 * A process in an OOM post-mortem: a narrower table, for people who
	 * want to know who was growing and how much warning each one had;
	 * JSON has show's keys and lead_ms.
	 */
	PROC_VIEW_SNAPSHOT,
};

/*
 * Where a tag's soft limit came from (enum gomemguard_limit_origin): the
 * JSON value ("user", "gomemlimit", "memcg_max") and the words for people
 * ("user", "GOMEMLIMIT", "memory.max").
 */
const char *proc_origin_name(uint32_t origin);
const char *proc_origin_words(uint32_t origin);
/*
 * An ETA's limit (enum gomemguard_limit): the JSON value ("soft",
 * "memcg_max", "memcg_high") and the words for people ("memory.max"; "a
 * limit" when absent or unknown).
 */
const char *proc_limit_name(uint32_t limit);
const char *proc_limit_words(const struct nlattr *limit);

/* What a PROC_GET dump says of one watched process, for tag and discover. */
struct proc_watched {
	uint32_t pid;
	uint64_t soft_limit;
	uint32_t origin;	/* 0: the module does not say */
};

/*
 * Every watched process, by a PROC_GET dump on nl: *w (the caller frees
 * it) holds *n of them.  Returns 0, or -1 after reporting the error.
 */
int proc_watched_get(struct gmc_nl *nl, struct proc_watched **w, size_t *n);

/* The one with pid among w[0..n), or NULL. */
const struct proc_watched *proc_watched_find(const struct proc_watched *w,
					     size_t n, uint32_t pid);

/* The headings of proc_print()'s table; nothing in JSON. */
void proc_print_header(enum proc_view view);

/*
 * Every field into the current JSON object, or a table row for people.
 * Attributes that may be absent print as null / "-" then; others are left
 * out when absent (only notifications may lack them).
 */
void proc_print(struct nlattr *tb[], enum proc_view view);

/*
 * The same process as one line of prose for people, as monitor prints it:
 * "payments[4711] anon 1.62 GiB (90% of 1.8 GiB), +9.8 MiB/s, reaches soft
 * limit in 28s (file 310 MiB, memcg /app.slice 1.9 GiB/2 GiB)".  Text only.
 */
void proc_describe(struct nlattr *tb[]);

#endif /* GOMEMCTL_PROC_H */
