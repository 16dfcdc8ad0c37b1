// SPDX-License-Identifier: GPL-2.0
/*
 * monitor as a service: the Prometheus textfile (prom.c: escaping, the
 * whole file, atomic replacement), the --exec runner (exec.c: the bounded
 * queue, the command's stdin, environment, signals and descriptors, failed
 * commands) with real child processes, and monitor --exec, --syslog,
 * --prom-file and --quiet against the fake kernel (fake.h).  syslog() is
 * stood in for here, recording into shared memory.  KTAP on stdout; the
 * exit status is 1 when a test failed, 4 (kselftest's skip) when the
 * machine has no netlink for the fake kernel.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include <json-c/json.h>
#include <netlink/genl/genl.h>

#include "../exec.h"
#include "../gomemctl.h"
#include "../memstat.h"
#include "../nl.h"
#include "../prom.h"
#include "fake.h"

#define MIB (1ULL << 20)
#define GIB (1ULL << 30)

/* What syslog() was given, in shared memory: monitor runs in a child. */
#define LOG_MAX 32
struct log_rec {
	char ident[32];
	int option, facility;
	bool opened;
	unsigned int n;
	int priority[LOG_MAX];
	char msg[LOG_MAX][512];
};
static struct log_rec *logged;

void openlog(const char *ident, int option, int facility)
{
	snprintf(logged->ident, sizeof(logged->ident), "%s", ident);
	logged->option = option;
	logged->facility = facility;
	logged->opened = true;
}

void closelog(void)
{
}

static void record(int priority, const char *fmt, va_list ap)
	__attribute__((format(printf, 2, 0)));

static void record(int priority, const char *fmt, va_list ap)
{
	if (logged->n == LOG_MAX)
		return;
	logged->priority[logged->n] = priority;
	vsnprintf(logged->msg[logged->n], sizeof(logged->msg[0]), fmt, ap);
	logged->n++;
}

void syslog(int priority, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	record(priority, fmt, ap);
	va_end(ap);
}

