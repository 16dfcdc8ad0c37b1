// SPDX-License-Identifier: GPL-2.0
/*
 * Policies: the rule files of tests/policies/good parse to the right rules;
 * each file of tests/policies/bad gives exactly the problems its
 * "# expect: LINE: TEXT" comments list, as "file:LINE: TEXT..."; cgroup
 * paths give the right unit and pod; the reconcile plan adds, keeps and
 * removes what it must and leaves tags made by hand alone; and "policy
 * apply" against the fake kernel sends that plan, remembers its own tags,
 * changes nothing the second time and untags only its own when the rule
 * goes; the monitor's watch reads the rules at start and on SIGHUP, and
 * says a missing or unreadable directory once.  KTAP on stdout.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <libgen.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <netlink/genl/genl.h>

#include "../goproc.h"
#include "../memstat.h"
#include "../nl.h"
#include "../policy.h"
#include "fake.h"

static const char *dir;		/* tests/policies */
static const char *skip_why;

/* policy_load() of path: its problems, and what it printed (freed by us). */
static int load(const char *path, struct policy_set *set, char **said)
{
	size_t len;
	FILE *errs = must(open_memstream(said, &len));
	int ret = policy_load(path, false, errs, set);

	fclose(errs);
	return ret;
}

static const struct policy_rule *rule(const struct policy_set *set,
				      const char *name)
{
	size_t i;

	for (i = 0; i < set->n; i++) {
		if (!strcmp(set->rules[i].name, name))
			return &set->rules[i];
	}
	return NULL;
}

static bool test_good(void)
{
	struct policy_set set;
	const struct policy_rule *r;
	char path[4096], *said;
	bool ok = true;
	int ret;

	snprintf(path, sizeof(path), "%s/good", dir);
	ret = load(path, &set, &said);
	if (ret || set.n != 4 || set.n_files != 5) {
		ok = fail("%d problems, %zu rules in %zu files; expected 0, 4 in 5 (one masked)",
			  ret, set.n, set.n_files);
		ktap_diag("said", said);
		goto out;
	}
	if (strcmp(set.rules[0].name, "10-services.conf") ||
	    strcmp(set.rules[3].name, "40-comm.conf"))
		ok = fail("rules not in lexical order");
	r = rule(&set, "10-services.conf");
	if (!r || r->target != POLICY_TARGET_CGROUP || r->cgroup_path.n != 2 ||
	    strcmp(r->cgroup_path.v[1], "/system.slice/db.service") ||
	    r->limit != POLICY_LIMIT_BYTES || r->limit_bytes != 1610612736 ||
	    r->s.n_levels != 3 || r->s.levels[1] != 85 || r->s.eta_ms != 60000 ||
	    r->s.signal != 10 || r->s.rate_window_ms != 10000 ||
	    r->s.has_inherit)
		ok = fail("10-services.conf parsed wrong");
	r = rule(&set, "20-units.conf");
	if (!r || r->target != POLICY_TARGET_CGROUP || r->unit.n != 1 ||
	    r->limit != POLICY_LIMIT_PERCENT || r->limit_pct != 80 ||
	    !r->s.has_inherit || r->s.inherit)
		ok = fail("20-units.conf parsed wrong");
	r = rule(&set, "30-go.conf");
	if (!r || r->target != POLICY_TARGET_PROCESS || !r->has_go_program ||
	    !r->go_program || r->exe.n != 2 || r->pod.n != 1 ||
	    r->limit != POLICY_LIMIT_GOMEMLIMIT || !r->s.inherit)
		ok = fail("30-go.conf parsed wrong");
	r = rule(&set, "40-comm.conf");
	if (!r || r->target != POLICY_TARGET_PROCESS || r->comm.n != 1 ||
	    r->limit_bytes != 268435456 || r->s.has_levels)
		ok = fail("40-comm.conf parsed wrong");
out:
	free(said);
	policy_free(&set);
	return ok;
}

/* One bad file: exactly the problems its "# expect:" lines say. */
static bool check_bad(const char *file)
{
	char *text, *line, *save = NULL, *said, want[8192];
	struct policy_set set;
	size_t len, n_want = 0, n_said = 0;
	FILE *f = must(fopen(file, "re"));
	bool ok = true;
	int ret;

	text = must(calloc(1, 1 << 16));
	len = fread(text, 1, (1 << 16) - 1, f);
	fclose(f);
	text[len] = '\0';
	ret = load(file, &set, &said);
	for (line = strtok_r(text, "\n", &save); line;
	     line = strtok_r(NULL, "\n", &save)) {
		if (strncmp(line, "# expect: ", 10))
			continue;
		n_want++;
		snprintf(want, sizeof(want), "%s:%s", file, line + 10);
		if (!strstr(said, want))
			ok = fail("%s: no \"%s\"", file, want);
	}
	for (line = said; (line = strchr(line, '\n')); line++)
		n_said++;
	if (ret != (int)n_want || n_said != n_want || set.n)
		ok = fail("%s: %d problems, %zu lines, %zu rules; expected %zu, %zu, 0",
			  file, ret, n_said, set.n, n_want, n_want);
	if (!ok)
		ktap_diag("said", said);
	free(said);
	free(text);
	policy_free(&set);
	return ok;
}

