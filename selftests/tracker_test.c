// SPDX-License-Identifier: GPL-2.0
/*
 * Tracking tagged processes, end to end: real Go and C programs in real
 * memory cgroups, real OOM kills, events read from the "events" group.
 */
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/mount.h>
#include <sys/klog.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <json-c/json.h>

#include <uapi/linux/gomemguard.h>

#include "cgroup_util.h"
#include "genl_raw.h"
#include "gmg_events.h"
#include "gmg_util.h"
#include "gmg_harness.h"

#define MIB (1024ull * 1024)

FIXTURE(trk) {
	struct gr_sock ctl, mon;
	int family;
	char cg[256];
	pid_t pid;
	struct ev ev[MAX_EVENTS];
	int nev;
	uint64_t tag_ns;	/* service_start(): CLOCK_BOOTTIME of the tag */
};

FIXTURE_SETUP(trk)
{
	struct gr_reply r;

	ASSERT_EQ(0, gr_open(&self->ctl));
	self->family = gr_family(&self->ctl, GOMEMGUARD_GENL_NAME);
	ASSERT_LT(0, self->family);
	ASSERT_EQ(0, gr_open(&self->mon));
	ASSERT_EQ(0, gr_subscribe(&self->mon, self->family, &r)) TH_LOG("%s", r.extack);
	self->cg[0] = '\0';
	self->pid = 0;
	self->nev = 0;
}

FIXTURE_TEARDOWN(trk)
{
	if (self->pid > 0) {
		kill(self->pid, SIGKILL);
		waitpid(self->pid, NULL, 0);
	}
	if (self->cg[0])
		cg_destroy(self->cg);
	gr_close(&self->mon);
	gr_close(&self->ctl);
}

/* Send @cmd about @pid or @cgroup; returns -errno, extack in @r. */
static int tag_cmd(FIXTURE_DATA(trk) *self, uint8_t cmd, pid_t pid,
		   const char *cgroup, const struct tag_opts *o,
		   struct gr_reply *r)
{
	return gmg_tag_cmd(&self->ctl, self->family, cmd, pid, cgroup, o, r);
}

static uint32_t info_tagged(FIXTURE_DATA(trk) *self)
{
	struct gr_reply r;
	struct gr_msg m;

	gr_start(&m, self->family, GOMEMGUARD_CMD_INFO_GET, GOMEMGUARD_GENL_VERSION);
	if (gr_transact(&self->ctl, &m, &r) || r.err || !r.attrs[GOMEMGUARD_A_TAGGED])
		return UINT32_MAX;
	return gr_get_u32(r.attrs[GOMEMGUARD_A_TAGGED]);
}

/* PROC_GET for @pid: 0 and @r filled, or -errno. */
static int proc_get(FIXTURE_DATA(trk) *self, pid_t pid, struct gr_reply *r)
{
	struct gr_msg m;
	int err;

	gr_start(&m, self->family, GOMEMGUARD_CMD_PROC_GET, GOMEMGUARD_GENL_VERSION);
	gr_put_u32(&m, GOMEMGUARD_A_PID, pid);
	err = gr_transact(&self->ctl, &m, r);
	return err ? err : r->err;
}

static void take_event(FIXTURE_DATA(trk) *self, const struct gr_reply *r)
{
	ev_take(self->ev, &self->nev, r);
}

static int count_events(FIXTURE_DATA(trk) *self, uint32_t type, pid_t pid)
{
	return ev_count(self->ev, self->nev, type, pid);
}

/*
 * Take events until one of @type for @pid (0: none, as OOM events have)
 * is among them, for @ms at most: 0 when it is, -ETIMEDOUT when not.
 */
static int await_event(FIXTURE_DATA(trk) *self, uint32_t type, pid_t pid, int ms)
{
	return ev_await(&self->mon, self->ev, &self->nev, type, pid, ms);
}

/*
 * When the OOM killer picked its victim: the OOM event's time, which the
 * module takes in the killer itself (not when the report went out, nor
 * when waitpid() saw the death).  The report goes out a little after the
 * kill, and may come after the victim's exit event: up to 2 s (scaled)
 * for it.  0: no OOM event came.
 */
static uint64_t oom_kill_ns(FIXTURE_DATA(trk) *self)
{
	int i;

	await_event(self, GOMEMGUARD_EVENT_OOM, 0, gmg_ms(2000));
	for (i = 0; i < self->nev; i++)
		if (self->ev[i].type == GOMEMGUARD_EVENT_OOM)
			return self->ev[i].time_ns;
	return 0;
}

/*
 * Collect events for @ms, or until @pid has died (status in *@status).
 * Callers scale @ms when it bounds a wait for the death.
 */
static int collect(FIXTURE_DATA(trk) *self, unsigned int ms, pid_t pid,
		   int *status, uint64_t *death_ns)
{
	int died = ev_collect(&self->mon, self->ev, &self->nev, ms, pid, status,
			      death_ns);

	if (died == 1)
		self->pid = 0;
	return died;
}

static void log_events(struct __test_metadata *_metadata, FIXTURE_DATA(trk) *self)
{
	char line[200];
	int i;

	for (i = 0; i < self->nev; i++)
		TH_LOG("%s", ev_str(&self->ev[i], line, sizeof(line)));
}

/* From a full memcg to the OOM kill, at most: reclaim giving up. */
#define GIVE_UP_MS	1500

/*
 * A leak in a memcg with memory.max, from tag to OOM kill: WARN at 80, 90,
 * 100 % of the soft limit in order; an ETA warning before the soft limit is
 * crossed, and another one -- against memory.max -- before the OOM kill,
 * each within 25 % of the time that really was left (for memory.max, once
 * reclaim's last stand is allowed for).  A 4 s horizon over a 2 s window:
 * with 2 s over 1 s, one half-second stall of the guest (a CI host busy
 * elsewhere) was a 26 % miss on 6.12.
 */
static void leak_to_oom(struct __test_metadata *_metadata, FIXTURE_DATA(trk) *self,
			const char *program)
{
	static const uint32_t levels[] = { 80, 90, 100 };
	struct tag_opts o = {
		.soft = 48 * MIB, .levels = levels, .nr_levels = 3,
		.eta_ms = 4000, .window_ms = 2000,
	};
	uint64_t death_ns = 0, kill_ns, t100 = 0;
	int i, status = 0, seen = 0;
	pid_t pid;
	struct ev *eta_soft = NULL, *eta_max = NULL;
	char bin[256], log[300], ready[300];
	struct gr_reply r;

	ASSERT_EQ(0, cg_create(program, self->cg, sizeof(self->cg)));
	ASSERT_EQ(0, cg_write(self->cg, "memory.max", "112M"));
	cg_write(self->cg, "memory.swap.max", "0");
	snprintf(log, sizeof(log), "/tmp/%s.log", program);
	snprintf(ready, sizeof(ready), "/tmp/%s.ready", program);
	unlink(ready);
	{
		const char *argv[] = { workload(program, bin, sizeof(bin)),
				       "-rate", "8M", "-baseline", "4M",
				       "-readyfile", ready, NULL };

		self->pid = spawn(self->cg, argv, log);
	}
	ASSERT_LT(0, self->pid);
	pid = self->pid;
	/* A running service is tagged, not one starting up. */
	ASSERT_EQ(0, wait_ready(ready, 30000));
	ASSERT_EQ(0, tag_cmd(self, GOMEMGUARD_CMD_TAG_NEW, pid, NULL, &o, &r))
		TH_LOG("tag: %s", r.extack);
	ASSERT_EQ(1, collect(self, gmg_ms(60000), pid, &status, &death_ns))
		TH_LOG("%s did not die within %d s", program, gmg_ms(60000) / 1000);
	log_events(_metadata, self);
	ASSERT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL)
		TH_LOG("%s ended with status 0x%x, not an OOM kill", program, status);
	EXPECT_LE(1, cg_read_key(self->cg, "memory.events", "oom_kill"));

	for (i = 0; i < self->nev; i++) {
		struct ev *e = &self->ev[i];

		if (e->pid != (uint32_t)pid)
			continue;
		if (e->type == GOMEMGUARD_EVENT_WARN) {
			EXPECT_LT(seen, 3) TH_LOG("more than three WARN events");
			if (seen < 3)
				EXPECT_EQ(levels[seen], e->level_pct);
			if (e->level_pct == 100)
				t100 = e->time_ns;
			seen++;
		} else if (e->type == GOMEMGUARD_EVENT_ETA && e->eta_limit == GOMEMGUARD_LIMIT_SOFT && !eta_soft) {
			eta_soft = e;
		} else if (e->type == GOMEMGUARD_EVENT_ETA &&
			   e->eta_limit == GOMEMGUARD_LIMIT_MEMCG_MAX && !eta_max) {
			eta_max = e;
		}
	}
	EXPECT_EQ(3, seen);
	EXPECT_EQ(1, count_events(self, GOMEMGUARD_EVENT_EXIT, pid));
	ASSERT_NE(NULL, eta_soft) TH_LOG("no ETA warning against the soft limit");
	ASSERT_NE(0, t100);
	EXPECT_LT(eta_soft->time_ns, t100);
	{
		double real = (t100 - eta_soft->time_ns) / 1e6, est = eta_soft->eta_ms;

		TH_LOG("soft limit: ETA said %.0f ms, it took %.0f ms", est, real);
		if (gmg_timing_asserted())
			EXPECT_TRUE(est >= 0.75 * real && est <= 1.25 * real);
	}
	ASSERT_NE(NULL, eta_max) TH_LOG("no ETA warning against memory.max");
	kill_ns = oom_kill_ns(self);
	ASSERT_NE(0, kill_ns) TH_LOG("no OOM event for the kill");
	EXPECT_GE(death_ns, kill_ns);
	/* Before the kill, by half the horizon at least: a warning. */
	EXPECT_LE(eta_max->time_ns + o.eta_ms / 2 * 1000000ull, kill_ns)
		TH_LOG("the ETA came %lld ms before the kill",
		       ((long long)kill_ns - (long long)eta_max->time_ns) / 1000000);
	{
		double real = (kill_ns - eta_max->time_ns) / 1e6, est = eta_max->eta_ms;

		TH_LOG("memory.max: ETA said %.0f ms, the OOM kill came after %.0f ms",
		       est, real);
		/*
		 * The ETA is to the memcg filling up; the kill comes when
		 * reclaim gives up after that, 0.4 to 1.4 s later in these
		 * guests (bench/RESULTS.md), which no growth rate foretells.
		 */
		if (gmg_timing_asserted())
			EXPECT_TRUE(est >= 0.75 * (real - GIVE_UP_MS) &&
				    est <= 1.25 * real);
	}
}

TEST_F(trk, go_heap_leak_warns_in_order_before_oom)
{
	leak_to_oom(_metadata, self, "goleak");
}

TEST_F(trk, cgo_malloc_leak_warns_in_order_before_oom)
{
	leak_to_oom(_metadata, self, "cgoleak");
}

/*
 * Trend, not noise (issue 14): a Go service in a 256M memcg, tagged as
 * users tag it (--soft-limit 256M --eta 20s, the default 5 s window) as
 * soon as it says ready, @argv's workload logging to @log.
 */
static const uint32_t service_levels[] = { 80, 90, 100 };

static void service_start(struct __test_metadata *_metadata,
			  FIXTURE_DATA(trk) *self, const char *name,
			  const char *const argv[], const char *ready,
			  const struct tag_opts *o)
{
	char log[300];
	struct gr_reply r;

	ASSERT_EQ(0, cg_create(name, self->cg, sizeof(self->cg)));
	ASSERT_EQ(0, cg_write(self->cg, "memory.max", "256M"));
	cg_write(self->cg, "memory.swap.max", "0");
	snprintf(log, sizeof(log), "/tmp/%s.log", name);
	unlink(ready);
	self->pid = spawn(self->cg, argv, log);
	ASSERT_LT(0, self->pid);
	ASSERT_EQ(0, wait_ready(ready, 30000));
	ASSERT_EQ(0, tag_cmd(self, GOMEMGUARD_CMD_TAG_NEW, self->pid, NULL, o, &r))
		TH_LOG("tag: %s", r.extack);
	self->tag_ns = boottime_ns();
}

