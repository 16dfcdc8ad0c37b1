// SPDX-License-Identifier: GPL-2.0
/*
 * The textfile for node_exporter (see prom.h).  Every refresh reads the
 * module afresh (INFO_GET, then PROC_GET and MEMCG_GET dumps) on a socket
 * opened for it, as monitor's resync does, so a reloaded module is simply
 * read again, and each memcg's memory.stat and memory.pressure; the file
 * is rendered in memory and only then written.
 *
 * Numbers are printed exactly, without floating point: bytes as integers,
 * milliseconds as seconds with three decimals, percentages as ratios.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <unistd.h>

#include "cgname.h"
#include "gomemctl.h"
#include "memcg.h"
#include "memstat.h"
#include "nl.h"
#include "proc.h"
#include "prom.h"

/* How a field of struct prom_proc or prom_memcg is printed. */
enum vfmt {
	V_U64,
	V_S64,
	V_U32,
	V_PCT_RATIO,		/* u32 percent as a ratio: 90 is 0.90 */
	V_HUNDREDTHS_RATIO,	/* u32 1/100 % as a ratio: 1234 is 0.1234 */
	V_MS_SECONDS,		/* u32 milliseconds as seconds: 1500 is 1.500 */
};

#define ALWAYS SIZE_MAX

struct field {
	const char *name;
	const char *type;
	const char *help;
	size_t off;		/* of the value */
	enum vfmt fmt;
	size_t has;		/* of the bool saying it is there, or ALWAYS */
};

#define PROC(f) offsetof(struct prom_proc, f)
#define MEMCG(f) offsetof(struct prom_memcg, f)

static const struct field proc_fields[] = {
	{ "gomemguard_process_anon_bytes", "gauge",
	  "Anonymous resident memory of a watched process.",
	  PROC(anon), V_U64, ALWAYS },
	{ "gomemguard_process_file_bytes", "gauge",
	  "File pages mapped by a watched process.",
	  PROC(file), V_U64, ALWAYS },
	{ "gomemguard_process_shmem_bytes", "gauge",
	  "Shmem and tmpfs pages mapped by a watched process.",
	  PROC(shmem), V_U64, ALWAYS },
	{ "gomemguard_process_swap_bytes", "gauge",
	  "Anonymous memory of a watched process swapped out.",
	  PROC(swap), V_U64, ALWAYS },
	{ "gomemguard_process_hwm_bytes", "gauge",
	  "High-water mark of anon plus swap of a watched process.",
	  PROC(hwm), V_U64, ALWAYS },
	{ "gomemguard_process_growth_bytes_per_second", "gauge",
	  "Growth of anon plus swap over the tag's rate window (negative: shrinking).",
	  PROC(rate), V_S64, ALWAYS },
	{ "gomemguard_process_soft_limit_bytes", "gauge",
	  "Soft limit of a watched process (anon plus swap).",
	  PROC(soft_limit), V_U64, ALWAYS },
	{ "gomemguard_process_level_percent", "gauge",
	  "Highest warn level crossed, in percent of the soft limit; 0 for none.",
	  PROC(level_pct), V_U32, ALWAYS },
	{ "gomemguard_process_usage_ratio", "gauge",
	  "Anon plus swap as a share of the soft limit.",
	  PROC(usage_pct), V_PCT_RATIO, ALWAYS },
	{ "gomemguard_process_eta_horizon_seconds", "gauge",
	  "The tag's ETA horizon: an ETA below it sends an eta event.",
	  PROC(eta_horizon_ms), V_MS_SECONDS, ALWAYS },
	{ "gomemguard_process_signals_sent_total", "counter",
	  "Fuse signals the module sent to a watched process since it was tagged.",
	  PROC(signals_sent), V_U32, ALWAYS },
};

