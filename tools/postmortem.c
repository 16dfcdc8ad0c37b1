// SPDX-License-Identifier: GPL-2.0
/*
 * OOM post-mortems for JSON and for people.  The module stamps them with
 * CLOCK_BOOTTIME; people get the wall-clock time, by the offset between the
 * two clocks now, and how long ago that was.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "clock.h"
#include "gomemctl.h"
#include "memstat.h"
#include "output.h"
#include "postmortem.h"
#include "proc.h"
#include "units.h"
#include "wallclock.h"

#define NSEC_PER_SEC 1000000000ULL
#define NSEC_PER_MSEC 1000000ULL

/* SEQ only comes with events; OOM_GET replies may lack it. */
static const int report_required[] = {
	GOMEMGUARD_A_OOM_ID,
	GOMEMGUARD_A_TIME_NS,
	GOMEMGUARD_A_CONSTRAINT,
	GOMEMGUARD_A_MEMCG,
	GOMEMGUARD_A_VICTIM_PID,
	GOMEMGUARD_A_VICTIM_COMM,
	GOMEMGUARD_A_VICTIM_TAGGED,
	GOMEMGUARD_A_VICTIM_ANON,
	GOMEMGUARD_A_VICTIM_FILE,
	GOMEMGUARD_A_VICTIM_SHMEM,
	GOMEMGUARD_A_SNAPSHOT,
};

int postmortem_parse(struct gmc_nl *nl, struct nlattr *tb[],
		     struct postmortem *pm)
{
	struct nlattr *snapshot[GOMEMGUARD_A_MAX + 1], *nest;
	int missing, rem;
	size_t n = 0;

	*pm = (struct postmortem){ .tb = tb };
	missing = gmc_nl_missing(tb, report_required,
				 ARRAY_SIZE(report_required));
	if (missing)
		return missing;
	if (gmc_nl_parse_nested(nl, snapshot, tb[GOMEMGUARD_A_SNAPSHOT]))
		return -1;
	nla_for_each_nested(nest, tb[GOMEMGUARD_A_SNAPSHOT], rem)
		n += nla_type(nest) == GOMEMGUARD_A_SNAPSHOT_PROC;
	if (!n)
		return 0;
	pm->procs = calloc(n, sizeof(*pm->procs));
	if (!pm->procs) {
		gmc_err(NULL, "%s", strerror(ENOMEM));
		return -1;
	}
	/* Entries of a kind this gomemctl does not know are not its business. */
	nla_for_each_nested(nest, tb[GOMEMGUARD_A_SNAPSHOT], rem) {
		if (nla_type(nest) != GOMEMGUARD_A_SNAPSHOT_PROC)
			continue;
		if (gmc_nl_parse_nested(nl, pm->procs[pm->n_procs], nest))
			goto err;
		missing = gmc_nl_missing(pm->procs[pm->n_procs], proc_required,
					 proc_n_required);
		if (missing) {
			postmortem_free(pm);
			pm->missing_in_snapshot = true;
			return missing;
		}
		pm->n_procs++;
	}
	return 0;

err:
	postmortem_free(pm);
	return -1;
}

void postmortem_free(struct postmortem *pm)
{
	free(pm->procs);
	pm->procs = NULL;
	pm->n_procs = 0;
}

static const char *constraint_name(uint32_t constraint)
{
	switch (constraint) {
	case GOMEMGUARD_CONSTRAINT_MEMCG:
		return "memcg";
	case GOMEMGUARD_CONSTRAINT_GLOBAL:
		return "global";
	case GOMEMGUARD_CONSTRAINT_CPUSET:
		return "cpuset";
	case GOMEMGUARD_CONSTRAINT_MEMPOLICY:
		return "mempolicy";
	}
	return "unknown";
}

static uint32_t constraint(const struct postmortem *pm)
{
	return nla_get_u32(pm->tb[GOMEMGUARD_A_CONSTRAINT]);
}

static const char *memcg(const struct postmortem *pm)
{
	return nla_get_string(pm->tb[GOMEMGUARD_A_MEMCG]);
}

static char *bytes_text(char *buf, size_t len, const struct nlattr *a)
{
	return units_format_bytes(buf, len, nla_get_u64(a));
}

/* "2026-11-27 02:59:58 UTC (6 h ago)" */
static char *when_text(char *buf, size_t len, uint64_t time_ns)
{
	uint64_t real_now, boot_now, ago_ms = 0;
	char ago[UNITS_BUF_LEN];
	int64_t wall_ns;
	struct tm tm;
	time_t secs;
	size_t n;

	clock_now(&real_now, &boot_now);
	wall_ns = (int64_t)(real_now - boot_now) + (int64_t)time_ns;
	secs = (time_t)(wall_ns / (int64_t)NSEC_PER_SEC);
	n = localtime_r(&secs, &tm) ?
	    strftime(buf, len, "%Y-%m-%d %H:%M:%S %Z", &tm) : 0;
	if (!n)
		n = (size_t)snprintf(buf, len, "%" PRIu64 " ns after boot",
				     time_ns);
	if (boot_now > time_ns)
		ago_ms = (boot_now - time_ns) / NSEC_PER_MSEC;
	if (n < len)
		snprintf(buf + n, len - n, " (%s ago)",
			 units_format_elapsed(ago, sizeof(ago), ago_ms));
	return buf;
}