/* The process's SHAPE (0: none), anon and rate now; logged. */
static uint32_t service_shape(struct __test_metadata *_metadata,
			      FIXTURE_DATA(trk) *self, uint64_t *anon)
{
	static const char *const names[] = { "-", "flat", "start-up", "sawtooth", "growth" };
	struct gr_reply r;
	uint32_t shape = 0;
	int64_t rate = 0;

	*anon = 0;
	if (proc_get(self, self->pid, &r))
		return 0;
	if (r.attrs[GOMEMGUARD_A_SHAPE])
		shape = gr_get_u32(r.attrs[GOMEMGUARD_A_SHAPE]);
	if (r.attrs[GOMEMGUARD_A_RATE])
		rate = (int64_t)gr_get_u64(r.attrs[GOMEMGUARD_A_RATE]);
	*anon = gr_get_u64(r.attrs[GOMEMGUARD_A_ANON]);
	TH_LOG("anon %llu MiB, rate %+.1f MiB/s, %s", (unsigned long long)(*anon / MIB),
	       rate / (double)MIB, names[shape < 5 ? shape : 0]);
	return shape;
}

/*
 * Watch for @secs seconds, a PROC_GET each second: the shapes seen after the
 * first window in @late (a bit per enum value), the largest anon in *@peak.
 */
static void service_watch(struct __test_metadata *_metadata,
			  FIXTURE_DATA(trk) *self, int secs, uint32_t *first,
			  uint32_t *late, uint64_t *peak)
{
	uint64_t anon;
	uint32_t shape;
	int i;

	*late = 0;
	*peak = 0;
	for (i = 0; i < secs; i++) {
		ASSERT_EQ(0, collect(self, 1000, 0, NULL, NULL));
		shape = service_shape(_metadata, self, &anon);
		if (!i)
			*first = shape;
		else if (i >= 6)
			*late |= 1u << shape;
		if (anon > *peak)
			*peak = anon;
	}
	log_events(_metadata, self);
}

/*
 * A Go service warming a 112 MiB working set in under 3 s, then serving:
 * start-up, not a leak.  (The old rate called it one 3.1 s in: an ETA,
 * and a RECOVER once the warm-up was over.)
 */
TEST_F(trk, go_warm_up_is_not_a_leak)
{
	struct tag_opts o = {
		.soft = 256 * MIB, .levels = service_levels, .nr_levels = 3,
		.eta_ms = 20000, .window_ms = 5000,
	};
	const char *ready = "/tmp/warmup.ready";
	uint32_t first = 0, late;
	uint64_t peak;
	char bin[256];
	const char *argv[] = { workload("goleak", bin, sizeof(bin)),
			       "-rate", "40M", "-max", "112M", "-baseline", "8M",
			       "-readyfile", ready, NULL };

	service_start(_metadata, self, "warmup", argv, ready, &o);
	service_watch(_metadata, self, 12, &first, &late, &peak);
	EXPECT_LE(100 * MIB, peak) TH_LOG("the working set was never built");
	EXPECT_EQ(GOMEMGUARD_SHAPE_STARTUP, first);
	EXPECT_EQ(1u << GOMEMGUARD_SHAPE_FLAT, late);
	EXPECT_EQ(0, count_events(self, GOMEMGUARD_EVENT_WARN, self->pid));
	EXPECT_EQ(0, count_events(self, GOMEMGUARD_EVENT_ETA, self->pid));
	EXPECT_EQ(0, count_events(self, GOMEMGUARD_EVENT_RECOVER, self->pid));
}

/* gcburst: 32 MiB of garbage a second, GOGC=100, never near a limit. */
TEST_F(trk, go_gc_sawtooth_never_warns)
{
	struct tag_opts o = {
		.soft = 256 * MIB, .levels = service_levels, .nr_levels = 3,
		.eta_ms = 20000, .window_ms = 5000,
	};
	const char *ready = "/tmp/gcburst.ready";
	uint32_t first = 0, late;
	uint64_t peak;
	char bin[256];
	const char *argv[] = { workload("gcburst", bin, sizeof(bin)),
			       "-burst", "32M", "-period", "1s", "-gogc", "100",
			       "-readyfile", ready, NULL };

	service_start(_metadata, self, "gcburst", argv, ready, &o);
	service_watch(_metadata, self, 12, &first, &late, &peak);
	EXPECT_LE(32 * MIB, peak);
	/*
	 * Its SHAPE is logged, not asserted: Go keeps much of the freed heap
	 * resident, so anon may saw, or creep up flat, or take a last step of
	 * its start-up for a moment of growth -- what matters is no warning.
	 */
	EXPECT_EQ(0, count_events(self, GOMEMGUARD_EVENT_WARN, self->pid));
	EXPECT_EQ(0, count_events(self, GOMEMGUARD_EVENT_ETA, self->pid));
	EXPECT_EQ(0, count_events(self, GOMEMGUARD_EVENT_RECOVER, self->pid));
}

/*
 * The same sawtooth over a 6 MiB/s leak: an ETA against memory.max comes
 * before the OOM kill.  How far before is issue 14's target -- the horizon,
 * give or take 25 % (once reclaim's last stand is allowed for, as in
 * leak_to_oom()) -- and it is not met reliably: Go's anon grows about twice
 * as fast as the leak, in steps, flat for seconds while the leak fills the
 * heap's slack, and the last steps come faster as the heap doubles towards
 * memory.max.  With a 4 s window and a 6 s horizon the kill came 2.6 to
 * 11.0 s after an ETA of 4.3-6.0 s in 16 runs on 6.1 (stop 26, three module
 * builds; 10 outside +-25 %) -- and with the host's other core busy, as
 * a CI host may be, 0.7 to 8.3 s after it in 19 runs on both kernels: a
 * Go process short of CPU overshoots its heap goal, and the last step
 * comes sooner still.  Nor is the process's size at the ETA steady: mostly
 * 68-80 % of memory.max, but once at 87 %, after a 48 MiB step (6.12; the
 * kill then came 3.5 s later).  A late step and a quick kill did not come
 * together in any of the 9 runs that logged both.  So what is asserted is
 * that the ETA came before the kill and ahead of it -- by 0.3 of the
 * horizon, or with 15 % of memory.max still free -- and not from start-up:
 * not before a whole rate window of the process's history.  Nor is the
 * ETA's distance to the kill bounded above: the first ETA after start-up
 * has come 17.5 s before the kill (CI, 6.1, 2026-12-07: a rate of 14
 * MiB/s read across the start-up's last steps, 7 MiB/s after them).  The
 * target's verdict is logged ("issue 14 (c)"), as the bench reports it.
 * A module without an ETA, or with one that comes at the kill (the memcg
 * full, under a second left), or within the first window, still fails.
 */
TEST_F(trk, go_leak_under_gc_sawtooth_warns_ahead)
{
	struct tag_opts o = {
		.soft = 256 * MIB, .levels = service_levels, .nr_levels = 3,
		.eta_ms = 6000, .window_ms = 4000,
	};
	const char *ready = "/tmp/gcleak.ready";
	uint64_t death_ns = 0, kill_ns;
	struct ev *eta = NULL;
	int i, status = 0;
	char bin[256];
	const char *argv[] = { workload("gcburst", bin, sizeof(bin)),
			       "-burst", "16M", "-period", "500ms", "-gogc", "100",
			       "-leak", "6M", "-readyfile", ready, NULL };

	service_start(_metadata, self, "gcleak", argv, ready, &o);
	for (i = 0; i < gmg_ms(90000) / 1000; i++) {
		uint64_t anon;

		if (collect(self, 1000, self->pid, &status, &death_ns))
			break;
		service_shape(_metadata, self, &anon);
	}
	ASSERT_NE(0, death_ns) TH_LOG("gcburst -leak did not die within %d s",
				      gmg_ms(90000) / 1000);
	log_events(_metadata, self);
	ASSERT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL)
		TH_LOG("ended with status 0x%x, not an OOM kill", status);
	for (i = 0; i < self->nev && !eta; i++)
		if (self->ev[i].type == GOMEMGUARD_EVENT_ETA &&
		    self->ev[i].eta_limit == GOMEMGUARD_LIMIT_MEMCG_MAX)
			eta = &self->ev[i];
	ASSERT_NE(NULL, eta) TH_LOG("no ETA warning against memory.max");
	kill_ns = oom_kill_ns(self);
	ASSERT_NE(0, kill_ns) TH_LOG("no OOM event for the kill");
	{
		double real = (kill_ns - eta->time_ns) / 1e6, est = eta->eta_ms;
		bool target = est >= 0.75 * (real - GIVE_UP_MS) && est <= 1.25 * real &&
			      real >= 0.75 * o.eta_ms && real <= 1.25 * o.eta_ms + GIVE_UP_MS;

		TH_LOG("memory.max: ETA said %.0f ms, the OOM kill came after %.0f ms (horizon %u ms)",
		       est, real, o.eta_ms);
		TH_LOG("issue 14 (c), +-25 %% of the horizon: %s", target ? "met" : "missed");
		EXPECT_LT(eta->time_ns, kill_ns) TH_LOG("the ETA came after the kill");
		EXPECT_TRUE(real >= 0.3 * o.eta_ms || eta->anon <= 256 * MIB * 85 / 100)
			TH_LOG("the ETA came late: %.0f ms before the kill, at %llu MiB of 256",
			       real, (unsigned long long)(eta->anon / MIB));
		EXPECT_LE(self->tag_ns + o.window_ms * 1000000ull, eta->time_ns)
			TH_LOG("an ETA %.0f ms after the tag is start-up's, not the leak's",
			       (eta->time_ns - (double)self->tag_ns) / 1e6);
	}
}

/* PRESSURE events of @kind at a level above none. */
static int count_pressure(FIXTURE_DATA(trk) *self, uint32_t kind)
{
	return ev_count_pressure(self->ev, self->nev, kind);
}

/* A memcg kept full by page cache is not in danger: no warning at all. */
TEST_F(trk, page_cache_reader_never_warns)
{
	const char *data = getenv("GMG_DATA_DIR");
	struct tag_opts o = { .soft = 32 * MIB, .eta_ms = 30000, .window_ms = 1000 };
	const char *ready = "/tmp/cachereader.ready";
	long long max = 96 * MIB, peak = 0, cur;
	char file[300];
	int i, churn, squeeze;
	struct gr_reply r;

	if (!data)
		SKIP(return, "GMG_DATA_DIR (a block-device filesystem) not set");
	snprintf(file, sizeof(file), "%s/big.bin", data);
	ASSERT_EQ(0, access(file, R_OK)) TH_LOG("%s: %s", file, strerror(errno));
	ASSERT_EQ(0, cg_create("cache", self->cg, sizeof(self->cg)));
	ASSERT_EQ(0, cg_write(self->cg, "memory.max", "96M"));
	self->pid = spawn_cachereader(self->cg, file, "8M", ready);
	ASSERT_LT(0, self->pid);
	/*
	 * Tagged once its heap is in: the question here is page cache.  (A
	 * start-up that grows through three quarters of the rate window, as
	 * touching 8 MiB does on the debug kernel, is a leak as far as any
	 * rate can tell; host/assess_test covers the start-up step.)
	 */
	ASSERT_EQ(0, wait_ready(ready, 30000));
	ASSERT_EQ(0, tag_cmd(self, GOMEMGUARD_CMD_TAG_NEW, self->pid, NULL, &o, &r))
		TH_LOG("tag: %s", r.extack);
	/*
	 * Watched for 10 s; a slower kernel gets up to 10 s times the scale
	 * for the reader to fill the memcg and reclaim to run.
	 */
	for (i = 0, churn = 0; i < 40 || (i < gmg_ms(10000) / 250 &&
					   (peak < max * 8 / 10 || !churn)); i++) {
		ASSERT_EQ(0, collect(self, 250, 0, NULL, NULL));
		cur = cg_read_ll(self->cg, "memory.current");
		if (cur > peak)
			peak = cur;
		churn = count_pressure(self, GOMEMGUARD_KIND_CACHE_CHURN);
	}
	log_events(_metadata, self);
	TH_LOG("memory.current peaked at %lld MiB of %lld", peak / (long long)MIB,
	       max / (long long)MIB);
	EXPECT_LE(max * 8 / 10, peak);
	EXPECT_EQ(0, count_events(self, GOMEMGUARD_EVENT_WARN, self->pid));
	EXPECT_EQ(0, count_events(self, GOMEMGUARD_EVENT_ETA, self->pid));
	EXPECT_EQ(0, cg_read_key(self->cg, "memory.events", "oom_kill"));
	/* Reclaim ran, and it was the harmless kind. */
	squeeze = count_pressure(self, GOMEMGUARD_KIND_ANON_SQUEEZE);
	EXPECT_LE(1, churn);
	EXPECT_EQ(0, squeeze);
	ASSERT_EQ(0, proc_get(self, self->pid, &r));
	EXPECT_GT(16 * MIB, gr_get_u64(r.attrs[GOMEMGUARD_A_ANON]));
	EXPECT_LE(8 * MIB, gr_get_u64(r.attrs[GOMEMGUARD_A_ANON]));
}

