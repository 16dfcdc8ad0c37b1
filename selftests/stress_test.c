// SPDX-License-Identifier: GPL-2.0
/*
 * Lifetimes under churn: for GMG_STRESS_SECONDS (default 60), at once,
 * short-lived processes pour through a cgroup tagged with inherit (its tag
 * dropped and made again now and then), processes are tagged and untagged
 * while they exit, listeners subscribe and leave, and rmmod is tried every
 * few seconds (the module refuses or goes; when it goes it is loaded again
 * at once).  Afterwards nothing may be left: no tags, no listeners, the
 * module's reference count at zero, and the kmalloc caches its objects come
 * from back where they were.
 *
 * GMG_STRESS_MIN_RATE: processes a second the churn must have let through,
 * checked only where guest time is counted in instructions (check.sh's
 * stress guest, -icount): in real time under TCG the rate is the host's.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#include <uapi/linux/gomemguard.h>

#include "cgroup_util.h"
#include "genl_raw.h"
#include "gmg_util.h"
#include "gmg_harness.h"

#define TAGGERS		2
#define FORKERS		2
#define MONITORS	1

struct stats {
	volatile int stop;
	unsigned long forks, vforks, tag_ops, tag_errs, cg_tags, subscribes;
	unsigned long events;
	unsigned long unloads, refused, reload_fail, unload_err;
};

static struct stats *st;
static char cg_rel[256];	/* the cgroup, as the module names it */

static int family(struct gr_sock *s)
{
	return gr_family(s, GOMEMGUARD_GENL_NAME);
}

/* One command; on an error the family may be gone (unloaded): look again. */
static int cmd(struct gr_sock *s, int *fam, struct gr_msg *m)
{
	struct gr_reply r;
	int err = gr_transact(s, m, &r) ?: r.err;

	if (err == -ENOENT || err == -EOPNOTSUPP)
		*fam = family(s);
	return err;
}

static void put_limit(struct gr_msg *m)
{
	uint64_t limit = 1ULL << 30;

	gr_put(m, GOMEMGUARD_A_SOFT_LIMIT, &limit, sizeof(limit));
}

/*
 * TAG_NEW (with inherit) or TAG_DEL of the stress cgroup.  A tag made
 * with @warn has a soft limit of one page: every process it adopts warns
 * at its first assessment, and so sends an EXIT event when it exits.
 * Without, they never warn, and their exits are only counted (quiet
 * exits).  The cgroup tagger alternates: both paths run under the churn,
 * and events keep coming.
 */
static void cgroup_msg(struct gr_msg *m, int fam, uint8_t cmd, bool warn)
{
	static const uint32_t level[] = { 100 };
	uint64_t page = 4096;

	gr_start(m, fam, cmd, GOMEMGUARD_GENL_VERSION);
	gr_put(m, GOMEMGUARD_A_CGROUP, cg_rel, strlen(cg_rel) + 1);
	if (cmd == GOMEMGUARD_CMD_TAG_NEW) {
		if (warn) {
			gr_put(m, GOMEMGUARD_A_SOFT_LIMIT, &page, sizeof(page));
			gr_put(m, GOMEMGUARD_A_LEVELS, level, sizeof(level));
		} else {
			put_limit(m);
		}
		gr_put(m, GOMEMGUARD_A_INHERIT, "\1", 1);
	}
}

/*
 * Children reap themselves: no wait between forks.  Fifteen in sixteen are
 * vfork()s, the way Go's os/exec and posix_spawn() start processes: a
 * child that shares its parent's mm until it exits, which the module leaves
 * alone.  The sixteenth is a fork() with an mm of its own that lives 20 ms:
 * long enough to be adopted (in batches, 10 ms after a fork), so it exits
 * while watched.
 */
static pid_t short_lived_child(bool own_mm)
{
	/* The vfork() child must not return from here: it exits at once. */
	pid_t pid = own_mm ? fork() : vfork();

	if (pid == 0) {
		if (own_mm)
			usleep(20000);
		_exit(0);
	}
	return pid;
}

