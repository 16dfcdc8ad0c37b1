// SPDX-License-Identifier: GPL-2.0
/*
 * Who may see what: callers in a child PID namespace, event listeners whose
 * sockets overflow, and the open_read module parameter.  The module is
 * loaded (module_test leaves it so).
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
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <linux/netlink.h>

#include <uapi/linux/gomemguard.h>

#include "cgroup_util.h"
#include "genl_raw.h"
#include "gmg_util.h"
#include "gmg_harness.h"

#define NOBODY		65534
#define GIB		(1ULL << 30)

static int family_of(struct gr_sock *s)
{
	return gr_family(s, GOMEMGUARD_GENL_NAME);
}

static int tag_pid(struct gr_sock *s, int family, pid_t pid, struct gr_reply *r)
{
	struct gr_msg m;
	uint64_t limit = GIB;

	gr_start(&m, family, GOMEMGUARD_CMD_TAG_NEW, GOMEMGUARD_GENL_VERSION);
	gr_put_u32(&m, GOMEMGUARD_A_PID, pid);
	gr_put(&m, GOMEMGUARD_A_SOFT_LIMIT, &limit, sizeof(limit));
	return gr_transact(s, &m, r) ?: r->err;
}

static int untag_pid(struct gr_sock *s, int family, pid_t pid)
{
	struct gr_reply r;
	struct gr_msg m;

	gr_start(&m, family, GOMEMGUARD_CMD_TAG_DEL, GOMEMGUARD_GENL_VERSION);
	gr_put_u32(&m, GOMEMGUARD_A_PID, pid);
	return gr_transact(s, &m, &r) ?: r.err;
}

static int info(struct gr_sock *s, int family, struct gr_reply *r)
{
	struct gr_msg m;

	gr_start(&m, family, GOMEMGUARD_CMD_INFO_GET, GOMEMGUARD_GENL_VERSION);
	return gr_transact(s, &m, r) ?: r->err;
}

static uint64_t info_u64(struct gr_sock *s, int family, int attr)
{
	struct gr_reply r;

	if (info(s, family, &r) || !r.attrs[attr])
		return UINT64_MAX;
	return attr == GOMEMGUARD_A_TAGGED || attr == GOMEMGUARD_A_LISTENERS ?
	       gr_get_u32(r.attrs[attr]) : gr_get_u64(r.attrs[attr]);
}

/* A child that waits to be killed; its PID is in the caller's namespace. */
static pid_t sleeper(void)
{
	pid_t pid = fork();

	if (pid == 0) {
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		for (;;)
			pause();
	}
	return pid;
}

static void reap(pid_t pid)
{
	if (pid > 0) {
		kill(pid, SIGKILL);
		waitpid(pid, NULL, 0);
	}
}

/* An EXIT event for a process named @comm within @ms (scaled), or -ETIMEDOUT. */
static int wait_exit_event(struct gr_sock *l, const char *comm, int ms,
			   struct gr_reply *r)
{
	uint64_t end = boottime_ns() + (uint64_t)gmg_ms(ms) * 1000000;
	int err;

	while (boottime_ns() < end) {
		err = gr_recv_event(l, 200, r);
		if (err == -ETIMEDOUT)
			continue;
		if (err)
			return err;
		if (r->attrs[GOMEMGUARD_A_EVENT] &&
		    gr_get_u32(r->attrs[GOMEMGUARD_A_EVENT]) == GOMEMGUARD_EVENT_EXIT &&
		    r->attrs[GOMEMGUARD_A_COMM] &&
		    !strcmp(gr_get_str(r->attrs[GOMEMGUARD_A_COMM]), comm))
			return 0;
	}
	return -ETIMEDOUT;
}

struct dump_count {
	int n;
	int with_pid;
	pid_t pid;
};

static void count_cb(const struct gr_reply *r, void *arg)
{
	struct dump_count *c = arg;

	c->n++;
	if (r->attrs[GOMEMGUARD_A_PID] &&
	    (pid_t)gr_get_u32(r->attrs[GOMEMGUARD_A_PID]) == c->pid)
		c->with_pid++;
}

/* The host PID of the caller, whatever namespace it is in. */
static pid_t host_pid(void)
{
	char buf[32];
	ssize_t n = readlink("/proc/self", buf, sizeof(buf) - 1);

	if (n <= 0)
		return -1;
	buf[n] = '\0';
	return atoi(buf);
}

