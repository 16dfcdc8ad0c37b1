// SPDX-License-Identifier: GPL-2.0
/*
 * The gomemguard generic-netlink family, driven byte by byte: it resolves,
 * answers INFO_GET, and refuses malformed or unprivileged requests with the
 * right errno and an extack message.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <linux/genetlink.h>

#include <uapi/linux/gomemguard.h>

#include "genl_raw.h"
#include "gmg_harness.h"
#include "gmg_util.h"

#define NOBODY 65534

FIXTURE(genl) {
	struct gr_sock s;
	int family;
};

FIXTURE_SETUP(genl)
{
	ASSERT_EQ(0, gr_open(&self->s));
	/* Resolving the family loads the module through its alias. */
	self->family = gr_family(&self->s, GOMEMGUARD_GENL_NAME);
	ASSERT_LT(0, self->family) TH_LOG("family %s: %s", GOMEMGUARD_GENL_NAME,
					  strerror(-self->family));
}

FIXTURE_TEARDOWN(genl)
{
	gr_close(&self->s);
}

static void request(struct __test_metadata *_metadata, struct gr_sock *s,
		    struct gr_msg *m, struct gr_reply *r)
{
	ASSERT_EQ(0, gr_transact(s, m, r));
}

static void info_get(struct __test_metadata *_metadata, FIXTURE_DATA(genl) *self,
		     struct gr_reply *r)
{
	struct gr_msg m;

	gr_start(&m, self->family, GOMEMGUARD_CMD_INFO_GET,
		 GOMEMGUARD_GENL_VERSION);
	request(_metadata, &self->s, &m, r);
	ASSERT_EQ(0, r->err) TH_LOG("INFO_GET: %s (%s)", strerror(-r->err),
				    r->extack);
	ASSERT_TRUE(r->has_data);
}

_Static_assert(GOMEMGUARD_A_MAX <= GR_ATTR_MAX, "genl_raw would drop attributes");

/* The reply carries the last sequence number, and comes again on a repeat. */
static uint64_t seq_of(const struct gr_reply *r)
{
	return r->attrs[GOMEMGUARD_A_SEQ] ? gr_get_u64(r->attrs[GOMEMGUARD_A_SEQ]) : 0;
}

static void tag_msg(struct gr_msg *m, int family, uint8_t cmd, pid_t pid,
		    const char *cgroup, uint64_t soft, uint32_t sig)
{
	gr_start(m, family, cmd, GOMEMGUARD_GENL_VERSION);
	if (pid)
		gr_put_u32(m, GOMEMGUARD_A_PID, pid);
	if (cgroup)
		gr_put(m, GOMEMGUARD_A_CGROUP, cgroup, strlen(cgroup) + 1);
	if (soft)
		gr_put(m, GOMEMGUARD_A_SOFT_LIMIT, &soft, sizeof(soft));
	if (sig)
		gr_put_u32(m, GOMEMGUARD_A_SIGNAL, sig);
}

/*
 * SUBSCRIBE answers with the number of the last event sent, so that a
 * monitor knows where its stream starts: the same number while nothing
 * happens, and after events, the number the last of them carried.
 */
TEST_F(genl, subscribe_answers_with_last_seq)
{
	struct gr_reply r, again, info, ev;
	uint64_t first, last = 0;
	struct gr_sock l;
	struct gr_msg m;
	int n = 0;

	ASSERT_EQ(0, gr_open(&l));
	ASSERT_EQ(0, gr_subscribe(&l, self->family, &r)) TH_LOG("%s", r.extack);
	ASSERT_NE(NULL, r.attrs[GOMEMGUARD_A_SEQ]);
	first = seq_of(&r);
	ASSERT_EQ(0, gr_subscribe(&l, self->family, &again)) TH_LOG("%s", again.extack);
	EXPECT_EQ(first, seq_of(&again)) TH_LOG("no event in between");

	/* This process over a 4 KiB soft limit: warnings, each numbered. */
	tag_msg(&m, self->family, GOMEMGUARD_CMD_TAG_NEW, getpid(), NULL, 4096, 0);
	request(_metadata, &self->s, &m, &r);
	ASSERT_EQ(0, r.err) TH_LOG("%s", r.extack);
	while (!gr_recv_event(&l, 2000, &ev)) {
		EXPECT_EQ(n ? last + 1 : first + 1, seq_of(&ev));
		last = seq_of(&ev);
		n++;
	}
	tag_msg(&m, self->family, GOMEMGUARD_CMD_TAG_DEL, getpid(), NULL, 0, 0);
	request(_metadata, &self->s, &m, &r);
	EXPECT_EQ(0, r.err) TH_LOG("%s", r.extack);
	while (!gr_recv_event(&l, 500, &ev))
		last = seq_of(&ev);
	ASSERT_LE(1, n) TH_LOG("no event for a process over its soft limit");
	ASSERT_EQ(0, gr_subscribe(&l, self->family, &again)) TH_LOG("%s", again.extack);
	EXPECT_EQ(last, seq_of(&again)) TH_LOG("%d events after %llu", n,
						(unsigned long long)first);
	info_get(_metadata, self, &info);
	/* This test's listener, counted once. */
	EXPECT_LE(1, gr_get_u32(info.attrs[GOMEMGUARD_A_LISTENERS]));
	EXPECT_GE(gr_get_u64(info.attrs[GOMEMGUARD_A_EVENTS_SENT]), last);
	gr_close(&l);
}