/*
 * Each forker keeps to one CPU, and its children with it: a vfork() child
 * placed on the other CPU costs two cross-CPU wakeups per process, which
 * TCG emulates slowly (the same guest made 560-1,450 processes a second
 * unpinned, 1,000-1,550 pinned).
 */
static void forker(int cpu)
{
	unsigned long i;
	cpu_set_t cpus;
	pid_t pid;

	CPU_ZERO(&cpus);
	CPU_SET(cpu, &cpus);
	sched_setaffinity(0, sizeof(cpus), &cpus);
	signal(SIGCHLD, SIG_IGN);
	for (i = 0; !st->stop; i++) {
		pid = short_lived_child(i % 16 == 15);
		if (pid <= 0)
			continue;
		__atomic_add_fetch(&st->forks, 1, __ATOMIC_RELAXED);
		if (i % 16 != 15)
			__atomic_add_fetch(&st->vforks, 1, __ATOMIC_RELAXED);
	}
}

/* Tag a fresh process, change it, and untag it as it exits, or after. */
static void tagger(unsigned int seed)
{
	uint32_t levels[] = { 50, 70, 90 };
	struct gr_sock s;
	struct gr_msg m;
	int fam, err;
	pid_t pid;

	if (gr_open(&s))
		return;
	fam = family(&s);
	while (!st->stop) {
		if (fam <= 0) {
			usleep(20000);
			fam = family(&s);
			continue;
		}
		pid = fork();
		if (pid == 0) {
			prctl(PR_SET_PDEATHSIG, SIGKILL);
			for (;;)
				pause();
		}
		if (pid < 0)
			continue;
		gr_start(&m, fam, GOMEMGUARD_CMD_TAG_NEW, GOMEMGUARD_GENL_VERSION);
		gr_put_u32(&m, GOMEMGUARD_A_PID, pid);
		put_limit(&m);
		err = cmd(&s, &fam, &m);
		gr_start(&m, fam, GOMEMGUARD_CMD_TAG_SET, GOMEMGUARD_GENL_VERSION);
		gr_put_u32(&m, GOMEMGUARD_A_PID, pid);
		gr_put(&m, GOMEMGUARD_A_LEVELS, levels, sizeof(levels));
		err = err ?: cmd(&s, &fam, &m);
		if (rand_r(&seed) & 1)
			kill(pid, SIGKILL);	/* exits while being untagged */
		gr_start(&m, fam, GOMEMGUARD_CMD_TAG_DEL, GOMEMGUARD_GENL_VERSION);
		gr_put_u32(&m, GOMEMGUARD_A_PID, pid);
		/* -ENOENT: it exited first, and the exit untagged it. */
		err = err ?: cmd(&s, &fam, &m);
		kill(pid, SIGKILL);
		waitpid(pid, NULL, 0);
		__atomic_add_fetch(err && err != -ENOENT ? &st->tag_errs : &st->tag_ops,
				   1, __ATOMIC_RELAXED);
		/* Tens of cycles a second: CPU left for the forkers. */
		usleep(20000);
	}
	gr_close(&s);
}

/* Keep the cgroup tagged, dropping and remaking the tag every second. */
static void cg_tagger(void)
{
	struct gr_sock s;
	struct gr_msg m;
	int fam, i;

	if (gr_open(&s))
		return;
	fam = family(&s);
	for (i = 0; !st->stop; i++) {
		if (fam <= 0) {
			fam = family(&s);
		} else if (i % 5 == 4) {
			cgroup_msg(&m, fam, GOMEMGUARD_CMD_TAG_DEL, false);
			cmd(&s, &fam, &m);
		} else {
			cgroup_msg(&m, fam, GOMEMGUARD_CMD_TAG_NEW,
				   st->cg_tags & 1);
			if (!cmd(&s, &fam, &m))
				__atomic_add_fetch(&st->cg_tags, 1, __ATOMIC_RELAXED);
		}
		usleep(200000);
	}
	gr_close(&s);
}