static const struct field memcg_fields[] = {
	{ "gomemguard_memcg_usage_bytes", "gauge",
	  "memory.current of a memory cgroup holding watched processes.",
	  MEMCG(usage), V_U64, ALWAYS },
	{ "gomemguard_memcg_max_bytes", "gauge",
	  "memory.max of the memory cgroup; absent when unlimited.",
	  MEMCG(max), V_U64, MEMCG(has_max) },
	{ "gomemguard_memcg_high_bytes", "gauge",
	  "memory.high of the memory cgroup; absent when unlimited.",
	  MEMCG(high), V_U64, MEMCG(has_high) },
	{ "gomemguard_memcg_anon_bytes", "gauge",
	  "Anonymous memory of the memory cgroup (memory.stat); absent when unreadable.",
	  MEMCG(anon), V_U64, MEMCG(has_stat) },
	{ "gomemguard_memcg_file_bytes", "gauge",
	  "File memory of the memory cgroup, shmem included (memory.stat); absent when unreadable.",
	  MEMCG(file), V_U64, MEMCG(has_stat) },
	{ "gomemguard_memcg_shmem_bytes", "gauge",
	  "Shmem and tmpfs memory of the memory cgroup (memory.stat); absent when unreadable.",
	  MEMCG(shmem), V_U64, MEMCG(has_stat) },
	{ "gomemguard_memcg_swapbacked_bytes", "gauge",
	  "Swap-backed LRU of the memory cgroup: anon and shmem, which reclaim cannot drop without swap.",
	  MEMCG(swapbacked), V_U64, ALWAYS },
	{ "gomemguard_memcg_unevictable_bytes", "gauge",
	  "Unevictable LRU of the memory cgroup: mlocked and ramfs pages.",
	  MEMCG(unevictable), V_U64, ALWAYS },
	{ "gomemguard_memcg_reclaimable_bytes", "gauge",
	  "Page cache on the file LRU, which reclaim can drop without swap.",
	  MEMCG(reclaimable), V_U64, ALWAYS },
	{ "gomemguard_memcg_pinned_bytes", "gauge",
	  "Page cache reclaim cannot drop as it is: shmem, dirty, under writeback (memory.stat); absent when unreadable.",
	  MEMCG(pinned), V_U64, MEMCG(has_stat) },
	{ "gomemguard_memcg_pressure_level", "gauge",
	  "Reclaim pressure level: 0 none, 1 low, 2 medium, 3 critical.",
	  MEMCG(pressure), V_U32, ALWAYS },
	{ "gomemguard_memcg_oom_kills_total", "counter",
	  "oom_kill count of memory.events.",
	  MEMCG(oom_kills), V_U64, ALWAYS },
	{ "gomemguard_memcg_psi_some_avg10_ratio", "gauge",
	  "avg10 of some in memory.pressure, as a ratio; absent when unreadable.",
	  MEMCG(psi_some), V_HUNDREDTHS_RATIO, MEMCG(has_psi) },
	{ "gomemguard_memcg_psi_full_avg10_ratio", "gauge",
	  "avg10 of full in memory.pressure, as a ratio; absent when unreadable.",
	  MEMCG(psi_full), V_HUNDREDTHS_RATIO, MEMCG(has_psi) },
};

/* As monitor -j names them; [0] is every type this gomemctl does not know. */
static const char *const event_names[GOMEMGUARD_EVENT_OOM + 1] = {
	[0] = "unknown",
	[GOMEMGUARD_EVENT_WARN] = "warn",
	[GOMEMGUARD_EVENT_ETA] = "eta",
	[GOMEMGUARD_EVENT_RECOVER] = "recover",
	[GOMEMGUARD_EVENT_EXIT] = "exit",
	[GOMEMGUARD_EVENT_PRESSURE] = "pressure",
	[GOMEMGUARD_EVENT_OOM] = "oom",
};

