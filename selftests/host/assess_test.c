// SPDX-License-Identifier: GPL-2.0
/*
 * kmod/assess.c on the host: the growth rate, the ETA, the levels, the
 * hysteresis, the fuse and the "growing" hint, from made-up samples whose
 * right answers are known.  assess.c is pure arithmetic; kshim/ gives it the
 * few kernel names it uses.  The guest tests see the same code work on real
 * processes, where the right answers are only known approximately.
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <linux/minmax.h>

#include "gomemguard.h"
#include "kselftest_harness.h"

#define MIB		(1024ULL * 1024)
#define MS		1000000ULL	/* ns */
#define SEC		(1000 * MS)
/* assess.c's GMG_MIN_RATE: below it, no growth to speak of. */
#define GMG_TEST_MIN_RATE	(64 * 1024)

static struct gmg_settings settings(u64 soft, u32 nr_levels, const u32 *levels)
{
	struct gmg_settings set = {
		.soft_limit = soft,
		.eta_horizon_ms = 5000,
		.rate_window_ms = 2000,
		.nr_levels = nr_levels,
	};

	memcpy(set.levels, levels, nr_levels * sizeof(*levels));
	return set;
}

/* A sample of @anon bytes at @t ns, in a memcg without limits. */
static struct gmg_sample sample(u64 t, u64 anon)
{
	struct gmg_sample s = {
		.time_ns = t,
		.anon = anon,
		/* As for a process tagged by PID. */
		.memcg = { .usage = anon, .max = U64_MAX, .high = U64_MAX,
			   .fold = true },
	};

	return s;
}

/* Within @pct percent of @want. */
static int near(double got, double want, double pct)
{
	return got >= want * (1 - pct / 100) && got <= want * (1 + pct / 100);
}

TEST(steady_leak_rate_and_eta)
{
	const u32 levels[] = { 90 };
	struct gmg_settings set = settings(1024 * MIB, 1, levels);
	struct gmg_state st = {};
	struct gmg_verdict v;
	u64 t, anon = 100 * MIB, rate = 16 * MIB;

	/* 16 MiB/s, sampled every 100 ms for 3 s. */
	for (t = 0; t <= 3 * SEC; t += 100 * MS) {
		struct gmg_sample s = sample(t, anon + rate * t / SEC);

		gmg_assess(&st, &set, &s, &v);
	}
	EXPECT_TRUE(st.growth.sustained);
	EXPECT_TRUE(near(st.growth.rate, rate, 2))
		TH_LOG("rate %lld, expected %llu", (long long)st.growth.rate,
		       (unsigned long long)rate);
	/* (1024 - 148) MiB to go at 16 MiB/s: 54.75 s. */
	EXPECT_EQ(GOMEMGUARD_LIMIT_SOFT, st.eta_limit);
	EXPECT_TRUE(near(st.eta_ms, 54750, 2))
		TH_LOG("eta %llu ms", (unsigned long long)st.eta_ms);
	EXPECT_TRUE(v.growing);
	EXPECT_FALSE(v.eta);
}

/*
 * A start-up step, kept out of the rate: a 30 MiB step in the second
 * quarter, then a steady 16 MiB/s.  Before the history is a window long
 * the rate is not sustained (no ETA); once it is, the oldest quarter's
 * floor is still before the step, and the slope over the whole window
 * says 35 MiB/s; the leak's rate is 16.  Nor is it sustained yet: most of
 * the window's rise is the step, in its older half, as in a warm-up.  A
 * quarter later it is.
 */
TEST(start_up_step_does_not_inflate_the_rate)
{
	const u32 levels[] = { 90 };
	struct gmg_settings set = settings(1024 * MIB, 1, levels);
	struct gmg_state st = {};
	struct gmg_verdict v;
	u64 t, anon;

	for (t = 0; t <= 2500 * MS; t += 100 * MS) {
		struct gmg_sample s;

		anon = 10 * MIB + (t >= 700 * MS ? 30 * MIB : 0) + 16 * MIB * t / SEC;
		s = sample(t, anon);
		gmg_assess(&st, &set, &s, &v);
		if (t == 1500 * MS) {
			EXPECT_FALSE(st.growth.sustained);
			EXPECT_EQ(GOMEMGUARD_SHAPE_STARTUP, st.growth.shape);
		}
		if (t == 2000 * MS) {
			EXPECT_FALSE(st.growth.sustained);
			EXPECT_TRUE(near(st.growth.rate, 16 * MIB, 5))
				TH_LOG("rate %.1f MiB/s, expected 16",
				       st.growth.rate / (double)MIB);
		}
	}
	EXPECT_TRUE(st.growth.sustained);
	EXPECT_EQ(GOMEMGUARD_SHAPE_GROWTH, st.growth.shape);
	EXPECT_TRUE(near(st.growth.rate, 16 * MIB, 5))
		TH_LOG("rate %.1f MiB/s, expected 16", st.growth.rate / (double)MIB);
}

/* A working set allocated once is not a leak: no sustained rate, no ETA. */
TEST(one_step_then_flat_is_not_a_leak)
{
	const u32 levels[] = { 90 };
	struct gmg_settings set = settings(128 * MIB, 1, levels);
	struct gmg_state st = {};
	struct gmg_verdict v;
	u64 t;

	for (t = 0; t <= 4 * SEC; t += 100 * MS) {
		struct gmg_sample s = sample(t, t < 300 * MS ? 10 * MIB : 60 * MIB);

		gmg_assess(&st, &set, &s, &v);
		EXPECT_FALSE(v.eta) TH_LOG("ETA event at %llu ms", t / MS);
	}
	EXPECT_FALSE(st.growth.sustained);
	EXPECT_EQ(0, st.eta_limit);
	EXPECT_FALSE(v.growing);
}

/* Levels in order, once each; hysteresis; RECOVER below the lowest. */
TEST(levels_hysteresis_and_recover)
{
	const u32 levels[] = { 50, 80 };
	struct gmg_settings set = settings(100 * MIB, 2, levels);
	struct gmg_state st = {};
	struct gmg_sample s;
	struct gmg_verdict v;
	u64 t = 0;

#define STEP(mib) do {							\
		t += 10 * SEC;	/* far apart: no rate, no ETA */	\
		s = sample(t, (mib) * MIB);				\
		gmg_assess(&st, &set, &s, &v);				\
	} while (0)

	STEP(40);
	EXPECT_EQ(0, v.nr_warn);
	EXPECT_FALSE(st.warned);
	EXPECT_EQ(50 * MIB, v.wake_bytes);	/* the next level */
	STEP(85);			/* both at once, in order */
	EXPECT_TRUE(st.warned);
	ASSERT_EQ(2, v.nr_warn);
	EXPECT_EQ(1, v.warn_level[0]);
	EXPECT_EQ(2, v.warn_level[1]);
	STEP(82);
	EXPECT_EQ(0, v.nr_warn);
	STEP(76);			/* under 80 but within 5 points */
	EXPECT_EQ(0, v.nr_warn);
	EXPECT_EQ(2, st.level);
	STEP(74);			/* 80 re-armed */
	EXPECT_EQ(1, st.level);
	EXPECT_FALSE(v.recover);
	STEP(81);
	ASSERT_EQ(1, v.nr_warn);
	EXPECT_EQ(2, v.warn_level[0]);
	STEP(46);			/* below 50, within the margin */
	EXPECT_FALSE(v.recover);
	STEP(44);
	EXPECT_TRUE(v.recover);
	EXPECT_EQ(0, st.level);
	EXPECT_EQ(0, st.first_warn_ns);
	/* Recovered, but it did warn: its exit is still news (tracker.c). */
	EXPECT_TRUE(st.warned);
	STEP(30);
	EXPECT_FALSE(v.recover);	/* once */
	EXPECT_TRUE(st.warned);