TEST_F(genl, info_reports_module_and_kernel)
{
	struct gr_reply r;
	struct utsname u;
	int i;

	info_get(_metadata, self, &r);
	ASSERT_EQ(GOMEMGUARD_CMD_INFO_GET, r.cmd);
	/* Braces: the harness's TH_LOG is a statement of its own. */
	for (i = GOMEMGUARD_A_VERSION; i <= GOMEMGUARD_A_EVENT_BURST; i++) {
		EXPECT_NE(NULL, r.attrs[i]) TH_LOG("attribute %d missing", i);
	}
	ASSERT_NE(NULL, r.attrs[GOMEMGUARD_A_VERSION]);
	EXPECT_STREQ(GMG_VERSION, gr_get_str(r.attrs[GOMEMGUARD_A_VERSION]));
	ASSERT_EQ(0, uname(&u));
	ASSERT_NE(NULL, r.attrs[GOMEMGUARD_A_KERNEL_RELEASE]);
	EXPECT_STREQ(u.release, gr_get_str(r.attrs[GOMEMGUARD_A_KERNEL_RELEASE]));
	ASSERT_NE(NULL, r.attrs[GOMEMGUARD_A_TAGGED]);
	EXPECT_EQ(0, gr_get_u32(r.attrs[GOMEMGUARD_A_TAGGED]));
	ASSERT_NE(NULL, r.attrs[GOMEMGUARD_A_EVENTS_SENT]);
	EXPECT_EQ(NLA_HDRLEN + 8, r.attrs[GOMEMGUARD_A_EVENTS_SENT]->nla_len);
	ASSERT_NE(NULL, r.attrs[GOMEMGUARD_A_EVENTS_DROPPED]);
	EXPECT_EQ(NLA_HDRLEN + 8, r.attrs[GOMEMGUARD_A_EVENTS_DROPPED]->nla_len);
	ASSERT_NE(NULL, r.attrs[GOMEMGUARD_A_EXITS_QUIET]);
	EXPECT_EQ(NLA_HDRLEN + 8, r.attrs[GOMEMGUARD_A_EXITS_QUIET]->nla_len);
}

TEST_F(genl, unknown_command_is_refused)
{
	struct gr_reply r;
	struct gr_msg m;

	gr_start(&m, self->family, __GOMEMGUARD_CMD_MAX + 40,
		 GOMEMGUARD_GENL_VERSION);
	request(_metadata, &self->s, &m, &r);
	/* The genl core answers before the family sees it: no extack here. */
	EXPECT_EQ(-EOPNOTSUPP, r.err);
	EXPECT_FALSE(r.has_data);
}

TEST_F(genl, unknown_attribute_is_refused)
{
	struct gr_reply r;
	struct gr_msg m;

	gr_start(&m, self->family, GOMEMGUARD_CMD_INFO_GET,
		 GOMEMGUARD_GENL_VERSION);
	gr_put_u32(&m, __GOMEMGUARD_A_MAX + 7, 1);
	request(_metadata, &self->s, &m, &r);
	EXPECT_EQ(-EINVAL, r.err);
	EXPECT_NE(0, strlen(r.extack));
	EXPECT_TRUE(r.has_offs);
	EXPECT_FALSE(r.has_data);
	TH_LOG("kernel reports: %s", r.extack);
}

