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
#include <linux/overflow.h>
#include <linux/time64.h>

#include "gomemguard.h"

/* Below this the process is not growing: no rate to speak of, no ETA. */
#define GMG_MIN_RATE		(64 * 1024)
/* An ETA warning re-arms once the ETA is above horizon * 5/4. */
#define GMG_ETA_REARM_NUM	5
#define GMG_ETA_REARM_DEN	4
/* The fuse fires at most this often, whatever usage does. */
#define GMG_SIGNAL_MIN_NS	NSEC_PER_SEC

/*
 * The arithmetic holds for any u64: policies bound what user space sends
 * (soft limits to 1 EiB), but a number near 2^64 must saturate, never wrap
 * into a small one ("16 PiB + 3 GiB at 100 MiB/s: 17 s").
 */

/* @pct percent of @limit, rounded down; U64_MAX when that does not fit. */
static u64 pct_of(u64 limit, u32 pct)
{
	u32 rem;
	u64 v, q = div_u64_rem(limit, 100, &rem);

	if (check_mul_overflow(q, (u64)pct, &v) ||
	    check_add_overflow(v, div_u64((u64)rem * pct, 100), &v))
		return U64_MAX;
	return v;
}

/* @a * @b / @c for @b < 2^32, saturating at U64_MAX. */
static u64 mul_div_sat(u64 a, u32 b, u64 c)
{
	u64 r, q = div64_u64_rem(a, c, &r), v, frac;

	/* r < c: r * b fits while c < 2^32, else scale both down. */
	if (c <= U32_MAX)
		frac = div64_u64(r * b, c);
	else
		frac = div64_u64((r >> 32) * b, c >> 32);
	if (check_mul_overflow(q, (u64)b, &v) || check_add_overflow(v, frac, &v))
		return U64_MAX;
	return v;
}

u32 gmg_usage_pct(const struct gmg_state *st, const struct gmg_settings *set)
{
	u64 used = st->last.anon + st->last.swap;

	if (!set->soft_limit)
		return 0;
	return min_t(u64, mul_div_sat(used, 100, set->soft_limit), U32_MAX);
}

static u64 sub_sat(u64 a, u64 b)
{
	return a > b ? a - b : 0;
}

static s64 slope(u64 t0, u64 v0, u64 t1, u64 v1)
{
	/* bytes * 1e6 / us, saturating. */
	u64 dt = div_u64(t1 - t0, NSEC_PER_USEC);

	if (!dt)
		return 0;
	if (v1 >= v0)
		return min_t(u64, mul_div_sat(v1 - v0, USEC_PER_SEC, dt), S64_MAX);
	return -(s64)min_t(u64, mul_div_sat(v0 - v1, USEC_PER_SEC, dt), S64_MAX);
}

/*
 * The growth rate is the slope over the last window, from a ring of samples
 * a quarter of a window apart -- without the oldest quarter when that one
 * grew more than twice as fast as the rest: a start-up step, not the pace
 * of a leak (kept in, it made a steady 17 MB/s cgo leak look like 21, and
 * its ETA come 20 % early).  The rate counts as *sustained* only when usage
 * grew in every one of at least three quarters: a leak does, a process that
 * allocates its working set once at start-up does not -- and only a
 * sustained rate gives an ETA.
 */
void gmg_growth_update(struct gmg_growth *st, u64 window_ns, u64 t, u64 v)
{
	u64 quarter = window_ns / 4;
	int i, idx, prev, n;
	s64 first, rest;

	if (!st->ring_len || t - st->ring_t[st->ring_head] >= quarter) {
		st->ring_head = (st->ring_head + 1) % GMG_RING;
		st->ring_t[st->ring_head] = t;
		st->ring_v[st->ring_head] = v;
		if (st->ring_len < GMG_RING)
			st->ring_len++;
	}
	n = st->ring_len;
	/* The oldest sample, and whether each quarter since grew. */
	idx = (st->ring_head + GMG_RING - (n - 1)) % GMG_RING;
	st->rate = slope(st->ring_t[idx], st->ring_v[idx], t, v);
	st->sustained = n >= 4 || (n == 3 && t - st->ring_t[st->ring_head] >= quarter / 2);
	for (i = 1; i < n; i++) {
		prev = idx;
		idx = (idx + 1) % GMG_RING;
		if (st->ring_v[idx] <= st->ring_v[prev])
			st->sustained = false;
	}
	if (t - st->ring_t[st->ring_head] >= quarter / 2 && v <= st->ring_v[st->ring_head])
		st->sustained = false;

	/* A start-up step in the oldest quarter: the rate is the rest's. */
	if (n >= 3) {
		idx = (st->ring_head + GMG_RING - (n - 1)) % GMG_RING;
		prev = (idx + 1) % GMG_RING;
		first = slope(st->ring_t[idx], st->ring_v[idx],
			      st->ring_t[prev], st->ring_v[prev]);
		rest = slope(st->ring_t[prev], st->ring_v[prev], t, v);
		if (t - st->ring_t[prev] >= 2 * quarter && rest > 0 &&
		    first > 2 * rest)
			st->rate = rest;
	}
}