/* What syslog() becomes with _FORTIFY_SOURCE. */
void __syslog_chk(int priority, int flag, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

void __syslog_chk(int priority, int flag, const char *fmt, ...)
{
	va_list ap;

	(void)flag;
	va_start(ap, fmt);
	record(priority, fmt, ap);
	va_end(ap);
}

static char tmp_dir[] = "/tmp/gmc-service.XXXXXX";

static char *path_of(const char *name)
{
	char *p;

	if (asprintf(&p, "%s/%s", tmp_dir, name) < 0)
		abort();
	return p;
}

/* The whole file, or NULL. */
static char *slurp(const char *path)
{
	char *text = NULL;
	size_t len = 0;
	FILE *f = fopen(path, "r"), *out;
	char buf[4096];
	size_t n;

	if (!f)
		return NULL;
	out = must(open_memstream(&text, &len));
	while ((n = fread(buf, 1, sizeof(buf), f)))
		fwrite(buf, 1, n, out);
	fclose(f);
	fclose(out);
	return text;
}

static bool same_text(const char *what, const char *got, const char *want)
{
	if (got && !strcmp(got, want))
		return true;
	ktap_diag(what, got ? got : "(nothing)");
	ktap_diag("expected", want);
	return false;
}

/* Prometheus: prom.c */

static char *escaped(const char *value)
{
	char *text = NULL;
	size_t len = 0;
	FILE *f = must(open_memstream(&text, &len));

	prom_escape(f, value);
	fclose(f);
	return text;
}

static bool test_prom_escape(void)
{
	static const struct {
		const char *in, *want;
	} cases[] = {
		{ "payments", "payments" },
		{ "a\\b", "a\\\\b" },
		{ "say \"hi\"", "say \\\"hi\\\"" },
		{ "two\nlines", "two\\nlines" },
		{ "tab\there", "tab\there" },
		{ "", "" },
	};
	bool ok = true;
	size_t i;

	for (i = 0; i < ARRAY_SIZE_T(cases); i++) {
		char *got = escaped(cases[i].in);

		if (strcmp(got, cases[i].want))
			ok = fail("\"%s\" escaped as \"%s\", expected \"%s\"",
				  cases[i].in, got, cases[i].want);
		free(got);
	}
	return ok;
}

static bool test_prom_utf8(void)
{
	static const struct {
		const char *in, *want;
	} cases[] = {
		/* Well-formed: é, €, U+10348, U+10FFFF. */
		{ "caf\xc3\xa9", "caf\xc3\xa9" },
		{ "\xe2\x82\xac", "\xe2\x82\xac" },
		{ "\xf0\x90\x8d\x88", "\xf0\x90\x8d\x88" },
		{ "\xf4\x8f\xbf\xbf", "\xf4\x8f\xbf\xbf" },
		/* A stray byte, an overlong '/', a surrogate, beyond U+10FFFF. */
		{ "a\xff" "b", "a\xef\xbf\xbd" "b" },
		{ "\xc0\xaf", "\xef\xbf\xbd\xef\xbf\xbd" },
		{ "\xed\xa0\x80", "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd" },
		{ "\xf4\x90\x80\x80", "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd" },
		/* Cut short at the end of the string. */
		{ "x\xe2\x82", "x\xef\xbf\xbd\xef\xbf\xbd" },
	};
	bool ok = true;
	size_t i;

	for (i = 0; i < ARRAY_SIZE_T(cases); i++) {
		char *got = escaped(cases[i].in);

		if (strcmp(got, cases[i].want))
			ok = fail("case %zu escaped wrongly (%zu bytes)", i,
				  strlen(got));
		free(got);
	}
	return ok;
}

static struct prom_proc sample_procs[] = {
	{
		.pid = 4711, .comm = (char *)"payments", .memcg = (char *)"/app.slice",
		.source = "cgroup", .anon = 1739461754, .file = 310 * MIB,
		.hwm = 1800000000, .soft_limit = 1932735283, .rate = 10276044,
		.has_eta = true, .eta_ms = 28500, .eta_limit = "soft",
		.level_pct = 90, .usage_pct = 90, .eta_horizon_ms = 30000,
		.signals_sent = 2,
	},
	{
		.pid = 815, .comm = (char *)"we\"ird\\", .memcg = (char *)"/x\ny",
		.source = "pid", .anon = 4096, .shmem = MIB, .swap = 8192,
		.hwm = 12288, .soft_limit = GIB, .rate = -4096, .usage_pct = 1,
		.eta_horizon_ms = 1500,
	},
};

/* /app.slice with its memory.stat and memory.pressure, /system.slice without. */
static struct prom_memcg sample_memcgs[] = {
	{
		.memcg = (char *)"/app.slice", .usage = 2040109465,
		.has_max = true, .max = 2 * GIB, .swapbacked = 1200 * MIB,
		.unevictable = 8 * MIB, .reclaimable = 700 * MIB,
		.has_stat = true, .anon = 1100 * MIB, .file = 800 * MIB,
		.shmem = 100 * MIB, .pinned = 180 * MIB,
		.pressure = GOMEMGUARD_PRESSURE_MEDIUM, .oom_kills = 1,
		.has_psi = true, .psi_some = 1234, .psi_full = 5,
	},
	{
		.memcg = (char *)"/system.slice", .usage = 50 * MIB,
		.has_high = true, .high = 64 * MIB, .swapbacked = 40 * MIB,
	},
};

static const char sample_file[] =
	"# HELP gomemguard_module_up Whether monitor's last read of the module's state succeeded.\n"
	"# TYPE gomemguard_module_up gauge\n"
	"gomemguard_module_up 1\n"
	"# HELP gomemguard_module_info The loaded module's version and the kernel it runs on.\n"
	"# TYPE gomemguard_module_info gauge\n"
	"gomemguard_module_info{version=\"9.8.7\",kernel_release=\"6.12.117+deb12-amd64\"} 1\n"
	"# HELP gomemguard_tagged_processes Processes the module watches.\n"
	"# TYPE gomemguard_tagged_processes gauge\n"
	"gomemguard_tagged_processes 2\n"
	"# HELP gomemguard_events_sent_total Events the module sent since it was loaded.\n"
	"# TYPE gomemguard_events_sent_total counter\n"
	"gomemguard_events_sent_total 42\n"
	"# HELP gomemguard_events_dropped_total Events the module dropped (rate limit, no memory) since it was loaded.\n"
	"# TYPE gomemguard_events_dropped_total counter\n"
	"gomemguard_events_dropped_total 5\n"
	"# HELP gomemguard_oom_kills_total OOM kills on the machine since the module was loaded.\n"
	"# TYPE gomemguard_oom_kills_total counter\n"
	"gomemguard_oom_kills_total 3\n"
	"# HELP gomemguard_exits_quiet_total Exits of adopted processes that never warned, counted instead of sent as events.\n"
	"# TYPE gomemguard_exits_quiet_total counter\n"
	"gomemguard_exits_quiet_total 124\n"
	"# HELP gomemguard_process_anon_bytes Anonymous resident memory of a watched process.\n"
	"# TYPE gomemguard_process_anon_bytes gauge\n"
	"gomemguard_process_anon_bytes{pid=\"4711\",comm=\"payments\",memcg=\"/app.slice\",source=\"cgroup\",unit=\"app.slice\"} 1739461754\n"
	"gomemguard_process_anon_bytes{pid=\"815\",comm=\"we\\\"ird\\\\\",memcg=\"/x\\ny\",source=\"pid\"} 4096\n"
	"# HELP gomemguard_process_file_bytes File pages mapped by a watched process.\n"
	"# TYPE gomemguard_process_file_bytes gauge\n"
	"gomemguard_process_file_bytes{pid=\"4711\",comm=\"payments\",memcg=\"/app.slice\",source=\"cgroup\",unit=\"app.slice\"} 325058560\n"
	"gomemguard_process_file_bytes{pid=\"815\",comm=\"we\\\"ird\\\\\",memcg=\"/x\\ny\",source=\"pid\"} 0\n"
	"# HELP gomemguard_process_shmem_bytes Shmem and tmpfs pages mapped by a watched process.\n"
	"# TYPE gomemguard_process_shmem_bytes gauge\n"
	"gomemguard_process_shmem_bytes{pid=\"4711\",comm=\"payments\",memcg=\"/app.slice\",source=\"cgroup\",unit=\"app.slice\"} 0\n"
	"gomemguard_process_shmem_bytes{pid=\"815\",comm=\"we\\\"ird\\\\\",memcg=\"/x\\ny\",source=\"pid\"} 1048576\n"
	"# HELP gomemguard_process_swap_bytes Anonymous memory of a watched process swapped out.\n"
	"# TYPE gomemguard_process_swap_bytes gauge\n"
	"gomemguard_process_swap_bytes{pid=\"4711\",comm=\"payments\",memcg=\"/app.slice\",source=\"cgroup\",unit=\"app.slice\"} 0\n"
	"gomemguard_process_swap_bytes{pid=\"815\",comm=\"we\\\"ird\\\\\",memcg=\"/x\\ny\",source=\"pid\"} 8192\n"
	"# HELP gomemguard_process_hwm_bytes High-water mark of anon plus swap of a watched process.\n"
	"# TYPE gomemguard_process_hwm_bytes gauge\n"
	"gomemguard_process_hwm_bytes{pid=\"4711\",comm=\"payments\",memcg=\"/app.slice\",source=\"cgroup\",unit=\"app.slice\"} 1800000000\n"
	"gomemguard_process_hwm_bytes{pid=\"815\",comm=\"we\\\"ird\\\\\",memcg=\"/x\\ny\",source=\"pid\"} 12288\n"
	"# HELP gomemguard_process_growth_bytes_per_second Growth of anon plus swap over the tag's rate window (negative: shrinking).\n"
	"# TYPE gomemguard_process_growth_bytes_per_second gauge\n"
	"gomemguard_process_growth_bytes_per_second{pid=\"4711\",comm=\"payments\",memcg=\"/app.slice\",source=\"cgroup\",unit=\"app.slice\"} 10276044\n"
	"gomemguard_process_growth_bytes_per_second{pid=\"815\",comm=\"we\\\"ird\\\\\",memcg=\"/x\\ny\",source=\"pid\"} -4096\n"
	"# HELP gomemguard_process_soft_limit_bytes Soft limit of a watched process (anon plus swap).\n"
	"# TYPE gomemguard_process_soft_limit_bytes gauge\n"
	"gomemguard_process_soft_limit_bytes{pid=\"4711\",comm=\"payments\",memcg=\"/app.slice\",source=\"cgroup\",unit=\"app.slice\"} 1932735283\n"
	"gomemguard_process_soft_limit_bytes{pid=\"815\",comm=\"we\\\"ird\\\\\",memcg=\"/x\\ny\",source=\"pid\"} 1073741824\n"
	"# HELP gomemguard_process_level_percent Highest warn level crossed, in percent of the soft limit; 0 for none.\n"
	"# TYPE gomemguard_process_level_percent gauge\n"
	"gomemguard_process_level_percent{pid=\"4711\",comm=\"payments\",memcg=\"/app.slice\",source=\"cgroup\",unit=\"app.slice\"} 90\n"
	"gomemguard_process_level_percent{pid=\"815\",comm=\"we\\\"ird\\\\\",memcg=\"/x\\ny\",source=\"pid\"} 0\n"
	"# HELP gomemguard_process_usage_ratio Anon plus swap as a share of the soft limit.\n"
	"# TYPE gomemguard_process_usage_ratio gauge\n"
	"gomemguard_process_usage_ratio{pid=\"4711\",comm=\"payments\",memcg=\"/app.slice\",source=\"cgroup\",unit=\"app.slice\"} 0.90\n"
	"gomemguard_process_usage_ratio{pid=\"815\",comm=\"we\\\"ird\\\\\",memcg=\"/x\\ny\",source=\"pid\"} 0.01\n"
	"# HELP gomemguard_process_eta_horizon_seconds The tag's ETA horizon: an ETA below it sends an eta event.\n"
	"# TYPE gomemguard_process_eta_horizon_seconds gauge\n"
	"gomemguard_process_eta_horizon_seconds{pid=\"4711\",comm=\"payments\",memcg=\"/app.slice\",source=\"cgroup\",unit=\"app.slice\"} 30.000\n"
	"gomemguard_process_eta_horizon_seconds{pid=\"815\",comm=\"we\\\"ird\\\\\",memcg=\"/x\\ny\",source=\"pid\"} 1.500\n"
	"# HELP gomemguard_process_signals_sent_total Fuse signals the module sent to a watched process since it was tagged.\n"
	"# TYPE gomemguard_process_signals_sent_total counter\n"
	"gomemguard_process_signals_sent_total{pid=\"4711\",comm=\"payments\",memcg=\"/app.slice\",source=\"cgroup\",unit=\"app.slice\"} 2\n"
	"gomemguard_process_signals_sent_total{pid=\"815\",comm=\"we\\\"ird\\\\\",memcg=\"/x\\ny\",source=\"pid\"} 0\n"
	"# HELP gomemguard_process_eta_seconds Time until a watched process reaches the limit nearest at its current growth; absent when it is not growing towards one.\n"
	"# TYPE gomemguard_process_eta_seconds gauge\n"
	"gomemguard_process_eta_seconds{pid=\"4711\",comm=\"payments\",memcg=\"/app.slice\",source=\"cgroup\",unit=\"app.slice\",limit=\"soft\"} 28.500\n"
	"# HELP gomemguard_memcg_usage_bytes memory.current of a memory cgroup holding watched processes.\n"
	"# TYPE gomemguard_memcg_usage_bytes gauge\n"
	"gomemguard_memcg_usage_bytes{memcg=\"/app.slice\"} 2040109465\n"
	"gomemguard_memcg_usage_bytes{memcg=\"/system.slice\"} 52428800\n"
	"# HELP gomemguard_memcg_max_bytes memory.max of the memory cgroup; absent when unlimited.\n"
	"# TYPE gomemguard_memcg_max_bytes gauge\n"
	"gomemguard_memcg_max_bytes{memcg=\"/app.slice\"} 2147483648\n"
	"# HELP gomemguard_memcg_high_bytes memory.high of the memory cgroup; absent when unlimited.\n"
	"# TYPE gomemguard_memcg_high_bytes gauge\n"
	"gomemguard_memcg_high_bytes{memcg=\"/system.slice\"} 67108864\n"
	"# HELP gomemguard_memcg_anon_bytes Anonymous memory of the memory cgroup (memory.stat); absent when unreadable.\n"
	"# TYPE gomemguard_memcg_anon_bytes gauge\n"
	"gomemguard_memcg_anon_bytes{memcg=\"/app.slice\"} 1153433600\n"
	"# HELP gomemguard_memcg_file_bytes File memory of the memory cgroup, shmem included (memory.stat); absent when unreadable.\n"
	"# TYPE gomemguard_memcg_file_bytes gauge\n"
	"gomemguard_memcg_file_bytes{memcg=\"/app.slice\"} 838860800\n"
	"# HELP gomemguard_memcg_shmem_bytes Shmem and tmpfs memory of the memory cgroup (memory.stat); absent when unreadable.\n"
	"# TYPE gomemguard_memcg_shmem_bytes gauge\n"
	"gomemguard_memcg_shmem_bytes{memcg=\"/app.slice\"} 104857600\n"
	"# HELP gomemguard_memcg_swapbacked_bytes Swap-backed LRU of the memory cgroup: anon and shmem, which reclaim cannot drop without swap.\n"
	"# TYPE gomemguard_memcg_swapbacked_bytes gauge\n"
	"gomemguard_memcg_swapbacked_bytes{memcg=\"/app.slice\"} 1258291200\n"
	"gomemguard_memcg_swapbacked_bytes{memcg=\"/system.slice\"} 41943040\n"
	"# HELP gomemguard_memcg_unevictable_bytes Unevictable LRU of the memory cgroup: mlocked and ramfs pages.\n"
	"# TYPE gomemguard_memcg_unevictable_bytes gauge\n"
	"gomemguard_memcg_unevictable_bytes{memcg=\"/app.slice\"} 8388608\n"
	"gomemguard_memcg_unevictable_bytes{memcg=\"/system.slice\"} 0\n"
	"# HELP gomemguard_memcg_reclaimable_bytes Page cache on the file LRU, which reclaim can drop without swap.\n"
	"# TYPE gomemguard_memcg_reclaimable_bytes gauge\n"
	"gomemguard_memcg_reclaimable_bytes{memcg=\"/app.slice\"} 734003200\n"
	"gomemguard_memcg_reclaimable_bytes{memcg=\"/system.slice\"} 0\n"
	"# HELP gomemguard_memcg_pinned_bytes Page cache reclaim cannot drop as it is: shmem, dirty, under writeback (memory.stat); absent when unreadable.\n"
	"# TYPE gomemguard_memcg_pinned_bytes gauge\n"
	"gomemguard_memcg_pinned_bytes{memcg=\"/app.slice\"} 188743680\n"
	"# HELP gomemguard_memcg_pressure_level Reclaim pressure level: 0 none, 1 low, 2 medium, 3 critical.\n"
	"# TYPE gomemguard_memcg_pressure_level gauge\n"
	"gomemguard_memcg_pressure_level{memcg=\"/app.slice\"} 2\n"
	"gomemguard_memcg_pressure_level{memcg=\"/system.slice\"} 0\n"
	"# HELP gomemguard_memcg_oom_kills_total oom_kill count of memory.events.\n"
	"# TYPE gomemguard_memcg_oom_kills_total counter\n"
	"gomemguard_memcg_oom_kills_total{memcg=\"/app.slice\"} 1\n"
	"gomemguard_memcg_oom_kills_total{memcg=\"/system.slice\"} 0\n"
	"# HELP gomemguard_memcg_psi_some_avg10_ratio avg10 of some in memory.pressure, as a ratio; absent when unreadable.\n"
	"# TYPE gomemguard_memcg_psi_some_avg10_ratio gauge\n"
	"gomemguard_memcg_psi_some_avg10_ratio{memcg=\"/app.slice\"} 0.1234\n"
	"# HELP gomemguard_memcg_psi_full_avg10_ratio avg10 of full in memory.pressure, as a ratio; absent when unreadable.\n"
	"# TYPE gomemguard_memcg_psi_full_avg10_ratio gauge\n"
	"gomemguard_memcg_psi_full_avg10_ratio{memcg=\"/app.slice\"} 0.0005\n"
	"# HELP gomemguard_monitor_events_total Events this monitor received, by type.\n"
	"# TYPE gomemguard_monitor_events_total counter\n"
	"gomemguard_monitor_events_total{event=\"unknown\"} 0\n"
	"gomemguard_monitor_events_total{event=\"warn\"} 7\n"
	"gomemguard_monitor_events_total{event=\"eta\"} 2\n"
	"gomemguard_monitor_events_total{event=\"recover\"} 0\n"
	"gomemguard_monitor_events_total{event=\"exit\"} 1\n"
	"gomemguard_monitor_events_total{event=\"pressure\"} 0\n"
	"gomemguard_monitor_events_total{event=\"oom\"} 1\n"
	"# HELP gomemguard_monitor_events_lost_total Events this monitor missed: gaps in the event sequence.\n"
	"# TYPE gomemguard_monitor_events_lost_total counter\n"
	"gomemguard_monitor_events_lost_total 3\n"
	"# HELP gomemguard_monitor_overflows_total Times the event socket overflowed and monitor resynced.\n"
	"# TYPE gomemguard_monitor_overflows_total counter\n"
	"gomemguard_monitor_overflows_total 1\n"
	"# HELP gomemguard_exec_runs_total --exec commands started.\n"
	"# TYPE gomemguard_exec_runs_total counter\n"
	"gomemguard_exec_runs_total 9\n"
	"# HELP gomemguard_exec_failures_total --exec commands that exited non-zero, were killed or could not start.\n"
	"# TYPE gomemguard_exec_failures_total counter\n"
	"gomemguard_exec_failures_total 1\n"
	"# HELP gomemguard_exec_dropped_total Events no --exec command ran for: the queue was full.\n"
	"# TYPE gomemguard_exec_dropped_total counter\n"
	"gomemguard_exec_dropped_total 2\n"
	"# HELP gomemguard_exec_running --exec commands running.\n"
	"# TYPE gomemguard_exec_running gauge\n"
	"gomemguard_exec_running 1\n"
	"# HELP gomemguard_exec_queued Events waiting for an --exec command.\n"
	"# TYPE gomemguard_exec_queued gauge\n"
	"gomemguard_exec_queued 0\n";

static char *render(const struct prom_snapshot *s, const struct prom_counters *c)
{
	char *text = NULL;
	size_t len = 0;
	FILE *f = must(open_memstream(&text, &len));

	prom_render(f, s, c);
	fclose(f);
	return text;
}

static bool test_prom_render(void)
{
	struct prom_snapshot s = {
		.up = true, .version = (char *)"9.8.7",
		.kernel_release = (char *)"6.12.117+deb12-amd64", .tagged = 2,
		.events_sent = 42, .events_dropped = 5, .oom_kills = 3,
		.has_exits_quiet = true, .exits_quiet = 124,
		.procs = sample_procs, .n_procs = ARRAY_SIZE_T(sample_procs),
		.memcgs = sample_memcgs, .n_memcgs = ARRAY_SIZE_T(sample_memcgs),
	};
	struct prom_counters c = {
		.events = { [GOMEMGUARD_EVENT_WARN] = 7,
			    [GOMEMGUARD_EVENT_ETA] = 2,
			    [GOMEMGUARD_EVENT_EXIT] = 1,
			    [GOMEMGUARD_EVENT_OOM] = 1 },
		.lost = 3, .overflows = 1, .exec = true,
		.exec_stats = { .started = 9, .failed = 1, .dropped = 2,
				.running = 1 },
	};
	char *got = render(&s, &c);
	bool ok = same_text("rendered", got, sample_file);

	free(got);
	return ok;
}

/* No module: its one metric says so; no --exec: no exec metrics. */
/* A container of a pod, systemd cgroup driver: its names as labels. */
static bool test_prom_names(void)
{
	struct prom_proc proc = sample_procs[0];
	struct prom_snapshot snap = {
		.up = true, .version = (char *)"9.8.7",
		.kernel_release = (char *)"6.1.0-56-amd64",
		.procs = &proc, .n_procs = 1,
	};
	struct prom_counters c = { 0 };
	static const char want[] =
		"gomemguard_process_anon_bytes{pid=\"4711\",comm=\"payments\","
		"memcg=\"/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod5d3c4a5e_9b0a_4e0c_8e3a_2c9f6f1b7d21.slice/cri-containerd-8f1e0c7b.scope\","
		"source=\"cgroup\",unit=\"cri-containerd-8f1e0c7b.scope\","
		"pod_uid=\"5d3c4a5e-9b0a-4e0c-8e3a-2c9f6f1b7d21\",container_id=\"8f1e0c7b\"} 1739461754\n";
	char *got;
	bool ok;

	proc.memcg = (char *)"/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod5d3c4a5e_9b0a_4e0c_8e3a_2c9f6f1b7d21.slice/cri-containerd-8f1e0c7b.scope";
	got = render(&snap, &c);
	ok = strstr(got, want) || fail("no line %s", want);
	if (!ok)
		ktap_diag("rendered", got);
	free(got);
	return ok;
}

static bool test_prom_render_down(void)
{
	static const char want[] =
		"# HELP gomemguard_module_up Whether monitor's last read of the module's state succeeded.\n"
		"# TYPE gomemguard_module_up gauge\n"
		"gomemguard_module_up 0\n"
		"# HELP gomemguard_monitor_events_total Events this monitor received, by type.\n"
		"# TYPE gomemguard_monitor_events_total counter\n"
		"gomemguard_monitor_events_total{event=\"unknown\"} 0\n"
		"gomemguard_monitor_events_total{event=\"warn\"} 0\n"
		"gomemguard_monitor_events_total{event=\"eta\"} 0\n"
		"gomemguard_monitor_events_total{event=\"recover\"} 0\n"
		"gomemguard_monitor_events_total{event=\"exit\"} 0\n"
		"gomemguard_monitor_events_total{event=\"pressure\"} 0\n"
		"gomemguard_monitor_events_total{event=\"oom\"} 0\n"
		"# HELP gomemguard_monitor_events_lost_total Events this monitor missed: gaps in the event sequence.\n"
		"# TYPE gomemguard_monitor_events_lost_total counter\n"
		"gomemguard_monitor_events_lost_total 0\n"
		"# HELP gomemguard_monitor_overflows_total Times the event socket overflowed and monitor resynced.\n"
		"# TYPE gomemguard_monitor_overflows_total counter\n"
		"gomemguard_monitor_overflows_total 0\n";
	struct prom_snapshot s = { 0 };
	struct prom_counters c = { 0 };
	char *got = render(&s, &c);
	bool ok = same_text("rendered", got, want);

	free(got);
	return ok;
}

/* Names of the entries of tmp_dir starting with prefix, or "". */
static char *entries(const char *prefix)
{
	char *text = NULL;
	size_t len = 0;
	FILE *f = must(open_memstream(&text, &len));
	DIR *d = opendir(tmp_dir);
	struct dirent *e;

	while (d && (e = readdir(d)))
		if (!strncmp(e->d_name, prefix, strlen(prefix)))
			fprintf(f, "%s ", e->d_name);
	if (d)
		closedir(d);
	fclose(f);
	return text;
}

static bool test_prom_atomic(void)
{
	char *path = path_of("a.prom"), *missing = path_of("none/a.prom");
	char *got, *left;
	struct stat st;
	bool ok = true;
	int err;

	err = prom_write_atomic(path, "x 1\n", 4);
	if (err)
		ok = fail("first write: %s", strerror(-err));
	err = prom_write_atomic(path, "y 2\n", 4);
	if (err)
		ok = fail("second write: %s", strerror(-err));
	got = slurp(path);
	ok &= same_text("a.prom", got, "y 2\n");
	if (stat(path, &st) || (st.st_mode & 0777) != (0644 & ~(mode_t)022))
		ok = fail("mode %o, expected 644", st.st_mode & 0777);
	left = entries("a.prom.tmp");
	if (*left)
		ok = fail("left behind: %s", left);
	err = prom_write_atomic(missing, "x 1\n", 4);
	if (err != -ENOENT)
		ok = fail("into a missing directory: %d, expected -ENOENT", err);
	unlink(path);
	free(got);
	free(left);
	free(path);
	free(missing);
	return ok;
}

/* --exec: exec.c */

struct said {
	unsigned int n;
	int priority[8];
	char msg[8][512];
};

static void exec_log(void *arg, int priority, const char *msg)
{
	struct said *s = arg;

	if (s->n < 8) {
		s->priority[s->n] = priority;
		snprintf(s->msg[s->n++], sizeof(s->msg[0]), "%s", msg);
	}
}

/* Reaps until every command finished (10 s at most: a hung command). */
static bool wait_idle(struct exec_runner *r)
{
	struct timespec ts = { 0, 10 * 1000 * 1000 };
	int i;

	for (i = 0; i < 1000 && exec_busy(r); i++) {
		nanosleep(&ts, NULL);
		exec_reap(r);
	}
	return !exec_busy(r) || fail("commands still running after 10 s");
}

static bool test_exec_env(void)
{
	static const char json[] =
		"{\"event\":\"warn\",\"seq\":12,\"pid\":4711,\"comm\":\"go svc\","
		"\"rate_bytes_per_s\":-4096,\"eta_ms\":null,\"inherit\":true,"
		"\"psi_some_avg10\":12.34,\"levels\":[80,90,100],"
		"\"snapshot\":[{\"pid\":1}],\"memcg\":\"/app.slice\","
		"\"u\":18446744073709551615,\"names\":[\"a\",\"b\"],\"o\":{}}";
	static const char *const want[] = {
		"PATH=/bin", "HOME=/root",
		"GOMEMGUARD_EVENT=warn", "GOMEMGUARD_SEQ=12",
		"GOMEMGUARD_PID=4711", "GOMEMGUARD_COMM=go svc",
		"GOMEMGUARD_RATE_BYTES_PER_S=-4096", "GOMEMGUARD_INHERIT=true",
		"GOMEMGUARD_PSI_SOME_AVG10=12.34",
		"GOMEMGUARD_LEVELS=80,90,100",
		"GOMEMGUARD_MEMCG=/app.slice",
		"GOMEMGUARD_U=18446744073709551615",
		"GOMEMGUARD_NAMES=a,b",
	};
	char *const env[] = {
		(char *)"PATH=/bin", (char *)"GOMEMGUARD_SEQ=999",
		(char *)"HOME=/root", NULL,
	};
	char **got = exec_env(env, json);
	bool ok = true;
	size_t i;

	if (!got)
		return fail("no environment");
	for (i = 0; got[i] && i < ARRAY_SIZE_T(want); i++)
		if (strcmp(got[i], want[i]))
			ok = fail("variable %zu is \"%s\", expected \"%s\"", i,
				  got[i], want[i]);
	if (i != ARRAY_SIZE_T(want) || got[i])
		ok = fail("%zu variables or more, expected %zu", i,
			  ARRAY_SIZE_T(want));
	exec_env_free(got);
	if (exec_env(env, "[1]") || exec_env(env, "{"))
		ok = fail("an environment from JSON that is no object");
	return ok;
}

/* A command writing what it got into tmp_dir, named by its event. */
static struct exec_runner *runner(const char *cmd, unsigned int max,
				  unsigned int queue, struct said *said)
{
	char *full;
	struct exec_runner *r;

	if (asprintf(&full, "cd %s && %s", tmp_dir, cmd) < 0)
		abort();
	r = exec_new(full, max, queue, exec_log, said);
	free(full);
	return must(r);
}

static bool exists(const char *name)
{
	char *p = path_of(name);
	bool yes = !access(p, F_OK);

	free(p);
	return yes;
}

static bool test_exec_queue(void)
{
	struct said said = { 0 };
	struct exec_runner *r = runner("echo > ran.$GOMEMGUARD_SEQ", 2, 2,
				       &said);
	struct exec_stats st;
	bool ok = true;
	char json[64];
	int i, ret[6];

	/*
	 * Nothing is reaped between submissions: two start, two wait, two
	 * are dropped, however fast the commands are.
	 */
	for (i = 0; i < 6; i++) {
		snprintf(json, sizeof(json), "{\"seq\":%d}", i + 1);
		ret[i] = exec_submit(r, (uint64_t)i + 1, "warn", json);
	}
	exec_get_stats(r, &st);
	if (st.started != 2 || st.running != 2 || st.queued != 2 ||
	    st.dropped != 2)
		ok = fail("started %" PRIu64 ", running %u, queued %u, dropped %" PRIu64 "; expected 2, 2, 2, 2",
			  st.started, st.running, st.queued, st.dropped);
	if (ret[0] || ret[1] || ret[2] || ret[3] || ret[4] != 1 || ret[5] != 1)
		ok = fail("exec_submit returned %d %d %d %d %d %d", ret[0],
			  ret[1], ret[2], ret[3], ret[4], ret[5]);
	ok &= wait_idle(r);
	exec_get_stats(r, &st);
	if (st.started != 4 || st.failed || st.dropped != 2)
		ok = fail("started %" PRIu64 ", failed %" PRIu64 ", dropped %" PRIu64 "; expected 4, 0, 2",
			  st.started, st.failed, st.dropped);
	for (i = 1; i <= 6; i++) {
		char name[16];

		snprintf(name, sizeof(name), "ran.%d", i);
		if (exists(name) != (i <= 4))
			ok = fail("%s %s", name, i <= 4 ? "missing" : "exists");
	}
	if (said.n)
		ok = fail("said: %s", said.msg[0]);
	exec_free(r);
	return ok;
}

/* No queue at all: the one running command is all there is. */
static bool test_exec_no_queue(void)
{
	struct said said = { 0 };
	struct exec_runner *r = runner("true", 1, 0, &said);
	struct exec_stats st;
	bool ok;

	ok = !exec_submit(r, 1, "warn", "{}") &&
	     exec_submit(r, 2, "warn", "{}") == 1;
	ok &= wait_idle(r);
	ok &= !exec_submit(r, 3, "eta", "{}");
	ok &= wait_idle(r);
	exec_get_stats(r, &st);
	if (st.started != 2 || st.dropped != 1)
		ok = fail("started %" PRIu64 ", dropped %" PRIu64 "; expected 2, 1",
			  st.started, st.dropped);
	exec_free(r);
	return ok;
}

static bool test_exec_stdin_env(void)
{
	static const char json[] =
		"{\"event\":\"eta\",\"seq\":7,\"comm\":\"payments\",\"eta_ms\":28500}";
	struct said said = { 0 };
	struct exec_runner *r = runner(
		"cat > ev.$GOMEMGUARD_SEQ.json && "
		"printf '%s %s %s %s\\n' \"$GOMEMGUARD_EVENT\" \"$GOMEMGUARD_SEQ\" "
		"\"$GOMEMGUARD_COMM\" \"$GOMEMGUARD_ETA_MS\" > env.7", 1, 0, &said);
	char *ev = path_of("ev.7.json"), *env = path_of("env.7");
	char *got_ev, *got_env;
	bool ok;

	exec_submit(r, 7, "eta", json);
	ok = wait_idle(r);
	got_ev = slurp(ev);
	got_env = slurp(env);
	ok &= same_text("stdin", got_ev,
			"{\"event\":\"eta\",\"seq\":7,\"comm\":\"payments\",\"eta_ms\":28500}\n");
	ok &= same_text("environment", got_env, "eta 7 payments 28500\n");
	if (said.n)
		ok = fail("said: %s", said.msg[0]);
	free(got_ev);
	free(got_env);
	free(ev);
	free(env);
	exec_free(r);
	return ok;
}

/* Signals 32 and 33 in /proc's masks (bit n - 1 for signal n). */
#define GLIBC_SIGNALS (3ULL << 31)

/*
 * What monitor holds must not reach a command: blocked or ignored
 * signals, descriptors without O_CLOEXEC; and its stdout is stderr.
 */
static bool test_exec_clean_child(void)
{
	struct said said = { 0 };
	char *status = path_of("status"), *got = NULL, cmd[512];
	struct sigaction ign = { .sa_handler = SIG_IGN }, old_pipe;
	struct exec_runner *r;
	sigset_t mask, old_mask;
	uint64_t blocked, ignored;
	bool ok = true;
	int fd;

	fd = open("/dev/null", O_RDONLY);	/* no O_CLOEXEC, on purpose */
	snprintf(cmd, sizeof(cmd),
		 "[ ! -e /proc/$$/fd/%d ] && "
		 "[ \"$(readlink /proc/$$/fd/1)\" = \"$(readlink /proc/$$/fd/2)\" ] && "
		 "exec grep -E '^Sig(Blk|Ign):' /proc/self/status > status", fd);
	r = runner(cmd, 1, 0, &said);
	sigemptyset(&mask);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGCHLD);
	sigprocmask(SIG_BLOCK, &mask, &old_mask);
	sigaction(SIGPIPE, &ign, &old_pipe);

	exec_submit(r, 1, "warn", "{}");
	ok &= wait_idle(r);
	sigprocmask(SIG_SETMASK, &old_mask, NULL);
	sigaction(SIGPIPE, &old_pipe, NULL);
	close(fd);
	got = slurp(status);
	/*
	 * glibc's posix_spawn() leaves its own two signals (32, 33) ignored;
	 * every glibc program sets them up again before it uses them.
	 */
	if (!got || sscanf(got, "SigBlk: %" SCNx64 " SigIgn: %" SCNx64,
			   &blocked, &ignored) != 2)
		ok = fail("no signal masks in \"%s\"", got ? got : "");
	else if (blocked || (ignored & ~GLIBC_SIGNALS))
		ok = fail("blocked %#" PRIx64 ", ignored %#" PRIx64, blocked,
			  ignored);
	if (said.n)
		ok = fail("said: %s", said.msg[0]);
	free(got);
	free(status);
	exec_free(r);
	return ok;
}

