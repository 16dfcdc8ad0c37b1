// SPDX-License-Identifier: GPL-2.0
/*
 * gomemctl against the real module: its JSON agrees with what the family
 * says over raw netlink, settings go through, and the kernel's extack text
 * reaches the operator verbatim.
 */
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <unistd.h>
#include <sys/wait.h>
#include <string.h>
#include <sys/utsname.h>
#include <json-c/json.h>

#include <uapi/linux/gomemguard.h>

#include "cgroup_util.h"
#include "genl_raw.h"
#include "gmg_util.h"
#include "gmg_harness.h"

#define NOBODY 65534

FIXTURE(cli) {
	struct gr_sock s;
	int family;
};

FIXTURE_SETUP(cli)
{
	ASSERT_EQ(0, gr_open(&self->s));
	self->family = gr_family(&self->s, GOMEMGUARD_GENL_NAME);
	ASSERT_LT(0, self->family);
}

FIXTURE_TEARDOWN(cli)
{
	struct gr_reply r;
	struct gr_msg m;

	gr_start(&m, self->family, GOMEMGUARD_CMD_CONFIG_SET,
		 GOMEMGUARD_GENL_VERSION);
	gr_put_u32(&m, GOMEMGUARD_A_EVENT_INTERVAL_MS,
		   GOMEMGUARD_EVENT_INTERVAL_MS_DEFAULT);
	gr_put_u32(&m, GOMEMGUARD_A_EVENT_BURST, GOMEMGUARD_EVENT_BURST_DEFAULT);
	gr_transact(&self->s, &m, &r);
	gr_close(&self->s);
}

static void raw_info(struct __test_metadata *_metadata, FIXTURE_DATA(cli) *self,
		     struct gr_reply *r)
{
	struct gr_msg m;

	gr_start(&m, self->family, GOMEMGUARD_CMD_INFO_GET,
		 GOMEMGUARD_GENL_VERSION);
	ASSERT_EQ(0, gr_transact(&self->s, &m, r));
	ASSERT_EQ(0, r->err);
	ASSERT_TRUE(r->has_data);
}

static int64_t json_int(struct __test_metadata *_metadata,
			struct json_object *o, const char *key)
{
	struct json_object *v;

	if (!json_object_object_get_ex(o, key, &v) ||
	    !json_object_is_type(v, json_type_int)) {
		TH_LOG("key %s missing or not an integer", key);
		_metadata->exit_code = KSFT_FAIL;
		return -1;
	}
	return json_object_get_int64(v);
}

static const char *json_str(struct json_object *o, const char *key)
{
	struct json_object *v;

	if (!json_object_object_get_ex(o, key, &v) ||
	    !json_object_is_type(v, json_type_string))
		return "(missing)";
	return json_object_get_string(v);
}

TEST_F(cli, info_json_matches_netlink)
{
	static const char *const argv[] = { "-j", "info", NULL };
	struct json_object *o;
	struct gr_reply r;
	struct gmg_run run;
	struct utsname u;

	raw_info(_metadata, self, &r);
	ASSERT_EQ(0, gmg_run_ctl(&run, -1, argv));
	ASSERT_EQ(0, run.status) TH_LOG("stderr: %s", run.err);
	o = json_tokener_parse(run.out);
	ASSERT_NE(NULL, o) TH_LOG("not JSON: %s", run.out);
	ASSERT_TRUE(json_object_is_type(o, json_type_object));

	ASSERT_EQ(0, uname(&u));
	EXPECT_STREQ(GMG_VERSION, json_str(o, "version"));
	EXPECT_STREQ(u.release, json_str(o, "kernel_release"));
	EXPECT_EQ(gr_get_u32(r.attrs[GOMEMGUARD_A_TAGGED]),
		  json_int(_metadata, o, "tagged_processes"));
	EXPECT_EQ(gr_get_u64(r.attrs[GOMEMGUARD_A_EVENTS_SENT]),
		  json_int(_metadata, o, "events_sent"));
	EXPECT_EQ(gr_get_u64(r.attrs[GOMEMGUARD_A_EVENTS_DROPPED]),
		  json_int(_metadata, o, "events_dropped"));
	ASSERT_NE(NULL, r.attrs[GOMEMGUARD_A_EXITS_QUIET]);
	EXPECT_EQ(gr_get_u64(r.attrs[GOMEMGUARD_A_EXITS_QUIET]),
		  json_int(_metadata, o, "exits_quiet"));
	EXPECT_EQ(gr_get_u32(r.attrs[GOMEMGUARD_A_EVENT_INTERVAL_MS]),
		  json_int(_metadata, o, "event_interval_ms"));
	EXPECT_EQ(gr_get_u32(r.attrs[GOMEMGUARD_A_EVENT_BURST]),
		  json_int(_metadata, o, "event_burst"));
	json_object_put(o);
}

