// SPDX-License-Identifier: GPL-2.0
/*
 * Memory cgroups for JSON and for people: raw integers and null for what
 * is not known; units, and "-".  The module's numbers (usage, limits, LRU
 * sizes) come with the message, the finer breakdown and PSI from
 * memory.stat and memory.pressure (memstat.h).  PSI averages come in
 * hundredths of a percent and stay exact: 12.34 in JSON, "12.34%" in the
 * table.
 */
#include <inttypes.h>
#include <stdio.h>

#include <linux/gomemguard.h>

#include "gomemctl.h"
#include "memcg.h"
#include "memstat.h"
#include "output.h"
#include "proc.h"
#include "units.h"

/*
 * MEMCG_SHMEM, PINNED and PSI_*_AVG10 are retired: the breakdown they gave
 * comes from memory.stat and memory.pressure now (memstat.c).
 */
const int memcg_required[] = {
	GOMEMGUARD_A_MEMCG,
	GOMEMGUARD_A_MEMCG_ID,
	GOMEMGUARD_A_MEMCG_USAGE,
	GOMEMGUARD_A_MEMCG_ANON,
	GOMEMGUARD_A_MEMCG_FILE,
	GOMEMGUARD_A_MEMCG_UNEVICTABLE,
	GOMEMGUARD_A_RECLAIMABLE,
	GOMEMGUARD_A_PRESSURE_LEVEL,
	GOMEMGUARD_A_MEMCG_EVENTS_HIGH,
	GOMEMGUARD_A_MEMCG_EVENTS_MAX,
	GOMEMGUARD_A_MEMCG_EVENTS_OOM,
	GOMEMGUARD_A_MEMCG_EVENTS_OOM_KILL,
};
const size_t memcg_n_required = ARRAY_SIZE(memcg_required);

/* MEMCG_MAX is absent for an unlimited memcg; PRESSURE_KIND may be. */
const int pressure_required[] = {
	GOMEMGUARD_A_MEMCG,
	GOMEMGUARD_A_MEMCG_ID,
	GOMEMGUARD_A_PRESSURE_LEVEL,
	GOMEMGUARD_A_MEMCG_USAGE,
	GOMEMGUARD_A_MEMCG_ANON,
	GOMEMGUARD_A_MEMCG_FILE,
	GOMEMGUARD_A_MEMCG_UNEVICTABLE,
	GOMEMGUARD_A_RECLAIMABLE,
};
const size_t pressure_n_required = ARRAY_SIZE(pressure_required);

static const char *level_name(uint32_t level)
{
	switch (level) {
	case GOMEMGUARD_PRESSURE_NONE:
		return "none";
	case GOMEMGUARD_PRESSURE_LOW:
		return "low";
	case GOMEMGUARD_PRESSURE_MEDIUM:
		return "medium";
	case GOMEMGUARD_PRESSURE_CRITICAL:
		return "critical";
	}
	return "unknown";
}

static const char *kind_name(uint32_t kind)
{
	switch (kind) {
	case GOMEMGUARD_KIND_CACHE_CHURN:
		return "cache_churn";
	case GOMEMGUARD_KIND_ANON_SQUEEZE:
		return "anon_squeeze";
	}
	return "unknown";
}

static const char *kind_words(uint32_t kind)
{
	switch (kind) {
	case GOMEMGUARD_KIND_CACHE_CHURN:
		return "cache churn";
	case GOMEMGUARD_KIND_ANON_SQUEEZE:
		return "anon squeeze";
	}
	return "unknown kind";
}

static char *bytes_text(char *buf, size_t len, const struct nlattr *a)
{
	return units_format_bytes(buf, len, nla_get_u64(a));
}

/* A limit in bytes, or null / "max" when the memcg has none. */
static void print_limit(const char *key, const struct nlattr *a)
{
	if (a)
		out_bytes(key, " %9s", nla_get_u64(a));
	else
		out_null(key, " %9s", "max");
}

/* Bytes from memory.stat: null / "-" when it could not be read. */
static void print_stat(const char *key, const struct memstat *ms,
		       uint64_t value)
{
	if (ms->has_stat)
		out_bytes(key, " %9s", value);
	else
		out_null(key, " %9s", "-");
}

