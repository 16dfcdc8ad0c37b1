// SPDX-License-Identifier: GPL-2.0
/*
 * Watched processes for JSON and for people.  JSON gets raw integers and
 * null for what the module left out; people get units, and "-".
 */
#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <linux/gomemguard.h>

#include "gomemctl.h"
#include "levels.h"
#include "nl.h"
#include "output.h"
#include "proc.h"
#include "units.h"

const int proc_required[] = {
	GOMEMGUARD_A_PID,
	GOMEMGUARD_A_COMM,
	GOMEMGUARD_A_SOURCE,
	GOMEMGUARD_A_MEMCG,
	GOMEMGUARD_A_MEMCG_ID,
	GOMEMGUARD_A_ANON,
	GOMEMGUARD_A_SWAP,
	GOMEMGUARD_A_SHMEM,
	GOMEMGUARD_A_FILE,
	GOMEMGUARD_A_HWM,
	GOMEMGUARD_A_RATE,
	GOMEMGUARD_A_LEVEL_PCT,
	GOMEMGUARD_A_USAGE_PCT,
	GOMEMGUARD_A_SOFT_LIMIT,
	GOMEMGUARD_A_LEVELS,
	GOMEMGUARD_A_ETA_HORIZON_MS,
	GOMEMGUARD_A_RATE_WINDOW_MS,
	GOMEMGUARD_A_MEMCG_USAGE,
	GOMEMGUARD_A_SIGNALS_SENT,
};
const size_t proc_n_required = ARRAY_SIZE(proc_required);

static const char *source_name(uint32_t source)
{
	switch (source) {
	case GOMEMGUARD_SOURCE_PID:
		return "pid";
	case GOMEMGUARD_SOURCE_CGROUP:
		return "cgroup";
	case GOMEMGUARD_SOURCE_INHERIT:
		return "inherit";
	}
	return "unknown";
}

const char *proc_origin_name(uint32_t origin)
{
	switch (origin) {
	case GOMEMGUARD_ORIGIN_USER:
		return "user";
	case GOMEMGUARD_ORIGIN_GOMEMLIMIT:
		return "gomemlimit";
	case GOMEMGUARD_ORIGIN_MEMCG_MAX:
		return "memcg_max";
	}
	return "unknown";
}

const char *proc_origin_words(uint32_t origin)
{
	switch (origin) {
	case GOMEMGUARD_ORIGIN_USER:
		return "user";
	case GOMEMGUARD_ORIGIN_GOMEMLIMIT:
		return "GOMEMLIMIT";
	case GOMEMGUARD_ORIGIN_MEMCG_MAX:
		return "memory.max";
	}
	return "unknown";
}

const char *proc_limit_name(uint32_t limit)
{
	switch (limit) {
	case GOMEMGUARD_LIMIT_SOFT:
		return "soft";
	case GOMEMGUARD_LIMIT_MEMCG_MAX:
		return "memcg_max";
	case GOMEMGUARD_LIMIT_MEMCG_HIGH:
		return "memcg_high";
	}
	return "unknown";
}

const char *proc_limit_words(const struct nlattr *limit)
{
	switch (limit ? nla_get_u32(limit) : 0) {
	case GOMEMGUARD_LIMIT_SOFT:
		return "soft limit";
	case GOMEMGUARD_LIMIT_MEMCG_MAX:
		return "memory.max";
	case GOMEMGUARD_LIMIT_MEMCG_HIGH:
		return "memory.high";
	}
	return "a limit";
}

/* What the growth looks like: JSON's name, and the table's. */
static const char *shape_name(uint32_t shape, bool json)
{
	switch (shape) {
	case GOMEMGUARD_SHAPE_FLAT:
		return "flat";
	case GOMEMGUARD_SHAPE_STARTUP:
		return json ? "start_up" : "start-up";
	case GOMEMGUARD_SHAPE_SAWTOOTH:
		return "sawtooth";
	case GOMEMGUARD_SHAPE_GROWTH:
		return json ? "steady_growth" : "growth";
	}
	return "unknown";
}

/* People need no milliseconds in "1m28s": rounded down, the safe way. */
static char *eta_text(char *buf, size_t len, uint64_t ms)
{
	return units_format_ms(buf, len, ms < 1000 ? ms : ms / 1000 * 1000);
}