/*
 * Threads that fault memory in and then sleep: on 6.1 their last deltas
 * sit in per-thread caches the mm never sees.  The numbers must still add up.
 */
TEST_F(trk, idle_threads_are_counted)
{
	struct tag_opts o = { .soft = 1024 * MIB };
	const char *ready = "/tmp/mtgrow.ready";
	char bin[256];
	struct gr_reply r;
	uint64_t anon, want = 32 * MIB;

	unlink(ready);
	{
		const char *argv[] = { workload("mtgrow", bin, sizeof(bin)),
				       "-threads", "16", "-per-thread", "2M",
				       "-readyfile", ready, NULL };

		self->pid = spawn(NULL, argv, "/tmp/mtgrow.log");
	}
	ASSERT_LT(0, self->pid);
	ASSERT_EQ(0, tag_cmd(self, GOMEMGUARD_CMD_TAG_NEW, self->pid, NULL, &o, &r))
		TH_LOG("tag: %s", r.extack);
	ASSERT_EQ(0, wait_ready(ready, 30000));
	/* Two periodic samples after the last fault. */
	sleep_ms(2500);
	ASSERT_EQ(0, proc_get(self, self->pid, &r));
	anon = gr_get_u64(r.attrs[GOMEMGUARD_A_ANON]);
	TH_LOG("anon %llu KiB for %llu KiB touched", (unsigned long long)anon / 1024,
	       (unsigned long long)want / 1024);
	EXPECT_LE(want, anon);
	EXPECT_GE(want + 4 * MIB, anon);
}

static int count_lines(const char *path)
{
	FILE *f = fopen(path, "r");
	int c, n = 0;

	if (!f)
		return 0;
	while ((c = fgetc(f)) != EOF)
		n += c == '\n';
	fclose(f);
	return n;
}

/* The last @size - 1 bytes of @path, for a failure's log ("" if unreadable). */
static const char *file_tail(const char *path, char *buf, size_t size)
{
	FILE *f = fopen(path, "r");
	size_t n = 0;
	long len;

	buf[0] = '\0';
	if (!f)
		return buf;
	if (!fseek(f, 0, SEEK_END) && (len = ftell(f)) > (long)size - 1)
		fseek(f, len - (long)(size - 1), SEEK_SET);
	else
		rewind(f);
	n = fread(buf, 1, size - 1, f);
	buf[n] = '\0';
	fclose(f);
	return buf;
}

/* The fuse: one SIGUSR1 per upward crossing of the soft limit, no more. */
TEST_F(trk, signal_fuse_fires_once_per_crossing)
{
	struct tag_opts o = { .soft = 32 * MIB, .signal = SIGUSR1, .window_ms = 1000 };
	struct tag_opts raise = { .soft = 256 * MIB };
	const char *sig = "/tmp/goleak.sig";
	struct gr_reply r;
	char bin[256], log[1500];
	int i;

	unlink(sig);
	{
		const char *argv[] = { workload("goleak", bin, sizeof(bin)),
				       "-rate", "16M", "-max", "48M", "-baseline", "4M",
				       "-sigfile", sig, NULL };

		self->pid = spawn(NULL, argv, "/tmp/goleak-sig.log");
	}
	ASSERT_LT(0, self->pid);
	ASSERT_EQ(0, tag_cmd(self, GOMEMGUARD_CMD_TAG_NEW, self->pid, NULL, &o, &r))
		TH_LOG("tag: %s", r.extack);
	for (i = 0; i < gmg_ms(30000) / 100 && count_lines(sig) < 1; i++)
		sleep_ms(100);
	EXPECT_EQ(1, count_lines(sig))
		TH_LOG("signals:\n%s", file_tail(sig, log, sizeof(log)));
	/* Held above the limit: still one. */
	sleep_ms(3000);
	EXPECT_EQ(1, count_lines(sig))
		TH_LOG("signals:\n%s", file_tail(sig, log, sizeof(log)));

	/* Raise the limit well above usage, then lower it: a second crossing. */
	ASSERT_EQ(0, tag_cmd(self, GOMEMGUARD_CMD_TAG_SET, self->pid, NULL, &raise, &r));
	sleep_ms(2500);
	EXPECT_EQ(1, count_lines(sig))
		TH_LOG("signals:\n%s", file_tail(sig, log, sizeof(log)));
	ASSERT_EQ(0, tag_cmd(self, GOMEMGUARD_CMD_TAG_SET, self->pid, NULL, &o, &r));
	for (i = 0; i < gmg_ms(5000) / 100 && count_lines(sig) < 2; i++)
		sleep_ms(100);
	sleep_ms(2000);
	EXPECT_EQ(2, count_lines(sig))
		TH_LOG("signals:\n%s", file_tail(sig, log, sizeof(log)));
	ASSERT_EQ(0, proc_get(self, self->pid, &r));
	EXPECT_EQ(2, gr_get_u32(r.attrs[GOMEMGUARD_A_SIGNALS_SENT]))
		TH_LOG("goleak's log:\n%s",
		       file_tail("/tmp/goleak-sig.log", log, sizeof(log)));
}

/* The times (unix ns) of the first @max "SIGUSR1 <ns> <bytes>" lines. */
static int sig_times(const char *path, unsigned long long *t, int max)
{
	FILE *f = fopen(path, "r");
	int n = 0;

	if (!f)
		return 0;
	while (n < max && fscanf(f, "SIGUSR1 %llu %*d\n", &t[n]) == 1)
		n++;
	fclose(f);
	return n;
}

/*
 * The fuse's rate limit: a second crossing right after a signal is not
 * signalled at once, nor forgotten -- it gets its signal when a second
 * since the last one is over, the process still being above the limit.
 */
TEST_F(trk, fuse_rate_limit_defers_a_quick_second_crossing)
{
	struct tag_opts o = { .soft = 32 * MIB, .signal = SIGUSR1, .window_ms = 1000 };
	struct tag_opts raise = { .soft = 256 * MIB, .signal = SIGUSR1 };
	const char *sig = "/tmp/goleak-rl.sig";
	unsigned long long t[3];
	struct gr_reply r;
	char bin[256];
	int i;

	unlink(sig);
	{
		const char *argv[] = { workload("goleak", bin, sizeof(bin)),
				       "-rate", "16M", "-max", "48M", "-baseline", "4M",
				       "-sigfile", sig, NULL };

		self->pid = spawn(NULL, argv, "/tmp/goleak-rl.log");
	}
	ASSERT_LT(0, self->pid);
	ASSERT_EQ(0, tag_cmd(self, GOMEMGUARD_CMD_TAG_NEW, self->pid, NULL, &o, &r))
		TH_LOG("tag: %s", r.extack);
	for (i = 0; i < gmg_ms(30000) / 20 && count_lines(sig) < 1; i++)
		sleep_ms(20);
	ASSERT_EQ(1, count_lines(sig));
	/* Held at 48 MiB: the leak is over; now a crossing down and up again. */
	ASSERT_EQ(0, tag_cmd(self, GOMEMGUARD_CMD_TAG_SET, self->pid, NULL, &raise, &r));
	sleep_ms(250);
	ASSERT_EQ(0, tag_cmd(self, GOMEMGUARD_CMD_TAG_SET, self->pid, NULL, &o, &r));
	for (i = 0; i < gmg_ms(5000) / 50 && count_lines(sig) < 2; i++)
		sleep_ms(50);
	sleep_ms(1500);
	ASSERT_EQ(2, sig_times(sig, t, 3)) TH_LOG("%d signals", count_lines(sig));
	TH_LOG("second signal %.0f ms after the first", (t[1] - t[0]) / 1e6);
	/* Not at once (the handler's own delay aside), and not forgotten. */
	EXPECT_LE(t[0] + 900000000ull, t[1]);
	if (gmg_timing_asserted())
		EXPECT_GE(t[0] + 2000000000ull, t[1]);
	ASSERT_EQ(0, proc_get(self, self->pid, &r));
	EXPECT_EQ(2, gr_get_u32(r.attrs[GOMEMGUARD_A_SIGNALS_SENT]));
}

/*
 * sleep(1) in @cg (NULL: ours), returned once it runs: exec'd (its comm is
 * "sleep"), and so in @cg -- or after 5 s (scaled) in any case.
 */
static pid_t spawn_sleeper(const char *cg)
{
	const char *argv[] = { "/bin/sleep", "1000", NULL };
	pid_t pid = spawn(cg, argv, NULL);

	if (pid > 0)
		wait_comm(pid, "sleep");
	return pid;
}

/* Up to @ms (scaled) for the module to count @want tagged processes. */
static uint32_t wait_tagged(FIXTURE_DATA(trk) *self, uint32_t want, int ms)
{
	uint32_t n = info_tagged(self);
	int i;

	for (i = 0; n != want && i < gmg_ms(ms) / 50; i++) {
		sleep_ms(50);
		n = info_tagged(self);
	}
	return n;
}

/* PROC_GET's RATE_WINDOW_MS of @pid, 0 when it cannot be read. */
static uint32_t window_of(FIXTURE_DATA(trk) *self, pid_t pid)
{
	struct gr_reply r;

	if (proc_get(self, pid, &r) || !r.attrs[GOMEMGUARD_A_RATE_WINDOW_MS])
		return 0;
	return gr_get_u32(r.attrs[GOMEMGUARD_A_RATE_WINDOW_MS]);
}

/*
 * A tag that names no rate window gets 5 s or half its ETA horizon, the
 * longer, and follows the horizon through TAG_SET -- until it is given a
 * window, which then stays whatever the horizon does.
 */
TEST_F(trk, rate_window_follows_the_horizon_until_set)
{
	struct tag_opts o = { .soft = 64 * MIB };
	struct gr_reply r;

	self->pid = spawn_sleeper(NULL);
	ASSERT_LT(0, self->pid);
	ASSERT_EQ(0, tag_cmd(self, GOMEMGUARD_CMD_TAG_NEW, self->pid, NULL, &o, &r));
	/* The default 30 s horizon. */
	EXPECT_EQ(15000, window_of(self, self->pid));
	o = (struct tag_opts){ .eta_ms = 6000 };
	ASSERT_EQ(0, tag_cmd(self, GOMEMGUARD_CMD_TAG_SET, self->pid, NULL, &o, &r));
	EXPECT_EQ(GOMEMGUARD_RATE_WINDOW_MS_DEFAULT, window_of(self, self->pid));
	o = (struct tag_opts){ .eta_ms = 20000 };
	ASSERT_EQ(0, tag_cmd(self, GOMEMGUARD_CMD_TAG_SET, self->pid, NULL, &o, &r));
	EXPECT_EQ(10000, window_of(self, self->pid));
	/* The longest horizon: the longest window there is. */
	o = (struct tag_opts){ .eta_ms = GOMEMGUARD_ETA_HORIZON_MS_MAX };
	ASSERT_EQ(0, tag_cmd(self, GOMEMGUARD_CMD_TAG_SET, self->pid, NULL, &o, &r));
	EXPECT_EQ(GOMEMGUARD_RATE_WINDOW_MS_MAX, window_of(self, self->pid));

	o = (struct tag_opts){ .window_ms = 3000 };
	ASSERT_EQ(0, tag_cmd(self, GOMEMGUARD_CMD_TAG_SET, self->pid, NULL, &o, &r));
	EXPECT_EQ(3000, window_of(self, self->pid));
	o = (struct tag_opts){ .eta_ms = 60000 };
	ASSERT_EQ(0, tag_cmd(self, GOMEMGUARD_CMD_TAG_SET, self->pid, NULL, &o, &r));
	EXPECT_EQ(3000, window_of(self, self->pid));

	/* Named at TAG_NEW: kept from the start. */
	ASSERT_EQ(0, tag_cmd(self, GOMEMGUARD_CMD_TAG_DEL, self->pid, NULL, NULL, &r));
	o = (struct tag_opts){ .soft = 64 * MIB, .eta_ms = 60000, .window_ms = 2000 };
	ASSERT_EQ(0, tag_cmd(self, GOMEMGUARD_CMD_TAG_NEW, self->pid, NULL, &o, &r));
	EXPECT_EQ(2000, window_of(self, self->pid));
	o = (struct tag_opts){ .eta_ms = 8000 };
	ASSERT_EQ(0, tag_cmd(self, GOMEMGUARD_CMD_TAG_SET, self->pid, NULL, &o, &r));
	EXPECT_EQ(2000, window_of(self, self->pid));
}