static void print_psi(const char *key, const struct memstat *ms,
		      uint32_t value)
{
	char buf[UNITS_BUF_LEN];

	if (!ms->has_psi) {
		out_null(key, " %8s", "-");
	} else if (out_is_json()) {
		out_json_hundredths(key, value);
	} else {
		out_text(" %7s%%", units_format_hundredths(buf, sizeof(buf),
							   value));
	}
}

/*
 * What the memcg's memory is made of: memory.stat's breakdown where it
 * could be read, the module's LRU sizes always.
 */
static void print_breakdown(struct nlattr *tb[], const struct memstat *ms)
{
	print_stat("anon_bytes", ms, ms->anon);
	print_stat("file_bytes", ms, ms->file);
	print_stat("shmem_bytes", ms, ms->shmem);
	out_bytes("swapbacked_bytes", " %10s",
		  nla_get_u64(tb[GOMEMGUARD_A_MEMCG_ANON]));
	out_bytes("unevictable_bytes", " %11s",
		  nla_get_u64(tb[GOMEMGUARD_A_MEMCG_UNEVICTABLE]));
	out_bytes("reclaimable_bytes", " %11s",
		  nla_get_u64(tb[GOMEMGUARD_A_RECLAIMABLE]));
	print_stat("pinned_bytes", ms, memstat_pinned(ms));
}

void memcg_print_header(void)
{
	out_text("%9s %9s %9s %9s %9s %9s %10s %11s %11s %9s %-8s %9s %8s %8s %s\n",
		 "USAGE", "MAX", "HIGH", "ANON", "FILE", "SHMEM", "SWAPBACKED",
		 "UNEVICTABLE", "RECLAIMABLE", "PINNED", "PRESSURE",
		 "OOM_KILLS", "PSI_SOME", "PSI_FULL", "MEMCG");
}

void memcg_print(struct nlattr *tb[], const struct memstat *ms)
{
	if (out_is_json()) {
		out_json_str("memcg", nla_get_string(tb[GOMEMGUARD_A_MEMCG]));
		out_json_u64("memcg_id", nla_get_u64(tb[GOMEMGUARD_A_MEMCG_ID]));
	}
	out_bytes("memcg_usage_bytes", "%9s",
		  nla_get_u64(tb[GOMEMGUARD_A_MEMCG_USAGE]));
	print_limit("memcg_max_bytes", tb[GOMEMGUARD_A_MEMCG_MAX]);
	print_limit("memcg_high_bytes", tb[GOMEMGUARD_A_MEMCG_HIGH]);
	print_breakdown(tb, ms);
	out_str("pressure", " %-8s",
		level_name(nla_get_u32(tb[GOMEMGUARD_A_PRESSURE_LEVEL])));
	if (out_is_json()) {
		out_json_u64("events_high",
			     nla_get_u64(tb[GOMEMGUARD_A_MEMCG_EVENTS_HIGH]));
		out_json_u64("events_max",
			     nla_get_u64(tb[GOMEMGUARD_A_MEMCG_EVENTS_MAX]));
		out_json_u64("events_oom",
			     nla_get_u64(tb[GOMEMGUARD_A_MEMCG_EVENTS_OOM]));
	}
	out_u64("events_oom_kill", " %9" PRIu64,
		nla_get_u64(tb[GOMEMGUARD_A_MEMCG_EVENTS_OOM_KILL]));
	print_psi("psi_some_avg10", ms, ms->psi_some);
	print_psi("psi_full_avg10", ms, ms->psi_full);
	out_text(" %s\n", nla_get_string(tb[GOMEMGUARD_A_MEMCG]));
}

static void json_u64_or_null(const char *key, const struct nlattr *a)
{
	if (a)
		out_json_u64(key, nla_get_u64(a));
	else
		out_json_null(key);
}

