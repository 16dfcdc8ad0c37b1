// SPDX-License-Identifier: GPL-2.0
/*
 * Removed cgroups must not stay pinned while gomemguard watches them.  A
 * parent cgroup is tagged with inherit; 1,000 times, ten at a time, a child
 * cgroup is made, a process moves into it, is watched (PROC_GET finds it,
 * charged to that child's memcg), allocates anonymous memory and tmpfs page
 * cache, exits (the module counts it among its quiet exits: an adopted
 * process that never warned sends no EXIT event) and the child is
 * removed.  Ten at a
 * time, the module adopts and samples them together: one at a time, most
 * of the test was spent waiting for each adoption.  Then the parent's
 * nr_dying_descendants must fall back to where it started within a few
 * seconds, the parent still tagged: a module that keeps a reference to a
 * removed cgroup's css keeps it dying until the module is unloaded.  Last,
 * the parent is untagged and removed, and must not stay dying either: a
 * module that keeps the cgroup of a tag it dropped would.
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
#include <sys/wait.h>

#include <uapi/linux/gomemguard.h>

#include "cgroup_util.h"
#include "genl_raw.h"
#include "gmg_util.h"
#include "gmg_harness.h"

#define CYCLES		1000
#define BATCH		10	/* children alive at once */
_Static_assert(CYCLES % BATCH == 0, "whole batches");
#define ANON_BYTES	(4 << 20)
#define FILE_BYTES	(256 << 10)

/* One child cgroup and its process. */
struct cycle {
	char cg[300];
	uint64_t ino;		/* its memcg's ID */
	pid_t pid;
	int go;			/* the write end of the process's pipe */
};

FIXTURE(dying) {
	struct gr_sock ctl, mon;
	int family;
	char cg[256];
	char rel[256];	/* the parent cgroup, as the module names it */
	int tagged;
	struct gr_reply r;
};

static int tag_cmd(FIXTURE_DATA(dying) *self, uint8_t cmd)
{
	uint64_t limit = 1ULL << 30;
	struct gr_msg m;
	int err;

	gr_start(&m, self->family, cmd, GOMEMGUARD_GENL_VERSION);
	gr_put(&m, GOMEMGUARD_A_CGROUP, self->rel, strlen(self->rel) + 1);
	if (cmd == GOMEMGUARD_CMD_TAG_NEW) {
		gr_put(&m, GOMEMGUARD_A_SOFT_LIMIT, &limit, sizeof(limit));
		gr_put(&m, GOMEMGUARD_A_INHERIT, "\1", 1);
	}
	err = gr_transact(&self->ctl, &m, &self->r);
	return err ?: self->r.err;
}

FIXTURE_SETUP(dying)
{
	self->tagged = 0;
	self->cg[0] = '\0';
	ASSERT_EQ(0, gr_open(&self->ctl));
	/* Resolving the family loads the module, if it is not loaded yet. */
	self->family = gr_family(&self->ctl, GOMEMGUARD_GENL_NAME);
	ASSERT_LT(0, self->family);
	ASSERT_EQ(0, gr_open(&self->mon));
	ASSERT_EQ(0, gr_subscribe(&self->mon, self->family, &self->r))
		TH_LOG("%s", self->r.extack);
	ASSERT_EQ(0, cg_create("dying", self->cg, sizeof(self->cg)));
	/* Children get memcgs of their own. */
	ASSERT_EQ(0, cg_write(self->cg, "cgroup.subtree_control", "+memory"));
	snprintf(self->rel, sizeof(self->rel), "%s", self->cg + strlen(CG_ROOT));
	ASSERT_EQ(0, tag_cmd(self, GOMEMGUARD_CMD_TAG_NEW))
		TH_LOG("tag %s: %s", self->rel, self->r.extack);
	self->tagged = 1;
}

static int remove_cg(const char *cg);