#undef STEP
}

/* One ETA event per limit; re-armed once the ETA is well above the horizon. */
TEST(eta_event_once_and_rearmed)
{
	const u32 levels[] = { 100 };
	struct gmg_settings set = settings(1024 * MIB, 1, levels);
	struct gmg_state st = {};
	struct gmg_verdict v;
	int etas = 0;
	u64 t, anon = 900 * MIB;

	/* 32 MiB/s with 124 MiB to go: under the 5 s horizon within 2 s. */
	for (t = 0; t <= 2500 * MS; t += 100 * MS) {
		struct gmg_sample s = sample(t, anon + 32 * MIB * t / SEC);

		gmg_assess(&st, &set, &s, &v);
		etas += v.eta;
	}
	EXPECT_EQ(1, etas);
	EXPECT_EQ(GOMEMGUARD_LIMIT_SOFT, st.eta_warned);
	/* No level crossed: an ETA event alone makes its exit news. */
	EXPECT_EQ(0, st.level);
	EXPECT_TRUE(st.warned);
	/* Growth stops for good: re-armed, and a new leak warns again. */
	for (t = 2600 * MS; t <= 8 * SEC; t += 100 * MS) {
		struct gmg_sample s = sample(t, 980 * MIB);

		gmg_assess(&st, &set, &s, &v);
	}
	EXPECT_EQ(0, st.eta_warned);
	EXPECT_FALSE(v.growing);
}

/*
 * The process is flat, its memcg's unreclaimable part grows (a tmpfs
 * writer): the ETA is the memcg's -- once the process has a window of
 * history: before, its own start-up may be what the memcg's short window
 * sees.  The same usage in clean page cache is no danger at all.
 */
TEST(memcg_growth_and_page_cache)
{
	const u32 levels[] = { 90 };
	struct gmg_settings set = settings(1024 * MIB, 1, levels);
	struct gmg_state st = {};
	struct gmg_sample s = sample(0, 20 * MIB);
	struct gmg_verdict v;
	u64 t;

	s.memcg.usage = 100 * MIB;
	s.memcg.max = 128 * MIB;
	s.memcg.rate = 8 * MIB;
	s.memcg.sustained = true;
	gmg_assess(&st, &set, &s, &v);
	EXPECT_EQ(0, st.eta_limit) TH_LOG("an ETA from the first sample");
	for (t = 100 * MS; t <= 2000 * MS; t += 100 * MS) {
		s.time_ns = t;
		gmg_assess(&st, &set, &s, &v);
	}
	EXPECT_EQ(GOMEMGUARD_SHAPE_FLAT, st.growth.shape);
	EXPECT_EQ(GOMEMGUARD_LIMIT_MEMCG_MAX, st.eta_limit);
	EXPECT_TRUE(near(st.eta_ms, 3500, 1))
		TH_LOG("eta %llu ms", (unsigned long long)st.eta_ms);
	EXPECT_TRUE(v.eta);
	EXPECT_TRUE(v.growing);

	/* Adopted by a cgroup tag: the memcg's own ETA says it, not this one. */
	memset(&st, 0, sizeof(st));
	s.memcg.fold = false;
	for (t = 0; t <= 2000 * MS; t += 100 * MS) {
		s.time_ns = t;
		gmg_assess(&st, &set, &s, &v);
	}
	EXPECT_EQ(0, st.eta_limit);
	EXPECT_FALSE(v.eta);
	s.memcg.fold = true;

	memset(&st, 0, sizeof(st));
	s.memcg.reclaimable = 90 * MIB;	/* mostly clean cache */
	s.memcg.rate = 0;
	s.memcg.sustained = false;
	s.memcg.usage = 127 * MIB;
	gmg_assess(&st, &set, &s, &v);
	EXPECT_EQ(0, st.eta_limit);
	EXPECT_FALSE(v.eta);
	EXPECT_FALSE(v.growing);
}

/* The fuse: once per upward crossing of the soft limit, at most 1/s. */
TEST(fuse_once_per_crossing)
{
	const u32 levels[] = { 90 };
	struct gmg_settings set = settings(100 * MIB, 1, levels);
	struct gmg_state st = {};
	struct gmg_sample s;
	struct gmg_verdict v;

	set.signal = 10;
	s = sample(1 * SEC, 101 * MIB);
	gmg_assess(&st, &set, &s, &v);
	EXPECT_TRUE(v.fire_signal);
	s = sample(5 * SEC, 102 * MIB);
	gmg_assess(&st, &set, &s, &v);
	EXPECT_FALSE(v.fire_signal);	/* still the same crossing */
	s = sample(10 * SEC, 90 * MIB);	/* 5 points below: re-armed */
	gmg_assess(&st, &set, &s, &v);
	s = sample(10 * SEC + 500 * MS, 101 * MIB);
	gmg_assess(&st, &set, &s, &v);
	EXPECT_TRUE(v.fire_signal);
	EXPECT_EQ(2, st.signals_sent);
}

/*
 * A crossing within a second of the last signal is not swallowed: it fires
 * once that second is over, while usage is still above the limit (a fuse
 * that only fired on the first crossing left the process over its limit
 * with no signal at all).
 */
TEST(fuse_recrossing_inside_the_rate_limit_fires_late)
{
	const u32 levels[] = { 90 };
	struct gmg_settings set = settings(100 * MIB, 1, levels);
	struct gmg_state st = {};
	struct gmg_sample s;
	struct gmg_verdict v;

	set.signal = 10;
	s = sample(1 * SEC, 101 * MIB);
	gmg_assess(&st, &set, &s, &v);
	ASSERT_TRUE(v.fire_signal);
	s = sample(1 * SEC + 200 * MS, 90 * MIB);	/* re-armed */
	gmg_assess(&st, &set, &s, &v);
	s = sample(1 * SEC + 400 * MS, 101 * MIB);	/* again, too soon */
	gmg_assess(&st, &set, &s, &v);
	EXPECT_FALSE(v.fire_signal);
	EXPECT_TRUE(v.growing) TH_LOG("a pending fuse must be sampled often");
	s = sample(1 * SEC + 800 * MS, 101 * MIB);
	gmg_assess(&st, &set, &s, &v);
	EXPECT_FALSE(v.fire_signal);
	s = sample(2 * SEC + 100 * MS, 101 * MIB);	/* the second is over */
	gmg_assess(&st, &set, &s, &v);
	EXPECT_TRUE(v.fire_signal);
	EXPECT_EQ(2, st.signals_sent);
	s = sample(3 * SEC + 500 * MS, 102 * MIB);	/* the same crossing */
	gmg_assess(&st, &set, &s, &v);
	EXPECT_FALSE(v.fire_signal);
	/* Back below before the second was over: nothing is owed. */
	s = sample(4 * SEC, 90 * MIB);
	gmg_assess(&st, &set, &s, &v);
	s = sample(4 * SEC + 100 * MS, 101 * MIB);
	gmg_assess(&st, &set, &s, &v);
	EXPECT_TRUE(v.fire_signal);
	EXPECT_EQ(3, st.signals_sent);
}