static char *bytes_text(char *buf, size_t len, const struct nlattr *a)
{
	return units_format_bytes(buf, len, nla_get_u64(a));
}

void proc_print_header(enum proc_view view)
{
	if (view == PROC_VIEW_SNAPSHOT)
		out_text("%7s %-15s %9s %11s %7s %9s %5s %7s\n", "PID", "COMM",
			 "ANON", "RATE", "ETA", "SOFT", "LEVEL", "LEAD");
	else
		out_text("%7s %-15s %9s %9s %9s %9s %11s %-8s %7s %9s %-10s %5s %s\n",
			 "PID", "COMM", "ANON", "FILE", "SHMEM", "SWAP", "RATE",
			 "SHAPE", "ETA", "SOFT", "ORIGIN", "LEVEL", "MEMCG");
}

/* Only JSON has room for these; the table would be too wide. */
static void print_settings(struct nlattr *tb[])
{
	uint32_t levels[GOMEMGUARD_LEVELS_MAX];
	struct nlattr *a;

	if ((a = tb[GOMEMGUARD_A_USAGE_PCT]))
		out_json_u64("usage_pct", nla_get_u32(a));
	if ((a = tb[GOMEMGUARD_A_LEVELS]))
		out_levels("levels", "%s", levels,
			   gmc_nl_get_levels(a, levels));
	if ((a = tb[GOMEMGUARD_A_ETA_HORIZON_MS]))
		out_json_u64("eta_horizon_ms", nla_get_u32(a));
	/* No fuse is null, whether the module sends 0 or nothing. */
	if ((a = tb[GOMEMGUARD_A_SIGNAL]) && nla_get_u32(a))
		out_json_u64("signal", nla_get_u32(a));
	else
		out_json_null("signal");
	if ((a = tb[GOMEMGUARD_A_RATE_WINDOW_MS]))
		out_json_u64("rate_window_ms", nla_get_u32(a));
	a = tb[GOMEMGUARD_A_INHERIT];
	out_json_bool("inherit", a && nla_get_u8(a));
	/* Modules before LIMIT_ORIGIN do not say. */
	if ((a = tb[GOMEMGUARD_A_LIMIT_ORIGIN]))
		out_json_str("limit_origin", proc_origin_name(nla_get_u32(a)));
	else
		out_json_null("limit_origin");
}

static void print_memcg(struct nlattr *tb[])
{
	struct nlattr *a;

	if ((a = tb[GOMEMGUARD_A_MEMCG_ID]))
		out_json_u64("memcg_id", nla_get_u64(a));
	if ((a = tb[GOMEMGUARD_A_MEMCG_USAGE]))
		out_json_u64("memcg_usage_bytes", nla_get_u64(a));
	if ((a = tb[GOMEMGUARD_A_MEMCG_MAX]))
		out_json_u64("memcg_max_bytes", nla_get_u64(a));
	else
		out_json_null("memcg_max_bytes");
	if ((a = tb[GOMEMGUARD_A_MEMCG_HIGH]))
		out_json_u64("memcg_high_bytes", nla_get_u64(a));
	else
		out_json_null("memcg_high_bytes");
	if ((a = tb[GOMEMGUARD_A_SIGNALS_SENT]))
		out_json_u64("signals_sent", nla_get_u32(a));
	if ((a = tb[GOMEMGUARD_A_FIRST_WARN_NS]))
		out_json_u64("first_warn_ns", nla_get_u64(a));
	else
		out_json_null("first_warn_ns");
}