static bool test_bad(void)
{
	static const char *const files[] = {
		"unknown-key", "unknown-section", "duplicate", "values",
		"soft-limit", "soft-limit-big", "no-match", "no-match-section",
		"no-soft-limit", "conflict-gomemlimit", "conflict-go-no",
		"syntax", "relative-exe", "empty", "long-line",
	};
	char path[4096];
	bool ok = true;
	size_t i;

	for (i = 0; i < ARRAY_SIZE_T(files); i++) {
		snprintf(path, sizeof(path), "%s/bad/%s.conf", dir, files[i]);
		ok &= check_bad(path);
	}
	return ok;
}

/* A directory holding good and bad rules: only the good ones are kept. */
static bool test_bad_dir(void)
{
	struct policy_set set;
	char path[4096], *said;
	int ret;
	bool ok = true;

	snprintf(path, sizeof(path), "%s/bad", dir);
	ret = load(path, &set, &said);
	if (ret < 15 || set.n)
		ok = fail("%d problems and %zu rules in bad/", ret, set.n);
	free(said);
	policy_free(&set);
	ret = policy_load("/nonexistent/policy.d", true, stderr, &set);
	if (ret || set.n)
		ok = fail("a missing directory, missing_ok: %d", ret);
	return ok;
}

/* Writes text as dir/name, making dir. */
static void write_file(const char *d, const char *name, const char *text)
{
	char path[4096];
	FILE *f;

	mkdir(d, 0755);
	snprintf(path, sizeof(path), "%s/%s", d, name);
	f = must(fopen(path, "we"));
	fputs(text, f);
	fclose(f);
}

static char *tmpdir(void)
{
	char *d = must(strdup("/tmp/policy_test.XXXXXX"));

	return must(mkdtemp(d));
}

/* What systemd's parser takes: a BOM, CRLF, comments, blanks around "=". */
static bool test_syntax(void)
{
	char *d = tmpdir(), path[256], *said;
	struct policy_set set;
	bool ok = true;
	int ret;

	write_file(d, "a.conf",
		   "\xef\xbb\xbf# comment\r\n; another\r\n\r\n  [Match]  \r\n"
		   "  Comm =  api worker-*  \r\n[Tag]\r\nSoftLimit= 2G\r\n"
		   "Levels=50%,100%\r\n");
	snprintf(path, sizeof(path), "%.200s/a.conf", d);
	ret = load(path, &set, &said);
	if (ret || set.n != 1 || set.rules[0].comm.n != 2 ||
	    strcmp(set.rules[0].comm.v[1], "worker-*") ||
	    set.rules[0].limit_bytes != 2147483648ULL ||
	    set.rules[0].s.n_levels != 2 || set.rules[0].s.levels[0] != 50) {
		ok = fail("%d problems, %zu rules", ret, set.n);
		ktap_diag("said", said);
	}
	free(said);
	policy_free(&set);
	fake_remove_tree(d);
	free(d);
	return ok;
}

static bool test_units_pods(void)
{
	static const struct {
		const char *path, *unit, *pod;
	} cases[] = {
		{ "/system.slice/api.service", "api.service", NULL },
		{ "/system.slice/api.service/worker", "api.service", NULL },
		{ "/user.slice/user-1000.slice/session-2.scope", "session-2.scope", NULL },
		{ "/system.slice", "system.slice", NULL },
		{ "/", NULL, NULL },
		{ "/kubepods/burstable/pod0a1b2c3d-1111-2222-3333-444455556666/abc",
		  NULL, "0a1b2c3d-1111-2222-3333-444455556666" },
		{ "/kubepods/pod77/c1", NULL, "77" },
		{ "/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod0a1b2c3d_1111_2222_3333_444455556666.slice/cri-containerd-ab12.scope",
		  "cri-containerd-ab12.scope", "0a1b2c3d-1111-2222-3333-444455556666" },
		{ "/kubepods.slice/kubepods-pod99.slice", "kubepods-pod99.slice", "99" },
		{ "/other/pod12", NULL, NULL },
	};
	char buf[256];
	bool ok = true, got;
	size_t i;

	for (i = 0; i < ARRAY_SIZE_T(cases); i++) {
		got = policy_cgroup_unit(cases[i].path, buf, sizeof(buf));
		if (got != !!cases[i].unit || (got && strcmp(buf, cases[i].unit)))
			ok = fail("unit of %s: %s, expected %s", cases[i].path,
				  got ? buf : "none",
				  cases[i].unit ? cases[i].unit : "none");
		got = policy_cgroup_pod(cases[i].path, buf, sizeof(buf));
		if (got != !!cases[i].pod || (got && strcmp(buf, cases[i].pod)))
			ok = fail("pod of %s: %s, expected %s", cases[i].path,
				  got ? buf : "none",
				  cases[i].pod ? cases[i].pod : "none");
	}
	return ok;
}

/* A policy.d of the rules given as name, text, ..., NULL; loaded. */
static void rules(const char *d, struct policy_set *set, ...)
{
	const char *name, *text;
	va_list ap;
	char *said;

	va_start(ap, set);
	while ((name = va_arg(ap, const char *))) {
		text = va_arg(ap, const char *);
		write_file(d, name, text);
	}
	va_end(ap);
	if (load(d, set, &said))
		ktap_diag("rules", said);
	free(said);
}

