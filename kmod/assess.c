// SPDX-License-Identifier: GPL-2.0
/*
 * From a process's numbers to decisions: its growth rate, the time left
 * before its nearest limit, which warning levels it crossed, and when it has
 * recovered.  Pure arithmetic over gmg_state: the caller holds the lock.
 *
 * Storms are prevented here, by hysteresis: a level crossed is reported once
 * and re-armed only after usage falls GOMEMGUARD_HYSTERESIS_PCT points below
 * it; an ETA warning is re-armed only once the ETA is well above the horizon
 * again (or growth stops).  The per-process rate limit in events.c is the
 * safety net behind this, not the mechanism.
 */
#include <linux/kernel.h>
#include <linux/math64.h>
#include <linux/minmax.h>
#include <linux/time64.h>

#include "gomemguard.h"

/* Below this the process is not growing: no rate to speak of, no ETA. */
#define GMG_MIN_RATE		(64 * 1024)
/* An ETA warning re-arms once the ETA is above horizon * 5/4. */
#define GMG_ETA_REARM_NUM	5
#define GMG_ETA_REARM_DEN	4
/* The fuse fires at most this often, whatever usage does. */
#define GMG_SIGNAL_MIN_NS	NSEC_PER_SEC

static u64 pct_of(u64 limit, u32 pct)
{
	return div_u64(limit, 100) * pct + div_u64((limit % 100) * pct, 100);
}

u32 gmg_usage_pct(const struct gmg_state *st, const struct gmg_settings *set)
{
	u64 used = st->last.anon + st->last.swap;

	if (!set->soft_limit)
		return 0;
	return min_t(u64, div64_u64(used * 100, set->soft_limit), U32_MAX);
}

/*
 * The slope between now and an anchor sample that is between half a window
 * and a window old: steady for a steady leak, and it follows a change within
 * one window, without floating point or a sample history.
 */
static void update_rate(struct gmg_state *st, u64 window_ns, u64 t, u64 v)
{
	u64 dt;

	if (!st->anchor_t) {
		st->anchor_t = t;
		st->anchor_v = v;
		st->mid_t = t;
		st->mid_v = v;
		st->rate = 0;
		return;
	}
	if (t - st->mid_t >= window_ns / 2) {
		st->anchor_t = st->mid_t;
		st->anchor_v = st->mid_v;
		st->mid_t = t;
		st->mid_v = v;
	}
	dt = t - st->anchor_t;
	/* Too short a baseline makes a noisy slope; keep the last one. */
	if (dt < window_ns / 4)
		return;
	/* bytes * 1e6 / us: exact enough, and no overflow below 8 TiB/s. */
	if (v >= st->anchor_v)
		st->rate = div64_u64((v - st->anchor_v) * USEC_PER_SEC,
				     div_u64(dt, NSEC_PER_USEC));
	else
		st->rate = -(s64)div64_u64((st->anchor_v - v) * USEC_PER_SEC,
					   div_u64(dt, NSEC_PER_USEC));
}

static void consider(struct gmg_state *st, u64 headroom, u32 limit)
{
	u64 ms = div64_u64(headroom * MSEC_PER_SEC, st->rate);

	if (!st->eta_limit || ms < st->eta_ms) {
		st->eta_ms = ms;
		st->eta_limit = limit;
	}
}

/* Time to the nearest limit not yet reached, at the current rate. */
static void update_eta(struct gmg_state *st, const struct gmg_settings *set,
		       const struct gmg_sample *s)
{
	const struct gmg_memcg_view *m = &s->memcg;
	u64 used = s->anon + s->swap;
	u64 unreclaimable;

	st->eta_limit = 0;
	st->eta_ms = 0;
	if (st->rate < GMG_MIN_RATE)
		return;
	if (used < set->soft_limit)
		consider(st, set->soft_limit - used, GOMEMGUARD_LIMIT_SOFT);
	/*
	 * Against the memcg, only what it cannot reclaim counts: a memcg full
	 * of clean page cache is not in danger.
	 */
	unreclaimable = m->usage - min(m->usage, m->reclaimable);
	if (m->max != U64_MAX)
		consider(st, m->max - min(m->max, unreclaimable),
			 GOMEMGUARD_LIMIT_MEMCG_MAX);
	if (m->high != U64_MAX && m->high < m->max)
		consider(st, m->high - min(m->high, unreclaimable),
			 GOMEMGUARD_LIMIT_MEMCG_HIGH);
}

void gmg_assess(struct gmg_state *st, const struct gmg_settings *set,
		const struct gmg_sample *s, struct gmg_verdict *v)
{
	u64 used = s->anon + s->swap;
	u64 horizon = set->eta_horizon_ms;
	u64 hyst = pct_of(set->soft_limit, GOMEMGUARD_HYSTERESIS_PCT);
	bool eta_now;
	u8 lvl;

	memset(v, 0, sizeof(*v));
	st->last = *s;
	st->hwm = max(st->hwm, used);
	update_rate(st, (u64)set->rate_window_ms * NSEC_PER_MSEC, s->time_ns,
		    used);
	update_eta(st, set, s);

	/* Levels: every one crossed upward since the last report, in order. */
	while (st->level < set->nr_levels &&
	       used >= pct_of(set->soft_limit, set->levels[st->level])) {
		st->level++;
		v->warn_level[v->nr_warn++] = st->level;
	}
	/* Re-arm levels usage has clearly fallen below. */
	while (st->level &&
	       used + hyst < pct_of(set->soft_limit, set->levels[st->level - 1]))
		st->level--;

	eta_now = st->eta_limit && st->eta_ms < horizon;
	if (eta_now && !st->eta_warned) {
		st->eta_warned = true;
		v->eta = true;
	} else if (st->eta_warned && !eta_now &&
		   (!st->eta_limit ||
		    st->eta_ms * GMG_ETA_REARM_DEN > horizon * GMG_ETA_REARM_NUM)) {
		st->eta_warned = false;
	}

	if ((v->nr_warn || v->eta) && !st->first_warn_ns)
		st->first_warn_ns = s->time_ns;

	/* Recovered: below every level (with margin) and no ETA pending. */
	if (st->first_warn_ns && !st->level && !st->eta_warned &&
	    !v->nr_warn && !v->eta) {
		v->recover = true;
		st->first_warn_ns = 0;
	}

	/* The fuse: once per upward crossing of the soft limit. */
	if (used >= set->soft_limit) {
		if (!st->over_soft && set->signal &&
		    (!st->last_signal_ns ||
		     s->time_ns - st->last_signal_ns >= GMG_SIGNAL_MIN_NS)) {
			v->fire_signal = true;
			st->last_signal_ns = s->time_ns;
			st->signals_sent++;
		}
		st->over_soft = true;
	} else if (used + hyst < set->soft_limit) {
		st->over_soft = false;
	}

	/* Wake the next assessment when the next level is reached. */
	lvl = st->level;
	v->wake_bytes = lvl < set->nr_levels ?
			pct_of(set->soft_limit, set->levels[lvl]) : U64_MAX;
	if (!st->over_soft)
		v->wake_bytes = min(v->wake_bytes, set->soft_limit);
}
