/* SPDX-License-Identifier: GPL-2.0 */
/*
 * gomemguard's requests and events as the tests see them: tagging with the
 * settings a test cares about, module-wide settings and counters, and a log
 * of the events read from a subscribed socket, parsed into what tests assert.
 */
#ifndef GMG_EVENTS_H
#define GMG_EVENTS_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "genl_raw.h"

#define MAX_EVENTS 256

/* One event, the fields tests look at; pid 0: about a memcg or a kill. */
struct ev {
	uint32_t type, pid, level_pct, eta_limit, source, kind, pressure;
	uint64_t seq, time_ns, eta_ms, anon;
	uint64_t memcg_usage, reclaimable;	/* 0: not in the event */
	uint64_t memcg_id;			/* 0: not in the event */
	/* PRESSURE: the reclaim window behind the level, if has_window */
	uint64_t scanned, reclaimed;
	int has_eta, has_window;
};

struct tag_opts {
	uint64_t soft;
	const uint32_t *levels;
	int nr_levels;
	uint32_t eta_ms, window_ms, signal;
	int inherit;
};

/* The settings of @o that are set, as attributes of @m. */
void gmg_put_tag_opts(struct gr_msg *m, const struct tag_opts *o);
/* Send @cmd about @pid or @cgroup; returns -errno, extack in @r. */
int gmg_tag_cmd(struct gr_sock *ctl, int family, uint8_t cmd, pid_t pid,
		const char *cgroup, const struct tag_opts *o, struct gr_reply *r);
/* INFO_GET into @r: 0 or -errno. */
int gmg_info(struct gr_sock *ctl, int family, struct gr_reply *r);
/* CONFIG_SET of both pressure thresholds at once: 0 or -errno, extack in @r. */
int gmg_set_thresholds(struct gr_sock *ctl, int family, uint32_t medium,
		       uint32_t critical, struct gr_reply *r);

/* Append the event in @r to @ev[*@nev] while there is room. */
void ev_take(struct ev *ev, int *nev, const struct gr_reply *r);
/* Events of @type about @pid (0: about no process). */
int ev_count(const struct ev *ev, int nev, uint32_t type, pid_t pid);
/* PRESSURE events of @kind at a level above none. */
int ev_count_pressure(const struct ev *ev, int nev, uint32_t kind);
/*
 * The share of its window's scanned pages reclaim failed to free, in whole
 * percent, as the module computes it: @e must have a window.
 */
unsigned int ev_window_pct(const struct ev *e);
/* The level thresholds @medium and @critical give a window failing on @pct. */
uint32_t ev_level_for(unsigned int pct, uint32_t medium, uint32_t critical);
/*
 * Take events from @mon until one of @type for @pid is among them, for
 * @ms at most: 0 when it is, -ETIMEDOUT when not.
 */
int ev_await(struct gr_sock *mon, struct ev *ev, int *nev, uint32_t type,
	     pid_t pid, int ms);
/*
 * Take events for @ms, or until @pid (0: none) has died: 1 then, with its
 * status in *@status, the time in *@death_ns, and its EXIT event awaited.
 */
int ev_collect(struct gr_sock *mon, struct ev *ev, int *nev, unsigned int ms,
	       pid_t pid, int *status, uint64_t *death_ns);
/* @e in one line, for a test's log. */
const char *ev_str(const struct ev *e, char *buf, size_t len);

#endif /* GMG_EVENTS_H */