static const struct policy_action *find_action(const struct policy_plan *p,
					       enum policy_op op,
					       const char *cgroup, int pid)
{
	size_t i;

	for (i = 0; i < p->n; i++) {
		const struct policy_action *a = &p->a[i];

		if (a->op != op)
			continue;
		if (cgroup ? a->cgroup && !strcmp(a->path, cgroup) :
			     !a->cgroup && a->pid == pid)
			return a;
	}
	return NULL;
}

static struct policy_owned owned(bool cgroup, const char *path, int pid,
				 uint64_t start, const char *rule_name,
				 uint64_t soft)
{
	return (struct policy_owned){
		.cgroup = cgroup, .path = path ? must(strdup(path)) : NULL,
		.pid = pid, .start = start, .rule = must(strdup(rule_name)),
		.soft_limit = soft,
	};
}

#define MIB (1024ULL * 1024)

/*
 * The plan, from a snapshot made by hand: cgroup rules by path and unit,
 * process rules by comm and Go, GOMEMLIMIT and memory.max percentages,
 * first match wins, keep, re-tag, remove, hand-made tags, PID reuse.
 */
static bool test_plan(void)
{
	char *d = tmpdir();
	struct policy_set set;
	struct policy_plan plan;
	struct policy_cgroup cgroups[] = {
		{ "/", false, 0 },
		{ "/system.slice", false, 0 },
		{ "/system.slice/api.service", true, 1024 * MIB },
		{ "/system.slice/db.service", true, 2048 * MIB },
		{ "/system.slice/hand.service", false, 0 },
		{ "/system.slice/nomax.service", false, 0 },
		{ "/system.slice/batch.service", true, 100 * MIB },
	};
	struct policy_proc procs[] = {
		{ 100, 5, "worker-1", "/usr/bin/worker", "/app.slice/w.service", false, false, false, 0, 0 },
		{ 101, 6, "goapp", "/opt/go/bin/goapp", "/app.slice/g.service", true, true, true, 64 * MIB, 512 * MIB },
		{ 102, 7, "gonolimit", "/opt/go/bin/x", "/app.slice/g.service", true, false, true, 0, 512 * MIB },
		{ 103, 8, "worker-2", "/usr/bin/worker", "/system.slice/api.service", false, false, true, 0, 1024 * MIB },
		{ 104, 9, "worker-3", "/usr/bin/worker", "/app.slice/w.service", false, false, false, 0, 0 },
		{ 105, 99, "worker-4", "/usr/bin/worker", "/app.slice/w.service", false, false, false, 0, 0 },
		{ 106, 11, "sh", "/bin/sh", "/app.slice/w.service", false, false, false, 0, 0 },
		{ 108, 50, "other", "/bin/other", "/app.slice/w.service", false, false, false, 0, 0 },
	};
	struct policy_ktag ktags[] = {
		{ true, "/system.slice/db.service", 0, 0 },
		{ true, "/system.slice/hand.service", 0, 0 },
		{ true, "/system.slice/gone.service", 0, 0 },
		{ false, NULL, 104, GOMEMGUARD_SOURCE_PID },
		{ false, NULL, 105, GOMEMGUARD_SOURCE_PID },
		{ false, NULL, 106, GOMEMGUARD_SOURCE_PID },
		{ false, NULL, 108, GOMEMGUARD_SOURCE_PID },
	};
	struct policy_snapshot snap = {
		.procs = procs, .n_procs = ARRAY_SIZE_T(procs),
		.cgroups = cgroups, .n_cgroups = ARRAY_SIZE_T(cgroups),
		.ktags = ktags, .n_ktags = ARRAY_SIZE_T(ktags),
	};
	struct policy_owned own[6];
	const struct policy_action *a;
	bool ok = true;

	rules(d, &set,
	      "10-api.conf", "[Match]\nCgroupPath=/system.slice/api.service /system.slice/db.service /system.slice/hand.service\n[Tag]\nSoftLimit=512M\n",
	      "20-pct.conf", "[Match]\nUnit=*.service\n[Tag]\nSoftLimit=50%\n",
	      "30-go.conf", "[Match]\nGoProgram=yes\n[Tag]\nSoftLimit=GOMEMLIMIT\n",
	      "40-worker.conf", "[Match]\nComm=worker-*\nCgroupPath=/app.slice/* /system.slice/*\n[Tag]\nSoftLimit=100M\nInherit=yes\n",
	      NULL);
	own[0] = owned(true, "/system.slice/db.service", 0, 0, "10-api.conf", 512 * MIB);
	own[1] = owned(true, "/system.slice/gone.service", 0, 0, "10-api.conf", 512 * MIB);
	own[2] = owned(false, NULL, 104, 9, "40-worker.conf", 50 * MIB);
	/* PID 105 was ours, but it is another process now (start 99). */
	own[3] = owned(false, NULL, 105, 10, "40-worker.conf", 100 * MIB);
	/* Ours once, but its tag is gone from the kernel. */
	own[4] = owned(false, NULL, 107, 12, "40-worker.conf", 100 * MIB);
	/* Ours once, no rule wants it now, but the PID is another's (start 50). */
	own[5] = owned(false, NULL, 108, 40, "40-worker.conf", 100 * MIB);
	snap.owned = own;
	snap.n_owned = ARRAY_SIZE_T(own);
	if (set.n != 4 || policy_plan(&set, &snap, &plan)) {
		ok = fail("%zu rules, or no plan", set.n);
		goto out;
	}
	a = find_action(&plan, POLICY_ADD, "/system.slice/api.service", 0);
	if (!a || a->s.soft_limit != 512 * MIB || strcmp(a->rule_name, "10-api.conf") ||
	    a->s.limit_origin != GOMEMGUARD_ORIGIN_USER)
		ok = fail("api.service: not added by 10-api.conf with 512M");
	if (!find_action(&plan, POLICY_KEEP, "/system.slice/db.service", 0))
		ok = fail("db.service: not kept");
	a = find_action(&plan, POLICY_SKIP, "/system.slice/hand.service", 0);
	if (!a || !strstr(a->why, "not by a policy"))
		ok = fail("hand.service: not skipped as hand-made");
	if (find_action(&plan, POLICY_REMOVE, "/system.slice/hand.service", 0))
		ok = fail("hand.service: a hand-made tag is removed");
	a = find_action(&plan, POLICY_REMOVE, "/system.slice/gone.service", 0);
	if (!a)
		ok = fail("gone.service: the engine's tag no rule wants is not removed");
	a = find_action(&plan, POLICY_ADD, "/system.slice/batch.service", 0);
	if (!a || a->s.soft_limit != 50 * MIB ||
	    a->s.limit_origin != GOMEMGUARD_ORIGIN_MEMCG_MAX)
		ok = fail("batch.service: not 50%% of its 100M memory.max");
	a = find_action(&plan, POLICY_SKIP, "/system.slice/nomax.service", 0);
	if (!a || !strstr(a->why, "memory.max"))
		ok = fail("nomax.service: not skipped for want of memory.max");
	if (find_action(&plan, POLICY_ADD, "/system.slice", 0) ||
	    find_action(&plan, POLICY_ADD, "/", 0))
		ok = fail("a slice or the root matched Unit=*.service");
	a = find_action(&plan, POLICY_ADD, NULL, 100);
	if (!a || a->s.soft_limit != 100 * MIB || !a->s.inherit ||
	    strcmp(a->rule_name, "40-worker.conf"))
		ok = fail("pid 100: not added by 40-worker.conf");
	a = find_action(&plan, POLICY_ADD, NULL, 101);
	if (!a || a->s.soft_limit != 64 * MIB ||
	    a->s.limit_origin != GOMEMGUARD_ORIGIN_GOMEMLIMIT)
		ok = fail("pid 101: not added with its GOMEMLIMIT");
	a = find_action(&plan, POLICY_SKIP, NULL, 102);
	if (!a || !strstr(a->why, "GOMEMLIMIT"))
		ok = fail("pid 102: not skipped for want of GOMEMLIMIT");
	a = find_action(&plan, POLICY_SKIP, NULL, 103);
	if (!a || !strstr(a->why, "cgroup tag"))
		ok = fail("pid 103: in a cgroup this plan tags, not skipped");
	/* Ours with 50M: the rule says 100M now, so untag and tag again. */
	if (!find_action(&plan, POLICY_REMOVE, NULL, 104) ||
	    !(a = find_action(&plan, POLICY_ADD, NULL, 104)) ||
	    a->s.soft_limit != 100 * MIB)
		ok = fail("pid 104: a changed soft limit is not re-tagged");
	a = find_action(&plan, POLICY_SKIP, NULL, 105);
	if (!a || !strstr(a->why, "not by a policy") ||
	    find_action(&plan, POLICY_REMOVE, NULL, 105) ||
	    find_action(&plan, POLICY_ADD, NULL, 105))
		ok = fail("pid 105: a reused PID tagged by hand is not left alone as hand-made");
	if (find_action(&plan, POLICY_REMOVE, NULL, 108))
		ok = fail("pid 108: a reused PID tagged by hand is removed");
	if (find_action(&plan, POLICY_REMOVE, NULL, 106) ||
	    find_action(&plan, POLICY_REMOVE, NULL, 107))
		ok = fail("pid 106/107: removed without being ours in the kernel");
	if (!ok) {
		for (size_t i = 0; i < plan.n; i++)
			printf("# plan: op %d %s %d %s: %s\n", plan.a[i].op,
			       plan.a[i].path ? plan.a[i].path : "-",
			       plan.a[i].pid, plan.a[i].rule_name,
			       plan.a[i].why ? plan.a[i].why : "");
	}
	policy_plan_free(&plan);
out:
	policy_free(&set);
	fake_remove_tree(d);
	free(d);
	for (size_t i = 0; i < ARRAY_SIZE_T(own); i++) {
		free(own[i].path);
		free(own[i].rule);
	}
	return ok;
}