/* Length of the well-formed UTF-8 sequence at s (RFC 3629), or 0. */
static size_t utf8_len(const unsigned char *s)
{
	unsigned char lo = 0x80, hi = 0xbf;

	if (s[0] < 0x80)
		return 1;
	if (s[0] >= 0xc2 && s[0] <= 0xdf)
		return (s[1] & 0xc0) == 0x80 ? 2 : 0;
	if (s[0] >= 0xe0 && s[0] <= 0xef) {
		/* No overlong forms, no UTF-16 surrogates. */
		if (s[0] == 0xe0)
			lo = 0xa0;
		else if (s[0] == 0xed)
			hi = 0x9f;
		return s[1] >= lo && s[1] <= hi && (s[2] & 0xc0) == 0x80 ? 3 : 0;
	}
	if (s[0] >= 0xf0 && s[0] <= 0xf4) {
		/* Nothing overlong, nothing above U+10FFFF. */
		if (s[0] == 0xf0)
			lo = 0x90;
		else if (s[0] == 0xf4)
			hi = 0x8f;
		return s[1] >= lo && s[1] <= hi && (s[2] & 0xc0) == 0x80 &&
		       (s[3] & 0xc0) == 0x80 ? 4 : 0;
	}
	return 0;
}

void prom_escape(FILE *f, const char *value)
{
	const unsigned char *s = (const unsigned char *)value;

	while (*s) {
		size_t n = utf8_len(s);

		if (*s == '\\' || *s == '"') {
			fputc('\\', f);
			fputc(*s, f);
		} else if (*s == '\n') {
			fputs("\\n", f);
		} else if (!n) {
			/* The collector refuses a file with invalid UTF-8. */
			fputs("\xef\xbf\xbd", f);
			n = 1;
		} else {
			fwrite(s, 1, n, f);
		}
		s += n ? n : 1;
	}
}