TEST_F(trk, untag_and_exit_release_everything)
{
	struct tag_opts o = { .soft = 64 * MIB };
	uint32_t before = info_tagged(self);
	int status;
	uint64_t t;
	pid_t pid;
	struct gr_reply r;

	self->pid = spawn_sleeper(NULL);
	ASSERT_LT(0, self->pid);
	ASSERT_EQ(0, tag_cmd(self, GOMEMGUARD_CMD_TAG_NEW, self->pid, NULL, &o, &r));
	EXPECT_EQ(before + 1, info_tagged(self));
	ASSERT_EQ(0, proc_get(self, self->pid, &r));
	EXPECT_STREQ("sleep", gr_get_str(r.attrs[GOMEMGUARD_A_COMM]));
	EXPECT_EQ(GOMEMGUARD_SOURCE_PID, gr_get_u32(r.attrs[GOMEMGUARD_A_SOURCE]));

	ASSERT_EQ(0, tag_cmd(self, GOMEMGUARD_CMD_TAG_DEL, self->pid, NULL, NULL, &r));
	EXPECT_EQ(before, info_tagged(self));
	EXPECT_EQ(-ENOENT, proc_get(self, self->pid, &r));
	EXPECT_EQ(-ENOENT, tag_cmd(self, GOMEMGUARD_CMD_TAG_DEL, self->pid, NULL, NULL, &r));
	EXPECT_NE(NULL, strstr(r.extack, "not tagged")) TH_LOG("%s", r.extack);

	/* Tagged again, then killed: an EXIT event, and nothing left. */
	ASSERT_EQ(0, tag_cmd(self, GOMEMGUARD_CMD_TAG_NEW, self->pid, NULL, &o, &r));
	pid = self->pid;
	kill(pid, SIGKILL);
	ASSERT_EQ(1, collect(self, gmg_ms(5000), pid, &status, &t));
	EXPECT_EQ(1, count_events(self, GOMEMGUARD_EVENT_EXIT, pid));
	EXPECT_EQ(before, wait_tagged(self, before, 300));
}

/* A new process that gets a dead one's PID is not the dead one. */
TEST_F(trk, reused_pid_is_a_new_process)
{
	struct tag_opts o = { .soft = 64 * MIB };
	uint32_t before = info_tagged(self);
	char last[32];
	struct gr_reply r;
	pid_t old, reused = 0;
	int i, fd;

	old = spawn_sleeper(NULL);
	ASSERT_LT(0, old);
	ASSERT_EQ(0, tag_cmd(self, GOMEMGUARD_CMD_TAG_NEW, old, NULL, &o, &r));
	kill(old, SIGKILL);
	ASSERT_EQ(old, waitpid(old, NULL, 0));
	for (i = 0; i < 20 && !reused; i++) {
		fd = open("/proc/sys/kernel/ns_last_pid", O_WRONLY);
		ASSERT_LE(0, fd);
		snprintf(last, sizeof(last), "%d", old - 1);
		ASSERT_LT(0, write(fd, last, strlen(last)));
		close(fd);
		self->pid = spawn_sleeper(NULL);
		ASSERT_LT(0, self->pid);
		if (self->pid == old) {
			reused = self->pid;
		} else {
			kill(self->pid, SIGKILL);
			waitpid(self->pid, NULL, 0);
			self->pid = 0;
		}
	}
	ASSERT_EQ(old, reused) TH_LOG("could not get PID %d again", old);
	sleep_ms(1500);
	/* The old process's state went with it; the new one is not tagged. */
	EXPECT_EQ(before, info_tagged(self));
	EXPECT_EQ(-ENOENT, proc_get(self, reused, &r));
	EXPECT_EQ(0, tag_cmd(self, GOMEMGUARD_CMD_TAG_NEW, reused, NULL, &o, &r))
		TH_LOG("%s", r.extack);
}

struct find {
	pid_t pid;
	int found;
	uint32_t source;
	char cgroup[128];
};

static void find_cb(const struct gr_reply *r, void *arg)
{
	struct find *f = arg;

	if (r->attrs[GOMEMGUARD_A_PID] &&
	    gr_get_u32(r->attrs[GOMEMGUARD_A_PID]) == (uint32_t)f->pid) {
		f->found = 1;
		f->source = gr_get_u32(r->attrs[GOMEMGUARD_A_SOURCE]);
		if (r->attrs[GOMEMGUARD_A_CGROUP])
			snprintf(f->cgroup, sizeof(f->cgroup), "%s",
				 gr_get_str(r->attrs[GOMEMGUARD_A_CGROUP]));
	}
}

static int dump_has(FIXTURE_DATA(trk) *self, pid_t pid, uint32_t *source)
{
	struct find f = { .pid = pid };
	struct gr_msg m;

	gr_start(&m, self->family, GOMEMGUARD_CMD_PROC_GET, GOMEMGUARD_GENL_VERSION);
	if (gr_dump(&self->ctl, &m, find_cb, &f))
		return -1;
	if (source)
		*source = f.source;
	return f.found;
}

TEST_F(trk, cgroup_tag_catches_members_now_and_later)
{
	struct tag_opts o = { .soft = 64 * MIB };
	char rel[300];
	uint32_t source = 0;
	struct gr_reply r;
	pid_t early, late;
	int i;

	ASSERT_EQ(0, cg_create("join", self->cg, sizeof(self->cg)));
	snprintf(rel, sizeof(rel), "%s", self->cg + strlen(CG_ROOT));
	early = spawn_sleeper(self->cg);
	ASSERT_LT(0, early);
	ASSERT_EQ(0, tag_cmd(self, GOMEMGUARD_CMD_TAG_NEW, 0, rel, &o, &r))
		TH_LOG("tag %s: %s", rel, r.extack);
	EXPECT_EQ(1, dump_has(self, early, &source));
	EXPECT_EQ(GOMEMGUARD_SOURCE_CGROUP, source);
	EXPECT_EQ(-EEXIST, tag_cmd(self, GOMEMGUARD_CMD_TAG_NEW, 0, rel, &o, &r));
	EXPECT_EQ(-EBUSY, tag_cmd(self, GOMEMGUARD_CMD_TAG_DEL, early, NULL, NULL, &r));

	/* A process that joins later, by moving in. */
	self->pid = spawn_sleeper(NULL);
	late = self->pid;
	ASSERT_LT(0, late);
	EXPECT_EQ(0, dump_has(self, late, &source))
		TH_LOG("%d, outside the cgroup, is watched (source %u)", late, source);
	snprintf(rel + 200, 32, "%d", late);
	ASSERT_EQ(0, cg_write(self->cg, "cgroup.procs", rel + 200));
	for (i = 0; i < gmg_ms(2000) / 50 && dump_has(self, late, NULL) != 1; i++)
		sleep_ms(50);
	EXPECT_EQ(1, dump_has(self, late, &source));
	EXPECT_EQ(GOMEMGUARD_SOURCE_CGROUP, source);

	/* Moving out ends it. */
	ASSERT_EQ(0, cg_write(CG_ROOT, "cgroup.procs", rel + 200));
	for (i = 0; i < gmg_ms(3000) / 50 && dump_has(self, late, NULL) != 0; i++)
		sleep_ms(50);
	EXPECT_EQ(0, dump_has(self, late, NULL));

	snprintf(rel, sizeof(rel), "%s", self->cg + strlen(CG_ROOT));
	ASSERT_EQ(0, tag_cmd(self, GOMEMGUARD_CMD_TAG_DEL, 0, rel, NULL, &r));
	EXPECT_EQ(0, dump_has(self, early, NULL));
}

/* ---- exits: sent when they matter, counted when not ---- */

/* INFO_GET's EXITS_QUIET; UINT64_MAX when it cannot be read. */
static uint64_t info_quiet_exits(FIXTURE_DATA(trk) *self)
{
	struct gr_reply r;
	struct gr_msg m;

	gr_start(&m, self->family, GOMEMGUARD_CMD_INFO_GET, GOMEMGUARD_GENL_VERSION);
	if (gr_transact(&self->ctl, &m, &r) || r.err ||
	    !r.attrs[GOMEMGUARD_A_EXITS_QUIET])
		return UINT64_MAX;
	return gr_get_u64(r.attrs[GOMEMGUARD_A_EXITS_QUIET]);
}

#define QUIET_LOOPS	30
#define QUIET_SEEN_MAX	256

/* The PIDs a PROC_GET dump listed as adopted, accumulated over dumps. */
struct adopted {
	pid_t pid[QUIET_SEEN_MAX];
	int n;
};

static void adopted_cb(const struct gr_reply *r, void *arg)
{
	struct adopted *a = arg;
	uint32_t source;
	pid_t pid;
	int i;

	if (!r->attrs[GOMEMGUARD_A_PID] || !r->attrs[GOMEMGUARD_A_SOURCE])
		return;
	source = gr_get_u32(r->attrs[GOMEMGUARD_A_SOURCE]);
	if (source == GOMEMGUARD_SOURCE_PID)
		return;
	pid = gr_get_u32(r->attrs[GOMEMGUARD_A_PID]);
	for (i = 0; i < a->n; i++)
		if (a->pid[i] == pid)
			return;
	if (a->n < QUIET_SEEN_MAX)
		a->pid[a->n++] = pid;
}

static int count_exits_adopted(FIXTURE_DATA(trk) *self)
{
	int i, n = 0;

	for (i = 0; i < self->nev; i++)
		n += self->ev[i].type == GOMEMGUARD_EVENT_EXIT &&
		     self->ev[i].source != GOMEMGUARD_SOURCE_PID;
	return n;
}

/*
 * The storm of issue 14: a shell loop in a tagged cgroup forks a child
 * every moment, each adopted by the tag.  None of them warns, so none may
 * send an EXIT event; each exit is counted in EXITS_QUIET instead.  The
 * test watches the adoptions itself (PROC_GET dumps while the loop runs):
 * every process it saw adopted has exited by the end, so the count must
 * have grown by at least that many -- and by no more than the loop's
 * processes, so that a module counting exits it never watched fails too.
 */