static bool test_exec_failures(void)
{
	struct said said = { 0 };
	struct exec_runner *r = runner(
		"[ \"$GOMEMGUARD_SEQ\" = 1 ] && exit 3; kill -KILL $$", 2, 0,
		&said);
	struct exec_stats st;
	bool ok;
	int i;

	exec_submit(r, 1, "warn", "{\"seq\":1}");
	exec_submit(r, 2, "exit", "{\"seq\":2}");
	ok = wait_idle(r);
	exec_get_stats(r, &st);
	if (st.started != 2 || st.failed != 2)
		ok = fail("started %" PRIu64 ", failed %" PRIu64 "; expected 2, 2",
			  st.started, st.failed);
	if (said.n != 2)
		return fail("said %u things, expected 2", said.n);
	/*
	 * Each said once, in the order the commands were reaped: which one
	 * ends first is the scheduler's business (a loaded machine ran event
	 * 2's kill before event 1's exit).
	 */
	i = !strncmp(said.msg[0], "the command for event 2 ", 24);
	if (strcmp(said.msg[i], "the command for event 1 (warn) exited with status 3") ||
	    said.priority[i] != LOG_WARNING)
		ok = fail("said \"%s\" (%d)", said.msg[i], said.priority[i]);
	if (strcmp(said.msg[!i], "the command for event 2 (exit) was killed by SIGKILL") ||
	    said.priority[!i] != LOG_WARNING)
		ok = fail("said \"%s\" (%d)", said.msg[!i], said.priority[!i]);
	exec_free(r);
	return ok;
}

