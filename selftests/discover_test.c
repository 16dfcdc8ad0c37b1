// SPDX-License-Identifier: GPL-2.0
/*
 * gomemctl's Go awareness against real programs and the real module: a Go
 * 1.19 service started with GOMEMLIMIT=64MiB, another without it in a
 * memory cgroup with memory.max, and a C program.  discover finds the Go
 * ones by their ELF, with their version, GOMEMLIMIT and memory.max;
 * tag --go --all tags them with soft limits from GOMEMLIMIT and from
 * memory.max, which show reports with their origin and the classic
 * warning; C programs, and Go ones with no limit at all, are refused.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/wait.h>
#include <json-c/json.h>

#include <uapi/linux/gomemguard.h>

#include "cgroup_util.h"
#include "gmg_util.h"
#include "gmg_harness.h"

#define MIB ((int64_t)1 << 20)
/* The memcg limit of the service without GOMEMLIMIT, and 90 % of it. */
#define MEMCG_MAX (256 * MIB)
#define MEMCG_MAX_90 ((int64_t)241591910)

FIXTURE(go) {
	char cg_limit[256], cg_max[256], cg_c[256];
	pid_t limited, unlimited, c_prog;
	char limited_s[16], unlimited_s[16], c_s[16];
};

/*
 * gosleep in cg, started by env(1), which execs it: with GOMEMLIMIT=limit,
 * or without GOMEMLIMIT when limit is NULL.
 */
static pid_t start_go(const char *cg, const char *limit, const char *name)
{
	char bin[256], ready[300], log[300], set[64];
	const char *argv[10] = { "/usr/bin/env" };
	int n = 1;
	pid_t pid;

	snprintf(ready, sizeof(ready), "/tmp/discover-%s.ready", name);
	snprintf(log, sizeof(log), "/tmp/discover-%s.log", name);
	unlink(ready);
	if (limit) {
		snprintf(set, sizeof(set), "GOMEMLIMIT=%s", limit);
		argv[n++] = set;
	} else {
		argv[n++] = "-u";
		argv[n++] = "GOMEMLIMIT";
	}
	argv[n++] = workload("gosleep", bin, sizeof(bin));
	argv[n++] = "-heap";
	argv[n++] = "2M";
	argv[n++] = "-readyfile";
	argv[n++] = ready;
	pid = spawn(cg, argv, log);
	/* Ready means exec'd: /proc/PID/exe is gosleep, not env. */
	if (pid > 0 && wait_ready(ready, 30000)) {
		kill(pid, SIGKILL);
		waitpid(pid, NULL, 0);
		return -ETIMEDOUT;
	}
	return pid;
}

FIXTURE_SETUP(go)
{
	const char *sleeper[] = { "/bin/sleep", "1000", NULL };

	ASSERT_EQ(0, cg_create("golimit", self->cg_limit, sizeof(self->cg_limit)));
	ASSERT_EQ(0, cg_create("gomax", self->cg_max, sizeof(self->cg_max)));
	ASSERT_EQ(0, cg_create("cprog", self->cg_c, sizeof(self->cg_c)));
	ASSERT_EQ(0, cg_write(self->cg_max, "memory.max", "256M"));
	self->limited = start_go(self->cg_limit, "64MiB", "limited");
	ASSERT_LT(0, self->limited) TH_LOG("gosleep with GOMEMLIMIT did not start");
	self->unlimited = start_go(self->cg_max, NULL, "unlimited");
	ASSERT_LT(0, self->unlimited) TH_LOG("gosleep without GOMEMLIMIT did not start");
	self->c_prog = spawn(self->cg_c, sleeper, NULL);
	ASSERT_LT(0, self->c_prog);
	/* Until it has exec'd, it is this test, forked: no "sleep" yet. */
	ASSERT_EQ(0, wait_comm(self->c_prog, "sleep"));
	snprintf(self->limited_s, sizeof(self->limited_s), "%d", self->limited);
	snprintf(self->unlimited_s, sizeof(self->unlimited_s), "%d", self->unlimited);
	snprintf(self->c_s, sizeof(self->c_s), "%d", self->c_prog);
}

static void stop(pid_t pid)
{
	if (pid > 0) {
		kill(pid, SIGKILL);
		waitpid(pid, NULL, 0);
	}
}

/* Exit untags them. */
FIXTURE_TEARDOWN(go)
{
	stop(self->limited);
	stop(self->unlimited);
	stop(self->c_prog);
	cg_destroy(self->cg_limit);
	cg_destroy(self->cg_max);
	cg_destroy(self->cg_c);
}