static bool test_state(void)
{
	char *d = tmpdir(), path[4096];
	struct policy_owned in[2], *out = NULL;
	size_t n = 0;
	bool ok = true;
	int err;

	in[0] = owned(true, "/a b/c.service", 0, 0, "10-x.conf", 42);
	in[1] = owned(false, NULL, 4711, 123456789012ULL, "20-y.conf", 7);
	snprintf(path, sizeof(path), "%s/run/policy.state", d);
	err = policy_state_write(path, in, 2);
	if (!err)
		err = policy_state_read(path, &out, &n);
	if (err || n != 2 || !out[0].cgroup || strcmp(out[0].path, "/a b/c.service") ||
	    strcmp(out[0].rule, "10-x.conf") || out[0].soft_limit != 42 ||
	    out[1].cgroup || out[1].pid != 4711 || out[1].start != 123456789012ULL ||
	    strcmp(out[1].rule, "20-y.conf") || out[1].soft_limit != 7)
		ok = fail("state file round trip: %d, %zu entries", err, n);
	policy_owned_free(out, n);
	snprintf(path, sizeof(path), "%s/none", d);
	if (policy_state_read(path, &out, &n) || n)
		ok = fail("a missing state file is not empty");
	free(in[0].path);
	free(in[0].rule);
	free(in[1].rule);
	fake_remove_tree(d);
	free(d);
	return ok;
}