TEST_F(trk, adopted_exits_are_counted_not_sent)
{
	struct tag_opts o = { .soft = 64 * MIB };
	const char *argv[] = {
		"/bin/sh", "-c",
		"for i in $(seq 30); do /bin/true; /bin/sleep 0.1; done", NULL,
	};
	uint64_t q0, q1, end;
	struct adopted seen = { .n = 0 };
	struct gr_reply *r = malloc(sizeof(*r));
	uint32_t before = info_tagged(self);
	char rel[300];
	struct gr_msg m;
	int status = 0, i, loud, loud_seen = 0;
	pid_t sh;

	_Static_assert(QUIET_LOOPS == 30, "the loop's count is in its script");
	ASSERT_NE(NULL, r);
	ASSERT_EQ(0, cg_create("quietexit", self->cg, sizeof(self->cg)));
	snprintf(rel, sizeof(rel), "%s", self->cg + strlen(CG_ROOT));
	ASSERT_EQ(0, tag_cmd(self, GOMEMGUARD_CMD_TAG_NEW, 0, rel, &o, r))
		TH_LOG("tag %s: %s", rel, r->extack);
	q0 = info_quiet_exits(self);
	ASSERT_NE(UINT64_MAX, q0) TH_LOG("INFO_GET has no EXITS_QUIET");

	self->pid = spawn(self->cg, argv, NULL);
	ASSERT_LT(0, self->pid);
	sh = self->pid;
	/* The loop takes 3 s and more: its processes, as the module adopts them. */
	end = boottime_ns() + gmg_ms(60000) * 1000000ull;
	while (boottime_ns() < end) {
		gr_start(&m, self->family, GOMEMGUARD_CMD_PROC_GET,
			 GOMEMGUARD_GENL_VERSION);
		gr_dump(&self->ctl, &m, adopted_cb, &seen);
		while (!gr_recv_event(&self->mon, 0, r))
			take_event(self, r);
		if (waitpid(sh, &status, WNOHANG) == sh) {
			self->pid = 0;
			break;
		}
		sleep_ms(20);
	}
	ASSERT_EQ(0, self->pid) TH_LOG("the loop did not end within %d s",
				       gmg_ms(60000) / 1000);
	EXPECT_TRUE(WIFEXITED(status) && !WEXITSTATUS(status))
		TH_LOG("the loop ended with status 0x%x", status);
	/* All gone: the module lets go of each within moments. */
	EXPECT_EQ(before, wait_tagged(self, before, 3000));
	collect(self, gmg_ms(500), 0, NULL, NULL);
	q1 = info_quiet_exits(self);
	log_events(_metadata, self);
	loud = count_exits_adopted(self);
	TH_LOG("%d processes seen adopted; quiet exits %llu -> %llu; EXIT events of adopted processes: %d",
	       seen.n, (unsigned long long)q0, (unsigned long long)q1, loud);
	for (i = 0; i < seen.n; i++) {
		if (count_events(self, GOMEMGUARD_EVENT_EXIT, seen.pid[i]))
			loud_seen++;
	}
	EXPECT_EQ(0, loud_seen) TH_LOG("EXIT events for processes seen adopted");
	EXPECT_EQ(0, loud);
	/* The sleeps live 100 ms, ten times the adoption delay: most are seen. */
	EXPECT_LE(QUIET_LOOPS / 3, seen.n);
	ASSERT_NE(UINT64_MAX, q1);
	EXPECT_LE(q0 + seen.n, q1);
	/*
	 * sh, its command substitution (and seq, should the shell fork for
	 * it), a true and a sleep per round: nothing else exited there.
	 */
	EXPECT_GE(q0 + 3 + 2 * QUIET_LOOPS, q1);
	EXPECT_EQ(0, tag_cmd(self, GOMEMGUARD_CMD_TAG_DEL, 0, rel, NULL, r));
	free(r);
}

/* A process tagged by PID: one EXIT event, and not counted as quiet. */
TEST_F(trk, pid_tagged_exit_is_sent_not_counted)
{
	struct tag_opts o = { .soft = 64 * MIB };
	uint32_t before = info_tagged(self);
	uint64_t q0, t;
	struct gr_reply r;
	int status;
	pid_t pid;

	self->pid = spawn_sleeper(NULL);
	ASSERT_LT(0, self->pid);
	pid = self->pid;
	ASSERT_EQ(0, tag_cmd(self, GOMEMGUARD_CMD_TAG_NEW, pid, NULL, &o, &r))
		TH_LOG("%s", r.extack);
	q0 = info_quiet_exits(self);
	ASSERT_NE(UINT64_MAX, q0);
	kill(pid, SIGKILL);
	ASSERT_EQ(1, collect(self, gmg_ms(5000), pid, &status, &t));
	EXPECT_EQ(before, wait_tagged(self, before, 3000));
	/* Time for a second one, which must not come. */
	collect(self, gmg_ms(500), 0, NULL, NULL);
	EXPECT_EQ(1, count_events(self, GOMEMGUARD_EVENT_EXIT, pid));
	EXPECT_EQ(q0, info_quiet_exits(self));
}

/*
 * An adopted process that warned: whoever got its WARN hears of its end.
 * A Go leak in a tagged cgroup crosses 50 % of a small soft limit, is
 * killed, and sends exactly one EXIT -- not counted as quiet as well.
 */
TEST_F(trk, adopted_process_that_warned_sends_its_exit)
{
	static const uint32_t levels[] = { 50 };
	struct tag_opts o = { .soft = 32 * MIB, .levels = levels, .nr_levels = 1 };
	const char *ready = "/tmp/goleak-warnexit.ready";
	uint64_t q0, end, t;
	int status = 0, warned = 0;
	char bin[256], rel[300];
	struct gr_reply r;
	pid_t pid;

	ASSERT_EQ(0, cg_create("warnexit", self->cg, sizeof(self->cg)));
	snprintf(rel, sizeof(rel), "%s", self->cg + strlen(CG_ROOT));
	ASSERT_EQ(0, tag_cmd(self, GOMEMGUARD_CMD_TAG_NEW, 0, rel, &o, &r))
		TH_LOG("tag %s: %s", rel, r.extack);
	q0 = info_quiet_exits(self);
	ASSERT_NE(UINT64_MAX, q0);
	unlink(ready);
	{
		const char *argv[] = { workload("goleak", bin, sizeof(bin)),
				       "-rate", "4M", "-baseline", "4M", "-max", "24M",
				       "-readyfile", ready, NULL };

		self->pid = spawn(self->cg, argv, "/tmp/goleak-warnexit.log");
	}
	ASSERT_LT(0, self->pid);
	pid = self->pid;
	ASSERT_EQ(0, wait_ready(ready, 30000));
	/* 16 MiB of anon + swap: within seconds at 4 MiB/s. */
	end = boottime_ns() + gmg_ms(30000) * 1000000ull;
	while (!warned && boottime_ns() < end) {
		collect(self, 200, 0, NULL, NULL);
		warned = count_events(self, GOMEMGUARD_EVENT_WARN, pid);
	}
	ASSERT_LE(1, warned) TH_LOG("goleak never crossed 50 %% of 32 MiB");
	kill(pid, SIGKILL);
	ASSERT_EQ(1, collect(self, gmg_ms(5000), pid, &status, &t));
	collect(self, gmg_ms(500), 0, NULL, NULL);
	log_events(_metadata, self);
	EXPECT_EQ(1, count_events(self, GOMEMGUARD_EVENT_EXIT, pid));
	EXPECT_EQ(q0, info_quiet_exits(self));
	EXPECT_EQ(0, tag_cmd(self, GOMEMGUARD_CMD_TAG_DEL, 0, rel, NULL, &r));
}

/* The children spawner has logged so far. */
static int count_children(const char *log)
{
	FILE *f = fopen(log, "r");
	char line[128];
	int n = 0;

	if (!f)
		return 0;
	while (fgets(line, sizeof(line), f))
		n += !strncmp(line, "child pid=", 10);
	fclose(f);
	return n;
}

TEST_F(trk, inherit_follows_forks)
{
	struct tag_opts o = { .soft = 64 * MIB, .inherit = 1 };
	const char *log = "/tmp/spawner.log";
	char bin[256], line[128];
	int i, children = 0, inherited = 0;
	struct gr_reply r;
	uint32_t source;
	FILE *f;

	{
		const char *argv[] = { workload("spawner", bin, sizeof(bin)),
				       "-children", "3", "-interval", "700ms",
				       "-touch", "1M", NULL };

		self->pid = spawn(NULL, argv, log);
	}
	ASSERT_LT(0, self->pid);
	ASSERT_EQ(0, tag_cmd(self, GOMEMGUARD_CMD_TAG_NEW, self->pid, NULL, &o, &r))
		TH_LOG("%s", r.extack);
	/* Three forks 700 ms apart; a slower kernel gets longer for them. */
	sleep_ms(3500);
	for (i = 0; i < (gmg_ms(3500) - 3500) / 100 && count_children(log) < 3; i++)
		sleep_ms(100);
	f = fopen(log, "r");
	ASSERT_NE(NULL, f);
	while (fgets(line, sizeof(line), f)) {
		int pid;

		if (sscanf(line, "child pid=%d", &pid) != 1)
			continue;
		children++;
		if (dump_has(self, pid, &source) == 1 &&
		    source == GOMEMGUARD_SOURCE_INHERIT)
			inherited++;
	}
	fclose(f);
	TH_LOG("%d children, %d watched by inheritance", children, inherited);
	EXPECT_EQ(3, children);
	/* The first child may have been forked before the tag. */
	EXPECT_LE(2, inherited);
	ASSERT_EQ(0, tag_cmd(self, GOMEMGUARD_CMD_TAG_DEL, self->pid, NULL, NULL, &r));
}

/* The two pipes between the test and a vfork() child. */
struct vfork_pipes {
	int pid_w;	/* the child writes its PID here */
	int go_r;	/* and execs once a byte arrives here */
};

/*
 * The child of CLONE_VM | CLONE_VFORK, as posix_spawn() makes it: on a stack
 * of its own, in its parent's memory, the parent stopped until it execs.
 */
static int vfork_child(void *arg)
{
	const struct vfork_pipes *p = arg;
	char *const argv[] = { "/bin/sleep", "1000", NULL };
	pid_t pid = getpid();
	char go;

	prctl(PR_SET_PDEATHSIG, SIGKILL);
	if (write(p->pid_w, &pid, sizeof(pid)) != sizeof(pid) ||
	    read(p->go_r, &go, 1) != 1)
		_exit(1);
	execv(argv[0], argv);
	_exit(127);
}

/*
 * A vfork() child shares its parent's mm, which the parent's watch already
 * sees: the module leaves it alone until it execs, and watches it from then
 * on.  Go's os/exec starts every process this way.
 */
TEST_F(trk, vfork_child_is_watched_from_its_exec)
{
	struct tag_opts o = { .soft = 64 * MIB };
	int pid_pipe[2], go_pipe[2], i;
	uint32_t source = 0;
	char rel[300], self_pid[16];
	struct gr_reply r;
	pid_t child = 0, sibling;

	ASSERT_EQ(0, cg_create("vfork", self->cg, sizeof(self->cg)));
	snprintf(rel, sizeof(rel), "%s", self->cg + strlen(CG_ROOT));
	ASSERT_EQ(0, tag_cmd(self, GOMEMGUARD_CMD_TAG_NEW, 0, rel, &o, &r))
		TH_LOG("tag %s: %s", rel, r.extack);
	ASSERT_EQ(0, pipe2(pid_pipe, O_CLOEXEC));
	ASSERT_EQ(0, pipe2(go_pipe, O_CLOEXEC));

	self->pid = fork();
	ASSERT_LE(0, self->pid);
	if (self->pid == 0) {
		static char stack[64 * 1024] __attribute__((aligned(16)));
		struct vfork_pipes p = { pid_pipe[1], go_pipe[0] };

		prctl(PR_SET_PDEATHSIG, SIGKILL);
		snprintf(self_pid, sizeof(self_pid), "%d", getpid());
		if (cg_write(self->cg, "cgroup.procs", self_pid))
			_exit(1);
		/* Back from clone() once the child has exec'd. */
		if (clone(vfork_child, stack + sizeof(stack),
			  CLONE_VM | CLONE_VFORK | SIGCHLD, &p) < 0)
			_exit(1);
		for (;;)
			pause();
	}
	ASSERT_EQ(sizeof(child), read(pid_pipe[0], &child, sizeof(child)));
	ASSERT_LT(0, child);

	/* The parent joined the tagged cgroup before its vfork: watched. */
	for (i = 0; i < gmg_ms(2000) / 50 && dump_has(self, self->pid, NULL) != 1; i++)
		sleep_ms(50);
	EXPECT_EQ(1, dump_has(self, self->pid, &source));
	EXPECT_EQ(GOMEMGUARD_SOURCE_CGROUP, source);
	/*
	 * No fixed wait for an adoption that must not happen: a sibling
	 * moved into the cgroup now sets off an adoption walk over all its
	 * members; once the sibling is watched, that walk has passed the
	 * vfork() child too, and must have left it alone.
	 */
	sibling = fork();
	ASSERT_LE(0, sibling);
	if (sibling == 0) {
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		for (;;)
			pause();
	}
	snprintf(self_pid, sizeof(self_pid), "%d", sibling);
	ASSERT_EQ(0, cg_write(self->cg, "cgroup.procs", self_pid));
	for (i = 0; i < gmg_ms(2000) / 50 && dump_has(self, sibling, NULL) != 1; i++)
		sleep_ms(50);
	EXPECT_EQ(1, dump_has(self, sibling, NULL))
		TH_LOG("the sibling %d moved into the cgroup was not adopted", sibling);
	EXPECT_EQ(0, dump_has(self, child, NULL))
		TH_LOG("the vfork() child %d was adopted before it exec'd", child);
	kill(sibling, SIGKILL);
	waitpid(sibling, NULL, 0);

	ASSERT_EQ(1, write(go_pipe[1], "x", 1));
	for (i = 0; i < gmg_ms(2000) / 50 && dump_has(self, child, NULL) != 1; i++)
		sleep_ms(50);
	EXPECT_EQ(1, dump_has(self, child, &source))
		TH_LOG("the child %d was not adopted after its exec", child);
	EXPECT_EQ(GOMEMGUARD_SOURCE_CGROUP, source);
	ASSERT_EQ(0, proc_get(self, child, &r));
	EXPECT_STREQ("sleep", gr_get_str(r.attrs[GOMEMGUARD_A_COMM]));

	kill(child, SIGKILL);
	close(pid_pipe[0]);
	close(pid_pipe[1]);
	close(go_pipe[0]);
	close(go_pipe[1]);
	ASSERT_EQ(0, tag_cmd(self, GOMEMGUARD_CMD_TAG_DEL, 0, rel, NULL, &r));
}