void pressure_print(struct nlattr *tb[], const struct memstat *ms)
{
	struct nlattr *a;

	out_json_str("memcg", nla_get_string(tb[GOMEMGUARD_A_MEMCG]));
	out_json_u64("memcg_id", nla_get_u64(tb[GOMEMGUARD_A_MEMCG_ID]));
	out_json_str("level",
		     level_name(nla_get_u32(tb[GOMEMGUARD_A_PRESSURE_LEVEL])));
	out_json_u64("memcg_usage_bytes",
		     nla_get_u64(tb[GOMEMGUARD_A_MEMCG_USAGE]));
	if ((a = tb[GOMEMGUARD_A_MEMCG_MAX]))
		out_json_u64("memcg_max_bytes", nla_get_u64(a));
	else
		out_json_null("memcg_max_bytes");
	print_breakdown(tb, ms);
	print_psi("psi_some_avg10", ms, ms->psi_some);
	print_psi("psi_full_avg10", ms, ms->psi_full);
	if ((a = tb[GOMEMGUARD_A_PRESSURE_KIND]) && nla_get_u32(a))
		out_json_str("kind", kind_name(nla_get_u32(a)));
	else
		out_json_null("kind");
	json_u64_or_null("reclaim_scanned_pages", tb[GOMEMGUARD_A_RECLAIM_SCANNED]);
	json_u64_or_null("reclaim_reclaimed_pages",
			 tb[GOMEMGUARD_A_RECLAIM_RECLAIMED]);
}

/*
 * The reclaim window behind the level, as the module weighed it: the
 * share of scanned pages not freed, in whole percent, rounded down.
 */
static void describe_window(struct nlattr *tb[])
{
	struct nlattr *s = tb[GOMEMGUARD_A_RECLAIM_SCANNED];
	struct nlattr *r = tb[GOMEMGUARD_A_RECLAIM_RECLAIMED];
	uint64_t scanned, reclaimed;

	if (!s || !r || !nla_get_u64(s))
		return;
	scanned = nla_get_u64(s);
	reclaimed = nla_get_u64(r);
	printf(" reclaim failed on %" PRIu64 "%% of %" PRIu64 " pages scanned;",
	       reclaimed >= scanned ? 0 : (scanned - reclaimed) * 100 / scanned,
	       scanned);
}

void pressure_describe(struct nlattr *tb[], const struct memstat *ms)
{
	char usage[UNITS_BUF_LEN], max[UNITS_BUF_LEN], buf[UNITS_BUF_LEN];
	struct nlattr *a;

	printf("memcg %s %s", nla_get_string(tb[GOMEMGUARD_A_MEMCG]),
	       level_name(nla_get_u32(tb[GOMEMGUARD_A_PRESSURE_LEVEL])));
	if ((a = tb[GOMEMGUARD_A_PRESSURE_KIND]) && nla_get_u32(a))
		printf(" (%s)", kind_words(nla_get_u32(a)));
	printf(":");
	describe_window(tb);
	a = tb[GOMEMGUARD_A_MEMCG_MAX];
	printf(" usage %s/%s",
	       bytes_text(usage, sizeof(usage), tb[GOMEMGUARD_A_MEMCG_USAGE]),
	       a ? bytes_text(max, sizeof(max), a) : "max");
	if (ms->has_stat) {
		printf(", anon %s", units_format_bytes(buf, sizeof(buf), ms->anon));
		printf(", shmem %s",
		       units_format_bytes(buf, sizeof(buf), ms->shmem));
	} else {
		/* Without memory.stat, the module's swap-backed LRU. */
		printf(", anon + shmem %s",
		       bytes_text(buf, sizeof(buf), tb[GOMEMGUARD_A_MEMCG_ANON]));
	}
	printf(", reclaimable %s",
	       bytes_text(buf, sizeof(buf), tb[GOMEMGUARD_A_RECLAIMABLE]));
	if (ms->has_stat)
		printf(", pinned %s\n", units_format_bytes(buf, sizeof(buf),
							   memstat_pinned(ms)));
	else
		printf(" (no memory.stat)\n");
}

bool memcg_eta_event(uint32_t type, struct nlattr *tb[])
{
	return (type == GOMEMGUARD_EVENT_ETA ||
		type == GOMEMGUARD_EVENT_RECOVER) && !tb[GOMEMGUARD_A_COMM];
}