/* monitor against the fake kernel */

struct run {
	int status;
	char out[16384];
};

/* The monitor running, for run_monitor()'s meanwhile(). */
static pid_t monitor_pid;

static void run_monitor(struct run *r, const char *const args[],
			void (*meanwhile)(void))
{
	char *argv[32];
	int argc = 0, st;
	FILE *out;
	pid_t pid;
	size_t n;

	while (args[argc]) {
		argv[argc] = (char *)args[argc];
		argc++;
	}
	argv[argc] = NULL;
	out = must(tmpfile());
	fflush(stdout);
	pid = fork();
	if (pid < 0)
		abort();
	monitor_pid = pid;
	if (pid == 0) {
		dup2(fileno(out), STDOUT_FILENO);
		optind = 0;
		/* exit(), not _exit(): LeakSanitizer checks monitor too. */
		exit(monitor_main(argc, argv));
	}
	if (meanwhile)
		meanwhile();
	waitpid(pid, &st, 0);
	r->status = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
	rewind(out);
	n = fread(r->out, 1, sizeof(r->out) - 1, out);
	r->out[n] = '\0';
	fclose(out);
}

static void put_proc(struct nl_msg *m, uint32_t pid, const char *comm)
{
	static const uint32_t levels[] = { 80, 90, 100 };

	nla_put_u32(m, GOMEMGUARD_A_PID, pid);
	nla_put_string(m, GOMEMGUARD_A_COMM, comm);
	nla_put_u32(m, GOMEMGUARD_A_SOURCE, GOMEMGUARD_SOURCE_PID);
	nla_put_string(m, GOMEMGUARD_A_MEMCG, "/app.slice");
	nla_put_u64(m, GOMEMGUARD_A_MEMCG_ID, 1234);
	nla_put_u64(m, GOMEMGUARD_A_ANON, 1739461754);
	nla_put_u64(m, GOMEMGUARD_A_SWAP, 0);
	nla_put_u64(m, GOMEMGUARD_A_SHMEM, 0);
	nla_put_u64(m, GOMEMGUARD_A_FILE, 310 * MIB);
	nla_put_u64(m, GOMEMGUARD_A_HWM, 1800000000);
	nla_put_s64(m, GOMEMGUARD_A_RATE, 10276044);
	nla_put_u64(m, GOMEMGUARD_A_ETA_MS, 28500);
	nla_put_u32(m, GOMEMGUARD_A_ETA_LIMIT, GOMEMGUARD_LIMIT_SOFT);
	nla_put_u32(m, GOMEMGUARD_A_LEVEL_PCT, 90);
	nla_put_u32(m, GOMEMGUARD_A_USAGE_PCT, 90);
	nla_put_u64(m, GOMEMGUARD_A_SOFT_LIMIT, 1932735283);
	nla_put(m, GOMEMGUARD_A_LEVELS, sizeof(levels), levels);
	nla_put_u32(m, GOMEMGUARD_A_ETA_HORIZON_MS, 30000);
	nla_put_u32(m, GOMEMGUARD_A_SIGNAL, SIGUSR1);
	nla_put_u32(m, GOMEMGUARD_A_RATE_WINDOW_MS, 5000);
	nla_put_u8(m, GOMEMGUARD_A_INHERIT, 0);
	nla_put_u64(m, GOMEMGUARD_A_MEMCG_USAGE, 2040109465);
	nla_put_u64(m, GOMEMGUARD_A_MEMCG_MAX, 2 * GIB);
	nla_put_u32(m, GOMEMGUARD_A_SIGNALS_SENT, 0);
}