static void consider(struct gmg_state *st, u64 headroom, s64 rate, u32 limit)
{
	u64 ms;

	if (rate < GMG_MIN_RATE)
		return;
	ms = mul_div_sat(headroom, MSEC_PER_SEC, rate);
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
	s64 own = st->growth.sustained ? st->growth.rate : 0;
	u64 used = s->anon + s->swap;
	u64 unreclaimable;
	s64 memcg_rate;

	st->eta_limit = 0;
	st->eta_ms = 0;
	if (used < set->soft_limit)
		consider(st, set->soft_limit - used, own, GOMEMGUARD_LIMIT_SOFT);
	/*
	 * Against the memcg, only what it cannot reclaim counts: a memcg full
	 * of clean page cache is not in danger.  And what grows may be the
	 * memcg rather than the process: tmpfs files, or a sibling's memory.
	 */
	unreclaimable = m->usage - min(m->usage, m->reclaimable);
	memcg_rate = max(own, m->sustained ? m->rate : 0);
	if (m->max != U64_MAX)
		consider(st, m->max - min(m->max, unreclaimable), memcg_rate,
			 GOMEMGUARD_LIMIT_MEMCG_MAX);
	if (m->high != U64_MAX && m->high < m->max)
		consider(st, m->high - min(m->high, unreclaimable), memcg_rate,
			 GOMEMGUARD_LIMIT_MEMCG_HIGH);
}

void gmg_assess(struct gmg_state *st, const struct gmg_settings *set,
		const struct gmg_sample *s, struct gmg_verdict *v)
{
	u64 used = s->anon + s->swap;
	u64 horizon = set->eta_horizon_ms;
	u64 hyst = pct_of(set->soft_limit, GOMEMGUARD_HYSTERESIS_PCT);
	bool eta_now, pending;
	u8 lvl;

	memset(v, 0, sizeof(*v));
	/* TAG_SET may have taken levels away: forget the ones gone. */
	st->level = min(st->level, set->nr_levels);
	st->last = *s;
	st->hwm = max(st->hwm, used);
	gmg_growth_update(&st->growth, (u64)set->rate_window_ms * NSEC_PER_MSEC,
			  s->time_ns, used);
	update_eta(st, set, s);
	v->growing = st->growth.rate >= GMG_MIN_RATE ||
		     s->memcg.rate >= GMG_MIN_RATE;

	/* Levels: every one crossed upward since the last report, in order. */
	while (st->level < set->nr_levels &&
	       used >= pct_of(set->soft_limit, set->levels[st->level])) {
		st->level++;
		v->warn_level[v->nr_warn++] = st->level;
	}
	/* Re-arm levels usage has clearly fallen below. */
	while (st->level &&
	       used < sub_sat(pct_of(set->soft_limit, set->levels[st->level - 1]),
			      hyst))
		st->level--;

	/*
	 * One ETA event per limit approached: past the soft limit, the next
	 * one to come is memory.high or memory.max, and that is news.
	 */
	eta_now = st->eta_limit && st->eta_ms < horizon;
	if (eta_now && st->eta_warned != st->eta_limit) {
		st->eta_warned = st->eta_limit;
		v->eta = true;
	} else if (st->eta_warned && !eta_now &&
		   (!st->eta_limit ||
		    st->eta_ms * GMG_ETA_REARM_DEN > horizon * GMG_ETA_REARM_NUM)) {
		st->eta_warned = 0;
	}

	if (v->nr_warn || v->eta) {
		st->warned = true;
		if (!st->first_warn_ns)
			st->first_warn_ns = s->time_ns;
	}

	/* Recovered: below every level (with margin) and no ETA pending. */
	if (st->first_warn_ns && !st->level && !st->eta_warned &&
	    !v->nr_warn && !v->eta) {
		v->recover = true;
		st->first_warn_ns = 0;
	}

	/*
	 * The fuse: once per upward crossing of the soft limit, and at most
	 * once per GMG_SIGNAL_MIN_NS.  A crossing inside that interval is not
	 * forgotten: it stays pending, sampled often, until the interval is
	 * over -- or usage falls back below the limit first.
	 */
	pending = false;
	if (used >= set->soft_limit) {
		if (!st->over_soft && !set->signal) {
			st->over_soft = true;
		} else if (!st->over_soft &&
			   (!st->last_signal_ns ||
			    s->time_ns - st->last_signal_ns >= GMG_SIGNAL_MIN_NS)) {
			v->fire_signal = true;
			st->last_signal_ns = s->time_ns;
			st->signals_sent++;
			st->over_soft = true;
		} else if (!st->over_soft) {
			pending = true;
			v->growing = true;
		}
	} else if (used < sub_sat(set->soft_limit, hyst)) {
		st->over_soft = false;
	}

	/* Wake the next assessment when the next level is reached. */
	lvl = st->level;
	v->wake_bytes = lvl < set->nr_levels ?
			pct_of(set->soft_limit, set->levels[lvl]) : U64_MAX;
	if (!st->over_soft && !pending)
		v->wake_bytes = min(v->wake_bytes, set->soft_limit);
}

/* The fuse was due but did not go: its setter may not signal the process. */
void gmg_assess_unsent(struct gmg_state *st)
{
	st->signals_sent--;
}