/* A fuse its setter may not send is not counted as sent. */
TEST(fuse_unsent_is_not_counted)
{
	const u32 levels[] = { 90 };
	struct gmg_settings set = settings(100 * MIB, 1, levels);
	struct gmg_state st = {};
	struct gmg_sample s;
	struct gmg_verdict v;

	set.signal = 10;
	s = sample(1 * SEC, 101 * MIB);
	gmg_assess(&st, &set, &s, &v);
	ASSERT_TRUE(v.fire_signal);
	gmg_assess_unsent(&st);
	EXPECT_EQ(0, st.signals_sent);
	s = sample(3 * SEC, 102 * MIB);
	gmg_assess(&st, &set, &s, &v);
	EXPECT_FALSE(v.fire_signal);	/* the crossing was dealt with */
}

/*
 * TAG_SET takes levels away while the process is above them: it must
 * still recover once below, and warn again when it crosses the levels it
 * has now (the old code kept level 3 of 1 for ever: no RECOVER, no WARN).
 */
TEST(levels_shrunk_by_tag_set)
{
	const u32 three[] = { 50, 70, 90 }, one[] = { 60 };
	struct gmg_settings set = settings(100 * MIB, 3, three);
	struct gmg_state st = {};
	struct gmg_sample s;
	struct gmg_verdict v;

	s = sample(1 * SEC, 95 * MIB);
	gmg_assess(&st, &set, &s, &v);
	ASSERT_EQ(3, v.nr_warn);
	ASSERT_EQ(3, st.level);

	set = settings(100 * MIB, 1, one);
	s = sample(2 * SEC, 95 * MIB);
	gmg_assess(&st, &set, &s, &v);
	EXPECT_EQ(1, st.level);
	EXPECT_EQ(0, v.nr_warn);		/* 60 % was crossed already */
	EXPECT_EQ(100 * MIB, v.wake_bytes);	/* the soft limit is next */

	s = sample(3 * SEC, 40 * MIB);		/* below 60 - 5 */
	gmg_assess(&st, &set, &s, &v);
	EXPECT_EQ(0, st.level);
	EXPECT_TRUE(v.recover);

	s = sample(4 * SEC, 61 * MIB);
	gmg_assess(&st, &set, &s, &v);
	EXPECT_EQ(1, v.nr_warn);
	EXPECT_EQ(1, v.warn_level[0]);
}

/*
 * Soft limits near 2^64 saturate rather than wrap: with 16 PiB + 3 GiB to
 * go at 100 MiB/s the ETA is about 5.4 years, not "17 s", and the levels
 * and percentages stay where they belong.
 */
TEST(soft_limits_near_2_64)
{
	const u32 levels[] = { 80, 1000 };
	struct gmg_settings set = settings(U64_MAX - 5, 2, levels);
	u64 anon = 100 * MIB, rate = 100 * MIB, t;
	struct gmg_state st = {};
	struct gmg_sample s;
	struct gmg_verdict v;

	set.eta_horizon_ms = 86400000;
	for (t = 0; t <= 3 * SEC; t += 100 * MS) {
		s = sample(t, anon + rate * t / SEC);
		gmg_assess(&st, &set, &s, &v);
	}
	EXPECT_EQ(0, v.nr_warn);
	EXPECT_FALSE(v.eta);
	EXPECT_EQ(0, gmg_usage_pct(&st, &set));
	/* (2^64 - 400 MiB) / 100 MiB/s, in ms: no wrap-around to seconds. */
	EXPECT_EQ(GOMEMGUARD_LIMIT_SOFT, st.eta_limit);
	EXPECT_GT(st.eta_ms, 170000000000000ULL) TH_LOG("eta %llu ms",
		(unsigned long long)st.eta_ms);
	/* 1000 % of it does not fit in 64 bits: a level nothing reaches. */
	EXPECT_GE(v.wake_bytes, U64_MAX / 100 * 80);

	/* The 1 EiB policy bound, and 16 PiB + 3 GiB to go. */
	set = settings((1ULL << 60), 2, levels);
	memset(&st, 0, sizeof(st));
	anon = (1ULL << 60) - (16ULL << 50) - (3ULL << 30);
	for (t = 0; t <= 3 * SEC; t += 100 * MS) {
		s = sample(t, anon + rate * t / SEC);
		gmg_assess(&st, &set, &s, &v);
	}
	/* About 171.8e9 ms: 5.4 years. */
	EXPECT_TRUE(near(st.eta_ms, (double)((16ULL << 50) + (3ULL << 30) - 300 * MIB) /
			 (100 * MIB) * 1000, 2)) TH_LOG("eta %llu ms",
			(unsigned long long)st.eta_ms);
	EXPECT_EQ(98, gmg_usage_pct(&st, &set));
	EXPECT_EQ(1, st.level);			/* 80 % crossed */

	/* Usage far above a tiny limit: the percentage saturates. */
	set = settings(1, 1, levels);
	memset(&st, 0, sizeof(st));
	s = sample(SEC, U64_MAX / 2);
	gmg_assess(&st, &set, &s, &v);
	EXPECT_EQ(U32_MAX, gmg_usage_pct(&st, &set));
}

/*
 * Trend, not noise (issue 14).  A Go service as users saw it: memcg
 * memory.max 256M, tagged --soft-limit 256M --eta 20s, the default 5 s
 * window, sampled every 100 ms.  Each series below runs through gmg_assess()
 * and counts what would have been sent.
 */
struct run {
	int warns, etas, recovers;
	u64 first_eta_ns;	/* 0: none */
	u64 first_eta_ms;	/* the ETA it announced */
	u32 first_eta_limit;
	u64 limit_ns;		/* when memory.max was reached; 0: never */
};

/* anon at @t ns; @other: what else the memcg holds and cannot reclaim. */
typedef u64 (*series_t)(u64 t, u64 *other);

static struct gmg_settings service_settings(void)
{
	static const u32 levels[] = { 80, 90, 100 };
	struct gmg_settings set = settings(256 * MIB, 3, levels);

	set.eta_horizon_ms = 20000;
	set.rate_window_ms = 5000;
	return set;
}

/* Samples as of a process a cgroup tag adopted (no memcg rate folded in). */
static bool series_adopted;

/* From @from to @to ns (the first sample at @from is the tag). */
static struct run run_series(struct gmg_state *st, const struct gmg_settings *set,
			     series_t f, u64 from, u64 to)
{
	static struct gmg_growth memcg;	/* memcg.c's, over its 2 s window */
	struct run r = {};
	struct gmg_verdict v;
	u64 t;

	if (!st->growth.quarters)
		memset(&memcg, 0, sizeof(memcg));
	for (t = from; t <= to && !r.limit_ns; t += 100 * MS) {
		u64 other = 0, anon = f(t, &other);
		struct gmg_sample s = sample(t, anon);

		s.memcg.usage = anon + other;
		s.memcg.max = 256 * MIB;
		s.memcg.fold = !series_adopted;
		gmg_growth_update(&memcg, 2 * SEC, t, s.memcg.usage);
		s.memcg.rate = memcg.rate;
		s.memcg.sustained = memcg.sustained;
		if (s.memcg.usage >= s.memcg.max) {
			r.limit_ns = t;	/* the OOM killer's turn */
			break;
		}
		gmg_assess(st, set, &s, &v);
		r.warns += v.nr_warn;
		r.recovers += v.recover;
		if (v.eta) {
			if (!r.etas) {
				r.first_eta_ns = t;
				r.first_eta_ms = st->eta_ms;
				r.first_eta_limit = st->eta_limit;
			}
			r.etas++;
		}
	}
	return r;
}

/*
 * From 0 to @to ns: the series must reach memory.max, with an ETA before;
 * @lead_ms: how long before.
 */