TEST_F(genl, attribute_of_another_command_is_refused)
{
	struct gr_reply r;
	struct gr_msg m;

	/* EVENT_BURST is CONFIG_SET's; INFO_GET must not ignore it silently. */
	gr_start(&m, self->family, GOMEMGUARD_CMD_INFO_GET,
		 GOMEMGUARD_GENL_VERSION);
	gr_put_u32(&m, GOMEMGUARD_A_EVENT_BURST, 3);
	request(_metadata, &self->s, &m, &r);
	EXPECT_EQ(-EINVAL, r.err);
	EXPECT_NE(0, strlen(r.extack));
	EXPECT_TRUE(r.has_offs);
	TH_LOG("kernel reports: %s", r.extack);
}

TEST_F(genl, wrong_attribute_length_is_refused)
{
	uint16_t small = 5;
	struct gr_reply r;
	struct gr_msg m;

	gr_start(&m, self->family, GOMEMGUARD_CMD_CONFIG_SET,
		 GOMEMGUARD_GENL_VERSION);
	gr_put(&m, GOMEMGUARD_A_EVENT_BURST, &small, sizeof(small));
	request(_metadata, &self->s, &m, &r);
	EXPECT_EQ(-EINVAL, r.err);
	EXPECT_NE(0, strlen(r.extack));
	EXPECT_TRUE(r.has_offs);
	TH_LOG("kernel reports: %s", r.extack);
}

TEST_F(genl, out_of_range_value_is_refused)
{
	struct gr_reply before, after, r;
	struct gr_msg m;

	info_get(_metadata, self, &before);
	gr_start(&m, self->family, GOMEMGUARD_CMD_CONFIG_SET,
		 GOMEMGUARD_GENL_VERSION);
	gr_put_u32(&m, GOMEMGUARD_A_EVENT_BURST, GOMEMGUARD_EVENT_BURST_MAX + 1);
	request(_metadata, &self->s, &m, &r);
	EXPECT_EQ(-ERANGE, r.err);
	EXPECT_NE(0, strlen(r.extack));
	TH_LOG("kernel reports: %s", r.extack);

	gr_start(&m, self->family, GOMEMGUARD_CMD_CONFIG_SET,
		 GOMEMGUARD_GENL_VERSION);
	gr_put_u32(&m, GOMEMGUARD_A_EVENT_INTERVAL_MS,
		   GOMEMGUARD_EVENT_INTERVAL_MS_MIN - 1);
	request(_metadata, &self->s, &m, &r);
	EXPECT_EQ(-ERANGE, r.err);
	EXPECT_NE(0, strlen(r.extack));

	info_get(_metadata, self, &after);
	EXPECT_EQ(gr_get_u32(before.attrs[GOMEMGUARD_A_EVENT_BURST]),
		  gr_get_u32(after.attrs[GOMEMGUARD_A_EVENT_BURST]));
	EXPECT_EQ(gr_get_u32(before.attrs[GOMEMGUARD_A_EVENT_INTERVAL_MS]),
		  gr_get_u32(after.attrs[GOMEMGUARD_A_EVENT_INTERVAL_MS]));
}

TEST_F(genl, empty_config_set_says_why)
{
	struct gr_reply r;
	struct gr_msg m;

	gr_start(&m, self->family, GOMEMGUARD_CMD_CONFIG_SET,
		 GOMEMGUARD_GENL_VERSION);
	request(_metadata, &self->s, &m, &r);
	EXPECT_EQ(-EINVAL, r.err);
	EXPECT_NE(NULL, strstr(r.extack, "nothing to set")) TH_LOG("%s", r.extack);
}