/*
 * PID 1 of a new PID namespace, as root.  Each check that fails sets a bit
 * of the result, which comes back as the exit status.
 */
static int in_child_ns(pid_t host_only, int result_fd)
{
	struct dump_count c = { .pid = 2 };
	struct gr_reply r;
	struct gr_sock s, l;
	struct gr_msg m;
	int family, fails = 0, p[2];
	pid_t s_pid, s_host = -1;

	if (getpid() != 1)
		return 0x80;
	if (gr_open(&s) || gr_open(&l) || pipe(p))
		return 0x40;
	family = family_of(&s);
	if (family <= 0)
		return 0x40;
	if (gr_subscribe(&l, family, &r))
		fails |= 0x1;

	s_pid = fork();
	if (s_pid == 0) {
		prctl(PR_SET_NAME, "gmg-ns-sleeper");
		s_host = host_pid();
		if (write(p[1], &s_host, sizeof(s_host)) != sizeof(s_host))
			_exit(1);
		for (;;)
			pause();
	}
	if (s_pid != 2 || read(p[0], &s_host, sizeof(s_host)) != sizeof(s_host))
		return 0x40;

	/* A process of this namespace, by this namespace's PID. */
	if (tag_pid(&s, family, s_pid, &r))
		fails |= 0x2;

	/* The dump shows it as PID 2, and nothing from outside. */
	gr_start(&m, family, GOMEMGUARD_CMD_PROC_GET, GOMEMGUARD_GENL_VERSION);
	if (gr_dump(&s, &m, count_cb, &c) || c.n != 1 || c.with_pid != 1)
		fails |= 0x4;

	/* A process only the parent namespace can see does not exist here. */
	if (tag_pid(&s, family, host_only, &r) != -ESRCH ||
	    !strstr(r.extack, "PID namespace"))
		fails |= 0x8;

	/* Nor may a cgroup be named: it may hold processes we cannot see. */
	gr_start(&m, family, GOMEMGUARD_CMD_TAG_NEW, GOMEMGUARD_GENL_VERSION);
	gr_put(&m, GOMEMGUARD_A_CGROUP, "/", 2);
	{
		uint64_t limit = GIB;

		gr_put(&m, GOMEMGUARD_A_SOFT_LIMIT, &limit, sizeof(limit));
	}
	if (gr_transact(&s, &m, &r) || r.err != -EPERM ||
	    !strstr(r.extack, "initial PID namespace"))
		fails |= 0x10;

	/* Its exit reaches this listener without any PID. */
	kill(s_pid, SIGKILL);
	waitpid(s_pid, NULL, 0);
	if (wait_exit_event(&l, "gmg-ns-sleeper", 10000, &r) ||
	    r.attrs[GOMEMGUARD_A_PID])
		fails |= 0x20;

	if (write(result_fd, &s_host, sizeof(s_host)) != sizeof(s_host))
		fails |= 0x40;
	gr_close(&l);
	gr_close(&s);
	return fails;
}

TEST(child_pid_namespace_sees_only_its_own)
{
	struct gr_reply r;
	struct gr_sock s, l;
	int family, status, p[2];
	pid_t host_only, child, s_host = -1;

	ASSERT_EQ(0, gr_open(&s));
	ASSERT_EQ(0, gr_open(&l));
	family = family_of(&s);
	ASSERT_LT(0, family);
	ASSERT_EQ(0, gr_subscribe(&l, family, &r)) TH_LOG("%s", r.extack);
	ASSERT_EQ(0, pipe(p));

	/* Tagged here, invisible there. */
	host_only = sleeper();
	ASSERT_LT(0, host_only);
	ASSERT_EQ(0, tag_pid(&s, family, host_only, &r)) TH_LOG("%s", r.extack);

	child = fork();
	ASSERT_LE(0, child);
	if (child == 0) {
		pid_t init;

		if (unshare(CLONE_NEWPID))
			_exit(0x80);
		init = fork();
		if (init == 0)
			_exit(in_child_ns(host_only, p[1]));
		if (init < 0 || waitpid(init, &status, 0) != init)
			_exit(0x80);
		_exit(WIFEXITED(status) ? WEXITSTATUS(status) : 0x80);
	}
	ASSERT_EQ(child, waitpid(child, &status, 0));
	ASSERT_TRUE(WIFEXITED(status));
	EXPECT_EQ(0, WEXITSTATUS(status))
		TH_LOG("failed checks 0x%x (1 subscribe, 2 tag own, 4 dump, 8 foreign pid, 0x10 cgroup, 0x20 exit event without pid, 0x40/0x80 setup)",
		       WEXITSTATUS(status));
	ASSERT_EQ((ssize_t)sizeof(s_host), read(p[0], &s_host, sizeof(s_host)));

	/* The same exit, seen from the initial namespace, names the process. */
	ASSERT_EQ(0, wait_exit_event(&l, "gmg-ns-sleeper", 10000, &r));
	ASSERT_NE(NULL, r.attrs[GOMEMGUARD_A_PID]);
	EXPECT_EQ(s_host, (pid_t)gr_get_u32(r.attrs[GOMEMGUARD_A_PID]));

	EXPECT_EQ(0, untag_pid(&s, family, host_only));
	reap(host_only);
	gr_close(&l);
	gr_close(&s);
}