static void monitor(void)
{
	struct gr_reply r;
	struct gr_sock s;
	int fam;

	while (!st->stop) {
		if (gr_open(&s))
			continue;
		fam = family(&s);
		if (fam > 0 && !gr_subscribe(&s, fam, &r)) {
			__atomic_add_fetch(&st->subscribes, 1, __ATOMIC_RELAXED);
			while (!gr_recv_event(&s, 20, &r))
				__atomic_add_fetch(&st->events, 1, __ATOMIC_RELAXED);
		}
		gr_close(&s);
	}
}

/*
 * Load the module again after a successful rmmod.  The other workers may
 * beat us to it: resolving the family autoloads the module, and then our
 * load finds it there (-EEXIST), which is what we wanted.  One still on its
 * way out (slowly, on a debug kernel) makes us wait.
 */
static int load(void)
{
	unsigned int tries;
	int err = 0;

	/* Up to 30 s, scaled. */
	for (tries = 0; tries < 300 * gmg_time_scale(); tries++) {
		err = gmg_module_load();
		if (err == -EEXIST)
			return 0;
		if (err != -EBUSY && err != -EAGAIN)
			return err;
		usleep(100000);
	}
	return err;
}

static void unloader(void)
{
	int i, err;

	while (!st->stop) {
		for (i = 0; i < 25 && !st->stop; i++)
			usleep(100000);
		if (st->stop)
			break;
		if (!syscall(SYS_delete_module, "gomemguard", O_NONBLOCK)) {
			st->unloads++;
			usleep(100000);
			err = load();
			if (err) {
				fprintf(stderr, "# reload after rmmod: %s\n", strerror(-err));
				st->reload_fail++;
			}
		} else if (errno == EBUSY || errno == EAGAIN) {
			st->refused++;
		} else {
			st->unload_err++;
		}
	}
}

static pid_t start(void (*fn)(void))
{
	pid_t pid = fork();

	if (pid == 0) {
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		fn();
		_exit(0);
	}
	return pid;
}

static unsigned int tagger_seed;

static void tagger_main(void)
{
	tagger(tagger_seed);
}

/* Active objects of a slab cache, from /proc/slabinfo; -1: not there. */
static long slab_active(const char *cache)
{
	char line[512], name[64];
	long active = -1, n;
	FILE *f = fopen("/proc/slabinfo", "r");

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f)) {
		if (sscanf(line, "%63s %ld", name, &n) == 2 && !strcmp(name, cache)) {
			active = n;
			break;
		}
	}
	fclose(f);
	return active;
}

static long read_long(const char *path)
{
	char buf[32] = "";
	int fd = open(path, O_RDONLY);
	ssize_t n = fd < 0 ? -1 : read(fd, buf, sizeof(buf) - 1);

	if (fd >= 0)
		close(fd);
	return n > 0 ? atol(buf) : -1;
}

static void count_cb(const struct gr_reply *r, void *arg)
{
	(*(int *)arg)++;
}

/* Start the forkers in @cg; returns how many started. */
static int start_forkers(const char *cg, pid_t *workers)
{
	long cpus = sysconf(_SC_NPROCESSORS_ONLN);
	int i, n = 0;

	for (i = 0; i < FORKERS; i++) {
		pid_t pid = fork();

		if (pid < 0)
			break;
		if (pid == 0) {
			char self[16];

			prctl(PR_SET_PDEATHSIG, SIGKILL);
			snprintf(self, sizeof(self), "%d", getpid());
			if (cg_write(cg, "cgroup.procs", self))
				_exit(1);
			forker(i % (cpus > 0 ? cpus : 1));
			_exit(0);
		}
		workers[n++] = pid;
	}
	return n;
}