/* "memcg /app.slice hit memory.max" */
static void print_why(const struct postmortem *pm)
{
	switch (constraint(pm)) {
	case GOMEMGUARD_CONSTRAINT_MEMCG:
		printf("memcg %s hit memory.max\n", memcg(pm));
		break;
	case GOMEMGUARD_CONSTRAINT_GLOBAL:
		printf("global: the machine ran out of memory\n");
		break;
	case GOMEMGUARD_CONSTRAINT_CPUSET:
		printf("cpuset: the nodes of the victim's cpuset ran out of memory\n");
		break;
	case GOMEMGUARD_CONSTRAINT_MEMPOLICY:
		printf("mempolicy: the nodes of a NUMA memory policy ran out of memory\n");
		break;
	default:
		printf("constraint %" PRIu32 " (unknown to this gomemctl), memcg %s\n",
		       constraint(pm), memcg(pm));
	}
}

/* "first warning 28 s before the kill" */
static void print_lead(const struct nlattr *lead, const char *before)
{
	char buf[UNITS_BUF_LEN];

	if (lead)
		printf("first warning %s %s",
		       units_format_elapsed(buf, sizeof(buf), nla_get_u64(lead)),
		       before);
	else
		printf("no warning was given");
}

/*
 * What the kill could not free: the memcg's swap-backed and unevictable
 * LRUs a moment after it (UNFREED), and how much of the memcg is tmpfs or
 * shmem -- from memory.stat, read now (the module cannot tell tmpfs from
 * anon): "killing dd[314] freed 1 MiB; 254 MiB is tmpfs/shmem in /bench".
 * Nothing for a global OOM, or a module that does not say.
 */
static void print_unfreed(const struct postmortem *pm, const struct memstat *ms)
{
	char b1[UNITS_BUF_LEN], b2[UNITS_BUF_LEN];
	struct nlattr **tb = pm->tb;

	if (!tb[GOMEMGUARD_A_UNFREED])
		return;
	printf("killing %s[%" PRIu32 "] freed %s; ",
	       nla_get_string(tb[GOMEMGUARD_A_VICTIM_COMM]),
	       nla_get_u32(tb[GOMEMGUARD_A_VICTIM_PID]),
	       bytes_text(b1, sizeof(b1), tb[GOMEMGUARD_A_VICTIM_ANON]));
	if (ms->has_stat && ms->shmem)
		printf("%s is tmpfs/shmem in %s (of %s it could not free)",
		       units_format_bytes(b1, sizeof(b1), ms->shmem), memcg(pm),
		       bytes_text(b2, sizeof(b2), tb[GOMEMGUARD_A_UNFREED]));
	else
		printf("%s it could not free stayed in %s (tmpfs/shmem, unevictable, the others' anon)",
		       bytes_text(b1, sizeof(b1), tb[GOMEMGUARD_A_UNFREED]),
		       memcg(pm));
}

static void print_text(const struct postmortem *pm)
{
	char b1[UNITS_BUF_LEN], b2[UNITS_BUF_LEN], b3[UNITS_BUF_LEN], when[96];
	struct nlattr **tb = pm->tb;
	struct memstat ms;
	size_t i;

	printf("OOM kill #%" PRIu32 " at %s\n",
	       nla_get_u32(tb[GOMEMGUARD_A_OOM_ID]),
	       when_text(when, sizeof(when),
			 nla_get_u64(tb[GOMEMGUARD_A_TIME_NS])));
	printf("  killed:  %s[%" PRIu32 "] (%s): anon %s, file %s, shmem %s\n",
	       nla_get_string(tb[GOMEMGUARD_A_VICTIM_COMM]),
	       nla_get_u32(tb[GOMEMGUARD_A_VICTIM_PID]),
	       nla_get_u8(tb[GOMEMGUARD_A_VICTIM_TAGGED]) ? "tagged" :
							    "not tagged",
	       bytes_text(b1, sizeof(b1), tb[GOMEMGUARD_A_VICTIM_ANON]),
	       bytes_text(b2, sizeof(b2), tb[GOMEMGUARD_A_VICTIM_FILE]),
	       bytes_text(b3, sizeof(b3), tb[GOMEMGUARD_A_VICTIM_SHMEM]));
	printf("  why:     ");
	print_why(pm);
	printf("  warning: ");
	print_lead(tb[GOMEMGUARD_A_LEAD_MS], "before the kill");
	if (tb[GOMEMGUARD_A_MEMCG_LEAD_MS])
		printf(" (the memcg's own ETA %s before)",
		       units_format_elapsed(b1, sizeof(b1),
					    nla_get_u64(tb[GOMEMGUARD_A_MEMCG_LEAD_MS])));
	printf("\n");
	if (tb[GOMEMGUARD_A_UNFREED]) {
		memstat_read(memcg(pm), &ms);
		printf("  left:    ");
		print_unfreed(pm, &ms);
		printf("\n");
	}

	if (constraint(pm) == GOMEMGUARD_CONSTRAINT_GLOBAL)
		printf("  watched processes at the kill");
	else
		printf("  watched processes in %s at the kill", memcg(pm));
	if (!pm->n_procs) {
		printf(": none\n");
		return;
	}
	printf(":\n  ");
	proc_print_header(PROC_VIEW_SNAPSHOT);
	for (i = 0; i < pm->n_procs; i++) {
		printf("  ");
		proc_print(pm->procs[i], PROC_VIEW_SNAPSHOT);
	}
}