static struct nl_msg *event(uint32_t type, uint64_t seq)
{
	struct nl_msg *m = fake_event();

	nla_put_u32(m, GOMEMGUARD_A_EVENT, type);
	nla_put_u64(m, GOMEMGUARD_A_SEQ, seq);
	nla_put_u64(m, GOMEMGUARD_A_TIME_NS, seq * 1000000000ULL);
	put_proc(m, 4711, "payments");
	return m;
}

/* The module's side of --prom-file's refreshes. */
static void answer_refresh(struct nlmsghdr *req)
{
	uint8_t cmd = ((struct genlmsghdr *)nlmsg_data(req))->cmd;
	struct nl_msg *m;

	switch (cmd) {
	case GOMEMGUARD_CMD_INFO_GET:
		m = fake_reply(req, cmd, 0);
		nla_put_string(m, GOMEMGUARD_A_VERSION, "9.8.7");
		nla_put_string(m, GOMEMGUARD_A_KERNEL_RELEASE, "6.1.0-56-amd64");
		nla_put_u32(m, GOMEMGUARD_A_TAGGED, 1);
		nla_put_u64(m, GOMEMGUARD_A_EVENTS_SENT, 2);
		nla_put_u64(m, GOMEMGUARD_A_EVENTS_DROPPED, 0);
		nla_put_u64(m, GOMEMGUARD_A_OOM_KILLS, 0);
		nla_put_u64(m, GOMEMGUARD_A_EXITS_QUIET, 17);
		fake_queue(m, fake_ack(req, 0, true, NULL));
		break;
	case GOMEMGUARD_CMD_PROC_GET:
		m = fake_reply(req, cmd, NLM_F_MULTI);
		put_proc(m, 4711, "payments");
		nla_put_u64(m, GOMEMGUARD_A_MEMCG_HIGH, 2 * GIB);
		fake_queue(m, fake_done(req, 0, NULL));
		break;
	case GOMEMGUARD_CMD_MEMCG_GET:
		m = fake_reply(req, cmd, NLM_F_MULTI);
		nla_put_string(m, GOMEMGUARD_A_MEMCG, "/app.slice");
		nla_put_u64(m, GOMEMGUARD_A_MEMCG_ID, 1234);
		nla_put_u64(m, GOMEMGUARD_A_MEMCG_USAGE, 2040109465);
		nla_put_u64(m, GOMEMGUARD_A_MEMCG_MAX, 2 * GIB);
		nla_put_u64(m, GOMEMGUARD_A_MEMCG_ANON, 1739461754);
		nla_put_u64(m, GOMEMGUARD_A_MEMCG_FILE, 300 * MIB);
		nla_put_u64(m, GOMEMGUARD_A_MEMCG_UNEVICTABLE, 0);
		nla_put_u64(m, GOMEMGUARD_A_RECLAIMABLE, 300 * MIB);
		nla_put_u32(m, GOMEMGUARD_A_PRESSURE_LEVEL,
			    GOMEMGUARD_PRESSURE_LOW);
		nla_put_u64(m, GOMEMGUARD_A_MEMCG_EVENTS_HIGH, 0);
		nla_put_u64(m, GOMEMGUARD_A_MEMCG_EVENTS_MAX, 4);
		nla_put_u64(m, GOMEMGUARD_A_MEMCG_EVENTS_OOM, 0);
		nla_put_u64(m, GOMEMGUARD_A_MEMCG_EVENTS_OOM_KILL, 0);
		fake_queue(m, fake_done(req, 0, NULL));
		break;
	default:
		fake_queue(fake_ack(req, -EOPNOTSUPP, true, NULL), NULL);
	}
}

