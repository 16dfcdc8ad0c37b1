// SPDX-License-Identifier: GPL-2.0
/*
 * Cgroup tags made and removed in a loop while thousands of processes fork,
 * exec and move between other cgroups: every one of those runs a hook that
 * walks the cgroup tags under RCU with preemption off.  A removal that
 * leaves a reader standing on a node that points at itself (list_del_rcu()
 * followed by INIT_LIST_HEAD()) keeps that CPU in the hook for ever: a soft
 * lockup and an RCU stall, which guest.sh finds in the kernel log.
 *
 * The race needs a reader on the very node being removed, which a normal
 * module allows for nanoseconds.  The module built with GMG_DEBUG=y
 * (build/k/<release>/debug/gomemguard.ko, GMG_DEBUG_KO) busy-waits
 * debug_reader_delay_us on each tag a hook looks at, which widens that to
 * most of the time; this test loads it with the delay, and the regular
 * module again at the end.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#include <uapi/linux/gomemguard.h>

#include "cgroup_util.h"
#include "genl_raw.h"
#include "gmg_harness.h"
#include "gmg_util.h"

#define FORKERS		2
#define RACE_SECONDS	20
/* Made at scale 1 in RACE_SECONDS, with a margin of 5 to 20 times. */
#define MIN_CYCLES	100
#define MIN_FORKS	1000
#define DELAY_US	"200"

struct counters {
	unsigned long forks[FORKERS];
	unsigned long cycles, failed;
};