/*
 * The fake kernel for apply: the tags it holds, changed by TAG_NEW and
 * TAG_DEL, and a log of both.
 */
#define MAX_KTAGS 16
static struct {
	char cgroup[MAX_KTAGS][256];
	int pid[MAX_KTAGS];
	size_t n;
	char log[2048];
} kern;

static void kern_add(const char *cgroup, int pid)
{
	snprintf(kern.cgroup[kern.n], sizeof(kern.cgroup[0]), "%s",
		 cgroup ? cgroup : "");
	kern.pid[kern.n++] = pid;
}

static void answer(struct nlmsghdr *req)
{
	struct genlmsghdr *gnlh = nlmsg_data(req);
	struct nlattr *tb[GOMEMGUARD_A_MAX + 1];
	struct nl_msg *m;
	size_t i, len = strlen(kern.log);
	const char *cg;
	int pid;

	nla_parse(tb, GOMEMGUARD_A_MAX, genlmsg_attrdata(gnlh, 0),
		  genlmsg_attrlen(gnlh, 0), NULL);
	cg = tb[GOMEMGUARD_A_CGROUP] ? nla_get_string(tb[GOMEMGUARD_A_CGROUP]) : NULL;
	pid = tb[GOMEMGUARD_A_PID] ? (int)nla_get_u32(tb[GOMEMGUARD_A_PID]) : 0;
	switch (gnlh->cmd) {
	case GOMEMGUARD_CMD_PROC_GET:
	case GOMEMGUARD_CMD_TAG_GET:
		for (i = 0; i < kern.n; i++) {
			bool is_cg = kern.cgroup[i][0];

			if (is_cg != (gnlh->cmd == GOMEMGUARD_CMD_TAG_GET))
				continue;
			m = fake_reply(req, gnlh->cmd, NLM_F_MULTI);
			if (is_cg) {
				nla_put_string(m, GOMEMGUARD_A_CGROUP, kern.cgroup[i]);
			} else {
				nla_put_u32(m, GOMEMGUARD_A_PID, (uint32_t)kern.pid[i]);
				nla_put_u32(m, GOMEMGUARD_A_SOURCE, GOMEMGUARD_SOURCE_PID);
			}
			fake_queue(m, NULL);
		}
		fake_queue(fake_done(req, 0, NULL), NULL);
		return;
	case GOMEMGUARD_CMD_TAG_NEW:
		snprintf(kern.log + len, sizeof(kern.log) - len, "new %s %" PRIu64 "\n",
			 cg ? cg : "pid", tb[GOMEMGUARD_A_SOFT_LIMIT] ?
			 nla_get_u64(tb[GOMEMGUARD_A_SOFT_LIMIT]) : 0);
		if (!cg) {
			len = strlen(kern.log);
			snprintf(kern.log + len - 1, sizeof(kern.log) - len + 1,
				 " %d\n", pid);
		}
		kern_add(cg, pid);
		break;
	case GOMEMGUARD_CMD_TAG_DEL:
		snprintf(kern.log + len, sizeof(kern.log) - len, "del %s\n",
			 cg ? cg : "pid");
		for (i = 0; i < kern.n; i++) {
			if (cg ? !strcmp(kern.cgroup[i], cg) :
				 !kern.cgroup[i][0] && kern.pid[i] == pid) {
				kern.n--;
				memmove(&kern.cgroup[i], &kern.cgroup[i + 1],
					(kern.n - i) * sizeof(kern.cgroup[0]));
				memmove(&kern.pid[i], &kern.pid[i + 1],
					(kern.n - i) * sizeof(kern.pid[0]));
				break;
			}
		}
		break;
	default:
		fake_queue(fake_ack(req, -EOPNOTSUPP, true, NULL), NULL);
		return;
	}
	fake_queue(fake_ack(req, 0, true, NULL), NULL);
}

/* policy_reconcile(), its stdout thrown away; its exit code. */
static int reconcile(const char *d, const char *state)
{
	int saved = dup(STDOUT_FILENO), null = open("/dev/null", O_WRONLY), ret;

	fflush(stdout);
	dup2(null, STDOUT_FILENO);
	ret = policy_reconcile("policy", d, state, 0);
	fflush(stdout);
	dup2(saved, STDOUT_FILENO);
	close(saved);
	close(null);
	return ret;
}

static bool log_is(const char *when, const char *want)
{
	bool ok = !strcmp(kern.log, want);

	if (!ok) {
		fail("%s: the kernel was sent other requests", when);
		ktap_diag("sent", kern.log);
		ktap_diag("expected", want);
		ktap_diag("said", fake_said);
	}
	kern.log[0] = '\0';
	fake_reset();
	fake_answer_with(answer);
	return ok;
}