static int64_t json_int(struct json_object *o, const char *key)
{
	struct json_object *v;

	if (!json_object_object_get_ex(o, key, &v) ||
	    !json_object_is_type(v, json_type_int))
		return -1;
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

/* Whether o's array "warnings" holds id. */
static int has_warning(struct json_object *o, const char *id)
{
	struct json_object *w;
	size_t i;

	if (!json_object_object_get_ex(o, "warnings", &w) ||
	    !json_object_is_type(w, json_type_array))
		return -1;
	for (i = 0; i < json_object_array_length(w); i++) {
		if (!strcmp(json_object_get_string(json_object_array_get_idx(w, i)), id))
			return 1;
	}
	return 0;
}

/* The entry of a JSON array with that pid, or NULL. */
static struct json_object *by_pid(struct json_object *a, pid_t pid)
{
	size_t i;

	for (i = 0; i < json_object_array_length(a); i++) {
		struct json_object *e = json_object_array_get_idx(a, i);

		if (json_int(e, "pid") == pid)
			return e;
	}
	return NULL;
}

TEST_F(go, discover_lists_the_go_programs)
{
	static const char *const argv[] = { "-j", "discover", NULL };
	struct json_object *o, *e;
	struct gmg_run run;

	ASSERT_EQ(0, gmg_run_ctl(&run, -1, argv));
	ASSERT_EQ(0, run.status) TH_LOG("stderr: %s", run.err);
	o = json_tokener_parse(run.out);
	ASSERT_NE(NULL, o) TH_LOG("not JSON: %s", run.out);
	ASSERT_TRUE(json_object_is_type(o, json_type_array));

	EXPECT_EQ(NULL, by_pid(o, self->c_prog)) TH_LOG("the C program is listed");
	e = by_pid(o, self->limited);
	ASSERT_NE(NULL, e) TH_LOG("gosleep with GOMEMLIMIT missing: %s", run.out);
	EXPECT_EQ(0, strncmp(json_str(e, "go_version"), "go1.19", 6))
		TH_LOG("go_version %s", json_str(e, "go_version"));
	EXPECT_STREQ("gomemguard/workloads/gosleep", json_str(e, "go_path"));
	EXPECT_STREQ("64MiB", json_str(e, "gomemlimit"));
	EXPECT_EQ(64 * MIB, json_int(e, "gomemlimit_bytes"));
	EXPECT_EQ(0, has_warning(e, "gomemlimit_unset"));
	EXPECT_STREQ("/gmgtest.golimit", json_str(e, "memcg"));

	e = by_pid(o, self->unlimited);
	ASSERT_NE(NULL, e) TH_LOG("gosleep without GOMEMLIMIT missing: %s", run.out);
	EXPECT_EQ(0, strncmp(json_str(e, "go_version"), "go1.19", 6));
	EXPECT_EQ(-1, json_int(e, "gomemlimit_bytes"));
	EXPECT_EQ(MEMCG_MAX, json_int(e, "memcg_max_bytes"));
	EXPECT_STREQ("/gmgtest.gomax", json_str(e, "memcg"));
	EXPECT_EQ(1, has_warning(e, "gomemlimit_unset")) TH_LOG("%s", run.out);
	json_object_put(o);
}

TEST_F(go, tag_go_all_takes_gomemlimit_or_memory_max)
{
	static const char *const tag[] = { "tag", "--go", "--all", NULL };
	static const char *const show[] = { "-j", "show", NULL };
	struct json_object *o, *e;
	struct gmg_run run;
	char want[128];

	ASSERT_EQ(0, gmg_run_ctl(&run, -1, tag));
	EXPECT_EQ(0, run.status) TH_LOG("stdout: %s\nstderr: %s", run.out, run.err);
	snprintf(want, sizeof(want),
		 "pid %d (gosleep): tagged, soft limit 64 MiB (GOMEMLIMIT=64MiB)",
		 self->limited);
	EXPECT_NE(NULL, strstr(run.out, want)) TH_LOG("stdout: %s", run.out);
	snprintf(want, sizeof(want),
		 "pid %d (gosleep): tagged, soft limit 230 MiB (90%% of memory.max 256 MiB)",
		 self->unlimited);
	EXPECT_NE(NULL, strstr(run.out, want)) TH_LOG("stdout: %s", run.out);
	EXPECT_EQ(NULL, strstr(run.out, self->c_s)) TH_LOG("stdout: %s", run.out);

	/* Again: both are watched already, which is no failure. */
	ASSERT_EQ(0, gmg_run_ctl(&run, -1, tag));
	EXPECT_EQ(0, run.status) TH_LOG("stderr: %s", run.err);
	EXPECT_NE(NULL, strstr(run.out, "already watched")) TH_LOG("%s", run.out);

	ASSERT_EQ(0, gmg_run_ctl(&run, -1, show));
	ASSERT_EQ(0, run.status) TH_LOG("stderr: %s", run.err);
	o = json_tokener_parse(run.out);
	ASSERT_NE(NULL, o) TH_LOG("not JSON: %s", run.out);
	EXPECT_EQ(NULL, by_pid(o, self->c_prog));
	e = by_pid(o, self->limited);
	ASSERT_NE(NULL, e) TH_LOG("%s", run.out);
	EXPECT_EQ(64 * MIB, json_int(e, "soft_limit_bytes"));
	EXPECT_STREQ("gomemlimit", json_str(e, "limit_origin"));
	EXPECT_EQ(0, has_warning(e, "gomemlimit_unset"));
	e = by_pid(o, self->unlimited);
	ASSERT_NE(NULL, e) TH_LOG("%s", run.out);
	EXPECT_EQ(MEMCG_MAX_90, json_int(e, "soft_limit_bytes"));
	EXPECT_STREQ("memcg_max", json_str(e, "limit_origin"));
	EXPECT_EQ(MEMCG_MAX, json_int(e, "memcg_max_bytes"));
	EXPECT_EQ(1, has_warning(e, "gomemlimit_unset")) TH_LOG("%s", run.out);
	json_object_put(o);
}

TEST_F(go, tag_go_refuses_c_programs_and_go_without_limits)
{
	const char *tag_c[] = { "tag", "--go", self->c_s, NULL };
	const char *tag_lonely[] = { "tag", "--go", NULL, NULL };
	const char *tag_given[] = { "tag", "--go", NULL, "--soft-limit", "32M", NULL };
	const char *show[] = { "-j", "show", NULL, NULL };
	char cg[256], pid_s[16], want[160];
	struct json_object *o;
	struct gmg_run run;
	pid_t lonely;

	ASSERT_EQ(0, gmg_run_ctl(&run, -1, tag_c));
	EXPECT_EQ(1, run.status);
	snprintf(want, sizeof(want), "pid %d (sleep): not a Go program", self->c_prog);
	EXPECT_NE(NULL, strstr(run.err, want)) TH_LOG("stderr: %s", run.err);

	/* No GOMEMLIMIT, in a memcg with no memory.max up to the root. */
	ASSERT_EQ(0, cg_create("golonely", cg, sizeof(cg)));
	lonely = start_go(cg, NULL, "lonely");
	ASSERT_LT(0, lonely);
	snprintf(pid_s, sizeof(pid_s), "%d", lonely);
	tag_lonely[2] = pid_s;
	ASSERT_EQ(0, gmg_run_ctl(&run, -1, tag_lonely));
	EXPECT_EQ(1, run.status);
	snprintf(want, sizeof(want),
		 "pid %d (gosleep): no --soft-limit, no GOMEMLIMIT and no memory.max: give --soft-limit",
		 lonely);
	EXPECT_NE(NULL, strstr(run.err, want)) TH_LOG("stderr: %s", run.err);

	/* Given a soft limit, it goes: origin user. */
	tag_given[2] = pid_s;
	ASSERT_EQ(0, gmg_run_ctl(&run, -1, tag_given));
	EXPECT_EQ(0, run.status) TH_LOG("stderr: %s", run.err);
	show[2] = pid_s;
	ASSERT_EQ(0, gmg_run_ctl(&run, -1, show));
	ASSERT_EQ(0, run.status) TH_LOG("stderr: %s", run.err);
	o = json_tokener_parse(run.out);
	ASSERT_NE(NULL, o) TH_LOG("not JSON: %s", run.out);
	ASSERT_EQ(1, json_object_array_length(o));
	EXPECT_EQ(32 * MIB, json_int(json_object_array_get_idx(o, 0),
				     "soft_limit_bytes"));
	EXPECT_STREQ("user", json_str(json_object_array_get_idx(o, 0),
				      "limit_origin"));
	json_object_put(o);
	stop(lonely);
	cg_destroy(cg);
}

TEST_HARNESS_MAIN