static struct run run_to_limit(struct __test_metadata *_metadata,
			       struct gmg_state *st, const struct gmg_settings *set,
			       series_t f, u64 to, double *lead_ms)
{
	struct run r = run_series(st, set, f, 0, to);

	ASSERT_NE(0, r.limit_ns);
	ASSERT_NE(0, r.etas);
	*lead_ms = (r.limit_ns - r.first_eta_ns) / 1e6;
	return r;
}

/* 8 MiB, then 48 MiB of working set built over 3.3 s, then flat. */
static u64 warm_up(u64 t, u64 *other)
{
	u64 ramp = 3300 * MS;

	return 8 * MIB + 48 * MIB * min(t, ramp) / ramp;
}

/* Start-up is not a leak: no ETA, no RECOVER (the old code: both, at 3.1 s). */
TEST(warm_up_then_flat_gives_no_eta)
{
	struct gmg_settings set = service_settings();
	struct gmg_state st = {};
	struct run r;

	r = run_series(&st, &set, warm_up, 0, 4 * SEC);
	EXPECT_EQ(0, r.etas) TH_LOG("ETA event at %.1f s", r.first_eta_ns / 1e9);
	EXPECT_EQ(GOMEMGUARD_SHAPE_STARTUP, st.growth.shape);
	r = run_series(&st, &set, warm_up, 4100 * MS, 20 * SEC);
	EXPECT_EQ(0, r.etas) TH_LOG("ETA event at %.1f s", r.first_eta_ns / 1e9);
	EXPECT_EQ(0, r.recovers);
	EXPECT_EQ(0, r.warns);
	EXPECT_EQ(GOMEMGUARD_SHAPE_FLAT, st.growth.shape);
	EXPECT_EQ(0, st.eta_limit);
}

/*
 * A GC'd heap: climbs 48 MiB in 0.9 s, the collection gives it back, once
 * a second, from a floor of @floor.
 */
static u64 sawtooth(u64 t, u64 floor)
{
	u64 phase = t % SEC;

	return floor + (phase < 900 * MS ? 48 * MIB * phase / (900 * MS) : 0);
}

static u64 gc_flat(u64 t, u64 *other)
{
	return sawtooth(t, 100 * MIB);
}

/* A sawtooth is not a leak: its floor is flat, and so is its rate. */
TEST(gc_sawtooth_with_flat_floor_gives_no_eta)
{
	struct gmg_settings set = service_settings();
	struct gmg_state st = {};
	struct run r;

	r = run_series(&st, &set, gc_flat, 0, 60 * SEC);
	EXPECT_EQ(0, r.etas) TH_LOG("%d ETA events, the first at %.1f s",
				    r.etas, r.first_eta_ns / 1e9);
	EXPECT_EQ(0, r.warns);
	EXPECT_EQ(GOMEMGUARD_SHAPE_SAWTOOTH, st.growth.shape);
	EXPECT_FALSE(st.growth.sustained);
	EXPECT_GT(GMG_TEST_MIN_RATE, st.growth.rate > 0 ? st.growth.rate : -st.growth.rate)
		TH_LOG("rate %.2f MiB/s", st.growth.rate / (double)MIB);
}

/* The sawtooth, then 20 s of a heap that stays where it fell to. */
static u64 gc_then_flat(u64 t, u64 *other)
{
	return t < 20 * SEC ? sawtooth(t, 100 * MIB) : 100 * MIB;
}

/* Once the GC stops sawing, the sawtooth fades from the SHAPE. */
TEST(sawtooth_fades_once_over)
{
	struct gmg_settings set = service_settings();
	struct gmg_state st = {};
	struct run r;

	r = run_series(&st, &set, gc_then_flat, 0, 19 * SEC);
	EXPECT_EQ(GOMEMGUARD_SHAPE_SAWTOOTH, st.growth.shape);
	r = run_series(&st, &set, gc_then_flat, 19100 * MS, 40 * SEC);
	EXPECT_EQ(0, r.etas);
	EXPECT_EQ(GOMEMGUARD_SHAPE_FLAT, st.growth.shape);
}

/* The same sawtooth over a floor that leaks 4 MiB/s from 60 MiB. */
static u64 gc_leak(u64 t, u64 *other)
{
	return sawtooth(t, 60 * MIB + 4 * MIB * t / SEC);
}

/*
 * What grows in a leak is the floor: the ETA comes, the horizon ahead of
 * the peak that reaches memory.max, give or take 25 %.
 */
TEST(leak_under_a_sawtooth_is_caught_a_horizon_ahead)
{
	struct gmg_settings set = service_settings();
	struct gmg_state st = {};
	double lead;
	struct run r;

	r = run_to_limit(_metadata, &st, &set, gc_leak, 120 * SEC, &lead);
	TH_LOG("ETA %.1f s before memory.max (horizon %u ms), it said %llu ms; %d ETA events",
	       lead / 1000, set.eta_horizon_ms, (unsigned long long)r.first_eta_ms, r.etas);
	EXPECT_TRUE(near(lead, set.eta_horizon_ms, 25));
	EXPECT_TRUE(near(r.first_eta_ms, lead, 25));
	EXPECT_EQ(GOMEMGUARD_SHAPE_GROWTH, st.growth.shape);
	EXPECT_TRUE(near(st.growth.rate, 4 * MIB, 15))
		TH_LOG("rate %.2f MiB/s, expected 4", st.growth.rate / (double)MIB);
}

static u64 steady_leak(u64 t, u64 *other)
{
	return 40 * MIB + 8 * MIB * t / SEC;
}

/* A steady leak: the design's lead time, the horizon +-15 %. */
TEST(steady_leak_eta_lead_is_the_horizon)
{
	struct gmg_settings set = service_settings();
	struct gmg_state st = {};
	double lead;
	struct run r;

	r = run_to_limit(_metadata, &st, &set, steady_leak, 60 * SEC, &lead);
	TH_LOG("ETA %.1f s before memory.max, it said %llu ms", lead / 1000,
	       (unsigned long long)r.first_eta_ms);
	EXPECT_TRUE(near(lead, set.eta_horizon_ms, 15));
	EXPECT_TRUE(near(r.first_eta_ms, lead, 5));
	EXPECT_EQ(GOMEMGUARD_LIMIT_SOFT, r.first_eta_limit);
}

/*
 * 180 MiB at once, 1 s after start, into a memcg that holds 76 MiB it
 * cannot reclaim besides: memory.max is reached 1 s later, long before the
 * history is a window long.  It is warned about before.
 */
static u64 burst(u64 t, u64 *other)
{
	*other = 76 * MIB;
	if (t < SEC)
		return 8 * MIB;
	return 8 * MIB + 180 * MIB * min(t - SEC, SEC) / SEC;
}

TEST(burst_to_memory_max_is_warned_before_it)
{
	struct gmg_settings set = service_settings();
	struct gmg_state st = {};
	struct run r;

	r = run_series(&st, &set, burst, 0, 10 * SEC);
	ASSERT_NE(0, r.limit_ns);
	ASSERT_NE(0, r.etas) TH_LOG("memory.max reached at %.1f s unannounced",
				    r.limit_ns / 1e9);
	EXPECT_EQ(GOMEMGUARD_LIMIT_MEMCG_MAX, r.first_eta_limit);
	EXPECT_GT(r.limit_ns, r.first_eta_ns);
	TH_LOG("ETA at %.1f s: %llu ms; memory.max reached at %.1f s",
	       r.first_eta_ns / 1e9, (unsigned long long)r.first_eta_ms,
	       r.limit_ns / 1e9);
}