static void header(FILE *f, const char *name, const char *type,
		   const char *help)
{
	fprintf(f, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

static void value(FILE *f, const void *obj, const struct field *fd)
{
	const char *p = (const char *)obj + fd->off;
	uint32_t u32;

	switch (fd->fmt) {
	case V_U64:
		fprintf(f, " %" PRIu64 "\n", *(const uint64_t *)p);
		break;
	case V_S64:
		fprintf(f, " %" PRId64 "\n", *(const int64_t *)p);
		break;
	case V_U32:
		fprintf(f, " %" PRIu32 "\n", *(const uint32_t *)p);
		break;
	case V_PCT_RATIO:
		u32 = *(const uint32_t *)p;
		fprintf(f, " %" PRIu32 ".%02" PRIu32 "\n", u32 / 100, u32 % 100);
		break;
	case V_HUNDREDTHS_RATIO:
		u32 = *(const uint32_t *)p;
		fprintf(f, " %" PRIu32 ".%04" PRIu32 "\n", u32 / 10000,
			u32 % 10000);
		break;
	case V_MS_SECONDS:
		u32 = *(const uint32_t *)p;
		fprintf(f, " %" PRIu32 ".%03" PRIu32 "\n", u32 / 1000, u32 % 1000);
		break;
	}
}

static bool present(const void *obj, const struct field *fd)
{
	return fd->has == ALWAYS || *(const bool *)((const char *)obj + fd->has);
}

static void name_label(FILE *f, const char *name, const char *value)
{
	if (!*value)
		return;
	fprintf(f, ",%s=\"", name);
	prom_escape(f, value);
	fputc('"', f);
}

/*
 * pid, comm, memcg, source, and the unit, pod_uid and container_id the
 * memcg's path holds (left out when it holds none), without the closing
 * brace.
 */
static void proc_labels(FILE *f, const struct prom_proc *p)
{
	struct cgname n;

	fprintf(f, "{pid=\"%" PRIu32 "\",comm=\"", p->pid);
	prom_escape(f, p->comm);
	fputs("\",memcg=\"", f);
	prom_escape(f, p->memcg);
	fprintf(f, "\",source=\"%s\"", p->source);
	cgname_parse(p->memcg, &n);
	name_label(f, "unit", n.unit);
	name_label(f, "pod_uid", n.pod_uid);
	name_label(f, "container_id", n.container_id);
}

static void render_procs(FILE *f, const struct prom_snapshot *s)
{
	const char *eta = "gomemguard_process_eta_seconds";
	bool any_eta = false;
	size_t i, j;

	if (!s->n_procs)
		return;
	for (j = 0; j < ARRAY_SIZE(proc_fields); j++) {
		header(f, proc_fields[j].name, proc_fields[j].type,
		       proc_fields[j].help);
		for (i = 0; i < s->n_procs; i++) {
			fputs(proc_fields[j].name, f);
			proc_labels(f, &s->procs[i]);
			fputc('}', f);
			value(f, &s->procs[i], &proc_fields[j]);
		}
	}
	for (i = 0; i < s->n_procs; i++)
		any_eta |= s->procs[i].has_eta;
	if (!any_eta)
		return;
	header(f, eta, "gauge",
	       "Time until a watched process reaches the limit nearest at its current growth; absent when it is not growing towards one.");
	for (i = 0; i < s->n_procs; i++) {
		const struct prom_proc *p = &s->procs[i];

		if (!p->has_eta)
			continue;
		fputs(eta, f);
		proc_labels(f, p);
		fprintf(f, ",limit=\"%s\"} %" PRIu64 ".%03" PRIu64 "\n",
			p->eta_limit, p->eta_ms / 1000, p->eta_ms % 1000);
	}
}

static void render_memcgs(FILE *f, const struct prom_snapshot *s)
{
	size_t i, j;

	for (j = 0; j < ARRAY_SIZE(memcg_fields); j++) {
		const struct field *fd = &memcg_fields[j];
		bool started = false;

		for (i = 0; i < s->n_memcgs; i++) {
			if (!present(&s->memcgs[i], fd))
				continue;
			if (!started)
				header(f, fd->name, fd->type, fd->help);
			started = true;
			fprintf(f, "%s{memcg=\"", fd->name);
			prom_escape(f, s->memcgs[i].memcg);
			fputs("\"}", f);
			value(f, &s->memcgs[i], fd);
		}
	}
}

static void render_module(FILE *f, const struct prom_snapshot *s)
{
	header(f, "gomemguard_module_up", "gauge",
	       "Whether monitor's last read of the module's state succeeded.");
	fprintf(f, "gomemguard_module_up %d\n", s->up);
	if (!s->up)
		return;
	header(f, "gomemguard_module_info", "gauge",
	       "The loaded module's version and the kernel it runs on.");
	fputs("gomemguard_module_info{version=\"", f);
	prom_escape(f, s->version);
	fputs("\",kernel_release=\"", f);
	prom_escape(f, s->kernel_release);
	fputs("\"} 1\n", f);
	header(f, "gomemguard_tagged_processes", "gauge",
	       "Processes the module watches.");
	fprintf(f, "gomemguard_tagged_processes %" PRIu32 "\n", s->tagged);
	header(f, "gomemguard_events_sent_total", "counter",
	       "Events the module sent since it was loaded.");
	fprintf(f, "gomemguard_events_sent_total %" PRIu64 "\n", s->events_sent);
	header(f, "gomemguard_events_dropped_total", "counter",
	       "Events the module dropped (rate limit, no memory) since it was loaded.");
	fprintf(f, "gomemguard_events_dropped_total %" PRIu64 "\n",
		s->events_dropped);
	header(f, "gomemguard_oom_kills_total", "counter",
	       "OOM kills on the machine since the module was loaded.");
	fprintf(f, "gomemguard_oom_kills_total %" PRIu64 "\n", s->oom_kills);
	if (!s->has_exits_quiet)
		return;
	header(f, "gomemguard_exits_quiet_total", "counter",
	       "Exits of adopted processes that never warned, counted instead of sent as events.");
	fprintf(f, "gomemguard_exits_quiet_total %" PRIu64 "\n", s->exits_quiet);
}

static void render_counters(FILE *f, const struct prom_counters *c)
{
	const struct exec_stats *x = &c->exec_stats;
	size_t i;

	header(f, "gomemguard_monitor_events_total", "counter",
	       "Events this monitor received, by type.");
	for (i = 0; i < ARRAY_SIZE(event_names); i++)
		fprintf(f, "gomemguard_monitor_events_total{event=\"%s\"} %" PRIu64 "\n",
			event_names[i], c->events[i]);
	header(f, "gomemguard_monitor_events_lost_total", "counter",
	       "Events this monitor missed: gaps in the event sequence.");
	fprintf(f, "gomemguard_monitor_events_lost_total %" PRIu64 "\n", c->lost);
	header(f, "gomemguard_monitor_overflows_total", "counter",
	       "Times the event socket overflowed and monitor resynced.");
	fprintf(f, "gomemguard_monitor_overflows_total %" PRIu64 "\n",
		c->overflows);
	if (!c->exec)
		return;
	header(f, "gomemguard_exec_runs_total", "counter",
	       "--exec commands started.");
	fprintf(f, "gomemguard_exec_runs_total %" PRIu64 "\n", x->started);
	header(f, "gomemguard_exec_failures_total", "counter",
	       "--exec commands that exited non-zero, were killed or could not start.");
	fprintf(f, "gomemguard_exec_failures_total %" PRIu64 "\n", x->failed);
	header(f, "gomemguard_exec_dropped_total", "counter",
	       "Events no --exec command ran for: the queue was full.");
	fprintf(f, "gomemguard_exec_dropped_total %" PRIu64 "\n", x->dropped);
	header(f, "gomemguard_exec_running", "gauge",
	       "--exec commands running.");
	fprintf(f, "gomemguard_exec_running %u\n", x->running);
	header(f, "gomemguard_exec_queued", "gauge",
	       "Events waiting for an --exec command.");
	fprintf(f, "gomemguard_exec_queued %u\n", x->queued);
}

void prom_render(FILE *f, const struct prom_snapshot *s,
		 const struct prom_counters *c)
{
	render_module(f, s);
	render_procs(f, s);
	render_memcgs(f, s);
	render_counters(f, c);
}

/* As show -j names them. */
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

static const char *limit_name(uint32_t limit)
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

static void *grow(void *array, size_t n, size_t size)
{
	/* Doubling at powers of two: amortized O(1) appends. */
	if (n & (n - 1))
		return array;
	return reallocarray(array, n ? 2 * n : 1, size);
}

static int nomem(void)
{
	gmc_err(NULL, "%s", strerror(ENOMEM));
	return -1;
}

static int on_info(struct gmc_nl *nl, struct nlattr *tb[], void *arg)
{
	static const int required[] = {
		GOMEMGUARD_A_VERSION,
		GOMEMGUARD_A_KERNEL_RELEASE,
		GOMEMGUARD_A_TAGGED,
		GOMEMGUARD_A_EVENTS_SENT,
		GOMEMGUARD_A_EVENTS_DROPPED,
		GOMEMGUARD_A_OOM_KILLS,
	};
	struct prom_snapshot *s = arg;

	if (gmc_nl_require(nl, tb, required, ARRAY_SIZE(required)))
		return -1;
	free(s->version);
	free(s->kernel_release);
	s->version = strdup(nla_get_string(tb[GOMEMGUARD_A_VERSION]));
	s->kernel_release = strdup(nla_get_string(tb[GOMEMGUARD_A_KERNEL_RELEASE]));
	if (!s->version || !s->kernel_release)
		return nomem();
	s->tagged = nla_get_u32(tb[GOMEMGUARD_A_TAGGED]);
	s->events_sent = nla_get_u64(tb[GOMEMGUARD_A_EVENTS_SENT]);
	s->events_dropped = nla_get_u64(tb[GOMEMGUARD_A_EVENTS_DROPPED]);
	s->oom_kills = nla_get_u64(tb[GOMEMGUARD_A_OOM_KILLS]);
	s->has_exits_quiet = tb[GOMEMGUARD_A_EXITS_QUIET];
	if (s->has_exits_quiet)
		s->exits_quiet = nla_get_u64(tb[GOMEMGUARD_A_EXITS_QUIET]);
	return 0;
}

static int on_proc(struct gmc_nl *nl, struct nlattr *tb[], void *arg)
{
	struct prom_snapshot *s = arg;
	struct prom_proc *p, *procs;
	struct nlattr *a;

	if (gmc_nl_require(nl, tb, proc_required, proc_n_required))
		return -1;
	procs = grow(s->procs, s->n_procs, sizeof(*s->procs));
	if (!procs)
		return nomem();
	s->procs = procs;
	p = &s->procs[s->n_procs];
	memset(p, 0, sizeof(*p));
	p->comm = strdup(nla_get_string(tb[GOMEMGUARD_A_COMM]));
	p->memcg = strdup(nla_get_string(tb[GOMEMGUARD_A_MEMCG]));
	/* Counted now: prom_snapshot_free() frees what it holds. */
	s->n_procs++;
	if (!p->comm || !p->memcg)
		return nomem();
	p->pid = nla_get_u32(tb[GOMEMGUARD_A_PID]);
	p->source = source_name(nla_get_u32(tb[GOMEMGUARD_A_SOURCE]));
	p->anon = nla_get_u64(tb[GOMEMGUARD_A_ANON]);
	p->file = nla_get_u64(tb[GOMEMGUARD_A_FILE]);
	p->shmem = nla_get_u64(tb[GOMEMGUARD_A_SHMEM]);
	p->swap = nla_get_u64(tb[GOMEMGUARD_A_SWAP]);
	p->hwm = nla_get_u64(tb[GOMEMGUARD_A_HWM]);
	p->soft_limit = nla_get_u64(tb[GOMEMGUARD_A_SOFT_LIMIT]);
	p->rate = nla_get_s64(tb[GOMEMGUARD_A_RATE]);
	p->level_pct = nla_get_u32(tb[GOMEMGUARD_A_LEVEL_PCT]);
	p->usage_pct = nla_get_u32(tb[GOMEMGUARD_A_USAGE_PCT]);
	p->eta_horizon_ms = nla_get_u32(tb[GOMEMGUARD_A_ETA_HORIZON_MS]);
	p->signals_sent = nla_get_u32(tb[GOMEMGUARD_A_SIGNALS_SENT]);
	/* ETA_MS and ETA_LIMIT come together, or neither does. */
	if ((a = tb[GOMEMGUARD_A_ETA_MS]) && tb[GOMEMGUARD_A_ETA_LIMIT]) {
		p->has_eta = true;
		p->eta_ms = nla_get_u64(a);
		p->eta_limit = limit_name(nla_get_u32(tb[GOMEMGUARD_A_ETA_LIMIT]));
	}
	return 0;
}

static int on_memcg(struct gmc_nl *nl, struct nlattr *tb[], void *arg)
{
	struct prom_snapshot *s = arg;
	struct prom_memcg *m, *memcgs;
	struct memstat ms;
	struct nlattr *a;

	if (gmc_nl_require(nl, tb, memcg_required, memcg_n_required))
		return -1;
	memcgs = grow(s->memcgs, s->n_memcgs, sizeof(*s->memcgs));
	if (!memcgs)
		return nomem();
	s->memcgs = memcgs;
	m = &s->memcgs[s->n_memcgs];
	memset(m, 0, sizeof(*m));
	m->memcg = strdup(nla_get_string(tb[GOMEMGUARD_A_MEMCG]));
	s->n_memcgs++;
	if (!m->memcg)
		return nomem();
	m->usage = nla_get_u64(tb[GOMEMGUARD_A_MEMCG_USAGE]);
	m->swapbacked = nla_get_u64(tb[GOMEMGUARD_A_MEMCG_ANON]);
	m->unevictable = nla_get_u64(tb[GOMEMGUARD_A_MEMCG_UNEVICTABLE]);
	m->reclaimable = nla_get_u64(tb[GOMEMGUARD_A_RECLAIMABLE]);
	m->pressure = nla_get_u32(tb[GOMEMGUARD_A_PRESSURE_LEVEL]);
	m->oom_kills = nla_get_u64(tb[GOMEMGUARD_A_MEMCG_EVENTS_OOM_KILL]);
	if ((a = tb[GOMEMGUARD_A_MEMCG_MAX])) {
		m->has_max = true;
		m->max = nla_get_u64(a);
	}
	if ((a = tb[GOMEMGUARD_A_MEMCG_HIGH])) {
		m->has_high = true;
		m->high = nla_get_u64(a);
	}
	memstat_read(m->memcg, &ms);
	m->has_stat = ms.has_stat;
	m->anon = ms.anon;
	m->file = ms.file;
	m->shmem = ms.shmem;
	m->pinned = memstat_pinned(&ms);
	m->has_psi = ms.has_psi;
	m->psi_some = ms.psi_some;
	m->psi_full = ms.psi_full;
	return 0;
}

void prom_snapshot_free(struct prom_snapshot *s)
{
	size_t i;

	for (i = 0; i < s->n_procs; i++) {
		free(s->procs[i].comm);
		free(s->procs[i].memcg);
	}
	for (i = 0; i < s->n_memcgs; i++)
		free(s->memcgs[i].memcg);
	free(s->procs);
	free(s->memcgs);
	free(s->version);
	free(s->kernel_release);
	memset(s, 0, sizeof(*s));
}

static int dump(struct gmc_nl *nl, uint8_t cmd, int flags, gmc_nl_reply_fn fn,
		struct prom_snapshot *s)
{
	struct nl_msg *req = gmc_nl_request(nl, cmd, flags);

	return req ? gmc_nl_transact(nl, req, fn, s) : -1;
}

int prom_collect(const char *verb, struct prom_snapshot *s)
{
	struct gmc_nl *nl = gmc_nl_open(verb);
	int err;

	err = !nl ||
	      dump(nl, GOMEMGUARD_CMD_INFO_GET, 0, on_info, s) ||
	      dump(nl, GOMEMGUARD_CMD_PROC_GET, NLM_F_DUMP, on_proc, s) ||
	      dump(nl, GOMEMGUARD_CMD_MEMCG_GET, NLM_F_DUMP, on_memcg, s);
	gmc_nl_close(nl);
	if (err) {
		/* Half a view would pass for the whole one. */
		prom_snapshot_free(s);
		return -1;
	}
	s->up = true;
	return 0;
}

int prom_write_atomic(const char *path, const char *text, size_t len)
{
	size_t off = 0;
	char *tmp;
	int fd, err = 0;

	if (asprintf(&tmp, "%s.tmp.%d", path, (int)getpid()) < 0)
		return -ENOMEM;
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0) {
		err = -errno;
		goto out;
	}
	while (off < len && !err) {
		ssize_t n = write(fd, text + off, len - off);

		if (n < 0 && errno != EINTR)
			err = -errno;
		else if (n > 0)
			off += (size_t)n;
	}
	/* Renamed before it is on disk, a crash could leave an empty file. */
	if (!err && fsync(fd))
		err = -errno;
	if (close(fd) && !err)
		err = -errno;
	if (!err && rename(tmp, path))
		err = -errno;
	if (err)
		unlink(tmp);
out:
	free(tmp);
	return err;
}

struct prom {
	const char *verb;
	char *path;
	prom_log_fn log;
	void *log_arg;
	bool failing;		/* the last write failed, and was said */
};

struct prom *prom_new(const char *verb, const char *path, prom_log_fn log,
		      void *log_arg)
{
	struct prom *p = calloc(1, sizeof(*p));

	if (p)
		p->path = strdup(path);
	if (!p || !p->path) {
		free(p);
		gmc_err(verb, "%s", strerror(ENOMEM));
		return NULL;
	}
	p->verb = verb;
	p->log = log;
	p->log_arg = log_arg;
	return p;
}

void prom_free(struct prom *p)
{
	if (!p)
		return;
	free(p->path);
	free(p);
}

static void say(struct prom *p, int priority, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void say(struct prom *p, int priority, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	p->log(p->log_arg, priority, msg);
}

int prom_refresh(struct prom *p, const struct prom_counters *c, bool look)
{
	struct prom_snapshot s = { 0 };
	char *text = NULL;
	size_t len = 0;
	FILE *f;
	int err;

	if (look)
		prom_collect(p->verb, &s);
	f = open_memstream(&text, &len);
	if (f) {
		prom_render(f, &s, c);
		err = fclose(f) ? -errno : prom_write_atomic(p->path, text, len);
	} else {
		err = -errno;
	}
	free(text);
	prom_snapshot_free(&s);
	if (err && !p->failing)
		say(p, LOG_ERR, "cannot write --prom-file \"%s\": %s", p->path,
		    strerror(-err));
	else if (!err && p->failing)
		say(p, LOG_NOTICE, "--prom-file \"%s\" written again", p->path);
	p->failing = err;
	return err ? -1 : 0;
}
