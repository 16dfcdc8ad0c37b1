// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include <uapi/linux/gomemguard.h>

#include "cgroup_util.h"
#include "gmg_events.h"
#include "gmg_util.h"

#define MIB (1024ull * 1024)

void gmg_put_tag_opts(struct gr_msg *m, const struct tag_opts *o)
{
	if (o->soft) {
		uint64_t v = o->soft;

		gr_put(m, GOMEMGUARD_A_SOFT_LIMIT, &v, sizeof(v));
	}
	if (o->nr_levels)
		gr_put(m, GOMEMGUARD_A_LEVELS, o->levels, o->nr_levels * 4);
	if (o->eta_ms)
		gr_put_u32(m, GOMEMGUARD_A_ETA_HORIZON_MS, o->eta_ms);
	if (o->window_ms)
		gr_put_u32(m, GOMEMGUARD_A_RATE_WINDOW_MS, o->window_ms);
	if (o->signal)
		gr_put_u32(m, GOMEMGUARD_A_SIGNAL, o->signal);
	if (o->inherit) {
		uint8_t one = 1;

		gr_put(m, GOMEMGUARD_A_INHERIT, &one, 1);
	}
}

int gmg_tag_cmd(struct gr_sock *ctl, int family, uint8_t cmd, pid_t pid,
		const char *cgroup, const struct tag_opts *o, struct gr_reply *r)
{
	struct gr_msg m;
	int err;

	gr_start(&m, family, cmd, GOMEMGUARD_GENL_VERSION);
	if (pid)
		gr_put_u32(&m, GOMEMGUARD_A_PID, pid);
	if (cgroup)
		gr_put(&m, GOMEMGUARD_A_CGROUP, cgroup, strlen(cgroup) + 1);
	if (o)
		gmg_put_tag_opts(&m, o);
	err = gr_transact(ctl, &m, r);
	return err ? err : r->err;
}

int gmg_info(struct gr_sock *ctl, int family, struct gr_reply *r)
{
	struct gr_msg m;
	int err;

	gr_start(&m, family, GOMEMGUARD_CMD_INFO_GET, GOMEMGUARD_GENL_VERSION);
	err = gr_transact(ctl, &m, r);
	return err ? err : r->err;
}

int gmg_set_thresholds(struct gr_sock *ctl, int family, uint32_t medium,
		       uint32_t critical, struct gr_reply *r)
{
	struct gr_msg m;
	int err;

	/* One message: whatever was set before, medium < critical holds. */
	gr_start(&m, family, GOMEMGUARD_CMD_CONFIG_SET, GOMEMGUARD_GENL_VERSION);
	gr_put_u32(&m, GOMEMGUARD_A_PRESSURE_MEDIUM_PCT, medium);
	gr_put_u32(&m, GOMEMGUARD_A_PRESSURE_CRITICAL_PCT, critical);
	err = gr_transact(ctl, &m, r);
	return err ? err : r->err;
}

void ev_take(struct ev *ev, int *nev, const struct gr_reply *r)
{
	struct ev *e;

	if (*nev == MAX_EVENTS || !r->attrs[GOMEMGUARD_A_EVENT])
		return;
	e = &ev[(*nev)++];
	memset(e, 0, sizeof(*e));
	e->type = gr_get_u32(r->attrs[GOMEMGUARD_A_EVENT]);
	e->seq = gr_get_u64(r->attrs[GOMEMGUARD_A_SEQ]);
	e->time_ns = gr_get_u64(r->attrs[GOMEMGUARD_A_TIME_NS]);
	/* Pressure and OOM events are about a memcg or a kill, not a process. */
	if (r->attrs[GOMEMGUARD_A_PRESSURE_KIND])
		e->kind = gr_get_u32(r->attrs[GOMEMGUARD_A_PRESSURE_KIND]);
	if (r->attrs[GOMEMGUARD_A_PRESSURE_LEVEL])
		e->pressure = gr_get_u32(r->attrs[GOMEMGUARD_A_PRESSURE_LEVEL]);
	if (r->attrs[GOMEMGUARD_A_MEMCG_USAGE])
		e->memcg_usage = gr_get_u64(r->attrs[GOMEMGUARD_A_MEMCG_USAGE]);
	if (r->attrs[GOMEMGUARD_A_RECLAIMABLE])
		e->reclaimable = gr_get_u64(r->attrs[GOMEMGUARD_A_RECLAIMABLE]);
	if (r->attrs[GOMEMGUARD_A_MEMCG_ID])
		e->memcg_id = gr_get_u64(r->attrs[GOMEMGUARD_A_MEMCG_ID]);
	/* Both or neither: one alone is counted as neither, and shows. */
	if (r->attrs[GOMEMGUARD_A_RECLAIM_SCANNED] && r->attrs[GOMEMGUARD_A_RECLAIM_RECLAIMED]) {
		e->has_window = 1;
		e->scanned = gr_get_u64(r->attrs[GOMEMGUARD_A_RECLAIM_SCANNED]);
		e->reclaimed = gr_get_u64(r->attrs[GOMEMGUARD_A_RECLAIM_RECLAIMED]);
	}
	if (!r->attrs[GOMEMGUARD_A_PID])
		return;
	e->pid = gr_get_u32(r->attrs[GOMEMGUARD_A_PID]);
	e->level_pct = gr_get_u32(r->attrs[GOMEMGUARD_A_LEVEL_PCT]);
	e->anon = gr_get_u64(r->attrs[GOMEMGUARD_A_ANON]);
	e->source = gr_get_u32(r->attrs[GOMEMGUARD_A_SOURCE]);
	if (r->attrs[GOMEMGUARD_A_ETA_MS]) {
		e->has_eta = 1;
		e->eta_ms = gr_get_u64(r->attrs[GOMEMGUARD_A_ETA_MS]);
		e->eta_limit = gr_get_u32(r->attrs[GOMEMGUARD_A_ETA_LIMIT]);
	}
}