/* A /proc/PID as read_proc() reads it. */
static void fake_proc(const char *procfs, int pid, const char *comm,
		      const char *cgroup)
{
	char d[256], text[512];

	snprintf(d, sizeof(d), "%.200s/%d", procfs, pid);
	snprintf(text, sizeof(text), "%d (%s) S 1 1 1 0 -1 4194560 0 0 0 0 0 0 0 0 20 0 1 0 777 0 0\n",
		 pid, comm);
	write_file(d, "stat", text);
	snprintf(text, sizeof(text), "%s\n", comm);
	write_file(d, "comm", text);
	snprintf(text, sizeof(text), "0::%s\n", cgroup);
	write_file(d, "cgroup", text);
	snprintf(text, sizeof(text), "%s/exe", d);
	if (symlink("/bin/sh", text))
		fail("symlink %s: %s", text, strerror(errno));
}

static bool test_apply(void)
{
	char *d = tmpdir(), rules_dir[256], state[256], cg[512], procfs[256];
	const char *saved_root = goproc_root;
	bool ok = true;
	int ret;

	if (skip_why)
		return true;
	snprintf(rules_dir, sizeof(rules_dir), "%.200s/policy.d", d);
	snprintf(state, sizeof(state), "%.200s/run/policy.state", d);
	snprintf(cg, sizeof(cg), "%.200s/cgroup", d);
	snprintf(procfs, sizeof(procfs), "%.200s/proc", d);
	mkdir(cg, 0755);
	mkdir(procfs, 0755);
	fake_memcg_files(cg, "/system.slice/api.service", NULL, NULL);
	fake_memcg_files(cg, "/system.slice/hand.service", NULL, NULL);
	fake_memcg_files(cg, "/app.slice/w.service", NULL, NULL);
	write_file(cg, "app.slice/w.service/memory.max", "209715200\n");
	fake_proc(procfs, 4242, "worker", "/app.slice/w.service");
	fake_proc(procfs, 4243, "other", "/app.slice/w.service");
	setenv(MEMSTAT_ROOT_ENV, cg, 1);
	goproc_root = procfs;
	write_file(rules_dir, "10-api.conf",
		   "[Match]\nUnit=api.service hand.service\n[Tag]\nSoftLimit=512M\n");
	write_file(rules_dir, "20-worker.conf",
		   "[Match]\nComm=worker\n[Tag]\nSoftLimit=50%\n");

	memset(&kern, 0, sizeof(kern));
	kern_add("/system.slice/hand.service", 0);	/* made by hand */
	kern_add(NULL, 4243);				/* made by hand */
	fake_reset();
	fake_answer_with(answer);

	ret = reconcile(rules_dir, state);
	if (ret)
		ok = fail("first apply: exit %d", ret);
	ok &= log_is("first apply",
		     "new /system.slice/api.service 536870912\n"
		     "new pid 104857600 4242\n");
	ret = reconcile(rules_dir, state);
	if (ret)
		ok = fail("second apply: exit %d", ret);
	ok &= log_is("second apply, nothing changed", "");

	/* The api rule goes: its tag goes, the hand-made ones stay. */
	snprintf(cg, sizeof(cg), "%s/10-api.conf", rules_dir);
	unlink(cg);
	ret = reconcile(rules_dir, state);
	if (ret)
		ok = fail("apply without 10-api.conf: exit %d", ret);
	ok &= log_is("apply without 10-api.conf", "del /system.slice/api.service\n");
	unlink(cg);
	snprintf(cg, sizeof(cg), "%s/20-worker.conf", rules_dir);
	unlink(cg);
	ret = reconcile(rules_dir, state);
	ok &= log_is("apply without rules", "del pid\n");
	if (kern.n != 2 || strcmp(kern.cgroup[0], "/system.slice/hand.service") ||
	    kern.pid[1] != 4243)
		ok = fail("the hand-made tags are not the ones left (%zu tags)",
			  kern.n);

	/* A dry run while the module is away asks nothing, writes nothing. */
	write_file(rules_dir, "20-worker.conf",
		   "[Match]\nComm=worker\n[Tag]\nSoftLimit=50%\n");
	unlink(state);
	gmc_nl_module_dir = "/nonexistent/module";
	{
		int saved = dup(STDOUT_FILENO), null = open("/dev/null", O_WRONLY);

		fflush(stdout);
		dup2(null, STDOUT_FILENO);
		ret = policy_reconcile("policy", rules_dir, state, POLICY_DRY_RUN);
		fflush(stdout);
		dup2(saved, STDOUT_FILENO);
		close(saved);
		close(null);
	}
	gmc_nl_module_dir = "/sys/module/gomemguard";
	if (ret || fake_log->n_reqs || !access(state, F_OK) ||
	    !strstr(fake_said, "not loaded: planning against no tags"))
		ok = fail("dry run without the module: exit %d, %u requests, state file %s",
			  ret, fake_log->n_reqs, access(state, F_OK) ? "absent" : "written");
	ok &= log_is("dry run without the module", "");
	unlink(cg);

	/* A broken rule file: exit 2, nothing sent at all. */
	write_file(rules_dir, "30-bad.conf", "[Match]\nComm=worker\n[Tag]\nSoftLimit=lots\n");
	ret = reconcile(rules_dir, state);
	if (ret != 2)
		ok = fail("apply with a broken rule: exit %d, expected 2", ret);
	ok &= log_is("apply with a broken rule", "");

	unsetenv(MEMSTAT_ROOT_ENV);
	goproc_root = saved_root;
	fake_remove_tree(d);
	free(d);
	return ok;
}

