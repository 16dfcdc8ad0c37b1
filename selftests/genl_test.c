// SPDX-License-Identifier: GPL-2.0
/*
 * The gomemguard generic-netlink family, driven byte by byte: it resolves,
 * answers INFO_GET, and refuses malformed or unprivileged requests with the
 * right errno and an extack message.
 */
#include <errno.h>
#include <string.h>
#include <unistd.h>
#include <sys/socket.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <linux/genetlink.h>

#include <uapi/linux/gomemguard.h>

#include "genl_raw.h"
#include "gmg_harness.h"

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
TEST_F(genl, subscribe_answers_with_last_seq)
{
	struct gr_reply r, again, info;
	struct gr_sock l;

	ASSERT_EQ(0, gr_open(&l));
	ASSERT_EQ(0, gr_subscribe(&l, self->family, &r)) TH_LOG("%s", r.extack);
	ASSERT_EQ(0, gr_subscribe(&l, self->family, &again)) TH_LOG("%s", again.extack);
	EXPECT_LE(gr_get_u64(r.attrs[GOMEMGUARD_A_SEQ]),
		  gr_get_u64(again.attrs[GOMEMGUARD_A_SEQ]));
	info_get(_metadata, self, &info);
	/* This test's listener, counted once. */
	EXPECT_LE(1, gr_get_u32(info.attrs[GOMEMGUARD_A_LISTENERS]));
	EXPECT_GE(gr_get_u64(info.attrs[GOMEMGUARD_A_EVENTS_SENT]),
		  gr_get_u64(again.attrs[GOMEMGUARD_A_SEQ]));
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

/* Every hook this kernel must offer is active, and info says so. */
TEST_F(genl, info_lists_active_hooks)
{
	static const char *const hooks[] = {
		"tracepoint:rss_stat", "tracepoint:sched_process_fork",
		"tracepoint:sched_process_exit", "tracepoint:sched_process_exec",
		"tracepoint:cgroup_attach_task", "kprobe:oom_kill_process",
		"oom_notifier", "kprobe:vmpressure",
	};
	struct gr_reply r;
	unsigned int i;

	info_get(_metadata, self, &r);
	/* Braces: the harness's TH_LOG is a statement of its own. */
	for (i = 0; i < sizeof(hooks) / sizeof(hooks[0]); i++) {
		EXPECT_TRUE(hook_listed(&r, hooks[i])) TH_LOG("hook %s not active", hooks[i]);
	}
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

TEST_HARNESS_MAIN