FIXTURE_TEARDOWN(dying)
{
	char cg[300];
	int i;

	if (self->tagged) {
		tag_cmd(self, GOMEMGUARD_CMD_TAG_DEL);
		TH_LOG("nr_dying_descendants %lld after untag",
		       cg_read_key(self->cg, "cgroup.stat", "nr_dying_descendants"));
	}
	if (self->cg[0]) {
		/* What a failed cycle left behind: its process, then its cgroup. */
		cg_write(self->cg, "cgroup.kill", "1");
		for (i = 0; i < CYCLES; i++) {
			snprintf(cg, sizeof(cg), "%s/c%d", self->cg, i);
			if (!access(cg, F_OK))
				remove_cg(cg);
		}
		cg_destroy(self->cg);
	}
	gr_close(&self->mon);
	gr_close(&self->ctl);
}

/*
 * The process: into @cg, wait for the word that it is watched, then
 * anonymous memory touched and a tmpfs file written, read back and removed
 * (page cache charged to @cg, gone with the file), and exit.  It says
 * nothing, and does not hold the test's stdout: stuck in the kernel, it
 * could not be killed, and would keep the runner reading for ever.
 */
static void child(const char *cg, int go)
{
	char path[64], buf[4096], c;
	size_t i;
	char *p;
	int fd;

	fd = open("/dev/null", O_RDWR | O_CLOEXEC);
	if (fd < 0 || dup2(fd, STDOUT_FILENO) < 0 || dup2(fd, STDERR_FILENO) < 0)
		_exit(7);
	close(fd);
	if (cg_write(cg, "cgroup.procs", "0") || read(go, &c, 1) != 1)
		_exit(2);
	p = mmap(NULL, ANON_BYTES, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED)
		_exit(3);
	memset(p, 0x5a, ANON_BYTES);
	snprintf(path, sizeof(path), "/tmp/gmg-dying.%d", getpid());
	fd = open(path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0)
		_exit(4);
	memset(buf, 0xa5, sizeof(buf));
	for (i = 0; i < FILE_BYTES; i += sizeof(buf))
		if (write(fd, buf, sizeof(buf)) != sizeof(buf))
			_exit(5);
	for (i = 0; i < FILE_BYTES; i += sizeof(buf))
		if (pread(fd, buf, sizeof(buf), i) != sizeof(buf) || buf[0] != (char)0xa5)
			_exit(6);
	close(fd);
	unlink(path);
	_exit(0);
}

/*
 * Whether the module watches @pid as a member of the tag, charged to the
 * memcg @memcg_id: polled, up to 2 s (scaled); adoption comes in batches,
 * about 10 ms after a move.
 */
static int watched_in(FIXTURE_DATA(dying) *self, pid_t pid, uint64_t memcg_id)
{
	uint64_t end = boottime_ns() + gmg_ms(2000) * 1000000ull;
	struct gr_reply *r = &self->r;
	struct gr_msg m;

	do {
		gr_start(&m, self->family, GOMEMGUARD_CMD_PROC_GET, GOMEMGUARD_GENL_VERSION);
		gr_put_u32(&m, GOMEMGUARD_A_PID, pid);
		if (!gr_transact(&self->ctl, &m, r) && !r->err &&
		    r->attrs[GOMEMGUARD_A_MEMCG_ID] && r->attrs[GOMEMGUARD_A_SOURCE] &&
		    gr_get_u32(r->attrs[GOMEMGUARD_A_SOURCE]) == GOMEMGUARD_SOURCE_CGROUP &&
		    gr_get_u64(r->attrs[GOMEMGUARD_A_MEMCG_ID]) == memcg_id)
			return 1;
		usleep(1000);
	} while (boottime_ns() < end);
	return 0;
}

/* INFO_GET's EXITS_QUIET; UINT64_MAX when it cannot be read. */
static uint64_t quiet_exits(FIXTURE_DATA(dying) *self)
{
	struct gr_reply *r = &self->r;
	struct gr_msg m;

	gr_start(&m, self->family, GOMEMGUARD_CMD_INFO_GET, GOMEMGUARD_GENL_VERSION);
	if (gr_transact(&self->ctl, &m, r) || r->err ||
	    !r->attrs[GOMEMGUARD_A_EXITS_QUIET])
		return UINT64_MAX;
	return gr_get_u64(r->attrs[GOMEMGUARD_A_EXITS_QUIET]);
}

