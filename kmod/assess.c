// SPDX-License-Identifier: GPL-2.0
/*
 * From a process's numbers to decisions: its growth rate, the time left
 * before its nearest limit, which warning levels it crossed, and when it has
 * recovered.  Pure arithmetic over gmg_state: the caller holds the lock.
 *
 * Storms are prevented here, by hysteresis: a level crossed is reported once
 * and re-armed only after usage falls GOMEMGUARD_HYSTERESIS_PCT points below
 * it; an ETA warning is re-armed only once growth is no longer sustained
 * and the ETA is well above the horizon again (or there is none): a leak
 * whose rate wobbles gets one ETA, not one per wobble, and no RECOVER
 * between them.  The per-process rate limit in events.c is the safety net
 * behind this, not the mechanism.
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
/*
 * A fall smaller than this, or than 1/16 of the floor, is noise (a span
 * given back), not a collection: no sawtooth.
 */
#define GMG_SWING_MIN_KIB	(2 * 1024)
/*
 * A burst's ETA (growth not sustained) must fall within the time the
 * growth took, and never beyond this: what the recent rate spans is up to
 * two quarters of the rate window, and a window that grows with the
 * horizon must not turn a start-up of a few seconds into a "burst" (a Go
 * service warming 132 MiB in 3 s into 256 MiB: "full in 3.0 s").  As long
 * as two quarters of the 5 s window that was the default.
 */
#define GMG_BURST_SPAN_MS	2500
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

static u32 kib_sat(u64 bytes)
{
	return min_t(u64, bytes >> 10, U32_MAX);
}

/*
 * The growth rate is the slope of the *floor* over the last window.  The
 * window is cut in quarters, and each quarter keeps only its lowest sample
 * and when it was seen.  A leak lifts the floor from quarter to quarter,
 * however the heap above it saws; a garbage-collected heap climbs between
 * collections and falls back, and its floor stays where it was.  The
 * kernel sees no GC: the minima show where it ran.  Only complete quarters
 * give the slope -- the newest may not have seen its trough yet -- unless
 * nothing saws lately: then nothing above the newest quarter's floor so
 * far comes back down, and it lengthens the slope by a quarter.
 *
 * A Go leak climbs in steps, a burst running past the heap's old top now
 * and then: the floors of two quarters differ by one step or by two, and a
 * slope between two of them read a 17 MiB/s leak as anything from 6 to 28.
 * Two slopes, each across half the window and a quarter apart, averaged,
 * halve that.  Without the oldest quarter when that one rose more than
 * twice as fast as the rest: a start-up step, not the pace of a leak (kept
 * in, it made a steady 17 MB/s cgo leak look like 21, and its ETA come
 * 20 % early).
 *
 * A floor below the level the process held before the window is memory
 * coming back (Go faults in again what its scavenger gave back), not a
 * leak: floors count from that level up.  It is the floor that last left
 * the window, or the one before, less a quarter of the way down to it each
 * quarter -- a process that really shrank is judged afresh within a window
 * or two.
 *
 * The rate counts as *sustained* only once the process's own history is a
 * whole window long and its floor rose through it: by more than noise, and
 * without falling back by more than noise on the way.  A leak does, in a
 * ramp or in steps; a process that builds its working set at start-up does
 * not, nor does a sawtooth, nor a heap creeping up by a page now and then
 * -- and only a sustained rate gives an ETA well ahead.
 */