static int load_debug_module(const char *params)
{
	const char *ko = gmg_env_path("GMG_DEBUG_KO");
	int fd, ret;

	if (!ko)
		return -ENOENT;
	fd = open(ko, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	ret = syscall(SYS_finit_module, fd, params, 0) ? -errno : 0;
	close(fd);
	return ret;
}

static int tag_cgroup(struct gr_sock *s, int family, uint8_t cmd, const char *path)
{
	uint64_t soft = 1ULL << 30;
	struct gr_reply r;
	struct gr_msg m;

	gr_start(&m, family, cmd, GOMEMGUARD_GENL_VERSION);
	gr_put(&m, GOMEMGUARD_A_CGROUP, path, strlen(path) + 1);
	if (cmd == GOMEMGUARD_CMD_TAG_NEW)
		gr_put(&m, GOMEMGUARD_A_SOFT_LIMIT, &soft, sizeof(soft));
	if (gr_transact(s, &m, &r))
		return -EIO;
	return r.err;
}

/*
 * Fork as fast as it goes, each child moved to the other of two cgroups,
 * one in 16 exec'ing /bin/true: fork, attach and exec hooks, all walking
 * the tags.
 */
static void forker(const char *a, const char *b, unsigned long *count)
{
	const char *const argv[] = { "/bin/true", NULL };
	const char *cg;
	pid_t pid;

	for (;;) {
		cg = (*count & 1) ? a : b;
		pid = fork();
		if (pid < 0)
			continue;
		if (pid == 0) {
			cg_write(cg, "cgroup.procs", "0");
			/* An exec now and then: each costs 0.1 s over 9p. */
			if (!(*count & 15))
				execv(argv[0], (char *const *)argv);
			_exit(0);
		}
		waitpid(pid, NULL, 0);
		__atomic_add_fetch(count, 1, __ATOMIC_RELAXED);
	}
}

TEST(cgroup_tags_come_and_go_under_busy_hooks)
{
	char top[256], tagged[300], a[300], b[300], rel[300];
	struct counters *c;
	pid_t kids[FORKERS];
	unsigned long before[FORKERS];
	struct gr_sock s;
	int family, i, err;
	unsigned int scale = gmg_time_scale();
	/*
	 * A kernel GMG_TIME_SCALE times slower (make check-debug's forks 28
	 * times slower) makes that many times fewer cycles and forks: the
	 * race runs three times longer there, and the counts asked for are
	 * the scale's share of those made at scale 1.
	 */
	unsigned int seconds = RACE_SECONDS * (scale < 3 ? scale : 3);
	unsigned long min_cycles = MIN_CYCLES * (seconds / RACE_SECONDS) / scale;
	unsigned long min_forks = MIN_FORKS * (seconds / RACE_SECONDS) / scale;
	uint64_t end;

	c = mmap(NULL, sizeof(*c), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, c);
	if (gmg_module_loaded())
		ASSERT_EQ(0, gmg_module_unload());
	err = load_debug_module("debug_reader_delay_us=" DELAY_US);
	ASSERT_EQ(0, err) TH_LOG("loading the debug module (GMG_DEBUG_KO, built by scripts/build-module.sh): %s",
				 strerror(-err));

	ASSERT_EQ(0, cg_create("gmg-race", top, sizeof(top)));
	snprintf(tagged, sizeof(tagged), "%s/tagged", top);
	snprintf(a, sizeof(a), "%s/a", top);
	snprintf(b, sizeof(b), "%s/b", top);
	ASSERT_EQ(0, mkdir(tagged, 0755) && errno != EEXIST);
	ASSERT_EQ(0, mkdir(a, 0755) && errno != EEXIST);
	ASSERT_EQ(0, mkdir(b, 0755) && errno != EEXIST);
	snprintf(rel, sizeof(rel), "%s", tagged + strlen(CG_ROOT));

	ASSERT_EQ(0, gr_open(&s));
	family = gr_family(&s, GOMEMGUARD_GENL_NAME);
	ASSERT_LT(0, family);
	/* A second tag that stays: the hooks stay registered throughout. */
	ASSERT_EQ(0, tag_cgroup(&s, family, GOMEMGUARD_CMD_TAG_NEW, top + strlen(CG_ROOT)));

	for (i = 0; i < FORKERS; i++) {
		kids[i] = fork();
		ASSERT_LE(0, kids[i]);
		if (kids[i] == 0)
			forker(a, b, &c->forks[i]);
	}
	end = boottime_ns() + seconds * 1000000000ULL;
	while (boottime_ns() < end) {
		if (tag_cgroup(&s, family, GOMEMGUARD_CMD_TAG_NEW, rel) ||
		    tag_cgroup(&s, family, GOMEMGUARD_CMD_TAG_DEL, rel))
			c->failed++;
		c->cycles++;
	}
	/* Every forker still gets somewhere: no CPU is stuck in a hook. */
	for (i = 0; i < FORKERS; i++)
		before[i] = __atomic_load_n(&c->forks[i], __ATOMIC_RELAXED);
	sleep_ms(gmg_ms(2000));
	for (i = 0; i < FORKERS; i++) {
		EXPECT_LT(before[i], __atomic_load_n(&c->forks[i], __ATOMIC_RELAXED))
			TH_LOG("forker %d made no progress in 2 s", i);
		kill(kids[i], SIGKILL);
		waitpid(kids[i], NULL, 0);
	}
	TH_LOG("%u s: %lu tag/untag cycles (%lu failed), %lu + %lu forks, exec'd and moved (at least %lu and %lu asked)",
	       seconds, c->cycles, c->failed, c->forks[0], c->forks[1], min_cycles, min_forks);
	EXPECT_LT(min_cycles, c->cycles);
	EXPECT_EQ(0, c->failed);
	EXPECT_LT(min_forks, c->forks[0] + c->forks[1]);

	EXPECT_EQ(0, tag_cgroup(&s, family, GOMEMGUARD_CMD_TAG_DEL, top + strlen(CG_ROOT)));
	gr_close(&s);
	cg_destroy(tagged);
	cg_destroy(a);
	cg_destroy(b);
	cg_destroy(top);
	/* Back to the regular module for the tests that follow. */
	EXPECT_EQ(0, gmg_module_unload());
	EXPECT_EQ(0, gmg_module_load());
}

/*
 * A process tagged by PID while it execs: TAG_NEW reads its mm, the exec
 * replaces it, and only then is the process watched -- the exec hook found
 * nothing to flag.  The watch must follow the new program all the same,
 * not the mm the exec threw away (whose counters never move again: a tag
 * that never warns, never fires its fuse).  The debug module sleeps in
 * that window, so that the exec lands in it every time.
 */
TEST(tag_during_exec_watches_the_new_program)
{
	const uint64_t want = 16ULL << 20;
	const char *ready = "/tmp/race-exec.ready";
	char bin[256], comm[32] = "";
	struct gr_sock s;
	struct gr_reply r;
	struct gr_msg m;
	uint64_t soft = 1ULL << 30, anon;
	int family, err, i;
	pid_t pid;

	if (gmg_module_loaded())
		ASSERT_EQ(0, gmg_module_unload());
	err = load_debug_module("debug_tag_delay_ms=600");
	ASSERT_EQ(0, err) TH_LOG("loading the debug module (GMG_DEBUG_KO, built by scripts/build-module.sh): %s",
				 strerror(-err));
	ASSERT_EQ(0, gr_open(&s));
	family = gr_family(&s, GOMEMGUARD_GENL_NAME);
	ASSERT_LT(0, family);
	workload("mtgrow", bin, sizeof(bin));
	unlink(ready);
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		const char *const argv[] = { bin, "-threads", "1", "-per-thread", "16M",
					     "-readyfile", ready, NULL };
		int fd = open("/dev/null", O_WRONLY);

		if (fd >= 0) {
			dup2(fd, 1);
			dup2(fd, 2);
		}
		/* Into TAG_NEW's window: its mm read, not yet watched. */
		sleep_ms(200);
		execv(argv[0], (char *const *)argv);
		_exit(127);
	}
	gr_start(&m, family, GOMEMGUARD_CMD_TAG_NEW, GOMEMGUARD_GENL_VERSION);
	gr_put_u32(&m, GOMEMGUARD_A_PID, pid);
	gr_put(&m, GOMEMGUARD_A_SOFT_LIMIT, &soft, sizeof(soft));
	ASSERT_EQ(0, gr_transact(&s, &m, &r));
	EXPECT_EQ(0, r.err) TH_LOG("tag: %s", r.extack);
	for (i = 0; i < gmg_ms(30000) / 50 && access(ready, R_OK); i++)
		sleep_ms(50);
	EXPECT_EQ(0, access(ready, R_OK)) TH_LOG("mtgrow did not get ready");
	/* Two periodic samples after its last fault. */
	sleep_ms(2500);
	gr_start(&m, family, GOMEMGUARD_CMD_PROC_GET, GOMEMGUARD_GENL_VERSION);
	gr_put_u32(&m, GOMEMGUARD_A_PID, pid);
	ASSERT_EQ(0, gr_transact(&s, &m, &r));
	ASSERT_EQ(0, r.err) TH_LOG("proc get: %s", r.extack);
	anon = gr_get_u64(r.attrs[GOMEMGUARD_A_ANON]);
	if (r.attrs[GOMEMGUARD_A_COMM])
		snprintf(comm, sizeof(comm), "%s", gr_get_str(r.attrs[GOMEMGUARD_A_COMM]));
	TH_LOG("watched as %s with anon %llu KiB; the program touched %llu KiB",
	       comm, (unsigned long long)anon >> 10, (unsigned long long)want >> 10);
	EXPECT_LE(want, anon);
	EXPECT_STREQ("mtgrow", comm);
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
	gr_close(&s);
	EXPECT_EQ(0, gmg_module_unload());
	EXPECT_EQ(0, gmg_module_load());
}

TEST_HARNESS_MAIN