static uint64_t info_dropped(FIXTURE_DATA(trk) *self)
{
	struct gr_reply r;
	struct gr_msg m;

	gr_start(&m, self->family, GOMEMGUARD_CMD_INFO_GET, GOMEMGUARD_GENL_VERSION);
	if (gr_transact(&self->ctl, &m, &r) || r.err)
		return UINT64_MAX;
	return gr_get_u64(r.attrs[GOMEMGUARD_A_EVENTS_DROPPED]);
}

static void set_burst(FIXTURE_DATA(trk) *self, uint32_t burst)
{
	struct gr_reply r;
	struct gr_msg m;

	gr_start(&m, self->family, GOMEMGUARD_CMD_CONFIG_SET, GOMEMGUARD_GENL_VERSION);
	gr_put_u32(&m, GOMEMGUARD_A_EVENT_BURST, burst);
	gr_transact(&self->ctl, &m, &r);
}

/*
 * The per-process rate limit: a process over eight levels at once, with a
 * burst of two, gets two WARN events; the other six are counted as dropped,
 * and the sequence numbers of what was sent have no gap.
 */
TEST_F(trk, rate_limit_drops_and_counts)
{
	static const uint32_t levels[] = { 10, 20, 30, 40, 50, 60, 70, 80 };
	struct tag_opts o = { .soft = 64 * 1024, .levels = levels, .nr_levels = 8 };
	uint64_t before = info_dropped(self);
	struct gr_reply r;

	self->pid = spawn_sleeper(NULL);
	ASSERT_LT(0, self->pid);
	set_burst(self, 2);
	EXPECT_EQ(0, tag_cmd(self, GOMEMGUARD_CMD_TAG_NEW, self->pid, NULL, &o, &r));
	/* Time for the two that pass to arrive, and for more that should not. */
	collect(self, gmg_ms(1500), 0, NULL, NULL);
	set_burst(self, GOMEMGUARD_EVENT_BURST_DEFAULT);
	log_events(_metadata, self);
	EXPECT_EQ(2, count_events(self, GOMEMGUARD_EVENT_WARN, self->pid));
	EXPECT_EQ(before + 6, info_dropped(self));
	ASSERT_LE(2, self->nev);
	EXPECT_EQ(self->ev[0].seq + 1, self->ev[1].seq);
	EXPECT_EQ(10, self->ev[0].level_pct);
	EXPECT_EQ(20, self->ev[1].level_pct);
}

/* ---- memcg view, OOM post-mortems ---- */

struct oom_seen {
	int n;
	uint32_t id, constraint, victim, tagged, snap_n, snap_has_victim;
	int has_lead;
	uint64_t lead_ms;
	char memcg[128];
	/* The victim's, at the kill; and its snapshot's memcg. */
	char comm[16];
	uint64_t anon;
	char snap_memcg[128];
};

static void parse_oom(const struct gr_reply *r, pid_t victim, struct oom_seen *o)
{
	const struct nlattr *snap = r->attrs[GOMEMGUARD_A_SNAPSHOT], *a;
	const struct nlattr *tb[GR_ATTR_MAX + 1];
	int left;

	o->n++;
	o->id = gr_get_u32(r->attrs[GOMEMGUARD_A_OOM_ID]);
	o->constraint = gr_get_u32(r->attrs[GOMEMGUARD_A_CONSTRAINT]);
	o->victim = gr_get_u32(r->attrs[GOMEMGUARD_A_VICTIM_PID]);
	o->tagged = *((const uint8_t *)r->attrs[GOMEMGUARD_A_VICTIM_TAGGED] + NLA_HDRLEN);
	snprintf(o->memcg, sizeof(o->memcg), "%s", gr_get_str(r->attrs[GOMEMGUARD_A_MEMCG]));
	o->has_lead = !!r->attrs[GOMEMGUARD_A_LEAD_MS];
	if (o->has_lead)
		o->lead_ms = gr_get_u64(r->attrs[GOMEMGUARD_A_LEAD_MS]);
	snprintf(o->comm, sizeof(o->comm), "%s",
		 r->attrs[GOMEMGUARD_A_VICTIM_COMM] ?
		 gr_get_str(r->attrs[GOMEMGUARD_A_VICTIM_COMM]) : "");
	o->anon = r->attrs[GOMEMGUARD_A_VICTIM_ANON] ?
		  gr_get_u64(r->attrs[GOMEMGUARD_A_VICTIM_ANON]) : 0;
	o->snap_n = 0;
	o->snap_has_victim = 0;
	o->snap_memcg[0] = '\0';
	if (!snap)
		return;
	a = (const struct nlattr *)((const char *)snap + NLA_HDRLEN);
	for (left = snap->nla_len - NLA_HDRLEN; left >= NLA_HDRLEN && a->nla_len >= NLA_HDRLEN;
	     left -= NLA_ALIGN(a->nla_len),
	     a = (const struct nlattr *)((const char *)a + NLA_ALIGN(a->nla_len))) {
		gr_parse_nested(a, tb, GR_ATTR_MAX);
		o->snap_n++;
		if (!tb[GOMEMGUARD_A_PID] || gr_get_u32(tb[GOMEMGUARD_A_PID]) != (uint32_t)victim)
			continue;
		o->snap_has_victim = 1;
		if (tb[GOMEMGUARD_A_MEMCG])
			snprintf(o->snap_memcg, sizeof(o->snap_memcg), "%s",
				 gr_get_str(tb[GOMEMGUARD_A_MEMCG]));
	}
}

struct oom_dump {
	pid_t victim;
	struct oom_seen first;
};

static void oom_dump_cb(const struct gr_reply *r, void *arg)
{
	struct oom_dump *d = arg;

	if (!d->first.n)
		parse_oom(r, d->victim, &d->first);
	else
		d->first.n++;
}

/*
 * A tagged Go service killed by its memcg's OOM: one OOM event naming it,
 * with the snapshot and how long before the kill the first warning went
 * out; the same report is still there to read afterwards.
 */
TEST_F(trk, memcg_oom_leaves_a_post_mortem)
{
	struct tag_opts o = { .soft = 48 * MIB, .eta_ms = 2000, .window_ms = 1000 };
	const char *ready = "/tmp/oomleak.ready";
	struct oom_dump dump = { 0 };
	struct oom_seen ev = { 0 };
	struct gr_reply *r = malloc(sizeof(*r));
	uint64_t death_ns, end;
	struct gr_msg m;
	char bin[256];
	int status;
	pid_t pid;

	ASSERT_NE(NULL, r);
	ASSERT_EQ(0, cg_create("oom", self->cg, sizeof(self->cg)));
	ASSERT_EQ(0, cg_write(self->cg, "memory.max", "96M"));
	unlink(ready);
	{
		const char *argv[] = { workload("goleak", bin, sizeof(bin)),
				       "-rate", "16M", "-baseline", "4M",
				       "-readyfile", ready, NULL };

		self->pid = spawn(self->cg, argv, "/tmp/oomleak.log");
	}
	ASSERT_LT(0, self->pid);
	pid = self->pid;
	ASSERT_EQ(0, wait_ready(ready, 30000));
	ASSERT_EQ(0, tag_cmd(self, GOMEMGUARD_CMD_TAG_NEW, pid, NULL, &o, r));
	/*
	 * Collect until death, keeping OOM events (take_event skips them),
	 * and for 3 s after it; both scaled.
	 */
	end = boottime_ns() + gmg_ms(60000) * 1000000ull;
	death_ns = 0;
	while (boottime_ns() < end) {
		if (!death_ns && waitpid(pid, &status, WNOHANG) == pid) {
			death_ns = boottime_ns();
			self->pid = 0;
			end = death_ns + gmg_ms(3000) * 1000000ull;
		}
		if (gr_recv_event(&self->mon, 100, r))
			continue;
		if (gr_get_u32(r->attrs[GOMEMGUARD_A_EVENT]) == GOMEMGUARD_EVENT_OOM)
			parse_oom(r, pid, &ev);
		else
			take_event(self, r);
	}
	ASSERT_NE(0, death_ns) TH_LOG("the leak was not killed within %d s",
				      gmg_ms(60000) / 1000);
	EXPECT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
	ASSERT_EQ(1, ev.n) TH_LOG("%d OOM events", ev.n);
	EXPECT_EQ(GOMEMGUARD_CONSTRAINT_MEMCG, ev.constraint);
	EXPECT_EQ((uint32_t)pid, ev.victim);
	EXPECT_EQ(1, ev.tagged);
	EXPECT_STREQ("/gmgtest.oom", ev.memcg);
	EXPECT_LE(1, ev.snap_n);
	EXPECT_EQ(1, ev.snap_has_victim);
	EXPECT_STREQ("/gmgtest.oom", ev.snap_memcg);
	/* Read as the OOM killer marked it: its name, its anon under max. */
	EXPECT_STREQ("goleak", ev.comm);
	EXPECT_LT(32 * MIB, ev.anon) TH_LOG("victim anon %llu MiB at the kill",
					    (unsigned long long)(ev.anon / MIB));
	EXPECT_GE(96 * MIB, ev.anon);
	ASSERT_TRUE(ev.has_lead) TH_LOG("no lead time: no warning before the kill?");
	/* A lead of 1 ms is no warning: half the horizon, at least. */
	EXPECT_LE(o.eta_ms / 2, ev.lead_ms);
	TH_LOG("OOM #%u: first warning %llu ms before the kill", ev.id,
	       (unsigned long long)ev.lead_ms);

	/* Still there to read at 09:00. */
	dump.victim = pid;
	gr_start(&m, self->family, GOMEMGUARD_CMD_OOM_GET, GOMEMGUARD_GENL_VERSION);
	ASSERT_EQ(0, gr_dump(&self->ctl, &m, oom_dump_cb, &dump));
	ASSERT_LE(1, dump.first.n);
	EXPECT_EQ(ev.id, dump.first.id);
	EXPECT_EQ((uint32_t)pid, dump.first.victim);
	EXPECT_EQ(ev.lead_ms, dump.first.lead_ms);

	/* And through gomemctl, as the on-call engineer reads it. */
	{
		static const char *const argv[] = { "-j", "oom", NULL };
		static const char *const text[] = { "oom", NULL };
		struct json_object *o, *first, *v;
		struct gmg_run run;
		char want[64];

		ASSERT_EQ(0, gmg_run_ctl(&run, -1, argv));
		ASSERT_EQ(0, run.status) TH_LOG("%s", run.err);
		o = json_tokener_parse(run.out);
		ASSERT_NE(NULL, o) TH_LOG("not JSON: %s", run.out);
		ASSERT_LE(1, json_object_array_length(o));
		first = json_object_array_get_idx(o, 0);
		ASSERT_TRUE(json_object_object_get_ex(first, "victim_pid", &v));
		EXPECT_EQ(pid, json_object_get_int(v));
		ASSERT_TRUE(json_object_object_get_ex(first, "lead_ms", &v));
		EXPECT_EQ((int64_t)ev.lead_ms, json_object_get_int64(v));
		ASSERT_TRUE(json_object_object_get_ex(first, "constraint", &v));
		EXPECT_STREQ("memcg", json_object_get_string(v));
		ASSERT_TRUE(json_object_object_get_ex(first, "snapshot", &v));
		EXPECT_LE(1, json_object_array_length(v));
		json_object_put(o);

		ASSERT_EQ(0, gmg_run_ctl(&run, -1, text));
		ASSERT_EQ(0, run.status) TH_LOG("%s", run.err);
		snprintf(want, sizeof(want), "goleak[%d]", pid);
		EXPECT_NE(NULL, strstr(run.out, want)) TH_LOG("%s", run.out);
		EXPECT_NE(NULL, strstr(run.out, "before the kill")) TH_LOG("%s", run.out);
	}
	free(r);
}