/* The -j lines of monitor for the same events, to compare with. */
static bool json_lines(char *out, size_t len)
{
	static const char *const args[] = { "monitor", "-j", NULL };
	struct run r;

	fake_reset();
	fake_queue_event(event(GOMEMGUARD_EVENT_WARN, 1),
			 event(GOMEMGUARD_EVENT_EXIT, 2));
	run_monitor(&r, args, NULL);
	snprintf(out, len, "%s", r.out);
	return r.status == 0 || fail("monitor -j: status %d", r.status);
}

static bool test_monitor_exec(void)
{
	char cmd[256], want[16384], *line2, *ev1 = path_of("ev.1.json"),
	     *ev2 = path_of("ev.2.json"), *got1 = NULL, *got2 = NULL;
	const char *args[] = { "monitor", "-q", "--exec", cmd, NULL };
	struct run r;
	bool ok;

	if (!json_lines(want, sizeof(want)))
		return false;
	fake_reset();
	snprintf(cmd, sizeof(cmd), "cat > %s/ev.$GOMEMGUARD_SEQ.json", tmp_dir);
	fake_queue_event(event(GOMEMGUARD_EVENT_WARN, 1),
			 event(GOMEMGUARD_EVENT_EXIT, 2));
	run_monitor(&r, args, NULL);
	/* monitor waits for its commands before it exits. */
	got1 = slurp(ev1);
	got2 = slurp(ev2);
	line2 = strchr(want, '\n');
	ok = (r.status == 0 || fail("status %d", r.status)) &&
	     same_text("stdout", r.out, "") &&
	     same_text("stderr", fake_said, "") && line2 &&
	     same_text("ev.2.json", got2, line2 + 1);
	if (ok) {
		line2[1] = '\0';
		ok = same_text("ev.1.json", got1, want);
	}
	free(got1);
	free(got2);
	unlink(ev1);
	unlink(ev2);
	free(ev1);
	free(ev2);
	return ok;
}

static char *fifo;

/* Lets the two commands monitor runs go, once it has said it dropped two. */
static void release_commands(void)
{
	int fd = open(fifo, O_RDWR | O_CLOEXEC), i;

	for (i = 0; i < 1000 && !strstr(fake_said, "dropped"); i++)
		usleep(10000);
	if (fd < 0 || write(fd, "go\ngo\n", 6) != 6)
		abort();
	/* Open until monitor is gone: the second reader must not block. */
	for (i = 0; i < 1000 && exists(".running"); i++)
		usleep(10000);
	close(fd);
}

/*
 * One command at a time, one waiting, and a command that cannot finish
 * before the test lets it: events 3 and 4 are dropped, said once, and
 * printed all the same.
 */
static bool test_monitor_exec_full(void)
{
	char cmd[512], *running = path_of(".running");
	const char *args[] = { "monitor", "-j", "--exec", cmd, "--exec-max",
			       "1", "--exec-queue", "1", NULL };
	struct run r;
	bool ok;
	int lines = 0;
	char *p;

	fifo = path_of("gate");
	if (mkfifo(fifo, 0600))
		return fail("mkfifo: %s", strerror(errno));
	close(open(running, O_WRONLY | O_CREAT | O_CLOEXEC, 0600));
	snprintf(cmd, sizeof(cmd), "read -r x < %s", fifo);
	fake_queue_event(event(GOMEMGUARD_EVENT_WARN, 1),
			 event(GOMEMGUARD_EVENT_ETA, 2));
	fake_queue_event(event(GOMEMGUARD_EVENT_WARN, 3),
			 event(GOMEMGUARD_EVENT_RECOVER, 4));
	/* release_commands() waits for this file to go. */
	snprintf(cmd + strlen(cmd), sizeof(cmd) - strlen(cmd),
		 "; if [ $GOMEMGUARD_SEQ = 2 ]; then rm %s; fi", running);
	run_monitor(&r, args, release_commands);
	for (p = r.out; (p = strchr(p, '\n')); p++)
		lines++;
	ok = (r.status == 0 || fail("status %d", r.status)) &&
	     (lines == 4 || fail("%d lines on stdout, expected 4", lines)) &&
	     same_text("stderr", fake_said,
		       "gomemctl: monitor: --exec: 2 events dropped, the queue is full (2 in all)\n");
	unlink(fifo);
	unlink(running);
	free(fifo);
	free(running);
	return ok;
}