void gmg_growth_update(struct gmg_growth *g, u64 window_ns, u64 t, u64 v)
{
	u64 noise = (u64)GMG_SWING_MIN_KIB << 10;
	u64 quarter = window_ns / 4, top, base, lo, hi, f;
	u64 pt[GMG_RING], pv[GMG_RING];
	int i, n, k, idx;
	s64 first, rest, held;
	bool saws, was, turned;

	/*
	 * The newest quarter's top: a fall from it counts, even one into the
	 * next quarter, which starts a top of its own.
	 */
	was = g->sustained;
	held = g->rate;
	turned = !g->quarters || t - g->head_ns >= quarter;
	top = g->quarters ? g->ring_v[g->ring_head] + ((u64)g->peak_kib << 10) : v;
	if (top > v)
		g->swing_kib = max(g->swing_kib, kib_sat(top - v));
	if (turned) {
		g->ring_head = (g->ring_head + 1) % GMG_RING;
		if (g->quarters >= GMG_RING) {
			u32 gone = kib_sat(g->ring_v[g->ring_head]);

			g->base_kib = gone >= g->base_kib ? gone :
				      g->base_kib - (g->base_kib - gone) / 4;
		}
		g->ring_t[g->ring_head] = t;
		g->ring_v[g->ring_head] = v;
		g->head_ns = t;
		g->swing_kib = g->quarters ? g->swing_kib - g->swing_kib / 4 : 0;
		if (g->quarters < U8_MAX)
			g->quarters++;
		top = v;
	} else if (v < g->ring_v[g->ring_head]) {
		g->ring_t[g->ring_head] = t;
		g->ring_v[g->ring_head] = v;
	}
	g->peak_kib = kib_sat(max(top, v) - g->ring_v[g->ring_head]);

	n = min_t(int, g->quarters, GMG_RING);
	idx = (g->ring_head + GMG_RING - (n - 1)) % GMG_RING;
	base = (u64)g->base_kib << 10;
	saws = g->swing_kib >= GMG_SWING_MIN_KIB;

	/* The complete quarters' floors; the newest's so far when nothing saws. */
	for (k = 0; k < n - 1; k++) {
		pt[k] = g->ring_t[(idx + k) % GMG_RING];
		pv[k] = max(g->ring_v[(idx + k) % GMG_RING], base);
	}
	if (!saws) {
		pt[k] = g->ring_t[g->ring_head];
		pv[k++] = max(g->ring_v[g->ring_head], base);
	}
	if (n < 3) {
		/* Too young for floors: how it went since it was first seen. */
		g->rate = slope(g->ring_t[idx], g->ring_v[idx], t, v);
	} else if (k < 4) {
		g->rate = slope(pt[0], pv[0], pt[k - 1], pv[k - 1]);
	} else {
		first = slope(pt[0], pv[0], pt[2], pv[2]);
		rest = slope(pt[1], pv[1], pt[3], pv[3]);
		g->rate = first / 2 + rest / 2;
	}
	if (n == GMG_RING) {
		first = slope(pt[0], pv[0], pt[1], pv[1]);
		rest = slope(pt[1], pv[1], pt[k - 1], pv[k - 1]);
		if (rest > 0 && first > 2 * rest)
			g->rate = rest;
	}
	/*
	 * While the growth stays sustained, the rate moves a quarter of the
	 * way to the window's at each quarter's turn, and holds in between:
	 * a Go leak's steps come one to three seconds apart, so one window
	 * holds one step or two, and its slope alone read a 9 MiB/s leak as
	 * anything from 3 to 25.
	 */
	if (was && g->quarters > GMG_RING + 1) {
		if (turned)
			g->rate = held + (g->rate - held) / 4;
		else
			g->rate = held;
	}

	/* Four quarters complete, the fifth begun: a whole window. */
	g->sustained = g->quarters > GMG_RING;
	lo = max(g->ring_v[idx], base);
	hi = lo;
	for (i = 1; i < n; i++) {
		f = max(g->ring_v[(idx + i) % GMG_RING], base);
		if (f + noise < hi)
			g->sustained = false;
		hi = max(hi, f);
	}
	if (hi < lo + noise)
		g->sustained = false;
	/*
	 * To become sustained, the floor must rise still: in the newest
	 * quarter, and by a third of the whole in the newer half of the
	 * window -- a warm-up that ended a while ago has its rise in the
	 * older half, and none since.  Staying sustained needs neither: a
	 * leak's steps may leave a quarter, or a half, without one.
	 */
	if (g->sustained && !was && n == GMG_RING) {
		f = max(g->ring_v[(idx + 1) % GMG_RING], base);
		if (hi - f < (hi - lo) / 3 ||
		    g->ring_v[g->ring_head] <= g->ring_v[(idx + 2) % GMG_RING])
			g->sustained = false;
	}

	if (g->quarters <= GMG_RING)
		g->shape = GOMEMGUARD_SHAPE_STARTUP;
	else if (g->sustained && g->rate >= GMG_MIN_RATE)
		g->shape = GOMEMGUARD_SHAPE_GROWTH;
	else if (g->swing_kib >= max_t(u32, GMG_SWING_MIN_KIB,
				       kib_sat(g->ring_v[g->ring_head]) / 16))
		g->shape = GOMEMGUARD_SHAPE_SAWTOOTH;
	else
		g->shape = GOMEMGUARD_SHAPE_FLAT;
}