/* A SIGHUP to ourselves, seen on the watch's descriptor. */
static bool hup(struct policy_watch *w)
{
	struct pollfd pfd = { .fd = policy_watch_fd(w), .events = POLLIN };

	raise(SIGHUP);
	if (poll(&pfd, 1, 5000) != 1)
		return fail("SIGHUP did not make the watch's descriptor readable");
	return true;
}

/*
 * monitor --policy-dir's side: the rules applied at start, read again on
 * SIGHUP (broken ones reported, the old ones kept), nothing done while the
 * module is not loaded.
 */
static bool test_watch(void)
{
	char *d = tmpdir(), rules_dir[256], state[256], cg[256], procfs[256];
	const char *saved_root = goproc_root;
	struct policy_watch *w = NULL;
	bool ok = true;
	int ret;

	if (skip_why)
		return true;
	snprintf(rules_dir, sizeof(rules_dir), "%.200s/policy.d", d);
	snprintf(state, sizeof(state), "%.200s/policy.state", d);
	snprintf(cg, sizeof(cg), "%.200s/cgroup", d);
	snprintf(procfs, sizeof(procfs), "%.200s/proc", d);
	mkdir(cg, 0755);
	mkdir(procfs, 0755);
	fake_memcg_files(cg, "/system.slice/api.service", NULL, NULL);
	setenv(MEMSTAT_ROOT_ENV, cg, 1);
	goproc_root = procfs;
	gmc_nl_module_dir = d;
	write_file(rules_dir, "10-api.conf",
		   "[Match]\nUnit=api.service\n[Tag]\nSoftLimit=1G\n");
	memset(&kern, 0, sizeof(kern));
	fake_reset();
	fake_answer_with(answer);

	ret = policy_watch_new("monitor", rules_dir, state, &w);
	if (ret || !w) {
		ok = fail("policy_watch_new: %d", ret);
		goto out;
	}
	if (!strstr(fake_said, "monitor: policy: tagged cgroup /system.slice/api.service (10-api.conf), soft limit 1 GiB from user"))
		ok = fail("the tag made at start is not said");
	ok &= log_is("at start", "new /system.slice/api.service 1073741824\n");
	write_file(rules_dir, "10-api.conf", "[Match]\nUnit=api.service\n[Tag]\nSoftLimit=1X\n");
	if (hup(w))
		policy_watch_event(w);
	ok &= log_is("SIGHUP with a broken rule: the old one stays", "");
	snprintf(cg, sizeof(cg), "%.200s/10-api.conf", rules_dir);
	unlink(cg);
	gmc_nl_module_dir = "/nonexistent/module";
	if (hup(w))
		policy_watch_event(w);
	ok &= log_is("module not loaded: nothing asked", "");
	gmc_nl_module_dir = d;
	policy_watch_event(w);
	ok &= log_is("rule gone after SIGHUP, module back", "del /system.slice/api.service\n");
out:
	policy_watch_free(w);
	unsetenv(MEMSTAT_ROOT_ENV);
	goproc_root = saved_root;
	fake_remove_tree(d);
	free(d);
	return ok;
}

/* What was said holds want exactly once (want NULL: nothing was said). */
static bool said_once(const char *when, const char *want)
{
	const char *at = want ? strstr(fake_said, want) : NULL;
	bool ok = want ? at && !strstr(at + 1, want) : !*fake_said;

	if (!ok) {
		fail("%s: %s", when, want ? "not said exactly once" :
			 "something was said");
		ktap_diag("said", fake_said);
		if (want)
			ktap_diag("expected once", want);
	}
	return ok;
}

/*
 * monitor --policy-dir DIR when DIR is missing or cannot be read: said with
 * its path and why, once per change of state and never at every rescan;
 * the watch goes on, missing DIR holding no rules, an unreadable one
 * keeping those read before; a DIR that appears is read at the next
 * rescan.
 */