TEST_F(genl, config_set_round_trips)
{
	struct gr_reply r;
	struct gr_msg m;

	gr_start(&m, self->family, GOMEMGUARD_CMD_CONFIG_SET,
		 GOMEMGUARD_GENL_VERSION);
	gr_put_u32(&m, GOMEMGUARD_A_EVENT_INTERVAL_MS, 250);
	gr_put_u32(&m, GOMEMGUARD_A_EVENT_BURST, 3);
	request(_metadata, &self->s, &m, &r);
	ASSERT_EQ(0, r.err) TH_LOG("%s", r.extack);
	info_get(_metadata, self, &r);
	EXPECT_EQ(250, gr_get_u32(r.attrs[GOMEMGUARD_A_EVENT_INTERVAL_MS]));
	EXPECT_EQ(3, gr_get_u32(r.attrs[GOMEMGUARD_A_EVENT_BURST]));

	/* One attribute alone changes only itself. */
	gr_start(&m, self->family, GOMEMGUARD_CMD_CONFIG_SET,
		 GOMEMGUARD_GENL_VERSION);
	gr_put_u32(&m, GOMEMGUARD_A_EVENT_BURST, GOMEMGUARD_EVENT_BURST_DEFAULT);
	request(_metadata, &self->s, &m, &r);
	ASSERT_EQ(0, r.err);
	info_get(_metadata, self, &r);
	EXPECT_EQ(250, gr_get_u32(r.attrs[GOMEMGUARD_A_EVENT_INTERVAL_MS]));
	EXPECT_EQ(GOMEMGUARD_EVENT_BURST_DEFAULT,
		  gr_get_u32(r.attrs[GOMEMGUARD_A_EVENT_BURST]));

	gr_start(&m, self->family, GOMEMGUARD_CMD_CONFIG_SET,
		 GOMEMGUARD_GENL_VERSION);
	gr_put_u32(&m, GOMEMGUARD_A_EVENT_INTERVAL_MS,
		   GOMEMGUARD_EVENT_INTERVAL_MS_DEFAULT);
	request(_metadata, &self->s, &m, &r);
	ASSERT_EQ(0, r.err);
}

static int hook_listed(const struct gr_reply *r, const char *name)
{
	const struct nlattr *hooks = r->attrs[GOMEMGUARD_A_HOOKS], *a;
	int left;

	if (!hooks)
		return 0;
	a = (const struct nlattr *)((const char *)hooks + NLA_HDRLEN);
	for (left = hooks->nla_len - NLA_HDRLEN; left >= NLA_HDRLEN && a->nla_len >= NLA_HDRLEN;
	     left -= NLA_ALIGN(a->nla_len),
	     a = (const struct nlattr *)((const char *)a + NLA_ALIGN(a->nla_len)))
		if (!strcmp(gr_get_str(a), name))
			return 1;
	return 0;
}

static const char *const proc_hooks[] = {
	"tracepoint:rss_stat", "tracepoint:sched_process_fork",
	"tracepoint:sched_process_exit", "tracepoint:sched_process_exec",
	"tracepoint:mark_victim",
	"kprobe:oom_kill_process", "oom_notifier", "kprobe:vmpressure",
};

/* How many of @proc_hooks, and whether the cgroup-attach hook, are listed. */
static int hooks_listed(const struct gr_reply *r, int *attach)
{
	unsigned int i;
	int n = 0;

	for (i = 0; i < sizeof(proc_hooks) / sizeof(proc_hooks[0]); i++)
		n += hook_listed(r, proc_hooks[i]);
	*attach = hook_listed(r, "tracepoint:cgroup_attach_task");
	return n;
}

static uint32_t tagged(struct __test_metadata *_metadata,
		       FIXTURE_DATA(genl) *self)
{
	struct gr_reply r;

	info_get(_metadata, self, &r);
	return gr_get_u32(r.attrs[GOMEMGUARD_A_TAGGED]);
}

/* Wait (bounded) until INFO_GET lists @want of the process hooks. */
static int wait_hooks(struct __test_metadata *_metadata,
		      FIXTURE_DATA(genl) *self, int want, int want_attach)
{
	int attach, n = -1, waited;
	struct gr_reply r;

	for (waited = 0; waited < gmg_ms(10000); waited += 100) {
		info_get(_metadata, self, &r);
		n = hooks_listed(&r, &attach);
		if (n == want && attach == want_attach)
			return n;
		usleep(100 * 1000);
	}
	return n;
}

/*
 * Loaded and unused, the module has no hook in the kernel; a PID tag
 * registers the process hooks (not the cgroup-attach one, which makes
 * every cgroup migration on the host format a path), a cgroup tag that
 * one as well, and untagging lets them all go again.
 */