/*
 * How fast it grew lately: from the floor of the quarter before this one
 * (this one's, while it is the first) to @v, over @span_ns.  0 unless @v is
 * the top of this quarter: on its way up, not down.
 */
static s64 recent_rate(const struct gmg_growth *g, u64 t, u64 v, u64 *span_ns)
{
	int idx = g->ring_head;

	if (g->quarters > 1)
		idx = (idx + GMG_RING - 1) % GMG_RING;
	*span_ns = t - g->ring_t[idx];
	if (kib_sat(v - min(v, g->ring_v[g->ring_head])) < g->peak_kib)
		return 0;
	/*
	 * Less than noise is no burst: a dd's 1 MiB buffer, quickly faulted in
	 * into a memcg that something else filled.
	 */
	if (v < g->ring_v[idx] + ((u64)GMG_SWING_MIN_KIB << 10))
		return 0;
	return slope(g->ring_t[idx], g->ring_v[idx], t, v);
}

/*
 * An ETA of @headroom at @rate into *@eta_ms / *@eta_limit, if it is the
 * nearest yet and below @cap_ms.
 */
static void consider_eta(u64 *eta_ms, u32 *eta_limit, u64 headroom, s64 rate,
			 u32 limit, u64 cap_ms)
{
	u64 ms;

	if (rate < GMG_MIN_RATE)
		return;
	ms = mul_div_sat(headroom, MSEC_PER_SEC, rate);
	if (ms > cap_ms)
		return;
	if (!*eta_limit || ms < *eta_ms) {
		*eta_ms = ms;
		*eta_limit = limit;
	}
}

static void consider(struct gmg_state *st, u64 headroom, s64 rate, u32 limit,
		     u64 cap_ms)
{
	consider_eta(&st->eta_ms, &st->eta_limit, headroom, rate, limit, cap_ms);
}

/*
 * Where a sustained rate's ETA starts from: a sawtooth reaches its limit
 * at a peak, so the floor now (the last complete quarter's, carried on at
 * the rate) plus the height of the recent falls -- not whatever point of
 * the tooth this sample caught, which swings the ETA by the tooth's height
 * and re-arms its warning at every trough.
 */
static u64 sustained_top(const struct gmg_growth *g, u64 t, u64 v)
{
	int last = (g->ring_head + GMG_RING - 1) % GMG_RING;
	u64 us = min_t(u64, div_u64(t - g->ring_t[last], NSEC_PER_USEC), U32_MAX);
	u64 top = g->ring_v[last], lift;

	lift = g->rate > 0 ? mul_div_sat(g->rate, us, USEC_PER_SEC) : 0;
	if (check_add_overflow(top, lift, &top) ||
	    check_add_overflow(top, (u64)g->swing_kib << 10, &top))
		return U64_MAX;
	return max(v, top);
}

/*
 * Time to the nearest limit not yet reached: at the sustained rate, or --
 * for growth not (yet) sustained: a young process, a burst -- at the recent
 * rate, when that fills the headroom within the time it has just taken to
 * grow so much.  A start-up that builds its working set well clear of its
 * limits does not; 180 MiB at once into a 256 MiB memcg does, before the
 * OOM killer comes.
 */