TEST_F(cli, info_human_names_module_and_kernel)
{
	static const char *const argv[] = { "info", NULL };
	char want[256];
	struct gmg_run run;
	struct utsname u;

	ASSERT_EQ(0, uname(&u));
	ASSERT_EQ(0, gmg_run_ctl(&run, -1, argv));
	ASSERT_EQ(0, run.status) TH_LOG("stderr: %s", run.err);
	snprintf(want, sizeof(want), "gomemguard %s on %s", GMG_VERSION, u.release);
	EXPECT_NE(NULL, strstr(run.out, want)) TH_LOG("stdout: %s", run.out);
}

TEST_F(cli, config_changes_module_settings)
{
	static const char *const argv[] = {
		"config", "--event-interval", "2s", "--event-burst", "7", NULL
	};
	struct gmg_run run;
	struct gr_reply r;

	ASSERT_EQ(0, gmg_run_ctl(&run, -1, argv));
	ASSERT_EQ(0, run.status) TH_LOG("stderr: %s", run.err);
	raw_info(_metadata, self, &r);
	EXPECT_EQ(2000, gr_get_u32(r.attrs[GOMEMGUARD_A_EVENT_INTERVAL_MS]));
	EXPECT_EQ(7, gr_get_u32(r.attrs[GOMEMGUARD_A_EVENT_BURST]));
}

TEST_F(cli, kernel_extack_is_printed_verbatim)
{
	static const char *const argv[] = {
		"config", "--event-burst", "5000", NULL
	};
	struct gmg_run run;
	struct gr_reply r;
	struct gr_msg m;
	char want[512];

	/* What the kernel says to the same request over raw netlink. */
	gr_start(&m, self->family, GOMEMGUARD_CMD_CONFIG_SET,
		 GOMEMGUARD_GENL_VERSION);
	gr_put_u32(&m, GOMEMGUARD_A_EVENT_BURST, 5000);
	ASSERT_EQ(0, gr_transact(&self->s, &m, &r));
	ASSERT_EQ(-ERANGE, r.err);
	ASSERT_NE(0, strlen(r.extack));

	ASSERT_EQ(0, gmg_run_ctl(&run, -1, argv));
	EXPECT_EQ(1, run.status);
	snprintf(want, sizeof(want), "kernel reports: %s", r.extack);
	EXPECT_NE(NULL, strstr(run.err, want)) TH_LOG("stderr: %s", run.err);
}