TEST_F(genl, hooks_only_while_tagged)
{
	const int all = sizeof(proc_hooks) / sizeof(proc_hooks[0]);
	const char *cg = "/gmg-genl-hooks";
	struct gr_reply r;
	struct gr_msg m;
	pid_t child;
	int status;

	ASSERT_EQ(0, tagged(_metadata, self)) TH_LOG("a test before left a tag");
	EXPECT_EQ(0, wait_hooks(_metadata, self, 0, 0));

	child = fork();
	ASSERT_LE(0, child);
	if (child == 0) {
		pause();
		_exit(0);
	}
	tag_msg(&m, self->family, GOMEMGUARD_CMD_TAG_NEW, child, NULL, 1 << 30, 0);
	request(_metadata, &self->s, &m, &r);
	ASSERT_EQ(0, r.err) TH_LOG("%s", r.extack);
	info_get(_metadata, self, &r);
	{
		int attach, n = hooks_listed(&r, &attach);

		EXPECT_EQ(all, n) TH_LOG("process hooks right after TAG_NEW");
		EXPECT_FALSE(attach) TH_LOG("cgroup_attach_task without a cgroup tag");
	}

	ASSERT_EQ(0, mkdir("/sys/fs/cgroup/gmg-genl-hooks", 0755) && errno != EEXIST);
	tag_msg(&m, self->family, GOMEMGUARD_CMD_TAG_NEW, 0, cg, 1 << 30, 0);
	request(_metadata, &self->s, &m, &r);
	ASSERT_EQ(0, r.err) TH_LOG("%s", r.extack);
	EXPECT_EQ(all, wait_hooks(_metadata, self, all, 1));

	tag_msg(&m, self->family, GOMEMGUARD_CMD_TAG_DEL, 0, cg, 0, 0);
	request(_metadata, &self->s, &m, &r);
	EXPECT_EQ(0, r.err) TH_LOG("%s", r.extack);
	EXPECT_EQ(all, wait_hooks(_metadata, self, all, 0))
		TH_LOG("the attach hook should go with the last cgroup tag");

	tag_msg(&m, self->family, GOMEMGUARD_CMD_TAG_DEL, child, NULL, 0, 0);
	request(_metadata, &self->s, &m, &r);
	EXPECT_EQ(0, r.err) TH_LOG("%s", r.extack);
	EXPECT_EQ(0, wait_hooks(_metadata, self, 0, 0))
		TH_LOG("hooks left registered with nothing tagged");

	kill(child, SIGKILL);
	waitpid(child, &status, 0);
	rmdir("/sys/fs/cgroup/gmg-genl-hooks");
}

/* A new family checks its header's reserved byte on every command. */
TEST_F(genl, reserved_header_byte_is_refused)
{
	struct genlmsghdr *g;
	struct gr_reply r;
	struct gr_msg m;

	gr_start(&m, self->family, GOMEMGUARD_CMD_INFO_GET,
		 GOMEMGUARD_GENL_VERSION);
	g = (struct genlmsghdr *)(m.buf + NLMSG_HDRLEN);
	g->reserved = 1;
	request(_metadata, &self->s, &m, &r);
	EXPECT_EQ(-EINVAL, r.err);
	EXPECT_FALSE(r.has_data);
	/* The same without it is answered. */
	g->reserved = 0;
	request(_metadata, &self->s, &m, &r);
	EXPECT_EQ(0, r.err) TH_LOG("%s", r.extack);
}