/* Adds the EXIT events queued on the monitor socket about @c's processes. */
static void take_exits(FIXTURE_DATA(dying) *self, struct cycle *c, int n,
		       int timeout_ms, int *loud)
{
	struct gr_reply *r = &self->r;
	uint32_t pid;
	int i;

	while (!gr_recv_event(&self->mon, timeout_ms, r)) {
		if (!r->attrs[GOMEMGUARD_A_EVENT] || !r->attrs[GOMEMGUARD_A_PID] ||
		    gr_get_u32(r->attrs[GOMEMGUARD_A_EVENT]) != GOMEMGUARD_EVENT_EXIT)
			continue;
		pid = gr_get_u32(r->attrs[GOMEMGUARD_A_PID]);
		for (i = 0; i < n; i++)
			*loud += (uint32_t)c[i].pid == pid;
	}
}

/*
 * The @n processes of @c have exited: how many exits the module counted
 * since @before (in EXITS_QUIET), waiting up to 2 s (scaled) for @n.  They
 * were adopted by a cgroup tag and never warned, so none may send an EXIT
 * event: those that come are added to *@loud.
 */
static int counted_exits(FIXTURE_DATA(dying) *self, uint64_t before,
			 struct cycle *c, int n, int *loud)
{
	uint64_t end = boottime_ns() + gmg_ms(2000) * 1000000ull, q;

	do {
		take_exits(self, c, n, 20, loud);
		q = quiet_exits(self);
		if (q != UINT64_MAX && q >= before + n)
			break;
	} while (boottime_ns() < end);
	/* An EXIT sent beside the count would be queued by now. */
	take_exits(self, c, n, 0, loud);
	return q == UINT64_MAX ? 0 : (int)(q - before);
}

/* A removed cgroup may linger as "populated" a moment after its last exit. */
static int remove_cg(const char *cg)
{
	int i;

	for (i = 0; i < gmg_ms(1000) / 5; i++) {
		if (!rmdir(cg))
			return 0;
		if (errno != EBUSY)
			return -errno;
		sleep_ms(5);
	}
	return -EBUSY;
}