/* The forkers alone in @cg for @secs: processes a second. */
static double fork_storm(const char *cg, unsigned int secs)
{
	pid_t workers[FORKERS];
	uint64_t t0 = boottime_ns();
	int n = start_forkers(cg, workers);
	double rate;

	sleep_ms(secs * 1000);
	st->stop = 1;
	while (n)
		waitpid(workers[--n], NULL, 0);
	rate = st->forks / ((boottime_ns() - t0) / 1e9);
	st->forks = 0;
	st->vforks = 0;
	st->stop = 0;
	return rate;
}

FIXTURE(stress) {
};

FIXTURE_SETUP(stress)
{
}

FIXTURE_TEARDOWN(stress)
{
}

/* The run itself, teardown and settling: well within this. */
TEST_F_TIMEOUT(stress, churn_leaves_nothing_behind, 600)
{
	static const char *const caches[] = { "kmalloc-512", "kmalloc-1k" };
	long before[2], after[2], secs = 60, min_rate = 0;
	double rate[2];
	const char *env = getenv("GMG_STRESS_SECONDS");
	const char *min_env = getenv("GMG_STRESS_MIN_RATE");
	pid_t workers[TAGGERS + FORKERS + MONITORS + 2];
	int nw = 0, i, fam, n, status;
	char cg[256];
	struct gr_reply r;
	struct gr_sock s;
	struct gr_msg m;
	uint64_t t0, t1;

	if (env && atol(env) > 0)
		secs = atol(env);
	if (min_env)
		min_rate = atol(min_env);
	st = mmap(NULL, sizeof(*st), PROT_READ | PROT_WRITE,
		  MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, st);
	ASSERT_EQ(1, gmg_module_loaded());
	ASSERT_EQ(0, cg_create("gmg-stress", cg, sizeof(cg)));
	snprintf(cg_rel, sizeof(cg_rel), "%s", cg + strlen(CG_ROOT));
	ASSERT_EQ(0, gr_open(&s));

	/* Settle: earlier tests' frees go through RCU. */
	sleep_ms(2000);
	for (i = 0; i < 2; i++) {
		before[i] = slab_active(caches[i]);
		/* The leak check below is part of the test, not optional. */
		ASSERT_LE(0, before[i]) TH_LOG("no %s in /proc/slabinfo", caches[i]);
	}

	/*
	 * What this guest can do at all: the forkers alone for 3 s, with the
	 * cgroup untagged, then tagged with inherit (TCG is slow at fork; the
	 * ratio is the module's own cost per process).
	 */
	rate[0] = fork_storm(cg, 3);
	cgroup_msg(&m, family(&s), GOMEMGUARD_CMD_TAG_NEW, false);
	ASSERT_EQ(0, gr_transact(&s, &m, &r));
	ASSERT_EQ(0, r.err);
	rate[1] = fork_storm(cg, 3);
	TH_LOG("forkers alone: %.0f processes/s in the cgroup untagged, %.0f/s tagged with inherit (%.2f)",
	       rate[0], rate[1], rate[1] / rate[0]);
	cgroup_msg(&m, family(&s), GOMEMGUARD_CMD_TAG_DEL, false);
	ASSERT_EQ(0, gr_transact(&s, &m, &r));
	ASSERT_EQ(0, r.err);

	t0 = boottime_ns();
	nw = start_forkers(cg, workers);
	ASSERT_EQ(FORKERS, nw);
	for (i = 0; i < TAGGERS; i++) {
		tagger_seed = 1234 + i;
		workers[nw++] = start(tagger_main);
	}
	for (i = 0; i < MONITORS; i++)
		workers[nw++] = start(monitor);
	workers[nw++] = start(cg_tagger);
	workers[nw++] = start(unloader);

	sleep_ms(secs * 1000);
	st->stop = 1;
	for (i = 0; i < nw; i++) {
		ASSERT_EQ(workers[i], waitpid(workers[i], &status, 0));
		EXPECT_TRUE(WIFEXITED(status) && !WEXITSTATUS(status))
			TH_LOG("worker %d ended with status 0x%x", i, status);
	}
	t1 = boottime_ns();

	TH_LOG("%.0f s: %lu processes (%lu by vfork) in the tagged cgroup (%.0f/s), %lu tag/set/untag cycles (%.0f/s, %lu failed), %lu cgroup tags made, %lu subscriptions, %lu events received, rmmod: %lu unloaded, %lu refused",
	       (t1 - t0) / 1e9, st->forks, st->vforks,
	       st->forks / ((t1 - t0) / 1e9), st->tag_ops, st->tag_ops / ((t1 - t0) / 1e9), st->tag_errs,
	       st->cg_tags, st->subscribes, st->events, st->unloads, st->refused);
	EXPECT_EQ(0, st->reload_fail);
	EXPECT_EQ(0, st->unload_err);
	EXPECT_EQ(0, st->tag_errs);
	EXPECT_LT(0, st->forks);
	EXPECT_LE(min_rate, st->forks / ((t1 - t0) / 1e9))
		TH_LOG("GMG_STRESS_MIN_RATE=%ld processes/s not reached", min_rate);
	EXPECT_LT(0, st->tag_ops);
	EXPECT_LT(0, st->subscribes);
	/* What the churn was for happened: cgroup tags, events, unloads. */
	EXPECT_LT(0, st->cg_tags);
	EXPECT_LT(0, st->events);
	EXPECT_LT(0, st->unloads) TH_LOG("rmmod never went through (%lu refused)",
					 st->refused);

	/* Whatever happened, the module is there and answers. */
	if (!gmg_module_loaded())
		ASSERT_EQ(0, load());
	fam = family(&s);
	ASSERT_LT(0, fam);
	cgroup_msg(&m, fam, GOMEMGUARD_CMD_TAG_DEL, false);
	gr_transact(&s, &m, &r);

	/* Up to 10 s (scaled) for exits and closed sockets to be processed. */
	for (i = 0; i < gmg_ms(10000) / 100; i++) {
		gr_start(&m, fam, GOMEMGUARD_CMD_INFO_GET, GOMEMGUARD_GENL_VERSION);
		ASSERT_EQ(0, gr_transact(&s, &m, &r));
		ASSERT_EQ(0, r.err);
		if (!gr_get_u32(r.attrs[GOMEMGUARD_A_TAGGED]) &&
		    !gr_get_u32(r.attrs[GOMEMGUARD_A_LISTENERS]))
			break;
		sleep_ms(100);
	}
	EXPECT_EQ(0, gr_get_u32(r.attrs[GOMEMGUARD_A_TAGGED]));
	EXPECT_EQ(0, gr_get_u32(r.attrs[GOMEMGUARD_A_LISTENERS]));
	n = 0;
	gr_start(&m, fam, GOMEMGUARD_CMD_PROC_GET, GOMEMGUARD_GENL_VERSION);
	EXPECT_EQ(0, gr_dump(&s, &m, count_cb, &n));
	gr_start(&m, fam, GOMEMGUARD_CMD_TAG_GET, GOMEMGUARD_GENL_VERSION);
	EXPECT_EQ(0, gr_dump(&s, &m, count_cb, &n));
	EXPECT_EQ(0, n) TH_LOG("%d processes or tags still listed", n);
	EXPECT_EQ(0, read_long("/sys/module/gomemguard/refcnt"));

	gr_close(&s);
	EXPECT_EQ(0, cg_destroy(cg));
	sleep_ms(2000);
	for (i = 0; i < 2; i++) {
		after[i] = slab_active(caches[i]);
		TH_LOG("%s: %ld active objects before, %ld after", caches[i],
		       before[i], after[i]);
		ASSERT_LE(0, after[i]);
		EXPECT_GE(before[i] + 512, after[i]);
	}
}

TEST_HARNESS_MAIN