static bool test_monitor_syslog(void)
{
	static const char *const args[] = { "monitor", "--syslog", "-q", NULL };
	static const char *const want[] = {
		"warn payments[4711] anon 1.62 GiB (90% of 1.8 GiB), +9.8 MiB/s, reaches soft limit in 28s (file 310 MiB, memcg /app.slice 1.9 GiB/2 GiB)",
		"lost 2 events (seq 2..3)",
		"exit payments[4711] anon 1.62 GiB (90% of 1.8 GiB), +9.8 MiB/s, reaches soft limit in 28s (file 310 MiB, memcg /app.slice 1.9 GiB/2 GiB)",
	};
	static const int prio[] = { LOG_WARNING, LOG_WARNING, LOG_INFO };
	struct run r;
	bool ok = true;
	unsigned int i;

	memset(logged, 0, sizeof(*logged));
	fake_queue_event(event(GOMEMGUARD_EVENT_WARN, 1),
			 event(GOMEMGUARD_EVENT_EXIT, 4));
	run_monitor(&r, args, NULL);
	if (r.status)
		ok = fail("status %d", r.status);
	if (!logged->opened || strcmp(logged->ident, "gomemctl") ||
	    logged->facility != LOG_DAEMON || !(logged->option & LOG_PID))
		ok = fail("openlog(\"%s\", %#x, %d)", logged->ident,
			  logged->option, logged->facility);
	if (logged->n != ARRAY_SIZE_T(want))
		return fail("%u lines in syslog, expected %zu", logged->n,
			    ARRAY_SIZE_T(want));
	for (i = 0; i < logged->n; i++) {
		if (strcmp(logged->msg[i], want[i]) ||
		    logged->priority[i] != prio[i])
			ok = fail("syslog line %u: <%d> %s", i,
				  logged->priority[i], logged->msg[i]);
	}
	/* stderr has the lost events too; stdout nothing. */
	return ok && same_text("stdout", r.out, "") &&
	       same_text("stderr", fake_said,
			 "gomemctl: monitor: lost 2 events (seq 2..3)\n");
}

/*
 * With GMC_PROM_SAVE=DIR, a copy of the file monitor wrote goes to DIR/name,
 * for promtool check metrics (selftests/host/prom_rules_test.sh).
 */
static void save_copy(const char *file, const char *name)
{
	const char *dir = getenv("GMC_PROM_SAVE");
	char *text, *path;
	FILE *f;

	if (!dir || !(text = slurp(file)))
		return;
	if (asprintf(&path, "%s/%s", dir, name) < 0)
		abort();
	f = fopen(path, "w");
	if (f) {
		fputs(text, f);
		fclose(f);
	}
	free(path);
	free(text);
}

static bool test_monitor_prom(void)
{
	char *file = path_of("gomemguard.prom"), *got;
	const char *args[] = { "monitor", "-q", "--prom-file", file, NULL };
	static const char *const want[] = {
		"gomemguard_module_up 1\n",
		"gomemguard_module_info{version=\"9.8.7\",kernel_release=\"6.1.0-56-amd64\"} 1\n",
		"gomemguard_exits_quiet_total 17\n",
		"gomemguard_process_anon_bytes{pid=\"4711\",comm=\"payments\",memcg=\"/app.slice\",source=\"pid\",unit=\"app.slice\"} 1739461754\n",
		"gomemguard_process_eta_seconds{pid=\"4711\",comm=\"payments\",memcg=\"/app.slice\",source=\"pid\",unit=\"app.slice\",limit=\"soft\"} 28.500\n",
		"gomemguard_memcg_max_bytes{memcg=\"/app.slice\"} 2147483648\n",
		"gomemguard_memcg_swapbacked_bytes{memcg=\"/app.slice\"} 1739461754\n",
		/* From the memory.stat and memory.pressure of main()'s tree. */
		"gomemguard_memcg_anon_bytes{memcg=\"/app.slice\"} 1000\n",
		"gomemguard_memcg_pinned_bytes{memcg=\"/app.slice\"} 700\n",
		"gomemguard_memcg_psi_full_avg10_ratio{memcg=\"/app.slice\"} 0.0150\n",
		"gomemguard_memcg_pressure_level{memcg=\"/app.slice\"} 1\n",
		"gomemguard_monitor_events_total{event=\"warn\"} 1\n",
		"gomemguard_monitor_events_total{event=\"eta\"} 1\n",
		"gomemguard_monitor_events_total{event=\"exit\"} 0\n",
		"gomemguard_monitor_events_lost_total 1\n",
	};
	struct run r;
	bool ok = true;
	size_t i;

	fake_answer_with(answer_refresh);
	fake_queue_event(event(GOMEMGUARD_EVENT_WARN, 1),
			 event(GOMEMGUARD_EVENT_ETA, 3));
	run_monitor(&r, args, NULL);
	got = slurp(file);
	if (r.status)
		ok = fail("status %d", r.status);
	if (!got)
		ok = fail("no %s", file);
	for (i = 0; got && i < ARRAY_SIZE_T(want); i++)
		if (!strstr(got, want[i]))
			ok = fail("no line %s", want[i]);
	if (!ok && got)
		ktap_diag("file", got);
	save_copy(file, "up.prom");
	/* Written at the start and at the exit: two refreshes of 3 requests. */
	if (fake_log->n_reqs < 6)
		ok = fail("%u requests", fake_log->n_reqs);
	ok &= same_text("stderr", fake_said,
			"gomemctl: monitor: lost 1 event (seq 2..2)\n");
	unlink(file);
	free(file);
	free(got);
	return ok;
}

static bool test_monitor_prom_unwritable(void)
{
	char *file = path_of("none/gomemguard.prom"), want[512];
	const char *args[] = { "monitor", "--prom-file", file, NULL };
	struct run r;
	bool ok;

	fake_answer_with(answer_refresh);
	fake_queue_event(event(GOMEMGUARD_EVENT_WARN, 1), NULL);
	run_monitor(&r, args, NULL);
	snprintf(want, sizeof(want),
		 "gomemctl: monitor: cannot write --prom-file \"%s\": No such file or directory\n",
		 file);
	ok = (r.status == 1 || fail("status %d, expected 1", r.status)) &&
	     same_text("stdout", r.out, "") &&
	     same_text("stderr", fake_said, want);
	free(file);
	return ok;
}

/* Polls for up to 10 s until path holds line. */
static bool wait_for_line(const char *path, const char *line)
{
	int i;

	for (i = 0; i < 1000; i++) {
		char *got = slurp(path);
		bool found = got && strstr(got, line);

		free(got);
		if (found)
			return true;
		usleep(10000);
	}
	return fail("%s never held %s", path, line);
}

static bool still_running(void)
{
	return waitpid(monitor_pid, NULL, WNOHANG) == 0 ||
	       fail("monitor exited while the module was away");
}

static const char down_said[] =
	"gomemctl: monitor: the gomemguard module is not loaded (run \"modprobe gomemguard\" as root, or install it with \"make dkms-install\"); looking for it again every 30 s at most, gomemguard_module_up 0 meanwhile\n";
static const char unloaded_said[] =
	"gomemctl: monitor: the gomemguard module was unloaded; waiting until it is loaded again, gomemguard_module_up 0 meanwhile\n";
static const char back_said[] =
	"gomemctl: monitor: the gomemguard module is loaded: receiving its events again\n";

static char *prom_file;
static bool away_ok;

/* No module for 2.5 s (retries at 1 s and 3 s), then it appears. */
static void module_appears(void)
{
	away_ok = wait_for_line(prom_file, "gomemguard_module_up 0\n");
	save_copy(prom_file, "down.prom");
	usleep(2500000);
	away_ok &= still_running() &&
		   same_text("stderr while away", fake_said, down_said);
	fake_log->module_absent = false;
}

static bool test_monitor_prom_no_module(void)
{
	char *file = path_of("gomemguard.prom"), *got, want[1024];
	const char *args[] = { "monitor", "-q", "--prom-file", file, NULL };
	static const char stale[] =
		"gomemguard_process_anon_bytes{pid=\"99\",comm=\"before\",memcg=\"/\",source=\"pid\"} 1\n";
	FILE *f = must(fopen(file, "w"));
	struct run r;
	bool ok = true;

	/* What a monitor wrote before the machine rebooted. */
	fputs(stale, f);
	fclose(f);
	prom_file = file;
	fake_log->module_absent = true;
	fake_answer_with(answer_refresh);
	fake_queue_event(event(GOMEMGUARD_EVENT_WARN, 1), NULL);
	run_monitor(&r, args, module_appears);
	got = slurp(file);
	snprintf(want, sizeof(want), "%s%s", down_said, back_said);
	if (r.status)
		ok = fail("status %d", r.status);
	if (!away_ok)
		ok = false;
	if (!got || !strstr(got, "gomemguard_module_up 1\n") ||
	    !strstr(got, "gomemguard_process_anon_bytes{pid=\"4711\"") ||
	    strstr(got, stale))
		ok = fail("the module's series are not in the file");
	if (!ok && got)
		ktap_diag("file", got);
	ok &= same_text("stderr", fake_said, want);
	unlink(file);
	free(file);
	free(got);
	return ok;
}