static void update_eta(struct gmg_state *st, const struct gmg_settings *set,
		       const struct gmg_sample *s, s64 recent, u64 span_ns)
{
	const struct gmg_memcg_view *m = &s->memcg;
	s64 own = st->growth.sustained ? st->growth.rate : 0;
	u64 used = s->anon + s->swap;
	u64 top = own ? sustained_top(&st->growth, s->time_ns, used) : used;
	u8 shape = st->growth.shape;
	u64 cap = min3(div_u64(span_ns, NSEC_PER_MSEC), (u64)set->eta_horizon_ms,
		       (u64)GMG_BURST_SPAN_MS);
	u64 unreclaimable, lifted;
	s64 memcg_rate;

	st->eta_limit = 0;
	st->eta_ms = 0;
	if (used < set->soft_limit) {
		consider(st, sub_sat(set->soft_limit, top), own,
			 GOMEMGUARD_LIMIT_SOFT, U64_MAX);
		consider(st, set->soft_limit - used, recent,
			 GOMEMGUARD_LIMIT_SOFT, cap);
	}
	/*
	 * Against the memcg, only what it cannot reclaim counts: a memcg full
	 * of clean page cache is not in danger.  And what grows may be the
	 * memcg rather than the process: tmpfs files, or a sibling's memory.
	 */
	unreclaimable = m->usage - min(m->usage, m->reclaimable);
	if (check_add_overflow(unreclaimable, top - used, &lifted))
		lifted = U64_MAX;
	/*
	 * ... but only while the process itself stands still: otherwise what
	 * moves the memcg is mostly the process -- its start-up, its sawtooth,
	 * its steps -- and the memcg's short window takes that for growth of
	 * its own, or for growth twice as fast as it is.  The process's own
	 * rate, over its own window, is the better measure then.
	 */
	memcg_rate = own;
	if (m->fold && m->sustained && shape == GOMEMGUARD_SHAPE_FLAT &&
	    st->growth.rate < GMG_MIN_RATE && st->growth.rate > -GMG_MIN_RATE)
		memcg_rate = max(own, m->rate);
	if (m->max != U64_MAX) {
		consider(st, sub_sat(m->max, lifted), memcg_rate,
			 GOMEMGUARD_LIMIT_MEMCG_MAX, U64_MAX);
		consider(st, sub_sat(m->max, unreclaimable), recent,
			 GOMEMGUARD_LIMIT_MEMCG_MAX, cap);
	}
	if (m->high != U64_MAX && m->high < m->max) {
		consider(st, sub_sat(m->high, lifted), memcg_rate,
			 GOMEMGUARD_LIMIT_MEMCG_HIGH, U64_MAX);
		consider(st, sub_sat(m->high, unreclaimable), recent,
			 GOMEMGUARD_LIMIT_MEMCG_HIGH, cap);
	}
}