/*
 * A listener that does not read loses events; the sequence numbers it did
 * get, the number of events sent and the module's overflow counter must all
 * tell the same story, exactly.
 */
#define BURST	300

TEST(overflowing_listener_loses_exactly_what_is_counted)
{
	uint64_t sent0, sent1, over0, over1, last = 0, lost_gaps = 0, got = 0;
	uint64_t first_expected, seq;
	struct gr_reply r;
	struct gr_sock s, l;
	pid_t pids[BURST];
	int family, i, rcvbuf = 8192, enobufs = 0, err;

	ASSERT_EQ(0, gr_open(&s));
	ASSERT_EQ(0, gr_open(&l));
	family = family_of(&s);
	ASSERT_LT(0, family);
	ASSERT_EQ(0, setsockopt(l.fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof(rcvbuf)));
	ASSERT_EQ(0, gr_subscribe(&l, family, &r)) TH_LOG("%s", r.extack);
	ASSERT_EQ(1, info_u64(&s, family, GOMEMGUARD_A_LISTENERS))
		TH_LOG("another listener would share the overflow counter");

	for (i = 0; i < BURST; i++) {
		pids[i] = sleeper();
		ASSERT_LT(0, pids[i]);
		ASSERT_EQ(0, tag_pid(&s, family, pids[i], &r)) TH_LOG("%s", r.extack);
	}
	sent0 = info_u64(&s, family, GOMEMGUARD_A_EVENTS_SENT);
	over0 = info_u64(&s, family, GOMEMGUARD_A_EVENTS_OVERFLOWED);
	first_expected = sent0 + 1;
	for (i = 0; i < BURST; i++)
		reap(pids[i]);
	/*
	 * Every exit of a process tagged by PID is an event (EXIT is never
	 * rate-limited).  The module
	 * sends it just after the process leaves its table: the count of
	 * tagged processes may reach 0 a moment before the last EXIT is sent.
	 */
	for (i = 0; i < gmg_ms(20000) / 100; i++) {
		sent1 = info_u64(&s, family, GOMEMGUARD_A_EVENTS_SENT);
		if (!info_u64(&s, family, GOMEMGUARD_A_TAGGED) && sent1 >= sent0 + BURST)
			break;
		sleep_ms(100);
	}
	ASSERT_EQ(0, info_u64(&s, family, GOMEMGUARD_A_TAGGED));
	sent1 = info_u64(&s, family, GOMEMGUARD_A_EVENTS_SENT);
	over1 = info_u64(&s, family, GOMEMGUARD_A_EVENTS_OVERFLOWED);
	ASSERT_LE(sent0 + BURST, sent1);

	last = sent0;
	for (;;) {
		/* All sent: a pause means the queue is empty. */
		err = gr_recv_event(&l, gmg_ms(300), &r);
		if (err == -ENOBUFS) {
			enobufs++;
			continue;
		}
		if (err == -ETIMEDOUT)
			break;
		ASSERT_EQ(0, err);
		ASSERT_NE(NULL, r.attrs[GOMEMGUARD_A_SEQ]);
		seq = gr_get_u64(r.attrs[GOMEMGUARD_A_SEQ]);
		/* From before the window (queued while tagging). */
		if (seq < first_expected)
			continue;
		ASSERT_LT(last, seq) TH_LOG("out of order: %llu after %llu",
					    (unsigned long long)seq,
					    (unsigned long long)last);
		if (got == 0)
			lost_gaps += seq - first_expected;
		else
			lost_gaps += seq - last - 1;
		last = seq;
		got++;
	}
	lost_gaps += sent1 - last;
	TH_LOG("%llu events sent, %llu received, %llu lost by sequence gaps, %llu counted as overflowed, %d ENOBUFS",
	       (unsigned long long)(sent1 - sent0), (unsigned long long)got,
	       (unsigned long long)lost_gaps, (unsigned long long)(over1 - over0),
	       enobufs);
	EXPECT_LT(0, got);
	EXPECT_LT(0, enobufs);
	EXPECT_LT(0, lost_gaps);
	EXPECT_EQ(sent1 - sent0, got + lost_gaps);
	EXPECT_EQ(over1 - over0, lost_gaps);

	/* The module is fine and a new listener hears new events. */
	gr_close(&l);
	ASSERT_EQ(0, gr_open(&l));
	ASSERT_EQ(0, gr_subscribe(&l, family, &r));
	pids[0] = sleeper();
	ASSERT_EQ(0, tag_pid(&s, family, pids[0], &r));
	reap(pids[0]);
	ASSERT_EQ(0, gr_recv_event(&l, gmg_ms(10000), &r));
	EXPECT_EQ(GOMEMGUARD_EVENT_EXIT, gr_get_u32(r.attrs[GOMEMGUARD_A_EVENT]));
	EXPECT_EQ(sent1 + 1, gr_get_u64(r.attrs[GOMEMGUARD_A_SEQ]));
	gr_close(&l);
	gr_close(&s);
}