/* The OOM report count and pressure thresholds: set, read back, refused. */
TEST_F(genl, oom_and_pressure_settings)
{
	struct gr_reply r;
	struct gr_msg m;

	gr_start(&m, self->family, GOMEMGUARD_CMD_CONFIG_SET, GOMEMGUARD_GENL_VERSION);
	gr_put_u32(&m, GOMEMGUARD_A_OOM_REPORTS_MAX, 7);
	gr_put_u32(&m, GOMEMGUARD_A_PRESSURE_MEDIUM_PCT, 40);
	gr_put_u32(&m, GOMEMGUARD_A_PRESSURE_CRITICAL_PCT, 80);
	request(_metadata, &self->s, &m, &r);
	ASSERT_EQ(0, r.err) TH_LOG("%s", r.extack);
	info_get(_metadata, self, &r);
	EXPECT_EQ(7, gr_get_u32(r.attrs[GOMEMGUARD_A_OOM_REPORTS_MAX]));
	EXPECT_EQ(40, gr_get_u32(r.attrs[GOMEMGUARD_A_PRESSURE_MEDIUM_PCT]));
	EXPECT_EQ(80, gr_get_u32(r.attrs[GOMEMGUARD_A_PRESSURE_CRITICAL_PCT]));

	/* Medium at or above critical makes no sense. */
	gr_start(&m, self->family, GOMEMGUARD_CMD_CONFIG_SET, GOMEMGUARD_GENL_VERSION);
	gr_put_u32(&m, GOMEMGUARD_A_PRESSURE_MEDIUM_PCT, 90);
	request(_metadata, &self->s, &m, &r);
	EXPECT_EQ(-EINVAL, r.err);
	EXPECT_NE(NULL, strstr(r.extack, "below the critical")) TH_LOG("%s", r.extack);
	gr_start(&m, self->family, GOMEMGUARD_CMD_CONFIG_SET, GOMEMGUARD_GENL_VERSION);
	gr_put_u32(&m, GOMEMGUARD_A_OOM_REPORTS_MAX, GOMEMGUARD_OOM_REPORTS_MAX + 1);
	request(_metadata, &self->s, &m, &r);
	EXPECT_EQ(-ERANGE, r.err);
	info_get(_metadata, self, &r);
	EXPECT_EQ(7, gr_get_u32(r.attrs[GOMEMGUARD_A_OOM_REPORTS_MAX]));
	EXPECT_EQ(40, gr_get_u32(r.attrs[GOMEMGUARD_A_PRESSURE_MEDIUM_PCT]));

	gr_start(&m, self->family, GOMEMGUARD_CMD_CONFIG_SET, GOMEMGUARD_GENL_VERSION);
	gr_put_u32(&m, GOMEMGUARD_A_OOM_REPORTS_MAX, GOMEMGUARD_OOM_REPORTS_DEFAULT);
	gr_put_u32(&m, GOMEMGUARD_A_PRESSURE_MEDIUM_PCT, GOMEMGUARD_PRESSURE_MEDIUM_DEFAULT);
	gr_put_u32(&m, GOMEMGUARD_A_PRESSURE_CRITICAL_PCT, GOMEMGUARD_PRESSURE_CRITICAL_DEFAULT);
	request(_metadata, &self->s, &m, &r);
	ASSERT_EQ(0, r.err) TH_LOG("%s", r.extack);
}

/*
 * Runs in a child that has dropped to nobody: no capabilities at all.
 * Returns a bit per expectation that failed, so the parent can tell which.
 */
static int unprivileged_probe(int family)
{
	struct gr_reply r;
	struct gr_sock s;
	struct gr_msg m;
	int fails = 0;

	if (setresgid(NOBODY, NOBODY, NOBODY) || setresuid(NOBODY, NOBODY, NOBODY))
		return 0x80;
	if (gr_open(&s))
		return 0x40;

	gr_start(&m, family, GOMEMGUARD_CMD_CONFIG_SET, GOMEMGUARD_GENL_VERSION);
	gr_put_u32(&m, GOMEMGUARD_A_EVENT_BURST, 1);
	if (gr_transact(&s, &m, &r) || r.err != -EPERM)
		fails |= 0x1;

	gr_start(&m, family, GOMEMGUARD_CMD_INFO_GET, GOMEMGUARD_GENL_VERSION);
	if (gr_transact(&s, &m, &r) || r.err != -EPERM ||
	    !strstr(r.extack, "CAP_NET_ADMIN"))
		fails |= 0x2;

	gr_start(&m, family, GOMEMGUARD_CMD_TAG_NEW, GOMEMGUARD_GENL_VERSION);
	gr_put_u32(&m, GOMEMGUARD_A_PID, getpid());
	if (gr_transact(&s, &m, &r) || r.err != -EPERM)
		fails |= 0x4;

	/* Subscribing to events is reading too. */
	if (gr_subscribe(&s, family, &r) != -EPERM ||
	    !strstr(r.extack, "CAP_NET_ADMIN"))
		fails |= 0x8;

	gr_start(&m, family, GOMEMGUARD_CMD_PROC_GET, GOMEMGUARD_GENL_VERSION);
	if (gr_dump(&s, &m, NULL, NULL) != -EPERM)
		fails |= 0x10;

	gr_close(&s);
	return fails;
}