void proc_print(struct nlattr *tb[], enum proc_view view)
{
	/* Columns only show's table has; JSON has them all. */
	bool wide = view == PROC_VIEW_SHOW || out_is_json();
	char buf[UNITS_BUF_LEN];
	struct nlattr *a;
	uint32_t level;

	if ((a = tb[GOMEMGUARD_A_PID]))
		out_u64("pid", "%7" PRIu64, nla_get_u32(a));
	else if (out_is_json())
		out_json_null("pid");
	else
		out_text("%7s", "?");
	if ((a = tb[GOMEMGUARD_A_COMM]))
		out_str("comm", " %-15s", nla_get_string(a));
	if (out_is_json()) {
		if ((a = tb[GOMEMGUARD_A_SOURCE]))
			out_json_str("source", source_name(nla_get_u32(a)));
		if ((a = tb[GOMEMGUARD_A_CGROUP]))
			out_json_str("cgroup", nla_get_string(a));
		else
			out_json_null("cgroup");
	}
	if ((a = tb[GOMEMGUARD_A_ANON]))
		out_bytes("anon_bytes", " %9s", nla_get_u64(a));
	if ((a = tb[GOMEMGUARD_A_FILE]) && wide)
		out_bytes("file_bytes", " %9s", nla_get_u64(a));
	if ((a = tb[GOMEMGUARD_A_SHMEM]) && wide)
		out_bytes("shmem_bytes", " %9s", nla_get_u64(a));
	if ((a = tb[GOMEMGUARD_A_SWAP]) && wide)
		out_bytes("swap_bytes", " %9s", nla_get_u64(a));
	if ((a = tb[GOMEMGUARD_A_HWM]) && out_is_json())
		out_json_u64("hwm_bytes", nla_get_u64(a));
	if ((a = tb[GOMEMGUARD_A_RATE]))
		out_rate("rate_bytes_per_s", " %11s", nla_get_s64(a));
	/* Modules before SHAPE do not say. */
	a = tb[GOMEMGUARD_A_SHAPE];
	if (out_is_json() && a)
		out_json_str("shape", shape_name(nla_get_u32(a), true));
	else if (out_is_json())
		out_json_null("shape");
	else if (view == PROC_VIEW_SHOW)
		out_text(" %-8s", a ? shape_name(nla_get_u32(a), false) : "-");
	if ((a = tb[GOMEMGUARD_A_ETA_MS]))
		out_u64_str("eta_ms", " %7s", nla_get_u64(a),
			    eta_text(buf, sizeof(buf), nla_get_u64(a)));
	else
		out_null("eta_ms", " %7s", "-");
	if (out_is_json()) {
		if ((a = tb[GOMEMGUARD_A_ETA_LIMIT]))
			out_json_str("eta_limit", proc_limit_name(nla_get_u32(a)));
		else
			out_json_null("eta_limit");
	}
	if ((a = tb[GOMEMGUARD_A_SOFT_LIMIT]))
		out_bytes("soft_limit_bytes", " %9s", nla_get_u64(a));
	if (view == PROC_VIEW_SHOW) {
		a = tb[GOMEMGUARD_A_LIMIT_ORIGIN];
		out_text(" %-10s", a ? proc_origin_words(nla_get_u32(a)) : "-");
	}
	if ((a = tb[GOMEMGUARD_A_LEVEL_PCT])) {
		level = nla_get_u32(a);
		snprintf(buf, sizeof(buf), "%" PRIu32 "%%", level);
		out_u64_str("level_pct", " %5s", level, level ? buf : "-");
	}
	if (out_is_json())
		print_settings(tb);
	if ((a = tb[GOMEMGUARD_A_MEMCG]) && wide)
		out_str("memcg", " %s", nla_get_string(a));
	if (out_is_json())
		print_memcg(tb);
	if (view == PROC_VIEW_SNAPSHOT) {
		/* How long before the kill its first warning went out. */
		if ((a = tb[GOMEMGUARD_A_LEAD_MS]))
			out_u64_str("lead_ms", " %7s", nla_get_u64(a),
				    eta_text(buf, sizeof(buf), nla_get_u64(a)));
		else
			out_null("lead_ms", " %7s", "-");
	}
	out_text("\n");
}