/*
 * Tagged long after it started leaking: its own history starts at the tag.
 * No ETA during the first window, though the ETA is 17 s of 20 already;
 * one as soon as the window is full.
 */
static u64 old_leak(u64 t, u64 *other)
{
	return 100 * MIB + 8 * MIB * (t - 600 * SEC) / SEC;
}

TEST(tagged_late_waits_a_window)
{
	struct gmg_settings set = service_settings();
	struct gmg_state st = {};
	struct run r;

	/* Tagged at 600 s with 156 MiB to go at 8 MiB/s: 19.5 s. */
	r = run_series(&st, &set, old_leak, 600 * SEC, 604900 * MS);
	EXPECT_EQ(0, r.etas) TH_LOG("ETA event %.1f s after the tag",
				    (r.first_eta_ns - 600 * SEC) / 1e9);
	EXPECT_EQ(GOMEMGUARD_SHAPE_STARTUP, st.growth.shape);
	r = run_series(&st, &set, old_leak, 605 * SEC, 606 * SEC);
	EXPECT_EQ(1, r.etas);
	EXPECT_EQ(GOMEMGUARD_SHAPE_GROWTH, st.growth.shape);
	EXPECT_TRUE(near(r.first_eta_ms, 14500, 5))
		TH_LOG("eta %llu ms", (unsigned long long)r.first_eta_ms);
}

/* Near a limit within one burst's height, a young process is warned. */
static u64 late_burst(u64 t, u64 *other)
{
	*other = 150 * MIB;
	return 8 * MIB + 98 * MIB * min(t, SEC) / SEC;
}

TEST(tagged_late_but_about_to_hit_is_warned)
{
	struct gmg_settings set = service_settings();
	struct gmg_state st = {};
	struct run r;

	r = run_series(&st, &set, late_burst, 0, 5 * SEC);
	ASSERT_NE(0, r.limit_ns);
	EXPECT_LE(1, r.etas);
	EXPECT_GT(r.limit_ns, r.first_eta_ns);
}

/*
 * Guest traces (tracker_test's logs of issue 14's runs, Debian 6.1
 * and 6.12): anon in MiB as PROC_GET saw it once a second, tagged at 0.  Go
 * keeps most of what it collects resident, so between two seconds anon
 * rises in a step or two -- a burst running past the heap's old top
 * (gcburst's bursts are 500 ms apart and build in 10-130 ms) -- and a fall
 * (a collection the scavenger follows) comes at once.
 */
static u64 stairs(const u16 *mib, int n, u64 t)
{
	int k = min_t(u64, t / SEC, n - 1);
	u64 a = mib[k] * MIB, b = k + 1 < n ? mib[k + 1] * MIB : a;
	u64 phase = t % SEC;

	if (b < a)
		return phase < 500 * MS ? a : b;
	if (phase < 200 * MS)
		return a;
	if (phase < 700 * MS)
		return a + (b - a) / 2;
	return b;
}

/*
 * gcburst without a leak, run 1 on 6.1: start-up to 86 MiB, a collection
 * back to 73, then the sawing stopped and anon crept up to 74 in 4 s and
 * climbed to 86 in 1.3 s, where it stayed, creeping by 0.1 MiB/s.  The
 * branch sent an ETA (19.8 s: the memcg's 2 s window took the climb for a
 * leak) and a RECOVER 0.5 s later.
 */
static u64 gc_creep(u64 t, u64 *other)
{
	static const u16 start[] = { 30, 44, 59, 67, 86 };

	*other = 3 * MIB;
	if (t < 4500 * MS)
		return stairs(start, ARRAY_SIZE(start), t);
	if (t < 8900 * MS)
		return 73 * MIB + MIB * (t - 4500 * MS) / (4400 * MS);
	if (t < 10200 * MS)
		return 74 * MIB + 12 * MIB * (t - 8900 * MS) / (1300 * MS);
	return 86 * MIB + MIB * (t - 10200 * MS) / (10 * SEC);
}

/*
 * Run 2 on 6.1: up to 78 MiB, the scavenger takes it down to 54 at 6.7 s,
 * and Go faults it back in, to 86 by 10 s; then it saws 80-86 with another
 * such dip at 20 s.  The branch: ETA 12.8 s at 11 s (the refill read as a
 * 10 MiB/s leak).
 */
static u64 gc_refill(u64 t, u64 *other)
{
	static const u16 run[] = { 30, 48, 63, 72, 74, 78, 78, 54, 58, 80, 86, 83, 86 };
	u64 phase = t % SEC;

	*other = 3 * MIB;
	if (t >= 20 * SEC && t < 26 * SEC)
		return stairs(run + 6, ARRAY_SIZE(run) - 6, t - 20 * SEC + 300 * MS);
	if (t >= 12 * SEC)
		return (phase < 800 * MS ? 80 * MIB + 6 * MIB * phase / (800 * MS) : 80 * MIB);
	return stairs(run, ARRAY_SIZE(run), t);
}

/* Sawtooths that never come near a limit: no WARN, no ETA, no RECOVER. */
static void no_alarm_with(struct __test_metadata *_metadata, series_t f,
			  const struct gmg_settings *sp)
{
	struct gmg_settings set = *sp;
	struct gmg_state st = {};
	struct run r;

	r = run_series(&st, &set, f, 0, 40 * SEC);
	EXPECT_EQ(0, r.limit_ns);
	EXPECT_EQ(0, r.etas) TH_LOG("%d ETA events, the first at %.1f s: %llu ms",
				    r.etas, r.first_eta_ns / 1e9,
				    (unsigned long long)r.first_eta_ms);
	EXPECT_EQ(0, r.recovers);
	EXPECT_EQ(0, r.warns);
}

static void no_alarm(struct __test_metadata *_metadata, series_t f)
{
	struct gmg_settings set = service_settings();

	no_alarm_with(_metadata, f, &set);
}

/*
 * goleak -rate 40M -max 112M (tracker_test's warm-up): 50, 91, 126 MiB in
 * the first 3 s, then 126 for good.  A warm-up, not a leak.
 */
static u64 go_warm_up(u64 t, u64 *other)
{
	static const u16 run[] = { 12, 50, 91, 126, 126 };

	*other = 3 * MIB;
	return stairs(run, ARRAY_SIZE(run), t);
}

TEST(go_warm_up_is_not_a_leak)
{
	no_alarm(_metadata, go_warm_up);
}

/*
 * Warm-ups over the 10 s window a 20 s horizon gets: the recent rate spans
 * up to 5 s, and from the first floor the bench's warm-up (8 to 132 MiB in
 * 3.2 s, adopted by the cgroup tag) read as a burst that fills 256 MiB "in
 * 3.0 s" -- an ETA at 3.2 s, and a RECOVER (6.1) -- until a burst's ETA was
 * held to 2.5 s whatever the window.
 */
static u64 warm_132(u64 t, u64 *other)
{
	u64 ramp = 3200 * MS;

	*other = 3 * MIB;
	return 8 * MIB + 124 * MIB * min(t, ramp) / ramp;
}

TEST(go_warm_up_is_not_a_burst_over_a_long_window)
{
	struct gmg_settings set = service_settings();

	series_adopted = true;
	set.rate_window_ms = gmg_auto_window_ms(set.eta_horizon_ms);
	no_alarm_with(_metadata, warm_132, &set);
	no_alarm_with(_metadata, go_warm_up, &set);
	series_adopted = false;
}

TEST(go_floor_creeping_back_is_not_a_leak)
{
	no_alarm(_metadata, gc_creep);
}