static void print_json(const struct postmortem *pm)
{
	struct nlattr **tb = pm->tb, *a;
	struct memstat ms;
	size_t i;

	out_json_str("event", "oom");
	out_json_u64("oom_id", nla_get_u32(tb[GOMEMGUARD_A_OOM_ID]));
	if ((a = tb[GOMEMGUARD_A_SEQ]))
		out_json_u64("seq", nla_get_u64(a));
	out_json_u64("time_ns", nla_get_u64(tb[GOMEMGUARD_A_TIME_NS]));
	wallclock_json(nla_get_u64(tb[GOMEMGUARD_A_TIME_NS]));
	out_json_str("constraint", constraint_name(constraint(pm)));
	out_json_str("memcg", memcg(pm));
	out_json_u64("victim_pid", nla_get_u32(tb[GOMEMGUARD_A_VICTIM_PID]));
	out_json_str("victim_comm", nla_get_string(tb[GOMEMGUARD_A_VICTIM_COMM]));
	out_json_bool("victim_tagged",
		      nla_get_u8(tb[GOMEMGUARD_A_VICTIM_TAGGED]));
	out_json_u64("victim_anon_bytes",
		     nla_get_u64(tb[GOMEMGUARD_A_VICTIM_ANON]));
	out_json_u64("victim_file_bytes",
		     nla_get_u64(tb[GOMEMGUARD_A_VICTIM_FILE]));
	out_json_u64("victim_shmem_bytes",
		     nla_get_u64(tb[GOMEMGUARD_A_VICTIM_SHMEM]));
	if ((a = tb[GOMEMGUARD_A_LEAD_MS]))
		out_json_u64("lead_ms", nla_get_u64(a));
	else
		out_json_null("lead_ms");
	if ((a = tb[GOMEMGUARD_A_MEMCG_LEAD_MS]))
		out_json_u64("memcg_lead_ms", nla_get_u64(a));
	else
		out_json_null("memcg_lead_ms");
	if ((a = tb[GOMEMGUARD_A_UNFREED]))
		out_json_u64("unfreed_bytes", nla_get_u64(a));
	else
		out_json_null("unfreed_bytes");
	/* memory.stat's shmem, read now: the module cannot tell it from anon. */
	memstat_read(memcg(pm), &ms);
	if (a && ms.has_stat)
		out_json_u64("memcg_shmem_bytes", ms.shmem);
	else
		out_json_null("memcg_shmem_bytes");
	out_array_begin("snapshot");
	for (i = 0; i < pm->n_procs; i++) {
		out_object_begin(NULL);
		proc_print(pm->procs[i], PROC_VIEW_SNAPSHOT);
		out_object_end();
	}
	out_array_end();
}

void postmortem_print(const struct postmortem *pm)
{
	if (out_is_json())
		print_json(pm);
	else
		print_text(pm);
}

void postmortem_describe(const struct postmortem *pm)
{
	char buf[UNITS_BUF_LEN];
	struct nlattr **tb = pm->tb;
	struct memstat ms;

	switch (constraint(pm)) {
	case GOMEMGUARD_CONSTRAINT_MEMCG:
		printf("memcg %s", memcg(pm));
		break;
	case GOMEMGUARD_CONSTRAINT_GLOBAL:
	case GOMEMGUARD_CONSTRAINT_CPUSET:
	case GOMEMGUARD_CONSTRAINT_MEMPOLICY:
		printf("%s", constraint_name(constraint(pm)));
		break;
	default:
		printf("constraint %" PRIu32 ", memcg %s", constraint(pm),
		       memcg(pm));
	}
	printf(": killed %s[%" PRIu32 "] (%s, anon %s); ",
	       nla_get_string(tb[GOMEMGUARD_A_VICTIM_COMM]),
	       nla_get_u32(tb[GOMEMGUARD_A_VICTIM_PID]),
	       nla_get_u8(tb[GOMEMGUARD_A_VICTIM_TAGGED]) ? "tagged" :
							    "not tagged",
	       bytes_text(buf, sizeof(buf), tb[GOMEMGUARD_A_VICTIM_ANON]));
	print_lead(tb[GOMEMGUARD_A_LEAD_MS], "before");
	if (tb[GOMEMGUARD_A_UNFREED]) {
		memstat_read(memcg(pm), &ms);
		printf("; ");
		print_unfreed(pm, &ms);
	}
	printf(" (post-mortem #%" PRIu32 ")\n",
	       nla_get_u32(tb[GOMEMGUARD_A_OOM_ID]));
}