/* ETA_MS and ETA_LIMIT come together, and only while a limit is in sight. */
const int memcg_eta_required[] = {
	GOMEMGUARD_A_MEMCG,
	GOMEMGUARD_A_MEMCG_ID,
	GOMEMGUARD_A_MEMCG_USAGE,
	GOMEMGUARD_A_MEMCG_ANON,
	GOMEMGUARD_A_MEMCG_FILE,
	GOMEMGUARD_A_MEMCG_UNEVICTABLE,
	GOMEMGUARD_A_RECLAIMABLE,
	GOMEMGUARD_A_RATE,
	GOMEMGUARD_A_ETA_HORIZON_MS,
};
const size_t memcg_eta_n_required = ARRAY_SIZE(memcg_eta_required);

void memcg_eta_print(struct nlattr *tb[], const struct memstat *ms)
{
	struct nlattr *a;

	out_json_str("scope", "memcg");
	out_json_null("pid");
	out_json_null("comm");
	out_json_str("memcg", nla_get_string(tb[GOMEMGUARD_A_MEMCG]));
	out_json_u64("memcg_id", nla_get_u64(tb[GOMEMGUARD_A_MEMCG_ID]));
	out_json_u64("memcg_usage_bytes",
		     nla_get_u64(tb[GOMEMGUARD_A_MEMCG_USAGE]));
	json_u64_or_null("memcg_max_bytes", tb[GOMEMGUARD_A_MEMCG_MAX]);
	json_u64_or_null("memcg_high_bytes", tb[GOMEMGUARD_A_MEMCG_HIGH]);
	print_breakdown(tb, ms);
	out_json_s64("rate_bytes_per_s", nla_get_s64(tb[GOMEMGUARD_A_RATE]));
	json_u64_or_null("eta_ms", tb[GOMEMGUARD_A_ETA_MS]);
	if ((a = tb[GOMEMGUARD_A_ETA_LIMIT]))
		out_json_str("eta_limit", proc_limit_name(nla_get_u32(a)));
	else
		out_json_null("eta_limit");
	out_json_u64("eta_horizon_ms", nla_get_u32(tb[GOMEMGUARD_A_ETA_HORIZON_MS]));
	json_u64_or_null("first_warn_ns", tb[GOMEMGUARD_A_FIRST_WARN_NS]);
}

void memcg_eta_describe(uint32_t type, struct nlattr *tb[],
			const struct memstat *ms)
{
	char usage[UNITS_BUF_LEN], max[UNITS_BUF_LEN], buf[UNITS_BUF_LEN];
	int64_t rate = nla_get_s64(tb[GOMEMGUARD_A_RATE]);
	struct nlattr *a;

	printf("memcg %s", nla_get_string(tb[GOMEMGUARD_A_MEMCG]));
	/* As a process's ETA: whole seconds, rounded down, from 1 s. */
	if ((a = tb[GOMEMGUARD_A_ETA_MS]))
		printf(" reaches %s in %s",
		       proc_limit_words(tb[GOMEMGUARD_A_ETA_LIMIT]),
		       units_format_ms(buf, sizeof(buf), nla_get_u64(a) < 1000 ?
				       nla_get_u64(a) : nla_get_u64(a) / 1000 * 1000));
	if (rate >= UNITS_RATE_FLAT || rate <= -UNITS_RATE_FLAT)
		printf(", %s", units_format_rate(buf, sizeof(buf), rate));
	a = tb[GOMEMGUARD_A_MEMCG_MAX];
	printf(" (usage %s/%s",
	       bytes_text(usage, sizeof(usage), tb[GOMEMGUARD_A_MEMCG_USAGE]),
	       a ? bytes_text(max, sizeof(max), a) : "max");
	if (ms->has_stat) {
		printf(", shmem %s", units_format_bytes(buf, sizeof(buf), ms->shmem));
		printf(", anon %s", units_format_bytes(buf, sizeof(buf), ms->anon));
	} else {
		printf(", anon + shmem %s",
		       bytes_text(buf, sizeof(buf), tb[GOMEMGUARD_A_MEMCG_ANON]));
	}
	printf(", reclaimable %s)",
	       bytes_text(buf, sizeof(buf), tb[GOMEMGUARD_A_RECLAIMABLE]));
	if (type == GOMEMGUARD_EVENT_ETA)
		printf(": growth no watched process owns");
	printf("\n");
}