TEST(go_refill_after_a_scavenge_is_not_a_leak)
{
	no_alarm(_metadata, gc_refill);
}

/*
 * The bench's GC sawtooth (gcburst -burst 64M -period 2s, GOGC=100) in a
 * 256M memcg on 6.12: anon every 100 ms from the tag, in tenths of a MiB
 * (RssAnon as a C sampler read it).  A 78 MiB burst, the heap at 125, a
 * climb to 149 at 9-12 s, back down to 102 by 38 s, a burst to 148 at the
 * end.  The bench tags the cgroup --eta 20s with no window, as users tag:
 * over the 5 s window that was the default, the climb was growth -- an
 * ETA at 10.5 s ("15.9 s") and a RECOVER 2 s later, in the guest and
 * replayed here alike.  The window a 20 s horizon gets now (10 s) sees the
 * wobble for what it is.  (Its per-second stairs are no stand-in: there
 * the steps become a steady climb, and even 10 s sees growth.)
 */
static const u16 gcburst_612[] = {
	23, 86, 150, 319, 467, 467, 656, 784, 784, 784, 784, 784, 784, 784, 784, 784,
	784, 784, 784, 784, 784, 784, 826, 995, 1184, 1246, 1246, 1246, 1246, 1246, 1246, 1246,
	1246, 1246, 1246, 1246, 1246, 1246, 1246, 1246, 1246, 1246, 1247, 1238, 1238, 1238, 1238, 1238,
	1238, 1238, 1238, 1238, 1238, 1238, 1238, 1238, 1238, 1238, 1238, 1238, 1238, 1238, 1238, 1210,
	1210, 1210, 1210, 1210, 1210, 1210, 1210, 1210, 1210, 1210, 1210, 1210, 1210, 1210, 1210, 1210,
	1210, 1210, 1250, 1250, 1419, 1460, 1460, 1460, 1460, 1460, 1460, 1460, 1460, 1460, 1460, 1460,
	1460, 1460, 1460, 1460, 1460, 1460, 1544, 1485, 1485, 1485, 1485, 1485, 1485, 1485, 1485, 1485,
	1485, 1485, 1485, 1485, 1485, 1485, 1485, 1485, 1485, 1485, 1485, 1450, 1450, 1450, 1450, 1450,
	1450, 1450, 1450, 1450, 1450, 1450, 1442, 1442, 1442, 1442, 1442, 1442, 1442, 1442, 1444, 1225,
	1180, 1180, 1180, 1180, 1180, 1180, 1180, 1180, 1180, 1180, 1180, 1180, 1180, 1180, 1180, 1180,
	1180, 1180, 1180, 1178, 1178, 1178, 1178, 1178, 1178, 1178, 1178, 1178, 1178, 1178, 1178, 1178,
	1178, 1178, 1178, 1178, 1178, 1178, 1178, 1172, 1172, 1172, 1172, 1172, 1172, 1172, 1172, 1172,
	1172, 1172, 1172, 1172, 1172, 1172, 1172, 1172, 1172, 1172, 1214, 1135, 1134, 1134, 1134, 1134,
	1134, 1134, 1134, 1134, 1134, 1134, 1134, 1127, 1127, 1127, 1127, 1127, 1127, 1127, 1131, 1125,
	1125, 1125, 1125, 1125, 1125, 1125, 1125, 1125, 1125, 1125, 1125, 1125, 1125, 1125, 1125, 1125,
	1125, 1125, 1125, 1201, 1204, 1204, 1204, 1204, 1204, 1204, 1204, 1204, 1204, 1204, 1204, 1204,
	1204, 1204, 1204, 1204, 1204, 1204, 1204, 1219, 1219, 1219, 1219, 1219, 1219, 1219, 1219, 1219,
	1219, 1219, 1219, 1219, 1219, 1219, 1219, 1219, 1219, 1219, 1234, 1131, 1127, 1127, 1127, 1127,
	1127, 1127, 1127, 1127, 1127, 1127, 1127, 1122, 1122, 1122, 1122, 1122, 1122, 1122, 1126, 1116,
	1116, 1116, 1116, 1116, 1116, 1116, 1116, 1116, 1116, 1116, 1116, 1116, 1116, 1116, 1116, 1116,
	1116, 1116, 1143, 1233, 1109, 1109, 1109, 1109, 1109, 1109, 1109, 1109, 1109, 1109, 1109, 1109,
	1109, 1104, 1104, 1104, 1104, 1104, 1104, 1137, 1059, 1048, 1048, 1048, 1048, 1048, 1048, 1048,
	1048, 1048, 1048, 1043, 1043, 1043, 1043, 1043, 1043, 1043, 1020, 1020, 1023, 1023, 1023, 1023,
	1023, 1023, 1023, 1023, 1023, 1023, 1023, 1023, 1023, 1023, 1023, 1023, 1023, 1023, 1083, 1328,
	1479, 1479, 1479, 1479, 1479, 1479, 1479, 1479, 1479, 1479, 1479, 1479, 1479, 1479, 1479, 1479
};

static u64 gc_bench_612(u64 t, u64 *other)
{
	size_t k = min_t(size_t, t / (100 * MS), ARRAY_SIZE(gcburst_612) - 1);

	*other = 3 * MIB;
	return gcburst_612[k] * MIB / 10;
}

TEST(go_bench_sawtooth_gets_no_alarm_over_the_horizons_window)
{
	struct gmg_settings set = service_settings();

	/* Adopted: the bench tags the cgroup before the workload joins. */
	series_adopted = true;
	set.rate_window_ms = gmg_auto_window_ms(set.eta_horizon_ms);
	ASSERT_EQ(10000, set.rate_window_ms);
	no_alarm_with(_metadata, gc_bench_612, &set);
	series_adopted = false;
}

/*
 * gcburst -leak 12M under 16 MiB bursts (tracker_test's 4 s window, 6 s
 * horizon, memory.max 256M): anon climbs in steps of 0-39 MiB a second.
 * Run 3 on 6.1 (the branch: ETA 4.1 s, the kill 7.5 s later) and the
 * 6.12 run that passed (ETA 5.9 s, kill 6.5 s later).
 */
static const u16 leak_61[] = { 20, 40, 63, 82, 96, 125, 146, 146, 163, 202, 202,
			       231, 231, 252, 275 };
static const u16 leak_612[] = { 20, 42, 50, 73, 96, 117, 144, 163, 179, 181, 206,
				227, 231, 254, 280 };

static u64 go_leak_61(u64 t, u64 *other)
{
	*other = 3 * MIB;
	return stairs(leak_61, ARRAY_SIZE(leak_61), t);
}

static u64 go_leak_612(u64 t, u64 *other)
{
	*other = 3 * MIB;
	return stairs(leak_612, ARRAY_SIZE(leak_612), t);
}

/*
 * Both traces grow by 19-21 MiB/s over their first 5 s, Go's heap reaching
 * its GOGC equilibrium on top of the leak, and by 15-17 MiB/s after: an
 * ETA that may come no sooner than a window after the tag (a warm-up is
 * not a leak) comes from that first window, and -- at 12 MiB/s, with the
 * OOM kill 13 s after the tag -- is due before start-up is out of it.
 * What must hold whatever the start-up does: an ETA against memory.max
 * at least half a horizon before the kill (tracker_test's own bound), and
 * no RECOVER before it.
 */