struct memcg_find {
	const char *path;
	int found, retired;
	uint64_t anon, file, unevictable, reclaimable, usage;
};

static void memcg_cb(const struct gr_reply *r, void *arg)
{
	struct memcg_find *f = arg;

	if (!r->attrs[GOMEMGUARD_A_MEMCG] ||
	    strcmp(gr_get_str(r->attrs[GOMEMGUARD_A_MEMCG]), f->path))
		return;
	f->retired = !!r->attrs[GOMEMGUARD_A_MEMCG_SHMEM] +
		     !!r->attrs[GOMEMGUARD_A_PINNED] +
		     !!r->attrs[GOMEMGUARD_A_PSI_SOME_AVG10];
	if (!r->attrs[GOMEMGUARD_A_MEMCG_ANON] || !r->attrs[GOMEMGUARD_A_MEMCG_FILE] ||
	    !r->attrs[GOMEMGUARD_A_MEMCG_UNEVICTABLE] ||
	    !r->attrs[GOMEMGUARD_A_RECLAIMABLE] || !r->attrs[GOMEMGUARD_A_MEMCG_USAGE])
		return;
	f->found = 1;
	f->anon = gr_get_u64(r->attrs[GOMEMGUARD_A_MEMCG_ANON]);
	f->file = gr_get_u64(r->attrs[GOMEMGUARD_A_MEMCG_FILE]);
	f->unevictable = gr_get_u64(r->attrs[GOMEMGUARD_A_MEMCG_UNEVICTABLE]);
	f->reclaimable = gr_get_u64(r->attrs[GOMEMGUARD_A_RECLAIMABLE]);
	f->usage = gr_get_u64(r->attrs[GOMEMGUARD_A_MEMCG_USAGE]);
}

static int within(uint64_t a, long long b, uint64_t slack)
{
	return b >= 0 && (a > (uint64_t)b ? a - b : b - a) <= slack;
}

static int read_line(const char *path, char *buf, size_t len)
{
	FILE *f = fopen(path, "r");
	int ok;

	if (!f)
		return -1;
	ok = fgets(buf, len, f) != NULL;
	fclose(f);
	if (!ok)
		return -1;
	buf[strcspn(buf, "\n")] = '\0';
	return 0;
}

static int write_line(const char *path, const char *val)
{
	FILE *f = fopen(path, "w");
	int err;

	if (!f)
		return -1;
	err = fputs(val, f) < 0;
	err |= fclose(f) != 0;
	return err ? -1 : 0;
}

#define LRU_GEN	"/sys/kernel/mm/lru_gen/enabled"

/*
 * The module's anon/file split of a memcg comes from the LRU sizes: the
 * classic lists and the multi-gen LRU's, which does not update the
 * classic ones (Debian's 6.12 runs it, its 6.1 builds it in, off).  With
 * 256 MiB of real page cache and 24 MiB of heap in a memcg, the split must
 * match memory.stat with MGLRU on, switched off (the kernel moves every
 * page to the classic lists) and on again.  A module summing one kind of
 * list only would see nothing in one of the modes.  The setting is put
 * back as it was.
 */
TEST_F(trk, memcg_split_holds_with_mglru_on_and_off)
{
	static const char *const modes[] = { "y", "n", "y" };
	const char *data = getenv("GMG_DATA_DIR");
	struct tag_opts o = { .soft = 1024 * MIB };
	const char *ready = "/tmp/cachereader.ready";
	char file[300], orig[32];
	int i, m, fd, have_gen;
	struct gr_reply r;
	struct gr_msg msg;

	if (!data)
		SKIP(return, "GMG_DATA_DIR (a block-device filesystem) not set");
	snprintf(file, sizeof(file), "%s/big.bin", data);
	/* Cached by an earlier test, its pages would be charged elsewhere. */
	fd = open(file, O_RDONLY);
	ASSERT_LE(0, fd) TH_LOG("%s: %s", file, strerror(errno));
	ASSERT_EQ(0, posix_fadvise(fd, 0, 0, POSIX_FADV_DONTNEED));
	close(fd);
	have_gen = !read_line(LRU_GEN, orig, sizeof(orig));
	if (!have_gen)
		TH_LOG("%s: no multi-gen LRU in this kernel: classic lists only", LRU_GEN);
	ASSERT_EQ(0, cg_create("mglru", self->cg, sizeof(self->cg)));
	self->pid = spawn_cachereader(self->cg, file, "24M", ready);
	ASSERT_LT(0, self->pid);
	ASSERT_EQ(0, wait_ready(ready, 30000));
	ASSERT_EQ(0, tag_cmd(self, GOMEMGUARD_CMD_TAG_NEW, self->pid, NULL, &o, &r))
		TH_LOG("tag: %s", r.extack);
	/* The whole file read once: nothing changes after that. */
	for (i = 0; i < gmg_ms(60000) / 100 &&
		    cg_read_key(self->cg, "memory.stat", "file") < 250 * (long long)MIB; i++)
		sleep_ms(100);
	ASSERT_LE(250 * (long long)MIB, cg_read_key(self->cg, "memory.stat", "file"));

	for (m = 0; m < (have_gen ? 3 : 1); m++) {
		struct memcg_find f = { .path = "/gmgtest.mglru" };
		long long st_anon, st_shmem, st_file;

		if (have_gen) {
			EXPECT_EQ(0, write_line(LRU_GEN, modes[m]))
				TH_LOG("%s: cannot write %s", LRU_GEN, modes[m]);
		}
		/* Past the module's 100 ms cache of the sums. */
		sleep_ms(300);
		gr_start(&msg, self->family, GOMEMGUARD_CMD_MEMCG_GET, GOMEMGUARD_GENL_VERSION);
		EXPECT_EQ(0, gr_dump(&self->ctl, &msg, memcg_cb, &f));
		st_anon = cg_read_key(self->cg, "memory.stat", "anon");
		st_shmem = cg_read_key(self->cg, "memory.stat", "shmem");
		st_file = cg_read_key(self->cg, "memory.stat", "file");
		TH_LOG("MGLRU %s: swap-backed %llu MiB, file %llu MiB; memory.stat anon %lld, shmem %lld, file %lld MiB",
		       have_gen ? modes[m] : "absent",
		       (unsigned long long)f.anon / MIB, (unsigned long long)f.file / MIB,
		       st_anon / (long long)MIB, st_shmem / (long long)MIB,
		       st_file / (long long)MIB);
		EXPECT_EQ(1, f.found);
		EXPECT_LE(24 * MIB, f.anon);
		EXPECT_TRUE(within(f.anon, st_anon + st_shmem, 4 * MIB));
		EXPECT_TRUE(within(f.file, st_file - st_shmem, 4 * MIB));
		EXPECT_EQ(f.file, f.reclaimable);
	}
	if (have_gen)
		EXPECT_EQ(0, write_line(LRU_GEN, orig)) TH_LOG("%s not put back to %s", LRU_GEN, orig);
}

/*
 * tmpfs in a memcg without swap: the writer's own anon is flat, so only the
 * memcg view can see it coming.  It is counted as pinned, not reclaimable,
 * and an ETA against memory.max goes out before the OOM kill.
 */
TEST_F(trk, tmpfs_writer_is_pinned_and_warned_before_oom)
{
	struct tag_opts o = { .soft = 512 * MIB, .eta_ms = 3000, .window_ms = 1000 };
	struct memcg_find f = { .path = "/gmgtest.tmpfs" };
	const char *ready = "/tmp/tmpfswriter.ready";
	uint64_t death_ns = 0, eta_ns = 0;
	struct gr_reply r;
	struct gr_msg m;
	char bin[256];
	int i, status;
	pid_t pid;

	ASSERT_EQ(0, cg_create("tmpfs", self->cg, sizeof(self->cg)));
	ASSERT_EQ(0, cg_write(self->cg, "memory.max", "96M"));
	unlink(ready);
	{
		const char *argv[] = { workload("tmpfswriter", bin, sizeof(bin)),
				       "-dir", "/dev/shm", "-rate", "12M", "-step", "1M",
				       "-unlink", "-readyfile", ready, NULL };

		self->pid = spawn(self->cg, argv, "/tmp/tmpfswriter.log");
	}
	ASSERT_LT(0, self->pid);
	pid = self->pid;
	ASSERT_EQ(0, wait_ready(ready, 30000));
	ASSERT_EQ(0, tag_cmd(self, GOMEMGUARD_CMD_TAG_NEW, pid, NULL, &o, &r))
		TH_LOG("%s", r.extack);
	/* Half full: the tmpfs pages are on the swap-backed LRU, not reclaimable. */
	for (i = 0; i < gmg_ms(10000) / 100 &&
		    cg_read_ll(self->cg, "memory.current") < 48 * (long long)MIB; i++)
		sleep_ms(100);
	{
		long long st_anon, st_shmem, st_file;

		/*
		 * memory.stat may lag the LRUs by a flush period (sid's 7.2:
		 * 12 MiB behind, a second of the writer, once in CI) while
		 * the module reads the LRUs themselves: a few pairs of
		 * readings, a quarter of a second apart, for one that agrees.
		 */
		for (i = 0; i < 8; i++) {
			if (i)
				sleep_ms(250);
			f.found = 0;
			gr_start(&m, self->family, GOMEMGUARD_CMD_MEMCG_GET,
				 GOMEMGUARD_GENL_VERSION);
			ASSERT_EQ(0, gr_dump(&self->ctl, &m, memcg_cb, &f));
			ASSERT_EQ(1, f.found);
			st_anon = cg_read_key(self->cg, "memory.stat", "anon");
			st_shmem = cg_read_key(self->cg, "memory.stat", "shmem");
			st_file = cg_read_key(self->cg, "memory.stat", "file");
			if (within(f.anon, st_anon + st_shmem, 4 * MIB) &&
			    within(f.file, st_file - st_shmem, 4 * MIB))
				break;
		}
		TH_LOG("usage %llu MiB: swap-backed %llu, file %llu, reclaimable %llu; memory.stat anon %lld shmem %lld file %lld",
		       (unsigned long long)f.usage / MIB, (unsigned long long)f.anon / MIB,
		       (unsigned long long)f.file / MIB, (unsigned long long)f.reclaimable / MIB,
		       st_anon / (long long)MIB, st_shmem / (long long)MIB, st_file / (long long)MIB);
		EXPECT_EQ(0, f.retired) TH_LOG("retired attributes sent");
		EXPECT_LE(40 * MIB, f.anon);
		EXPECT_GT(8 * MIB, f.reclaimable);
		EXPECT_EQ(f.file, f.reclaimable);
		/*
		 * The LRU split agrees with memory.stat's own to within a few
		 * MiB: swap-backed is anon + shmem, the file LRU is file less
		 * shmem (memory.stat counts tmpfs in both shmem and file).
		 */
		EXPECT_TRUE(within(f.anon, st_anon + st_shmem, 4 * MIB));
		EXPECT_TRUE(within(f.file, st_file - st_shmem, 4 * MIB));
	}
	{
		static const char *const argv[] = { "-j", "show", "--memcg", NULL };
		struct gmg_run run;

		ASSERT_EQ(0, gmg_run_ctl(&run, -1, argv));
		EXPECT_EQ(0, run.status) TH_LOG("%s", run.err);
		EXPECT_NE(NULL, strstr(run.out, "\"memcg\":\"/gmgtest.tmpfs\""))
			TH_LOG("%s", run.out);
		EXPECT_NE(NULL, strstr(run.out, "\"pinned_bytes\":")) TH_LOG("%s", run.out);
	}

	ASSERT_EQ(1, collect(self, gmg_ms(60000), pid, &status, &death_ns));
	log_events(_metadata, self);
	EXPECT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
	for (i = 0; i < self->nev; i++)
		if (self->ev[i].type == GOMEMGUARD_EVENT_ETA &&
		    self->ev[i].pid == (uint32_t)pid && !eta_ns) {
			eta_ns = self->ev[i].time_ns;
			EXPECT_EQ(GOMEMGUARD_LIMIT_MEMCG_MAX, self->ev[i].eta_limit);
		}
	ASSERT_NE(0, eta_ns) TH_LOG("no ETA warning before the tmpfs OOM");
	ASSERT_NE(0, oom_kill_ns(self)) TH_LOG("no OOM event for the kill");
	TH_LOG("tmpfs: ETA %lld ms before the kill (horizon %u ms)",
	       ((long long)oom_kill_ns(self) - (long long)eta_ns) / 1000000, o.eta_ms);
	EXPECT_LE(eta_ns + o.eta_ms / 2 * 1000000ull, oom_kill_ns(self));
}