int ev_count(const struct ev *ev, int nev, uint32_t type, pid_t pid)
{
	int i, n = 0;

	for (i = 0; i < nev; i++)
		n += ev[i].type == type && ev[i].pid == (uint32_t)pid;
	return n;
}

int ev_count_pressure(const struct ev *ev, int nev, uint32_t kind)
{
	int i, n = 0;

	for (i = 0; i < nev; i++)
		n += ev[i].type == GOMEMGUARD_EVENT_PRESSURE &&
		     ev[i].pressure != GOMEMGUARD_PRESSURE_NONE &&
		     ev[i].kind == kind;
	return n;
}

unsigned int ev_window_pct(const struct ev *e)
{
	if (!e->scanned || e->reclaimed >= e->scanned)
		return 0;
	return (e->scanned - e->reclaimed) * 100 / e->scanned;
}

uint32_t ev_level_for(unsigned int pct, uint32_t medium, uint32_t critical)
{
	if (pct >= critical)
		return GOMEMGUARD_PRESSURE_CRITICAL;
	if (pct >= medium)
		return GOMEMGUARD_PRESSURE_MEDIUM;
	return GOMEMGUARD_PRESSURE_LOW;
}

int ev_await(struct gr_sock *mon, struct ev *ev, int *nev, uint32_t type,
	     pid_t pid, int ms)
{
	uint64_t now, end = boottime_ns() + ms * 1000000ull;
	struct gr_reply *r;
	int err = 0;

	if (ev_count(ev, *nev, type, pid))
		return 0;
	r = malloc(sizeof(*r));
	if (!r)
		return -ENOMEM;
	while (!ev_count(ev, *nev, type, pid)) {
		now = boottime_ns();
		if (now >= end) {
			err = -ETIMEDOUT;
			break;
		}
		if (!gr_recv_event(mon, (end - now) / 1000000 + 1, r))
			ev_take(ev, nev, r);
	}
	free(r);
	return err;
}

int ev_collect(struct gr_sock *mon, struct ev *ev, int *nev, unsigned int ms,
	       pid_t pid, int *status, uint64_t *death_ns)
{
	uint64_t end = boottime_ns() + ms * 1000000ull;
	struct gr_reply *r = malloc(sizeof(*r));

	if (!r)
		return -ENOMEM;
	while (boottime_ns() < end) {
		if (pid && waitpid(pid, status, WNOHANG) == pid) {
			*death_ns = boottime_ns();
			free(r);
			/* The exit event is on its way: take it too, the last of @pid's. */
			ev_await(mon, ev, nev, GOMEMGUARD_EVENT_EXIT, pid, gmg_ms(1000));
			return 1;
		}
		if (!gr_recv_event(mon, 50, r))
			ev_take(ev, nev, r);
	}
	free(r);
	return 0;
}

const char *ev_str(const struct ev *e, char *buf, size_t len)
{
	static const char *const names[] = {
		"?", "warn", "eta", "recover", "exit", "pressure", "oom"
	};

	if (e->type == GOMEMGUARD_EVENT_PRESSURE && e->has_window)
		snprintf(buf, len,
			 "seq %llu pressure memcg %llu level %u kind %u t %.3f s: %llu scanned, %llu reclaimed, %u %% failed; usage %llu KiB, reclaimable %llu KiB",
			 (unsigned long long)e->seq, (unsigned long long)e->memcg_id,
			 e->pressure, e->kind, e->time_ns / 1e9,
			 (unsigned long long)e->scanned, (unsigned long long)e->reclaimed,
			 ev_window_pct(e), (unsigned long long)e->memcg_usage >> 10,
			 (unsigned long long)e->reclaimable >> 10);
	else if (e->type == GOMEMGUARD_EVENT_PRESSURE)
		snprintf(buf, len, "seq %llu pressure memcg %llu level %u kind %u t %.3f s: no window",
			 (unsigned long long)e->seq, (unsigned long long)e->memcg_id,
			 e->pressure, e->kind, e->time_ns / 1e9);
	else
		snprintf(buf, len,
			 "seq %llu %s pid %u level %u%% anon %llu MiB eta %s%llu ms limit %u pressure %u/%u t %.3f s",
			 (unsigned long long)e->seq, names[e->type < 7 ? e->type : 0],
			 e->pid, e->level_pct, (unsigned long long)(e->anon / MIB),
			 e->has_eta ? "" : "(none) ", (unsigned long long)e->eta_ms,
			 e->eta_limit, e->pressure, e->kind, e->time_ns / 1e9);
	return buf;
}