TEST_F(genl, unprivileged_user_cannot_mutate_read_or_listen)
{
	struct gr_reply before, after;
	int status;
	pid_t pid;

	info_get(_metadata, self, &before);
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0)
		_exit(unprivileged_probe(self->family));
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	ASSERT_TRUE(WIFEXITED(status));
	EXPECT_EQ(0, WEXITSTATUS(status))
		TH_LOG("failed checks mask 0x%x (1 config, 2 info, 4 tag, 8 subscribe, 0x10 dump)",
		       WEXITSTATUS(status));

	info_get(_metadata, self, &after);
	EXPECT_EQ(gr_get_u32(before.attrs[GOMEMGUARD_A_EVENT_BURST]),
		  gr_get_u32(after.attrs[GOMEMGUARD_A_EVENT_BURST]));
}

/* Stop signals are refused: a stopped service looks alive and serves nothing. */
TEST_F(genl, stop_signals_are_refused)
{
	static const uint32_t stops[] = { SIGSTOP, SIGTSTP, SIGTTIN, SIGTTOU };
	struct gr_reply r;
	struct gr_msg m;
	unsigned int i;

	for (i = 0; i < sizeof(stops) / sizeof(stops[0]); i++) {
		tag_msg(&m, self->family, GOMEMGUARD_CMD_TAG_NEW, getpid(), NULL,
			1 << 30, stops[i]);
		request(_metadata, &self->s, &m, &r);
		EXPECT_EQ(-EINVAL, r.err) TH_LOG("signal %u", stops[i]);
		EXPECT_NE(NULL, strstr(r.extack, "stop signals")) TH_LOG("%s", r.extack);
	}
	EXPECT_EQ(0, tagged(_metadata, self));
}

struct cap_header {
	uint32_t version;
	int pid;
};

struct cap_data {
	uint32_t effective, permitted, inheritable;
};

/*
 * Become nobody holding CAP_NET_ADMIN and nothing else: what
 * systemd-networkd and many agents run as.
 */
static int drop_to_netadmin_nobody(void)
{
	struct cap_header h = { 0x20080522, 0 };	/* _LINUX_CAPABILITY_VERSION_3 */
	struct cap_data d[2] = { { 1u << 12, 1u << 12, 0 }, { 0, 0, 0 } };

	if (prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0) ||
	    setresgid(NOBODY, NOBODY, NOBODY) || setresuid(NOBODY, NOBODY, NOBODY))
		return -1;
	return syscall(SYS_capset, &h, d);
}

static pid_t sleeper(void)
{
	pid_t pid = fork();

	if (pid == 0) {
		pause();
		_exit(0);
	}
	return pid;
}

/*
 * In a child that is nobody with CAP_NET_ADMIN only.  @root_pid is a
 * root-owned process; @cg a cgroup holding another.  Returns a bit per
 * failed expectation.
 */
static int netadmin_fuse_probe(int family, pid_t root_pid, const char *cg,
			       char *why, size_t whylen)
{
	struct gr_reply r;
	struct gr_sock s;
	struct gr_msg m;
	int fails = 0;
	pid_t own;

	if (drop_to_netadmin_nobody())
		return 0x80;
	if (gr_open(&s))
		return 0x40;

	/* The exact attack: a 4 KiB soft limit and KILL on a root process. */
	tag_msg(&m, family, GOMEMGUARD_CMD_TAG_NEW, root_pid, NULL, 4096, SIGKILL);
	if (gr_transact(&s, &m, &r) || r.err != -EPERM || !strstr(r.extack, "kill(2)")) {
		fails |= 0x1;
		snprintf(why, whylen, "KILL on root: %d %s", r.err, r.extack);
	}
	/* Watching it is allowed; adding the fuse afterwards is not. */
	tag_msg(&m, family, GOMEMGUARD_CMD_TAG_NEW, root_pid, NULL, 4096, 0);
	if (gr_transact(&s, &m, &r) || r.err)
		fails |= 0x2;
	tag_msg(&m, family, GOMEMGUARD_CMD_TAG_SET, root_pid, NULL, 0, SIGUSR1);
	if (gr_transact(&s, &m, &r) || r.err != -EPERM)
		fails |= 0x4;
	tag_msg(&m, family, GOMEMGUARD_CMD_TAG_DEL, root_pid, NULL, 0, 0);
	if (gr_transact(&s, &m, &r) || r.err)
		fails |= 0x8;

	/* Its own process: a fuse it could send itself is armed. */
	own = sleeper();
	if (own < 0)
		return fails | 0x40;
	tag_msg(&m, family, GOMEMGUARD_CMD_TAG_NEW, own, NULL, 1 << 30, SIGUSR1);
	if (gr_transact(&s, &m, &r) || r.err) {
		fails |= 0x10;
		snprintf(why, whylen, "own process: %d %s", r.err, r.extack);
	}
	tag_msg(&m, family, GOMEMGUARD_CMD_TAG_DEL, own, NULL, 0, 0);
	gr_transact(&s, &m, &r);
	kill(own, SIGKILL);
	waitpid(own, NULL, 0);

	/* A cgroup with a root process in it: watched, but without a fuse. */
	tag_msg(&m, family, GOMEMGUARD_CMD_TAG_NEW, 0, cg, 4096, SIGKILL);
	if (gr_transact(&s, &m, &r) || r.err) {
		fails |= 0x20;
		snprintf(why, whylen, "cgroup tag: %d %s", r.err, r.extack);
	}
	gr_close(&s);
	return fails;
}