/*
 * What the kernel log says about allocations and gomemguard after @since
 * (its line number): the module's allocation failures, warnings and
 * anything the module said but its load and unload lines.  0: nothing.
 */
static int klog_trouble(struct __test_metadata *_metadata, int since)
{
	static char buf[1 << 20];
	int n = klogctl(3, buf, sizeof(buf) - 1), line = 0, bad = 0;
	char *p, *nl, *q, *end;
	int ours;

	if (n < 0)
		return -1;
	buf[n] = '\0';
	for (p = buf; *p; p = nl + 1, line++) {
		nl = strchr(p, '\n');
		if (!nl)
			break;
		*nl = '\0';
		if (line < since)
			continue;
		if (strstr(p, "allocation failure")) {
			/*
			 * A whole machine out of memory makes the kernel's
			 * own allocations fail too, in the dying tasks'
			 * context: ours only if the module is in the call
			 * trace that follows (up to its </TASK>).
			 */
			end = strstr(nl + 1, "</TASK>");
			ours = 0;
			for (q = nl + 1; end && q < end; q++)
				if (!strncmp(q, "[gomemguard]", 12)) {
					ours = 1;
					break;
				}
			TH_LOG("kernel: %s%s", p, ours ? "" :
			       " (not the module's: no gomemguard frame in its trace)");
			bad += ours || !end;
			continue;
		}
		if (strstr(p, "WARNING:") || strstr(p, "BUG:") ||
		    strstr(p, "gomemguard") || strstr(p, "vmalloc error")) {
			TH_LOG("kernel: %s", p);
			bad++;
		}
	}
	return bad;
}

static int klog_lines(void)
{
	static char buf[1 << 20];
	int n = klogctl(3, buf, sizeof(buf) - 1), lines = 0, i;

	for (i = 0; i < n; i++)
		lines += buf[i] == '\n';
	return lines;
}

#define GLOBAL_OOM_CROWD	200

/*
 * Runs only in a small guest (selftests/guest-global-oom.sh): the whole
 * machine runs out of memory with a leak and 200 other processes watched.
 * The report arrives, and the module neither fails an allocation loudly nor
 * warns while the OOM killer works (it allocates nothing that waits for
 * reclaim then, and one OOM does not set 200 work items loose at once).
 */
/*
 * Its own deadline is 120 s to the kill (scaled): a whole 256 MiB guest
 * thrashing its page cache over 9p before the OOM killer acts can take
 * longer than the harness's default 30 s, and did once on 6.12.  The
 * harness's timeout covers the crowd, the leak and the 3 s after.
 */
TEST_F_TIMEOUT(trk, global_oom_kills_a_tagged_leak, 180)
{
	struct tag_opts o = { .soft = 64 * MIB, .eta_ms = 5000, .window_ms = 1000 };
	struct tag_opts crowd = { .soft = 64 * MIB, .inherit = 1 };
	const char *ready = "/tmp/globalleak.ready";
	struct oom_seen ev = { 0 };
	struct gr_reply *r = malloc(sizeof(*r));
	uint64_t end, death_ns = 0;
	int status, i, since;
	char bin[256], rel[300];
	pid_t pid, kid;

	ASSERT_NE(NULL, r);
	since = klog_lines();
	/* The crowd: 200 processes of their own (fork, no exec), watched. */
	ASSERT_EQ(0, cg_create("crowd", self->cg, sizeof(self->cg)));
	snprintf(rel, sizeof(rel), "%s", self->cg + strlen(CG_ROOT));
	ASSERT_EQ(0, tag_cmd(self, GOMEMGUARD_CMD_TAG_NEW, 0, rel, &crowd, r))
		TH_LOG("%s", r->extack);
	for (i = 0; i < GLOBAL_OOM_CROWD; i++) {
		kid = fork();
		ASSERT_LE(0, kid);
		if (kid == 0) {
			if (cg_write(self->cg, "cgroup.procs", "0"))
				_exit(1);
			pause();
			_exit(0);
		}
	}
	ASSERT_EQ(GLOBAL_OOM_CROWD, wait_tagged(self, GLOBAL_OOM_CROWD, 30000));
	unlink(ready);
	{
		const char *argv[] = { workload("goleak", bin, sizeof(bin)),
				       "-rate", "32M", "-baseline", "4M",
				       "-readyfile", ready, NULL };

		self->pid = spawn(NULL, argv, "/tmp/globalleak.log");
	}
	ASSERT_LT(0, self->pid);
	pid = self->pid;
	ASSERT_EQ(0, wait_ready(ready, 30000));
	{
		char path[64];
		FILE *f;

		snprintf(path, sizeof(path), "/proc/%d/oom_score_adj", pid);
		f = fopen(path, "w");
		ASSERT_NE(NULL, f);
		fputs("1000", f);
		fclose(f);
	}
	ASSERT_EQ(0, tag_cmd(self, GOMEMGUARD_CMD_TAG_NEW, pid, NULL, &o, r));
	/* Until death and 3 s after it, both scaled. */
	end = boottime_ns() + gmg_ms(120000) * 1000000ull;
	while (boottime_ns() < end) {
		if (!death_ns && waitpid(pid, &status, WNOHANG) == pid) {
			death_ns = boottime_ns();
			self->pid = 0;
			end = death_ns + gmg_ms(3000) * 1000000ull;
		}
		if (!gr_recv_event(&self->mon, 100, r) &&
		    gr_get_u32(r->attrs[GOMEMGUARD_A_EVENT]) == GOMEMGUARD_EVENT_OOM)
			parse_oom(r, pid, &ev);
	}
	ASSERT_NE(0, death_ns);
	EXPECT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
	ASSERT_LE(1, ev.n);
	EXPECT_EQ(GOMEMGUARD_CONSTRAINT_GLOBAL, ev.constraint);
	EXPECT_EQ((uint32_t)pid, ev.victim);
	EXPECT_EQ(1, ev.tagged);
	EXPECT_STREQ("/", ev.memcg);
	EXPECT_STREQ("goleak", ev.comm);
	EXPECT_LT(32 * MIB, ev.anon) TH_LOG("victim anon %llu MiB at the kill",
					    (unsigned long long)(ev.anon / MIB));
	/* The victim and the crowd, as many as a snapshot holds. */
	EXPECT_EQ(GOMEMGUARD_OOM_SNAPSHOT_MAX, ev.snap_n);
	EXPECT_EQ(0, klog_trouble(_metadata, since));
	/* The module still answers, and the crowd is still watched. */
	EXPECT_EQ(GLOBAL_OOM_CROWD, wait_tagged(self, GLOBAL_OOM_CROWD, 5000));
	free(r);
}

/* Each bad request: its errno, and words that say what is wrong. */
TEST_F(trk, bad_requests_are_refused_with_reasons)
{
	static const uint32_t unordered[] = { 90, 80 }, too_high[] = { 80, 1001 };
	struct tag_opts ok = { .soft = 64 * MIB };
	struct tag_opts zero = { .soft = 0 };
	struct tag_opts sig99 = { .soft = 64 * MIB, .signal = 99 };
	struct tag_opts lv1 = { .soft = 64 * MIB, .levels = unordered, .nr_levels = 2 };
	struct tag_opts lv2 = { .soft = 64 * MIB, .levels = too_high, .nr_levels = 2 };
	struct gr_reply r;
	struct gr_msg m;
	uint64_t z = 0;

	self->pid = spawn_sleeper(NULL);
	ASSERT_LT(0, self->pid);

	/* PID 0 is no process: out of the policy's range, which names it. */
	gr_start(&m, self->family, GOMEMGUARD_CMD_TAG_NEW, GOMEMGUARD_GENL_VERSION);
	gr_put_u32(&m, GOMEMGUARD_A_PID, 0);
	gmg_put_tag_opts(&m, &ok);
	ASSERT_EQ(0, gr_transact(&self->ctl, &m, &r));
	EXPECT_EQ(-ERANGE, r.err);
	EXPECT_NE(NULL, strstr(r.extack, "out of range")) TH_LOG("%s", r.extack);
	EXPECT_TRUE(r.has_offs);

	EXPECT_EQ(-ESRCH, tag_cmd(self, GOMEMGUARD_CMD_TAG_NEW, 4000000, NULL, &ok, &r));
	EXPECT_NE(NULL, strstr(r.extack, "no process")) TH_LOG("%s", r.extack);

	EXPECT_EQ(-ENOENT, tag_cmd(self, GOMEMGUARD_CMD_TAG_NEW, 0, "/no/such/cgroup", &ok, &r));
	EXPECT_NE(NULL, strstr(r.extack, "not a cgroup")) TH_LOG("%s", r.extack);
	EXPECT_GT(0, tag_cmd(self, GOMEMGUARD_CMD_TAG_NEW, 0, "/cgroup.procs", &ok, &r));
	EXPECT_NE(NULL, strstr(r.extack, "not a cgroup")) TH_LOG("%s", r.extack);

	gr_start(&m, self->family, GOMEMGUARD_CMD_TAG_NEW, GOMEMGUARD_GENL_VERSION);
	gr_put_u32(&m, GOMEMGUARD_A_PID, self->pid);
	gr_put(&m, GOMEMGUARD_A_SOFT_LIMIT, &z, sizeof(z));
	ASSERT_EQ(0, gr_transact(&self->ctl, &m, &r));
	EXPECT_EQ(-ERANGE, r.err);
	EXPECT_NE(NULL, strstr(r.extack, "out of range")) TH_LOG("%s", r.extack);
	EXPECT_TRUE(r.has_offs);
	(void)zero;

	EXPECT_EQ(-ERANGE, tag_cmd(self, GOMEMGUARD_CMD_TAG_NEW, self->pid, NULL, &sig99, &r));
	EXPECT_NE(NULL, strstr(r.extack, "out of range")) TH_LOG("%s", r.extack);
	EXPECT_TRUE(r.has_offs);
	EXPECT_EQ(-EINVAL, tag_cmd(self, GOMEMGUARD_CMD_TAG_NEW, self->pid, NULL, &lv1, &r));
	EXPECT_NE(NULL, strstr(r.extack, "ascending")) TH_LOG("%s", r.extack);
	EXPECT_EQ(-ERANGE, tag_cmd(self, GOMEMGUARD_CMD_TAG_NEW, self->pid, NULL, &lv2, &r));
	EXPECT_NE(NULL, strstr(r.extack, "1..1000")) TH_LOG("%s", r.extack);

	/* No soft limit at all. */
	EXPECT_EQ(-EINVAL, tag_cmd(self, GOMEMGUARD_CMD_TAG_NEW, self->pid, NULL, NULL, &r));
	/* Both a PID and a cgroup. */
	EXPECT_EQ(-EINVAL, tag_cmd(self, GOMEMGUARD_CMD_TAG_NEW, self->pid, "/", &ok, &r));
	EXPECT_NE(NULL, strstr(r.extack, "exactly one")) TH_LOG("%s", r.extack);

	/* None of that tagged anything; a good request does, once. */
	EXPECT_EQ(-ENOENT, proc_get(self, self->pid, &r));
	EXPECT_EQ(0, tag_cmd(self, GOMEMGUARD_CMD_TAG_NEW, self->pid, NULL, &ok, &r));
	EXPECT_EQ(-EEXIST, tag_cmd(self, GOMEMGUARD_CMD_TAG_NEW, self->pid, NULL, &ok, &r));
	EXPECT_NE(NULL, strstr(r.extack, "already tagged")) TH_LOG("%s", r.extack);
	EXPECT_EQ(-EINVAL, tag_cmd(self, GOMEMGUARD_CMD_TAG_SET, self->pid, NULL, NULL, &r));
	EXPECT_NE(NULL, strstr(r.extack, "nothing to set")) TH_LOG("%s", r.extack);
}

TEST_HARNESS_MAIN
