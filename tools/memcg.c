// SPDX-License-Identifier: GPL-2.0
/*
 * Memory cgroups for JSON and for people: raw integers and null for what
 * the module left out; units, and "-".  PSI averages come in hundredths of
 * a percent and stay exact: 12.34 in JSON, "12.34%" in the table.
 */
#include <inttypes.h>
#include <stdio.h>

#include <linux/gomemguard.h>

#include "gomemctl.h"
#include "memcg.h"
#include "output.h"
#include "units.h"

const int memcg_required[] = {
	GOMEMGUARD_A_MEMCG,
	GOMEMGUARD_A_MEMCG_ID,
	GOMEMGUARD_A_MEMCG_USAGE,
	GOMEMGUARD_A_MEMCG_ANON,
	GOMEMGUARD_A_MEMCG_FILE,
	GOMEMGUARD_A_MEMCG_SHMEM,
	GOMEMGUARD_A_RECLAIMABLE,
	GOMEMGUARD_A_PINNED,
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
	GOMEMGUARD_A_RECLAIMABLE,
	GOMEMGUARD_A_PINNED,
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

static void print_psi(const char *key, const struct nlattr *a)
{
	char buf[UNITS_BUF_LEN];

	if (!a) {
		out_null(key, " %8s", "-");
	} else if (out_is_json()) {
		out_json_hundredths(key, nla_get_u32(a));
	} else {
		out_text(" %7s%%", units_format_hundredths(buf, sizeof(buf),
							   nla_get_u32(a)));
	}
}

void memcg_print_header(void)
{
	out_text("%9s %9s %9s %9s %9s %9s %11s %9s %-8s %9s %8s %8s %s\n",
		 "USAGE", "MAX", "HIGH", "ANON", "FILE", "SHMEM", "RECLAIMABLE",
		 "PINNED", "PRESSURE", "OOM_KILLS", "PSI_SOME", "PSI_FULL",
		 "MEMCG");
}

void memcg_print(struct nlattr *tb[])
{
	if (out_is_json()) {
		out_json_str("memcg", nla_get_string(tb[GOMEMGUARD_A_MEMCG]));
		out_json_u64("memcg_id", nla_get_u64(tb[GOMEMGUARD_A_MEMCG_ID]));
	}
	out_bytes("memcg_usage_bytes", "%9s",
		  nla_get_u64(tb[GOMEMGUARD_A_MEMCG_USAGE]));
	print_limit("memcg_max_bytes", tb[GOMEMGUARD_A_MEMCG_MAX]);
	print_limit("memcg_high_bytes", tb[GOMEMGUARD_A_MEMCG_HIGH]);
	out_bytes("anon_bytes", " %9s", nla_get_u64(tb[GOMEMGUARD_A_MEMCG_ANON]));
	out_bytes("file_bytes", " %9s", nla_get_u64(tb[GOMEMGUARD_A_MEMCG_FILE]));
	out_bytes("shmem_bytes", " %9s",
		  nla_get_u64(tb[GOMEMGUARD_A_MEMCG_SHMEM]));
	out_bytes("reclaimable_bytes", " %11s",
		  nla_get_u64(tb[GOMEMGUARD_A_RECLAIMABLE]));
	out_bytes("pinned_bytes", " %9s", nla_get_u64(tb[GOMEMGUARD_A_PINNED]));
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
	print_psi("psi_some_avg10", tb[GOMEMGUARD_A_PSI_SOME_AVG10]);
	print_psi("psi_full_avg10", tb[GOMEMGUARD_A_PSI_FULL_AVG10]);
	out_text(" %s\n", nla_get_string(tb[GOMEMGUARD_A_MEMCG]));
}

void pressure_print(struct nlattr *tb[])
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
	out_json_u64("anon_bytes", nla_get_u64(tb[GOMEMGUARD_A_MEMCG_ANON]));
	out_json_u64("reclaimable_bytes",
		     nla_get_u64(tb[GOMEMGUARD_A_RECLAIMABLE]));
	out_json_u64("pinned_bytes", nla_get_u64(tb[GOMEMGUARD_A_PINNED]));
	if ((a = tb[GOMEMGUARD_A_PRESSURE_KIND]) && nla_get_u32(a))
		out_json_str("kind", kind_name(nla_get_u32(a)));
	else
		out_json_null("kind");
}

void pressure_describe(struct nlattr *tb[])
{
	char usage[UNITS_BUF_LEN], max[UNITS_BUF_LEN], buf[UNITS_BUF_LEN];
	struct nlattr *a;

	printf("memcg %s %s", nla_get_string(tb[GOMEMGUARD_A_MEMCG]),
	       level_name(nla_get_u32(tb[GOMEMGUARD_A_PRESSURE_LEVEL])));
	if ((a = tb[GOMEMGUARD_A_PRESSURE_KIND]) && nla_get_u32(a))
		printf(" (%s)", kind_words(nla_get_u32(a)));
	a = tb[GOMEMGUARD_A_MEMCG_MAX];
	printf(": usage %s/%s",
	       bytes_text(usage, sizeof(usage), tb[GOMEMGUARD_A_MEMCG_USAGE]),
	       a ? bytes_text(max, sizeof(max), a) : "max");
	printf(", anon %s",
	       bytes_text(buf, sizeof(buf), tb[GOMEMGUARD_A_MEMCG_ANON]));
	printf(", reclaimable %s",
	       bytes_text(buf, sizeof(buf), tb[GOMEMGUARD_A_RECLAIMABLE]));
	printf(", pinned %s\n",
	       bytes_text(buf, sizeof(buf), tb[GOMEMGUARD_A_PINNED]));
}
