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

#include "gomemguard.h"
#include "kselftest_harness.h"

#define MIB		(1024ULL * 1024)
#define MS		1000000ULL	/* ns */
#define SEC		(1000 * MS)

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
		.memcg = { .usage = anon, .max = U64_MAX, .high = U64_MAX },
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
 * The start-up step, kept out of the rate: a 30 MiB step in the first
 * quarter, then a steady 16 MiB/s.  Over the whole window the slope says
 * 36 MiB/s at 1.5 s; the leak's rate is 16.
 */
TEST(start_up_step_does_not_inflate_the_rate)
{
	const u32 levels[] = { 90 };
	struct gmg_settings set = settings(1024 * MIB, 1, levels);
	struct gmg_state st = {};
	struct gmg_verdict v;
	u64 t, anon;

	/* 1.5 s in: the oldest point of the window is before the step. */
	for (t = 0; t <= 1500 * MS; t += 100 * MS) {
		struct gmg_sample s;

		anon = 10 * MIB + (t >= 200 * MS ? 30 * MIB : 0) + 16 * MIB * t / SEC;
		s = sample(t, anon);
		gmg_assess(&st, &set, &s, &v);
	}
	EXPECT_TRUE(st.growth.sustained);
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
 * writer): the ETA is the memcg's.  The same usage in clean page cache is
 * no danger at all.
 */
TEST(memcg_growth_and_page_cache)
{
	const u32 levels[] = { 90 };
	struct gmg_settings set = settings(1024 * MIB, 1, levels);
	struct gmg_state st = {};
	struct gmg_sample s = sample(0, 20 * MIB);
	struct gmg_verdict v;

	s.memcg.usage = 100 * MIB;
	s.memcg.max = 128 * MIB;
	s.memcg.rate = 8 * MIB;
	s.memcg.sustained = true;
	gmg_assess(&st, &set, &s, &v);
	EXPECT_EQ(GOMEMGUARD_LIMIT_MEMCG_MAX, st.eta_limit);
	EXPECT_TRUE(near(st.eta_ms, 3500, 1))
		TH_LOG("eta %llu ms", (unsigned long long)st.eta_ms);
	EXPECT_TRUE(v.eta);
	EXPECT_TRUE(v.growing);

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

TEST_HARNESS_MAIN