void gmg_assess(struct gmg_state *st, const struct gmg_settings *set,
		const struct gmg_sample *s, struct gmg_verdict *v)
{
	u64 used = s->anon + s->swap;
	u64 horizon = set->eta_horizon_ms;
	u64 hyst = pct_of(set->soft_limit, GOMEMGUARD_HYSTERESIS_PCT);
	u64 span_ns;
	bool eta_now, pending;
	s64 recent;
	u8 lvl;

	memset(v, 0, sizeof(*v));
	/* TAG_SET may have taken levels away: forget the ones gone. */
	st->level = min(st->level, set->nr_levels);
	st->last = *s;
	st->hwm = max(st->hwm, used);
	gmg_growth_update(&st->growth, (u64)gmg_rate_window_ms(set) * NSEC_PER_MSEC,
			  s->time_ns, used);
	recent = recent_rate(&st->growth, s->time_ns, used, &span_ns);
	update_eta(st, set, s, recent, span_ns);
	v->growing = st->growth.rate >= GMG_MIN_RATE || recent >= GMG_MIN_RATE ||
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
	} else if (st->eta_warned && !eta_now && !st->growth.sustained &&
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

/*
 * What of its memcg's growth a process owns: the rate of its own floor --
 * once it has floors (three quarters of its window seen).  A process
 * younger than that -- the dd and sleep a shell loop forks, alive for a
 * moment -- owns none: its "rate" is how fast it faulted its first pages
 * in.  A leaking process has floors well before its memcg's growth is
 * sustained: that takes the memcg a whole window, at least as long.
 */
s64 gmg_assess_own_rate(const struct gmg_state *st)
{
	return st->growth.quarters >= 3 ? st->growth.rate : 0;
}

/* A process owns its memcg's growth while it was seen growing this lately. */
#define GMG_OWNER_NS		(2 * NSEC_PER_SEC)

/*
 * The fastest-growing watched process of the memcg lately: each process
 * reports at its own samples (every 100 ms while anything there grows, at
 * least every second), so the fastest of the last GMG_OWNER_NS stands for
 * all of them.  The fastest, not the sum: one process whose growth makes
 * up half of the memcg's is the cause, and its own ETA says so.
 */
void gmg_assess_memcg_owner(struct gmg_memcg_state *st, s64 rate, u64 now)
{
	if (rate >= st->owner_rate || now - st->owner_ns > GMG_OWNER_NS) {
		st->owner_rate = rate;
		st->owner_ns = now;
	}
}

/*
 * A memcg's own ETA: the growth of what it cannot reclaim (usage less the
 * file LRU), through the same floor estimator as a process's, over the
 * longest rate window of the tags watching processes there, and only once
 * sustained through a whole window of its own history.  Growth a watched
 * process owns -- its own floor grows at half the memcg's rate or more --
 * is that process's: its ETA warns, and the memcg's would say the same
 * thing twice.  What is left is the memcg's: tmpfs and shmem files,
 * unevictable pages, processes nobody tagged.  One ETA event per limit,
 * re-armed -- with a RECOVER -- once the growth is no longer sustained and
 * the ETA is well above the horizon or gone, as for a process.
 */
void gmg_assess_memcg(struct gmg_memcg_state *st, u32 horizon_ms,
		      u32 window_ms, const struct gmg_memcg_view *m, u64 now,
		      struct gmg_memcg_verdict *v)
{
	u64 used = m->usage - min(m->usage, m->reclaimable);
	u64 top, room = U64_MAX;
	s64 rate, owner;
	bool eta_now;

	memset(v, 0, sizeof(*v));
	st->last_ns = now;
	gmg_growth_update(&st->growth, (u64)window_ms * NSEC_PER_MSEC, now, used);
	rate = st->growth.sustained ? st->growth.rate : 0;
	owner = now - st->owner_ns <= GMG_OWNER_NS ? st->owner_rate : 0;
	st->owned = rate > 0 && owner >= rate / 2;

	st->eta_limit = 0;
	st->eta_ms = 0;
	if (!st->owned && rate >= GMG_MIN_RATE) {
		top = sustained_top(&st->growth, now, used);
		if (m->max != U64_MAX)
			consider_eta(&st->eta_ms, &st->eta_limit,
				     sub_sat(m->max, top), rate,
				     GOMEMGUARD_LIMIT_MEMCG_MAX, U64_MAX);
		if (m->high != U64_MAX && m->high < m->max)
			consider_eta(&st->eta_ms, &st->eta_limit,
				     sub_sat(m->high, top), rate,
				     GOMEMGUARD_LIMIT_MEMCG_HIGH, U64_MAX);
	}

	/*
	 * Re-armed -- and RECOVER -- only with room again for more than the
	 * horizon at the rate that was warned about: a memcg whose growth
	 * stalls at its limit (reclaim's last stand before the OOM kill) has
	 * not recovered, it is about to be killed.
	 */
	if (m->max != U64_MAX)
		room = sub_sat(m->max, used);
	if (m->high != U64_MAX && m->high < m->max)
		room = min(room, sub_sat(m->high, used));

	eta_now = st->eta_limit && st->eta_ms < horizon_ms;
	if (eta_now && st->eta_warned != st->eta_limit) {
		st->eta_warned = st->eta_limit;
		st->warn_rate = rate;
		v->eta = true;
		if (!st->first_warn_ns) {
			st->first_warn_ns = now;
			st->episode_ns = now;
			st->recover_ns = 0;
		}
	} else if (st->eta_warned && !eta_now && !st->growth.sustained &&
		   (!st->eta_limit ||
		    st->eta_ms * GMG_ETA_REARM_DEN > (u64)horizon_ms * GMG_ETA_REARM_NUM) &&
		   mul_div_sat(room, MSEC_PER_SEC, max(st->warn_rate, rate)) *
		   GMG_ETA_REARM_DEN > (u64)horizon_ms * GMG_ETA_REARM_NUM) {
		st->eta_warned = 0;
	}
	if (st->first_warn_ns && !st->eta_warned) {
		v->recover = true;
		st->first_warn_ns = 0;
		st->recover_ns = now;
	}
}