void proc_describe(struct nlattr *tb[])
{
	char b1[UNITS_BUF_LEN], b2[UNITS_BUF_LEN];
	const char *sep = " (";
	struct nlattr *a;

	a = tb[GOMEMGUARD_A_COMM];
	printf("%s", a ? nla_get_string(a) : "?");
	if ((a = tb[GOMEMGUARD_A_PID]))
		printf("[%" PRIu32 "]", nla_get_u32(a));
	if ((a = tb[GOMEMGUARD_A_ANON]))
		printf(" anon %s", bytes_text(b1, sizeof(b1), a));
	if ((a = tb[GOMEMGUARD_A_SWAP]) && nla_get_u64(a))
		printf(" + swap %s", bytes_text(b1, sizeof(b1), a));
	if ((a = tb[GOMEMGUARD_A_SOFT_LIMIT])) {
		if (tb[GOMEMGUARD_A_USAGE_PCT])
			printf(" (%" PRIu32 "%% of %s)",
			       nla_get_u32(tb[GOMEMGUARD_A_USAGE_PCT]),
			       bytes_text(b1, sizeof(b1), a));
		else
			printf(" (soft limit %s)", bytes_text(b1, sizeof(b1), a));
	}
	if ((a = tb[GOMEMGUARD_A_RATE]) &&
	    (nla_get_s64(a) >= UNITS_RATE_FLAT || nla_get_s64(a) <= -UNITS_RATE_FLAT))
		printf(", %s", units_format_rate(b1, sizeof(b1), nla_get_s64(a)));
	if ((a = tb[GOMEMGUARD_A_ETA_MS]))
		printf(", reaches %s in %s", proc_limit_words(tb[GOMEMGUARD_A_ETA_LIMIT]),
		       eta_text(b1, sizeof(b1), nla_get_u64(a)));

	if ((a = tb[GOMEMGUARD_A_FILE])) {
		printf("%sfile %s", sep, bytes_text(b1, sizeof(b1), a));
		sep = ", ";
	}
	if ((a = tb[GOMEMGUARD_A_SHMEM]) && nla_get_u64(a)) {
		printf("%sshmem %s", sep, bytes_text(b1, sizeof(b1), a));
		sep = ", ";
	}
	if ((a = tb[GOMEMGUARD_A_MEMCG])) {
		printf("%smemcg %s", sep, nla_get_string(a));
		sep = ", ";
		if ((a = tb[GOMEMGUARD_A_MEMCG_USAGE]))
			printf(" %s/%s", bytes_text(b1, sizeof(b1), a),
			       tb[GOMEMGUARD_A_MEMCG_MAX] ?
			       bytes_text(b2, sizeof(b2), tb[GOMEMGUARD_A_MEMCG_MAX]) :
			       "max");
	}
	printf("%s\n", sep[0] == ',' ? ")" : "");
}

struct watched_list {
	struct proc_watched *w;
	size_t n, cap;
};

static int on_watched(struct gmc_nl *nl, struct nlattr *tb[], void *arg)
{
	static const int required[] = { GOMEMGUARD_A_PID, GOMEMGUARD_A_SOFT_LIMIT };
	struct watched_list *l = arg;
	struct proc_watched *bigger;

	if (gmc_nl_require(nl, tb, required, ARRAY_SIZE(required)))
		return -1;
	if (l->n == l->cap) {
		l->cap = l->cap ? l->cap * 2 : 64;
		bigger = realloc(l->w, l->cap * sizeof(*l->w));
		if (!bigger) {
			gmc_err(NULL, "%s", strerror(ENOMEM));
			return -1;
		}
		l->w = bigger;
	}
	l->w[l->n++] = (struct proc_watched){
		.pid = nla_get_u32(tb[GOMEMGUARD_A_PID]),
		.soft_limit = nla_get_u64(tb[GOMEMGUARD_A_SOFT_LIMIT]),
		.origin = tb[GOMEMGUARD_A_LIMIT_ORIGIN] ?
			  nla_get_u32(tb[GOMEMGUARD_A_LIMIT_ORIGIN]) : 0,
	};
	return 0;
}

int proc_watched_get(struct gmc_nl *nl, struct proc_watched **w, size_t *n)
{
	struct watched_list l = { 0 };
	struct nl_msg *req;

	req = gmc_nl_request(nl, GOMEMGUARD_CMD_PROC_GET, NLM_F_DUMP);
	if (!req || gmc_nl_transact(nl, req, on_watched, &l)) {
		free(l.w);
		return -1;
	}
	*w = l.w;
	*n = l.n;
	return 0;
}

const struct proc_watched *proc_watched_find(const struct proc_watched *w,
					     size_t n, uint32_t pid)
{
	size_t i;

	for (i = 0; i < n; i++) {
		if (w[i].pid == pid)
			return &w[i];
	}
	return NULL;
}