static void stairs_warned(struct __test_metadata *_metadata, series_t f)
{
	struct gmg_settings set = service_settings();
	struct gmg_state st = {};
	double lead;
	struct run r;

	set.rate_window_ms = 4000;
	set.eta_horizon_ms = 6000;
	r = run_to_limit(_metadata, &st, &set, f, 30 * SEC, &lead);
	TH_LOG("ETA at %.1f s, %.1f s before memory.max (horizon %u ms), it said %llu ms; %d ETAs",
	       r.first_eta_ns / 1e9, lead / 1000, set.eta_horizon_ms,
	       (unsigned long long)r.first_eta_ms, r.etas);
	EXPECT_EQ(GOMEMGUARD_LIMIT_MEMCG_MAX, r.first_eta_limit);
	EXPECT_LE(set.eta_horizon_ms / 2, lead);
	EXPECT_EQ(0, r.recovers);
}

TEST(go_leak_in_steps_61_is_warned_ahead)
{
	stairs_warned(_metadata, go_leak_61);
}

TEST(go_leak_in_steps_612_is_warned_ahead)
{
	stairs_warned(_metadata, go_leak_612);
}

/*
 * gcburst -leak @leak MiB/s as Go 1.19 runs it: the leak and 16 MiB bursts
 * every 500 ms (built in 50 ms) on an 8 MiB baseline; a collection once
 * the heap reaches 90 % of twice what was live at the last one (GOGC=100);
 * anon is the heap's top so far, and 6 MiB of runtime.  At 12 MiB/s it
 * climbs like the traces above (20, 32, 45, 64, 79, 97, 119, 140, 143,
 * 174...), in steps of 0-31 MiB a second.
 */
static u64 go_model(u64 t, u64 leak)
{
	static u64 at_leak, sim_ns, heap_max, garbage, goal, burst;
	u64 tick = 10 * MS, live;

	if (at_leak != leak || t < sim_ns) {
		at_leak = leak;
		sim_ns = 0;
		heap_max = 14 * MIB;
		garbage = 0;
		goal = 16 * MIB;
		burst = 0;
	}
	for (; sim_ns <= t; sim_ns += tick) {
		live = 8 * MIB + leak * sim_ns / SEC;
		if (sim_ns % (500 * MS) == 0)
			burst = 16 * MIB;
		if (burst) {
			u64 a = min(burst, 16 * MIB * tick / (50 * MS));

			garbage += a;
			burst -= a;
		}
		if ((live + garbage) * 10 >= goal * 9) {
			garbage = 0;
			goal = 2 * live;
		}
		heap_max = max(heap_max, live + garbage);
	}
	return heap_max + 6 * MIB;
}

static u64 model_leak;

static u64 go_leak(u64 t, u64 *other)
{
	*other = 3 * MIB;
	return go_model(t, model_leak);
}

/*
 * Leaks slow enough that start-up is out of the window when the ETA is due
 * (the kill 20-25 s after the tag at 6-8 MiB/s): the steps (10-25 MiB, 1-2 s
 * apart) are what the rate must see through.  The issue's +-25 %, both ways.
 * The branch before: the ETA 7.6 s ahead at 6 MiB/s (it said 79 % of that,
 * and a RECOVER came between), 2.5 s ahead at 8 MiB/s, and 7.7 s at
 * 12 MiB/s with a 6 s window.
 */
TEST(go_leak_in_steps_is_caught_a_horizon_ahead)
{
	static const struct { u32 leak_mib, window_ms; } c[] = {
		{ 6, 4000 }, { 8, 4000 }, { 12, 6000 },
	};
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(c); i++) {
		struct gmg_settings set = service_settings();
		struct gmg_state st = {};
		double lead;
		struct run r;

		model_leak = c[i].leak_mib * MIB;
		set.rate_window_ms = c[i].window_ms;
		set.eta_horizon_ms = 6000;
		r = run_to_limit(_metadata, &st, &set, go_leak, 60 * SEC, &lead);
		TH_LOG("%u MiB/s, %u ms window: ETA at %.1f s, %.1f s before memory.max",
		       c[i].leak_mib, c[i].window_ms, r.first_eta_ns / 1e9, lead / 1000);
		TH_LOG("(at %.1f s), it said %llu ms; %d ETAs", r.limit_ns / 1e9,
		       (unsigned long long)r.first_eta_ms, r.etas);
		EXPECT_EQ(GOMEMGUARD_LIMIT_MEMCG_MAX, r.first_eta_limit);
		EXPECT_TRUE(near(lead, set.eta_horizon_ms, 25));
		EXPECT_TRUE(near(r.first_eta_ms, lead, 25));
		EXPECT_EQ(0, r.recovers);
	}
}

/*
 * tracker_test's go_leak_under_gc_sawtooth on 6.1, three runs of the
 * branch before the rate was smoothed across windows: anon each second
 * from the tag, the OOM kill about a second after the last (memory.max
 * 256M).  ETAs 11.8 s and 14.8 s ahead of the kill (horizon 6 s), and one
 * 8.9 s: the steps (0-39 MiB a second) read as 15-18 MiB/s of a leak whose
 * anon grew by 9-10 MiB/s on average.  Replayed here (a step a second, the
 * limit a second after the last), the unsmoothed rate gave 9.5, 7.7 and
 * 14.3 s.
 */
static const u16 gcleak_61[][24] = {
	{ 42, 57, 53, 69, 88, 107, 107, 111, 115, 123, 128, 152, 152, 164, 174,
	  213, 232, 232, 234, 247, 247, 249, 249, 260 },
	{ 46, 57, 67, 78, 78, 98, 111, 117, 119, 125, 130, 155, 188, 188, 190,
	  203, 203, 225, 232, 232, 254, 260 },
	{ 38, 42, 48, 69, 92, 107, 109, 111, 119, 134, 148, 163, 163, 186, 186,
	  196, 196, 205, 223, 223, 246, 260 },
};
static int gcleak_run;

static u64 gcleak_trace(u64 t, u64 *other)
{
	const u16 *run = gcleak_61[gcleak_run];
	int n = 0;

	while (n < 24 && run[n])
		n++;
	*other = 3 * MIB;
	return stairs(run, n, t);
}

TEST(go_leak_under_a_sawtooth_guest_traces_are_caught_a_horizon_ahead)
{
	for (gcleak_run = 0; gcleak_run < (int)ARRAY_SIZE(gcleak_61); gcleak_run++) {
		struct gmg_settings set = service_settings();
		struct gmg_state st = {};
		double lead;
		struct run r;

		set.rate_window_ms = 4000;
		set.eta_horizon_ms = 6000;
		r = run_to_limit(_metadata, &st, &set, gcleak_trace, 30 * SEC, &lead);
		TH_LOG("run %d: ETA at %.1f s, %.1f s before memory.max, it said %llu ms; %d ETAs",
		       gcleak_run + 1, r.first_eta_ns / 1e9, lead / 1000,
		       (unsigned long long)r.first_eta_ms, r.etas);
		EXPECT_EQ(GOMEMGUARD_LIMIT_MEMCG_MAX, r.first_eta_limit);
		/* tracker_test's bounds: the kill may come 1.5 s after full. */
		EXPECT_TRUE(lead >= 0.75 * set.eta_horizon_ms &&
			    lead <= 1.25 * set.eta_horizon_ms + 1500);
		EXPECT_EQ(0, r.recovers);
	}
}

/*
 * The guest's leak tests' settings (a 1 s window, a 2 s horizon): a steady
 * leak's ETA comes the horizon ahead, +-15 % (the design's target).
 */
static u64 fast_leak(u64 t, u64 *other)
{
	*other = 3 * MIB;
	return 20 * MIB + 40 * MIB * t / SEC;
}