TEST_F_TIMEOUT(dying, churn_leaves_no_dying_cgroups, 180)
{
	int b, i, k, watched = 0, exited = 0, loud = 0, failed = 0, status, go[2];
	long long start, after, now = -1, root_start, root_now = -1;
	uint64_t t0, t1, end, t, t_watch = 0, t_run = 0, t_exit = 0, t_rm = 0, quiet;
	static struct cycle batch[BATCH];
	struct cycle *c;
	struct stat st;

	start = cg_read_key(self->cg, "cgroup.stat", "nr_dying_descendants");
	ASSERT_LE(0, start);
	root_start = cg_read_key(CG_ROOT, "cgroup.stat", "nr_dying_descendants");
	ASSERT_LE(0, root_start);
	t0 = boottime_ns();
	for (b = 0; b < CYCLES; b += BATCH) {
		for (i = 0; i < BATCH; i++) {
			c = &batch[i];
			snprintf(c->cg, sizeof(c->cg), "%s/c%d", self->cg, b + i);
			ASSERT_EQ(0, mkdir(c->cg, 0755))
				TH_LOG("mkdir %s: %s", c->cg, strerror(errno));
			ASSERT_EQ(0, stat(c->cg, &st));
			c->ino = st.st_ino;
			ASSERT_EQ(0, pipe2(go, O_CLOEXEC));
			c->pid = fork();
			ASSERT_LE(0, c->pid);
			if (!c->pid) {
				/* Its own pipe's end only: if we die, it hears. */
				for (k = 0; k < i; k++)
					close(batch[k].go);
				close(go[1]);
				child(c->cg, go[0]);
			}
			close(go[0]);
			c->go = go[1];
		}
		t = boottime_ns();
		for (i = 0; i < BATCH; i++)
			watched += watched_in(self, batch[i].pid, batch[i].ino);
		t_watch += boottime_ns() - t;
		quiet = quiet_exits(self);
		ASSERT_NE(UINT64_MAX, quiet) TH_LOG("no EXITS_QUIET in INFO_GET");
		t = boottime_ns();
		for (i = 0; i < BATCH; i++) {
			if (write(batch[i].go, "g", 1) != 1)
				kill(batch[i].pid, SIGKILL);
			close(batch[i].go);
		}
		for (i = 0; i < BATCH; i++) {
			ASSERT_EQ(batch[i].pid, waitpid(batch[i].pid, &status, 0));
			failed += !WIFEXITED(status) || WEXITSTATUS(status);
		}
		t_run += boottime_ns() - t;
		t = boottime_ns();
		exited += counted_exits(self, quiet, batch, BATCH, &loud);
		t_exit += boottime_ns() - t;
		t = boottime_ns();
		for (i = 0; i < BATCH; i++)
			ASSERT_EQ(0, remove_cg(batch[i].cg)) TH_LOG("rmdir %s", batch[i].cg);
		t_rm += boottime_ns() - t;
	}
	t1 = boottime_ns();
	after = cg_read_key(self->cg, "cgroup.stat", "nr_dying_descendants");

	/*
	 * Page cache charged to a removed memcg keeps it dying until it is
	 * reclaimed: the kernel's way, not a leak.  Drop it, so that only
	 * references keep a cgroup dying.  Then a few seconds, scaled: the
	 * kernel frees a dying cgroup after RCU.
	 */
	drop_caches();
	end = boottime_ns() + gmg_ms(5000) * 1000000ull;
	do {
		now = cg_read_key(self->cg, "cgroup.stat", "nr_dying_descendants");
		if (now <= start)
			break;
		sleep_ms(100);
	} while (boottime_ns() < end);

	TH_LOG("%d cycles, %d at a time, in %.1f s: %.1f s to be watched, %.1f s to run, %.1f s from exit to its count, %.1f s to rmdir, the rest making cgroups and processes",
	       CYCLES, BATCH, (t1 - t0) / 1e9, t_watch / 1e9, t_run / 1e9, t_exit / 1e9,
	       t_rm / 1e9);
	TH_LOG("watched in their memcg: %d, exits counted quiet: %d, EXIT events: %d, failed: %d",
	       watched, exited, loud, failed);
	TH_LOG("nr_dying_descendants: %lld before, %lld after the churn, %lld %.1f s later",
	       start, after, now, (boottime_ns() - t1) / 1e9);
	EXPECT_EQ(CYCLES, watched);
	/* Each watched process's exit counted once, and none sent. */
	EXPECT_EQ(CYCLES, exited);
	EXPECT_EQ(0, loud);
	EXPECT_EQ(0, failed);
	EXPECT_LE(now, start);

	/* The parent: untagged, removed, gone within a few seconds. */
	ASSERT_EQ(0, tag_cmd(self, GOMEMGUARD_CMD_TAG_DEL))
		TH_LOG("untag %s: %s", self->rel, self->r.extack);
	self->tagged = 0;
	ASSERT_EQ(0, remove_cg(self->cg)) TH_LOG("rmdir %s", self->cg);
	self->cg[0] = '\0';
	drop_caches();
	end = boottime_ns() + gmg_ms(5000) * 1000000ull;
	do {
		root_now = cg_read_key(CG_ROOT, "cgroup.stat", "nr_dying_descendants");
		if (root_now <= root_start)
			break;
		sleep_ms(100);
	} while (boottime_ns() < end);
	TH_LOG("the root's nr_dying_descendants: %lld before, %lld with the parent untagged and removed",
	       root_start, root_now);
	EXPECT_LE(root_now, root_start);
}

TEST_HARNESS_MAIN