static int load_with(const char *params)
{
	const char *ko = gmg_env_path("GMG_KO");
	int fd, ret;

	if (!ko)
		return -EINVAL;
	fd = open(ko, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	ret = syscall(SYS_finit_module, fd, params, 0) ? -errno : 0;
	close(fd);
	return ret;
}

/* As nobody; a bit per failed check. */
static int nobody_probe(void)
{
	struct dump_count c = {};
	struct gr_reply r;
	struct gr_sock s;
	struct gr_msg m;
	int family, fails = 0;

	if (setresgid(NOBODY, NOBODY, NOBODY) || setresuid(NOBODY, NOBODY, NOBODY))
		return 0x80;
	if (gr_open(&s))
		return 0x40;
	family = family_of(&s);
	if (family <= 0)
		return 0x40;
	if (info(&s, family, &r) || !r.attrs[GOMEMGUARD_A_OPEN_READ] ||
	    !*((const uint8_t *)r.attrs[GOMEMGUARD_A_OPEN_READ] + NLA_HDRLEN))
		fails |= 0x1;
	gr_start(&m, family, GOMEMGUARD_CMD_PROC_GET, GOMEMGUARD_GENL_VERSION);
	if (gr_dump(&s, &m, count_cb, &c))
		fails |= 0x2;
	if (gr_subscribe(&s, family, &r))
		fails |= 0x4;
	/* Reading is open; changing is not. */
	if (tag_pid(&s, family, getpid(), &r) != -EPERM)
		fails |= 0x8;
	gr_close(&s);
	return fails;
}

TEST(open_read_lets_anyone_read_but_not_change)
{
	int status, err;
	pid_t pid;

	ASSERT_EQ(0, gmg_module_unload()) TH_LOG("the module is in use");
	err = load_with("open_read=1");
	ASSERT_EQ(0, err) TH_LOG("load with open_read=1: %s", strerror(-err));

	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0)
		_exit(nobody_probe());
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	EXPECT_TRUE(WIFEXITED(status));
	EXPECT_EQ(0, WEXITSTATUS(status))
		TH_LOG("failed checks 0x%x (1 info, 2 dump, 4 subscribe, 8 tag refused, 0x40/0x80 setup)",
		       WEXITSTATUS(status));

	/* Back to the default for the tests after this one. */
	ASSERT_EQ(0, gmg_module_unload());
	ASSERT_EQ(0, gmg_module_load());
}

TEST_HARNESS_MAIN