TEST_F(cli, unprivileged_user_gets_a_clear_refusal)
{
	static const char *const info[] = { "info", NULL };
	static const char *const config[] = { "config", "--event-burst", "2", NULL };
	struct gmg_run run;
	struct gr_reply r;

	ASSERT_EQ(0, gmg_run_ctl(&run, NOBODY, info));
	EXPECT_EQ(1, run.status);
	EXPECT_NE(NULL, strstr(run.err, "Operation not permitted")) TH_LOG("stderr: %s", run.err);
	EXPECT_NE(NULL, strstr(run.err, "CAP_NET_ADMIN")) TH_LOG("stderr: %s", run.err);

	ASSERT_EQ(0, gmg_run_ctl(&run, NOBODY, config));
	EXPECT_EQ(1, run.status);
	EXPECT_NE(NULL, strstr(run.err, "Operation not permitted")) TH_LOG("stderr: %s", run.err);
	raw_info(_metadata, self, &r);
	EXPECT_EQ(GOMEMGUARD_EVENT_BURST_DEFAULT,
		  gr_get_u32(r.attrs[GOMEMGUARD_A_EVENT_BURST]));
}

TEST(version_flag)
{
	static const char *const argv[] = { "-V", NULL };
	struct gmg_run run;

	ASSERT_EQ(0, gmg_run_ctl(&run, -1, argv));
	EXPECT_EQ(0, run.status);
	EXPECT_STREQ("gomemctl " GMG_VERSION "\n", run.out);
}

TEST(usage_errors_exit_2)
{
	static const char *const none[] = { "config", NULL };
	static const char *const bogus[] = { "frobnicate", NULL };
	struct gmg_run run;

	ASSERT_EQ(0, gmg_run_ctl(&run, -1, none));
	EXPECT_EQ(2, run.status);
	ASSERT_EQ(0, gmg_run_ctl(&run, -1, bogus));
	EXPECT_EQ(2, run.status);
	EXPECT_NE(0, strlen(run.err));
}

static int read_file(const char *path, char *buf, size_t len)
{
	FILE *f = fopen(path, "r");
	size_t n;

	if (!f)
		return -errno;
	n = fread(buf, 1, len - 1, f);
	buf[n] = '\0';
	fclose(f);
	return 0;
}

/*
 * The operator's loop against the real module: monitor -j listening, tag a
 * process so small a soft limit that it is over every level at once, read
 * the events as JSON lines, show -j, untag.
 */