static bool test_watch_dir(void)
{
	char *d = tmpdir(), rules_dir[256], state[256], cg[256], procfs[256];
	char missing[512], unreadable[512];
	const char *saved_root = goproc_root;
	const char *rule = "[Match]\nUnit=api.service\n[Tag]\nSoftLimit=1G\n";
	const char *tagged = "new /system.slice/api.service 1073741824\n";
	struct policy_watch *w = NULL;
	bool ok = true;
	int ret;

	if (skip_why)
		return true;
	snprintf(rules_dir, sizeof(rules_dir), "%.200s/policy.d", d);
	snprintf(state, sizeof(state), "%.200s/policy.state", d);
	snprintf(cg, sizeof(cg), "%.200s/cgroup", d);
	snprintf(procfs, sizeof(procfs), "%.200s/proc", d);
	snprintf(missing, sizeof(missing),
		 "gomemctl: monitor: policy: cannot read %s: %s; no rules until it appears",
		 rules_dir, strerror(ENOENT));
	/* Unreadable even for root: a symbolic link to itself. */
	snprintf(unreadable, sizeof(unreadable),
		 "gomemctl: monitor: policy: cannot read %s: %s;", rules_dir,
		 strerror(ELOOP));
	mkdir(cg, 0755);
	mkdir(procfs, 0755);
	fake_memcg_files(cg, "/system.slice/api.service", NULL, NULL);
	setenv(MEMSTAT_ROOT_ENV, cg, 1);
	goproc_root = procfs;
	gmc_nl_module_dir = d;
	memset(&kern, 0, sizeof(kern));
	fake_reset();
	fake_answer_with(answer);

	ret = policy_watch_new("monitor", rules_dir, state, &w);
	if (ret || !w) {
		ok = fail("policy_watch_new without the directory: %d", ret);
		goto out;
	}
	ok &= said_once("start without the directory", missing);
	ok &= log_is("start without the directory", "");
	policy_watch_event(w);
	policy_watch_event(w);
	ok &= said_once("two rescans, still missing", NULL);
	ok &= log_is("two rescans, still missing", "");

	write_file(rules_dir, "10-api.conf", rule);
	policy_watch_event(w);
	ok &= said_once("the rescan after it appeared", "policy: 1 rule read from");
	ok &= log_is("the rescan after it appeared", tagged);
	policy_watch_event(w);
	ok &= said_once("a rescan, there", NULL);
	ok &= log_is("a rescan, there", "");

	fake_remove_tree(rules_dir);
	policy_watch_event(w);
	ok &= said_once("the rescan after it went", missing);
	ok &= log_is("the rescan after it went: no rules",
		     "del /system.slice/api.service\n");
	policy_watch_event(w);
	ok &= said_once("a rescan, gone", NULL);
	ok &= log_is("a rescan, gone", "");

	write_file(rules_dir, "10-api.conf", rule);
	policy_watch_event(w);
	ok &= log_is("back", tagged);
	fake_remove_tree(rules_dir);
	if (symlink("policy.d", rules_dir))
		ok = fail("symlink %s: %s", rules_dir, strerror(errno));
	policy_watch_event(w);
	ok &= said_once("the rescan after it became unreadable", unreadable);
	ok &= said_once("the rescan after it became unreadable",
			"keeping the 1 rule read before");
	ok &= log_is("unreadable: the rule stays", "");
	policy_watch_event(w);
	ok &= said_once("a rescan, unreadable", NULL);
	ok &= log_is("a rescan, unreadable", "");
	/* Asked, it answers again. */
	if (hup(w))
		policy_watch_event(w);
	ok &= said_once("SIGHUP, unreadable", unreadable);
	ok &= log_is("SIGHUP, unreadable", "");

	/* Unreadable at start: the tag made before stays, nothing is sent. */
	policy_watch_free(w);
	ret = policy_watch_new("monitor", rules_dir, state, &w);
	if (ret || !w) {
		ok = fail("policy_watch_new with an unreadable directory: %d", ret);
		goto out;
	}
	ok &= said_once("start, unreadable", unreadable);
	ok &= said_once("start, unreadable", "nothing applied until it can be");
	ok &= log_is("start, unreadable", "");
	unlink(rules_dir);
	write_file(rules_dir, "10-api.conf", rule);
	policy_watch_event(w);
	ok &= said_once("the rescan after it became readable",
			"policy: 1 rule read from");
	ok &= log_is("readable: the tag is kept", "");
out:
	policy_watch_free(w);
	gmc_nl_module_dir = "/";
	unsetenv(MEMSTAT_ROOT_ENV);
	goproc_root = saved_root;
	fake_remove_tree(d);
	free(d);
	return ok;
}

static const struct {
	const char *name;
	bool (*fn)(void);
} tests[] = {
	{ "good rule files parse to the right rules", test_good },
	{ "each bad rule file gives exactly its file:line problems", test_bad },
	{ "a directory: bad files are dropped, a missing one is empty", test_bad_dir },
	{ "systemd's syntax: BOM, CRLF, comments, blanks, glob lists", test_syntax },
	{ "units and Kubernetes pods from cgroup paths", test_units_pods },
	{ "the plan: add, keep, re-tag, remove; hand-made tags and reused PIDs left alone", test_plan },
	{ "the state file round trip", test_state },
	{ "apply against the fake kernel: tags, idempotent, untags only its own", test_apply },
	{ "the monitor's watch: at start, on SIGHUP, not while the module is away", test_watch },
	{ "the monitor's watch: a missing or unreadable directory said once, read when it appears", test_watch_dir },
};

int main(int argc, char *argv[])
{
	char *self = must(strdup(argv[0]));
	static char path[4096];
	struct gmc_nl *nl;
	size_t i;
	bool ok;

	(void)argc;
	snprintf(path, sizeof(path), "%s/policies", dirname(self));
	free(self);
	dir = path;
	fake_init();
	fake_reset();
	nl = fake_open_family("test", "nlctrl");
	gmc_nl_close(nl);
	printf("TAP version 13\n1..%zu\n", ARRAY_SIZE_T(tests));
	for (i = 0; i < ARRAY_SIZE_T(tests); i++) {
		skip_why = NULL;
		if ((tests[i].fn == test_apply || tests[i].fn == test_watch ||
		     tests[i].fn == test_watch_dir) && !nl)
			skip_why = "generic netlink is not usable here";
		ok = tests[i].fn();
		ktap_result(skip_why ? KTAP_SKIP : ok ? KTAP_PASS : KTAP_FAIL,
			    tests[i].name, skip_why);
	}
	fake_reset();
	return ktap_finish();
}