TEST(steady_leak_short_window_lead_is_the_horizon)
{
	struct gmg_settings set = service_settings();
	struct gmg_state st = {};
	double lead;
	struct run r;

	set.rate_window_ms = 1000;
	set.eta_horizon_ms = 2000;
	r = run_to_limit(_metadata, &st, &set, fast_leak, 20 * SEC, &lead);
	TH_LOG("ETA %.2f s before memory.max, it said %llu ms", lead / 1000,
	       (unsigned long long)r.first_eta_ms);
	EXPECT_TRUE(near(lead, set.eta_horizon_ms, 15));
	EXPECT_TRUE(near(r.first_eta_ms, lead, 10));
	EXPECT_EQ(1, r.etas);
}

/*
 * Memory per tag: struct gmg_proc was 496 bytes with 224 of state, and
 * must stay in kmalloc-512 (design: 10,000 tags at <= 512 B each).
 */
TEST(state_fits_the_per_tag_budget)
{
	EXPECT_LE(sizeof(struct gmg_growth), 96);
	EXPECT_LE(sizeof(struct gmg_state), 224 + 16);
}

/* ---- the memcg's own forecast (gmg_assess_memcg) ---- */

struct mrun {
	u64 first_eta_ns, limit_ns, eta_ms;
	u32 limit;
	int etas, recovers;
};

/*
 * A memcg of 256 MiB whose unreclaimable part is @unrecl(t), assessed
 * every 100 ms with horizon 4 s, window 2 s; a watched process growing at
 * @owner B/s (0: none) reports before each assessment.
 */
static struct mrun memcg_series(struct gmg_memcg_state *st, u64 (*unrecl)(u64),
				s64 owner, u64 until)
{
	struct gmg_memcg_verdict v;
	struct mrun r = {};
	u64 t;

	for (t = 0; t <= until; t += 100 * MS) {
		struct gmg_memcg_view m = {
			.usage = unrecl(t) + 10 * MIB, .reclaimable = 10 * MIB,
			.max = 256 * MIB, .high = U64_MAX,
		};

		if (unrecl(t) >= 256 * MIB && !r.limit_ns)
			r.limit_ns = t;
		gmg_assess_memcg_owner(st, owner, t);
		gmg_assess_memcg(st, 4000, 2000, &m, t, &v);
		if (v.eta && !r.etas++) {
			r.first_eta_ns = t;
			r.eta_ms = st->eta_ms;
			r.limit = st->eta_limit;
		}
		r.recovers += v.recover;
	}
	return r;
}

static u64 tmpfs_fill(u64 t)
{
	/* 4 MiB/s, in 1 MiB steps every 250 ms, from 20 MiB. */
	return 20 * MIB + (t / (250 * MS)) * MIB;
}

/* Nobody's growth: the memcg's ETA, a horizon ahead, once. */
TEST(memcg_eta_for_growth_nobody_owns)
{
	struct gmg_memcg_state st = {};
	struct mrun r = memcg_series(&st, tmpfs_fill, 0, 70 * SEC);
	double lead;

	ASSERT_EQ(1, r.etas);
	ASSERT_NE(0, r.limit_ns);
	EXPECT_EQ(GOMEMGUARD_LIMIT_MEMCG_MAX, r.limit);
	lead = (r.limit_ns - r.first_eta_ns) / 1e6;
	TH_LOG("memcg ETA %.2f s before memory.max, it said %llu ms",
	       lead / 1000, (unsigned long long)r.eta_ms);
	EXPECT_TRUE(near(lead, 4000, 15));
	EXPECT_NE(0, st.first_warn_ns);
	EXPECT_EQ(0, r.recovers);
}

/* A process leaking as fast as the memcg grows owns it: no memcg ETA. */
TEST(memcg_eta_not_for_a_process_leak)
{
	struct gmg_memcg_state st = {};
	struct mrun r = memcg_series(&st, tmpfs_fill, 4 * MIB, 70 * SEC);

	EXPECT_EQ(0, r.etas);
	EXPECT_TRUE(st.owned);
	/* A process at a third of the memcg's rate does not: the rest is nobody's. */
	memset(&st, 0, sizeof(st));
	r = memcg_series(&st, tmpfs_fill, 4 * MIB / 3, 70 * SEC);
	EXPECT_EQ(1, r.etas);
}

/* An owner seen too long ago owns nothing any more. */
TEST(memcg_eta_owner_fades)
{
	struct gmg_memcg_state st = {};

	gmg_assess_memcg_owner(&st, 8 * MIB, 1 * SEC);
	gmg_assess_memcg_owner(&st, 1 * MIB, 2 * SEC);
	EXPECT_EQ(8 * MIB, st.owner_rate);
	gmg_assess_memcg_owner(&st, 1 * MIB, 3100 * MS);
	EXPECT_EQ(1 * MIB, st.owner_rate);
}

static u64 fill_then_stop(u64 t)
{
	return t < 20 * SEC ? tmpfs_fill(t) : tmpfs_fill(20 * SEC);
}

/* Fills, stops 12 MiB short of 112 MiB, and at 30 s its files go. */
static u64 fill_stop_delete(u64 t)
{
	return t < 30 * SEC ? fill_then_stop(t) : 40 * MIB;
}

/* @usage(t) in a memcg of 112 MiB, no reclaimable cache, until @until. */
static struct mrun memcg_112(struct gmg_memcg_state *st, u64 (*usage)(u64),
			     u64 until)
{
	struct gmg_memcg_view m = { .max = 112 * MIB, .high = U64_MAX };
	struct gmg_memcg_verdict v;
	struct mrun r = {};
	u64 t;

	for (t = 0; t <= until; t += 100 * MS) {
		m.usage = usage(t);
		gmg_assess_memcg(st, 4000, 2000, &m, t, &v);
		r.etas += v.eta;
		r.recovers += v.recover;
	}
	return r;
}

/*
 * Stalled at the limit -- reclaim's last stand before the kill -- is not
 * recovered: no RECOVER while there is not room for the horizon again at
 * the rate warned about.
 */
TEST(memcg_eta_no_recover_while_stalled_at_the_limit)
{
	struct gmg_memcg_state st = {};
	struct mrun r = memcg_112(&st, fill_then_stop, 29 * SEC);

	EXPECT_EQ(1, r.etas);
	EXPECT_EQ(0, r.recovers);
	EXPECT_NE(0, st.first_warn_ns);
}

/* Growth that stops, then room made again: ETA, then RECOVER, once each. */
TEST(memcg_eta_recovers_when_growth_stops)
{
	struct gmg_memcg_state st = {};
	struct mrun r;

	/* It stops at 100 MiB: 156 MiB short of 256 MiB, 39 s away at most. */
	r = memcg_series(&st, fill_then_stop, 0, 40 * SEC);
	EXPECT_EQ(0, r.etas);
	/* 12 MiB short of 112 MiB: 3 s away; then its files are deleted. */
	memset(&st, 0, sizeof(st));
	r = memcg_112(&st, fill_stop_delete, 40 * SEC);
	EXPECT_EQ(1, r.etas);
	EXPECT_EQ(1, r.recovers);
	EXPECT_EQ(0, st.first_warn_ns);
}

/* Young processes own nothing: their first pages come at any speed. */
TEST(own_rate_needs_floors)
{
	struct gmg_state st = {};

	st.growth.rate = 10 * MIB;
	st.growth.quarters = 2;
	EXPECT_EQ(0, gmg_assess_own_rate(&st));
	st.growth.quarters = 3;
	EXPECT_EQ(10 * MIB, gmg_assess_own_rate(&st));
}

TEST_HARNESS_MAIN