/*
 * CAP_NET_ADMIN is not a right to signal: the fuse reaches only what its
 * setter could reach with kill(2).  (The old module let a uid-65534
 * process with CAP_NET_ADMIN alone kill a root process this way.)
 */
TEST_F(genl, fuse_needs_the_right_to_kill)
{
	const char *cg = "/gmg-genl-fuse";
	char why[300] = "", procs[64];
	pid_t root_pid, member, child;
	struct gr_reply r;
	struct gr_msg m;
	int status, fd;
	uint32_t sig;

	root_pid = sleeper();
	member = sleeper();
	ASSERT_LT(0, root_pid);
	ASSERT_LT(0, member);
	ASSERT_EQ(0, mkdir("/sys/fs/cgroup/gmg-genl-fuse", 0755) && errno != EEXIST);
	fd = open("/sys/fs/cgroup/gmg-genl-fuse/cgroup.procs", O_WRONLY);
	ASSERT_LE(0, fd);
	snprintf(procs, sizeof(procs), "%d", member);
	ASSERT_LT(0, write(fd, procs, strlen(procs)));
	close(fd);

	child = fork();
	ASSERT_LE(0, child);
	if (child == 0) {
		int fails = netadmin_fuse_probe(self->family, root_pid, cg,
						why, sizeof(why));

		if (fails)
			fprintf(stderr, "# %s\n", why);
		_exit(fails);
	}
	ASSERT_EQ(child, waitpid(child, &status, 0));
	ASSERT_TRUE(WIFEXITED(status));
	EXPECT_EQ(0, WEXITSTATUS(status))
		TH_LOG("failed checks mask 0x%x (1 KILL refused, 2 watch, 4 TAG_SET fuse, 8 untag, 0x10 own fuse, 0x20 cgroup tag)",
		       WEXITSTATUS(status));

	/* The cgroup's root member was brought in without a fuse. */
	gr_start(&m, self->family, GOMEMGUARD_CMD_PROC_GET, GOMEMGUARD_GENL_VERSION);
	gr_put_u32(&m, GOMEMGUARD_A_PID, member);
	request(_metadata, &self->s, &m, &r);
	EXPECT_EQ(0, r.err) TH_LOG("%s", r.extack);
	if (!r.err && r.attrs[GOMEMGUARD_A_SIGNAL]) {
		sig = gr_get_u32(r.attrs[GOMEMGUARD_A_SIGNAL]);
		EXPECT_EQ(0, sig) TH_LOG("a root member got nobody's fuse");
	}
	/* 4 KiB soft limits: a fuse, had there been one, would have fired. */
	usleep(gmg_ms(2000) * 1000);
	EXPECT_EQ(0, kill(root_pid, 0)) TH_LOG("the root process was killed");
	EXPECT_EQ(0, kill(member, 0)) TH_LOG("the root member was killed");

	tag_msg(&m, self->family, GOMEMGUARD_CMD_TAG_DEL, 0, cg, 0, 0);
	request(_metadata, &self->s, &m, &r);
	EXPECT_EQ(0, r.err) TH_LOG("%s", r.extack);
	kill(root_pid, SIGKILL);
	kill(member, SIGKILL);
	waitpid(root_pid, NULL, 0);
	waitpid(member, NULL, 0);
	rmdir("/sys/fs/cgroup/gmg-genl-fuse");
}

TEST_HARNESS_MAIN