/* Loaded, unloaded, loaded again, while monitor refreshes every second. */
static void module_goes_and_comes(void)
{
	away_ok = wait_for_line(prom_file, "gomemguard_module_up 1\n");
	fake_log->absent_lookups = 0;
	fake_log->module_absent = true;
	away_ok &= wait_for_line(prom_file, "gomemguard_module_up 0\n") &&
		   still_running();
	/* Refreshes at 1 s, checks of sysfs every second: none may load it. */
	usleep(3500000);
	if (fake_log->absent_lookups)
		away_ok = fail("%u lookups of the unloaded module's family (each loads it)",
			       fake_log->absent_lookups);
	fake_log->module_absent = false;
	away_ok &= wait_for_line(prom_file, "gomemguard_module_up 1\n");
	kill(monitor_pid, SIGTERM);
}

static bool test_monitor_prom_unload(void)
{
	char *file = path_of("gomemguard.prom"), want[1024];
	const char *args[] = { "monitor", "-q", "--prom-file", file,
			       "--prom-interval", "1s", NULL };
	struct run r;
	bool ok = true;

	prom_file = file;
	fake_answer_with(answer_refresh);
	fake_events_end_with_sigterm(false);
	run_monitor(&r, args, module_goes_and_comes);
	snprintf(want, sizeof(want), "%s%s", unloaded_said, back_said);
	if (r.status)
		ok = fail("status %d", r.status);
	if (!away_ok)
		ok = false;
	/* Subscribed twice: at the start, and once the module was back. */
	ok &= same_text("stderr", fake_said, want);
	unlink(file);
	free(file);
	return ok;
}

/* The module there, but refusing this listener (no CAP_NET_ADMIN). */
static void answer_subscribe_refused(struct nlmsghdr *req)
{
	static const struct fake_tlvs t = {
		.msg = "listening needs CAP_NET_ADMIN (or module parameter open_read=1)",
	};

	fake_queue(fake_ack(req, -EPERM, false, &t), NULL);
}

static void wait_and_stop(void)
{
	away_ok = wait_for_line(prom_file, "gomemguard_module_up 1\n");
	/* Tries at 0, 1 and 3 s. */
	usleep(3500000);
	away_ok &= still_running();
	kill(monitor_pid, SIGTERM);
}

/* Said once, not once per try. */
static bool test_monitor_prom_refused(void)
{
	char *file = path_of("gomemguard.prom");
	const char *args[] = { "monitor", "-q", "--prom-file", file, NULL };
	struct run r;
	bool ok = true;

	prom_file = file;
	fake_answer_with(answer_refresh);
	fake_subscribe_with(answer_subscribe_refused);
	run_monitor(&r, args, wait_and_stop);
	if (r.status)
		ok = fail("status %d", r.status);
	if (!away_ok)
		ok = false;
	ok &= same_text("stderr", fake_said,
			"gomemctl: monitor: Operation not permitted; kernel reports: listening needs CAP_NET_ADMIN (or module parameter open_read=1); subscribing again every 30 s at most\n");
	unlink(file);
	free(file);
	return ok;
}

static bool test_monitor_usage(void)
{
	static const struct {
		const char *args[8];
		const char *said;
	} cases[] = {
		{ { "monitor", "--exec-max", "2", NULL },
		  "gomemctl: monitor: --exec-max needs --exec\n" },
		{ { "monitor", "--exec-queue", "2", NULL },
		  "gomemctl: monitor: --exec-queue needs --exec\n" },
		{ { "monitor", "--prom-interval", "5s", NULL },
		  "gomemctl: monitor: --prom-interval needs --prom-file\n" },
		{ { "monitor", "--exec", "true", "--exec-max", "0", NULL },
		  "gomemctl: monitor: invalid --exec-max \"0\": must be 1 to 1024\n" },
		{ { "monitor", "--exec", "true", "--exec-queue", "x", NULL },
		  "gomemctl: monitor: invalid --exec-queue \"x\": not a number\n" },
		{ { "monitor", "--exec", "", NULL },
		  "gomemctl: monitor: invalid --exec \"\": an empty command\n" },
		{ { "monitor", "--prom-file", "f", "--prom-interval", "500ms", NULL },
		  "gomemctl: monitor: invalid --prom-interval \"500ms\": must be at least 1s\n" },
	};
	bool ok = true;
	size_t i;

	for (i = 0; i < ARRAY_SIZE_T(cases); i++) {
		struct run r;

		fake_reset();
		run_monitor(&r, cases[i].args, NULL);
		if (r.status != 2)
			ok = fail("case %zu: status %d, expected 2", i, r.status);
		if (strcmp(fake_said, cases[i].said))
			ok = fail("case %zu said: %s", i, fake_said);
	}
	return ok;
}

static const struct {
	const char *name;
	bool (*fn)(void);
	bool netlink;		/* needs the fake kernel */
} tests[] = {
	{ "prom: label values escape backslash, quote, newline",
	  test_prom_escape, false },
	{ "prom: bytes that are not UTF-8 become U+FFFD", test_prom_utf8, false },
	{ "prom: the whole file, absent values left out", test_prom_render,
	  false },
	{ "prom: unit, pod_uid and container_id labels from the memcg's path",
	  test_prom_names, false },
	{ "prom: a module that cannot be read is module_up 0",
	  test_prom_render_down, false },
	{ "prom: the file is replaced whole, no temporary file stays",
	  test_prom_atomic, false },
	{ "exec: the event's keys as GOMEMGUARD_* variables", test_exec_env,
	  false },
	{ "exec: N run, M wait, the rest are dropped and counted",
	  test_exec_queue, false },
	{ "exec: no queue: one runs, the next is dropped", test_exec_no_queue,
	  false },
	{ "exec: the command reads the event on stdin and in its environment",
	  test_exec_stdin_env, false },
	{ "exec: no blocked or ignored signals, no stray descriptors",
	  test_exec_clean_child, false },
	{ "exec: a command that fails or is killed is said and counted",
	  test_exec_failures, false },
	{ "monitor --exec -q: each command gets the -j line, stdout stays empty",
	  test_monitor_exec, true },
	{ "monitor --exec: a full queue drops events, said once; output goes on",
	  test_monitor_exec_full, true },
	{ "monitor --syslog: a line per event and per loss, at its priority",
	  test_monitor_syslog, true },
	{ "monitor --prom-file: the module's state and monitor's counters",
	  test_monitor_prom, true },
	{ "monitor --prom-file: an unwritable file is an error at once",
	  test_monitor_prom_unwritable, true },
	{ "monitor --prom-file: no module is module_up 0, it waits, then subscribes",
	  test_monitor_prom_no_module, true },
	{ "monitor --prom-file: a module unloaded and loaded again is followed",
	  test_monitor_prom_unload, true },
	{ "monitor --prom-file: a listener refused is said once, not per try",
	  test_monitor_prom_refused, true },
	{ "monitor: service options checked as usage errors",
	  test_monitor_usage, false },
};

int main(void)
{
	const char *no_netlink = NULL;
	char *cg2;
	struct gmc_nl *nl;
	size_t i;

	fake_init();
	logged = mmap(NULL, sizeof(*logged), PROT_READ | PROT_WRITE,
		      MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (logged == MAP_FAILED || !mkdtemp(tmp_dir))
		abort();
	/* --prom-file reads memory.stat and memory.pressure from here. */
	cg2 = path_of("cg2");
	if (mkdir(cg2, 0700) || setenv(MEMSTAT_ROOT_ENV, cg2, 1))
		abort();
	fake_memcg_files(cg2, "/app.slice",
			 "anon 1000\nfile 600\nshmem 400\nfile_dirty 200\n"
			 "file_writeback 100\nfile_mapped 5000\n",
			 "some avg10=3.00 avg60=0.00 avg300=0.00 total=9\n"
			 "full avg10=1.50 avg60=0.00 avg300=0.00 total=3\n");
	printf("TAP version 13\n1..%zu\n", ARRAY_SIZE_T(tests));
	nl = fake_open("test");
	if (!nl)
		no_netlink = "no generic netlink here";
	gmc_nl_close(nl);
	for (i = 0; i < ARRAY_SIZE_T(tests); i++) {
		bool ok;

		if (tests[i].netlink && no_netlink) {
			ktap_result(KTAP_SKIP, tests[i].name, no_netlink);
			continue;
		}
		fake_reset();
		ok = tests[i].fn();
		ktap_result(ok ? KTAP_PASS : KTAP_FAIL, tests[i].name, NULL);
	}
	free(cg2);
	/* With what the commands wrote there. */
	fake_remove_tree(tmp_dir);
	return ktap_finish();
}