TEST_F(cli, tag_show_monitor_untag)
{
	static const char *const keys[] = {
		"event", "seq", "time_ns", "time", "time_unix_ns", "pid", "comm",
		"memcg", "anon_bytes", "swap_bytes", "shmem_bytes", "file_bytes",
		"rate_bytes_per_s", "eta_ms",
		"soft_limit_bytes", "level_pct", "memcg_usage_bytes",
		"memcg_max_bytes",
	};
	const char *ctl = getenv("GOMEMCTL");
	const char *ready = "/tmp/cli-monitor.ready", *out = "/tmp/cli-monitor.json";
	const char *sleeper[] = { "/bin/sleep", "1000", NULL };
	char pidstr[16], buf[16384], timeout[16], *line, *save;
	struct json_object *o, *v;
	struct gmg_run run;
	int i, status, warns = 0, last_level = 0;
	pid_t target, mon;

	ASSERT_NE(NULL, ctl);
	target = spawn(NULL, sleeper, NULL);
	ASSERT_LT(0, target);
	snprintf(pidstr, sizeof(pidstr), "%d", target);
	unlink(ready);
	/* A bound: monitor ends with its third event. */
	snprintf(timeout, sizeof(timeout), "%us", 20 * gmg_time_scale());
	{
		const char *argv[] = { ctl, "-j", "monitor", "--count", "3",
				       "--timeout", timeout, "--ready-file", ready, NULL };

		mon = spawn(NULL, argv, out);
	}
	ASSERT_LT(0, mon);
	for (i = 0; i < gmg_ms(10000) / 100 && access(ready, F_OK); i++)
		sleep_ms(100);
	ASSERT_EQ(0, access(ready, F_OK)) TH_LOG("monitor did not subscribe");
	{
		const char *const argv[] = { "tag", pidstr, "--soft-limit", "64K",
					     "--levels", "10,20,30", NULL };

		ASSERT_EQ(0, gmg_run_ctl(&run, -1, argv));
		EXPECT_EQ(0, run.status) TH_LOG("tag: %s", run.err);
	}
	ASSERT_EQ(mon, waitpid(mon, &status, 0));
	EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	ASSERT_EQ(0, read_file(out, buf, sizeof(buf)));
	for (line = strtok_r(buf, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		o = json_tokener_parse(line);
		ASSERT_NE(NULL, o) TH_LOG("not JSON: %s", line);
		/* Braces: the harness's TH_LOG is a statement of its own. */
		for (i = 0; i < (int)(sizeof(keys) / sizeof(keys[0])); i++) {
			EXPECT_TRUE(json_object_object_get_ex(o, keys[i], NULL))
				TH_LOG("key %s missing in %s", keys[i], line);
		}
		EXPECT_STREQ("warn", json_str(o, "event"));
		EXPECT_EQ(target, json_int(_metadata, o, "pid"));
		EXPECT_EQ(64 * 1024, json_int(_metadata, o, "soft_limit_bytes"));
		EXPECT_LT(last_level, json_int(_metadata, o, "level_pct"));
		last_level = json_int(_metadata, o, "level_pct");
		/* Not growing: no ETA, and it says so with null. */
		EXPECT_TRUE(json_object_object_get_ex(o, "eta_ms", &v) && !v);
		warns++;
		json_object_put(o);
	}
	EXPECT_EQ(3, warns);
	EXPECT_EQ(30, last_level);

	{
		const char *const argv[] = { "-j", "show", pidstr, NULL };

		ASSERT_EQ(0, gmg_run_ctl(&run, -1, argv));
		EXPECT_EQ(0, run.status) TH_LOG("show: %s", run.err);
		o = json_tokener_parse(run.out);
		ASSERT_NE(NULL, o) TH_LOG("not JSON: %s", run.out);
		ASSERT_TRUE(json_object_is_type(o, json_type_array));
		ASSERT_EQ(1, json_object_array_length(o));
		v = json_object_array_get_idx(o, 0);
		EXPECT_EQ(target, json_int(_metadata, v, "pid"));
		EXPECT_STREQ("sleep", json_str(v, "comm"));
		EXPECT_STREQ("pid", json_str(v, "source"));
		EXPECT_EQ(30, json_int(_metadata, v, "level_pct"));
		json_object_put(o);
	}
	{
		const char *const untag[] = { "untag", pidstr, NULL };
		const char *const again[] = { "untag", pidstr, NULL };

		ASSERT_EQ(0, gmg_run_ctl(&run, -1, untag));
		EXPECT_EQ(0, run.status) TH_LOG("untag: %s", run.err);
		ASSERT_EQ(0, gmg_run_ctl(&run, -1, again));
		EXPECT_EQ(1, run.status);
		EXPECT_NE(NULL, strstr(run.err, "kernel reports: process is not tagged"))
			TH_LOG("%s", run.err);
	}
	kill(target, SIGKILL);
	waitpid(target, NULL, 0);
}

/* Bad input through the CLI: the kernel's reason reaches the operator. */
TEST_F(cli, tag_errors_carry_the_kernels_reason)
{
	static const struct {
		const char *args[8];
		const char *says;
	} cases[] = {
		/* Out of the policy's range: the attribute and its bounds. */
		{ { "tag", "0", "--soft-limit", "64M" }, "pid: valid range 1.." },
		{ { "tag", "4000000", "--soft-limit", "64M" }, "no process" },
		{ { "tag", "1", "--soft-limit", "0" }, "soft_limit_bytes: valid range 1.." },
		{ { "tag", "1", "--soft-limit", "64M", "--levels", "90,80" }, "ascending" },
		{ { "tag", "1", "--soft-limit", "64M", "--levels", "80,2000" }, "1..1000" },
		{ { "tag", "--cgroup", "/sys/fs/cgroup/cgroup.procs", "--soft-limit", "64M" },
		  "not a cgroup" },
	};
	struct gmg_run run;
	int i;

	for (i = 0; i < (int)(sizeof(cases) / sizeof(cases[0])); i++) {
		ASSERT_EQ(0, gmg_run_ctl(&run, -1, cases[i].args));
		EXPECT_EQ(1, run.status) TH_LOG("case %d: %s", i, run.err);
		EXPECT_NE(NULL, strstr(run.err, "kernel reports: "))
			TH_LOG("case %d: %s", i, run.err);
		EXPECT_NE(NULL, strstr(run.err, cases[i].says))
			TH_LOG("case %d: %s", i, run.err);
	}
}

/* The process of @pidstr as `gomemctl -j show` has it; NULL: not listed. */
static struct json_object *show_one(struct __test_metadata *_metadata,
				    const char *pidstr, struct json_object **all)
{
	const char *const argv[] = { "-j", "show", NULL };
	struct gmg_run run;
	int i, n;

	*all = NULL;
	if (gmg_run_ctl(&run, -1, argv) || run.status)
		return NULL;
	*all = json_tokener_parse(run.out);
	if (!*all || !json_object_is_type(*all, json_type_array))
		return NULL;
	n = json_object_array_length(*all);
	for (i = 0; i < n; i++) {
		struct json_object *v = json_object_array_get_idx(*all, i);

		if (json_int(_metadata, v, "pid") == atoi(pidstr))
			return v;
	}
	return NULL;
}

/*
 * The verbs that change a cgroup tag, against the real module: `set
 * --cgroup --no-signal` disarms the fuse of every member (crossing the
 * soft limit then signals nothing), raising the soft limit far above
 * usage recovers (a RECOVER event after the warnings), and `untag
 * --cgroup` lets every member go.
 */
TEST_F(cli, cgroup_set_no_signal_recover_untag)
{
	const char *ctl = getenv("GOMEMCTL");
	const char *ready = "/tmp/cli-cg.ready", *out = "/tmp/cli-cg.json";
	const char *sleeper[] = { "/bin/sleep", "1000", NULL };
	char cg[256], pidstr[16], buf[16384], timeout[16], *line, *save;
	struct json_object *all, *v, *o;
	int i, status, warns = 0, recovers = 0;
	struct gmg_run run;
	pid_t target, mon;

	ASSERT_NE(NULL, ctl);
	ASSERT_EQ(0, cg_create("cli-cg", cg, sizeof(cg)));
	target = spawn(cg, sleeper, NULL);
	ASSERT_LT(0, target);
	snprintf(pidstr, sizeof(pidstr), "%d", target);
	{
		const char *const argv[] = { "tag", "--cgroup", cg, "--soft-limit", "1G",
					     "--levels", "10,20,30", "--signal", "USR1", NULL };

		ASSERT_EQ(0, gmg_run_ctl(&run, -1, argv));
		ASSERT_EQ(0, run.status) TH_LOG("tag --cgroup: %s", run.err);
	}
	for (i = 0; i < gmg_ms(3000) / 100 && !show_one(_metadata, pidstr, &all); i++) {
		json_object_put(all);
		sleep_ms(100);
	}
	v = show_one(_metadata, pidstr, &all);
	ASSERT_NE(NULL, v) TH_LOG("the cgroup's member %s is not watched", pidstr);
	EXPECT_STREQ("cgroup", json_str(v, "source"));
	EXPECT_EQ(SIGUSR1, json_int(_metadata, v, "signal"));
	json_object_put(all);
	{
		const char *const argv[] = { "set", "--cgroup", cg, "--no-signal", NULL };

		ASSERT_EQ(0, gmg_run_ctl(&run, -1, argv));
		ASSERT_EQ(0, run.status) TH_LOG("set --no-signal: %s", run.err);
	}
	v = show_one(_metadata, pidstr, &all);
	ASSERT_NE(NULL, v);
	EXPECT_TRUE(json_object_object_get_ex(v, "signal", &o) && !o)
		TH_LOG("the fuse is still armed");
	json_object_put(all);

	unlink(ready);
	snprintf(timeout, sizeof(timeout), "%us", 20 * gmg_time_scale());
	{
		const char *argv[] = { ctl, "-j", "monitor", "--count", "4",
				       "--timeout", timeout, "--ready-file", ready, NULL };

		mon = spawn(NULL, argv, out);
	}
	ASSERT_LT(0, mon);
	for (i = 0; i < gmg_ms(10000) / 100 && access(ready, F_OK); i++)
		sleep_ms(100);
	ASSERT_EQ(0, access(ready, F_OK)) TH_LOG("monitor did not subscribe");
	/* Far over the soft limit, with the fuse disarmed: warnings only. */
	{
		const char *const argv[] = { "set", "--cgroup", cg, "--soft-limit", "64K", NULL };

		ASSERT_EQ(0, gmg_run_ctl(&run, -1, argv));
		ASSERT_EQ(0, run.status) TH_LOG("set: %s", run.err);
	}
	for (i = 0; i < gmg_ms(5000) / 100; i++) {
		v = show_one(_metadata, pidstr, &all);
		if (v && json_int(_metadata, v, "level_pct") == 30)
			break;
		json_object_put(all);
		all = NULL;
		sleep_ms(100);
	}
	json_object_put(all);
	{
		const char *const argv[] = { "set", "--cgroup", cg, "--soft-limit", "1G", NULL };

		ASSERT_EQ(0, gmg_run_ctl(&run, -1, argv));
		ASSERT_EQ(0, run.status) TH_LOG("set: %s", run.err);
	}
	ASSERT_EQ(mon, waitpid(mon, &status, 0));
	EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0)
		TH_LOG("monitor ended with 0x%x before 4 events", status);
	ASSERT_EQ(0, read_file(out, buf, sizeof(buf)));
	for (line = strtok_r(buf, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		o = json_tokener_parse(line);
		ASSERT_NE(NULL, o) TH_LOG("not JSON: %s", line);
		EXPECT_EQ(target, json_int(_metadata, o, "pid"));
		if (!strcmp(json_str(o, "event"), "warn"))
			warns++;
		else if (!strcmp(json_str(o, "event"), "recover"))
			recovers += warns == 3;
		else
			TH_LOG("unexpected: %s", line);
		json_object_put(o);
	}
	EXPECT_EQ(3, warns);
	EXPECT_EQ(1, recovers) TH_LOG("no RECOVER after the three warnings");
	/* The disarmed fuse sent nothing: sleep would have died of SIGUSR1. */
	EXPECT_EQ(0, waitpid(target, &status, WNOHANG));
	v = show_one(_metadata, pidstr, &all);
	ASSERT_NE(NULL, v);
	EXPECT_EQ(0, json_int(_metadata, v, "signals_sent"));
	EXPECT_EQ(0, json_int(_metadata, v, "level_pct"));
	json_object_put(all);

	{
		const char *const untag[] = { "untag", "--cgroup", cg, NULL };

		ASSERT_EQ(0, gmg_run_ctl(&run, -1, untag));
		EXPECT_EQ(0, run.status) TH_LOG("untag --cgroup: %s", run.err);
		ASSERT_EQ(0, gmg_run_ctl(&run, -1, untag));
		EXPECT_EQ(1, run.status) TH_LOG("second untag: %s", run.err);
		EXPECT_NE(NULL, strstr(run.err, "kernel reports:")) TH_LOG("%s", run.err);
	}
	v = show_one(_metadata, pidstr, &all);
	EXPECT_EQ(NULL, v) TH_LOG("still watched after untag --cgroup");
	json_object_put(all);
	kill(target, SIGKILL);
	waitpid(target, NULL, 0);
	EXPECT_EQ(0, cg_destroy(cg));
}

TEST_HARNESS_MAIN
