// SPDX-License-Identifier: GPL-2.0
/*
 * discover, tag --go and show's Go checks, each run in a child process as
 * gomemctl would run it, against the fake kernel (fake.h) and a /proc tree
 * made for the test: processes whose exe links to the real Go 1.19
 * binaries, a C binary and a made-up Go 1.17 one, environments with and
 * without GOMEMLIMIT, a cgroup2 mount of the whole hierarchy and one of a
 * subtree (as in a container), limits on a cgroup and on its parent, a
 * kernel thread and a process that is gone.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <json-c/json.h>
#include <netlink/genl/genl.h>

#include "../gomemctl.h"
#include "../goelf.h"
#include "../goproc.h"
#include "fake.h"
#include "go_test.h"

#define MIB (1ULL << 20)
#define GIB (1ULL << 30)

static const struct go_bins *bins;
static const char *skip_why;
static char tree[] = "/tmp/gmg-goverbs.XXXXXX";
static bool tree_made;
static char proc_dir[PATH_MAX], go_exe[PATH_MAX], cgo_exe[PATH_MAX];
static char old_exe[PATH_MAX], go_version[GOELF_VERSION_MAX];

/* The tree. */

static void put_file(const char *rel, const void *data, size_t len)
{
	char path[PATH_MAX];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", tree, rel);
	f = must(fopen(path, "w"));
	if (fwrite(data, 1, len, f) != len)
		abort();
	fclose(f);
}

static void put_text(const char *rel, const char *text)
{
	put_file(rel, text, strlen(text));
}

static void make_dirs(const char *rel)
{
	char path[PATH_MAX], *p;

	snprintf(path, sizeof(path), "%s/%s", tree, rel);
	for (p = path + strlen(tree) + 1; ; p++) {
		if (*p == '/' || !*p) {
			char c = *p;

			*p = '\0';
			if (mkdir(path, 0755) && errno != EEXIST)
				abort();
			*p = c;
			if (!c)
				break;
		}
	}
}

struct fake_proc {
	int pid;
	const char *comm;	/* NULL: gone (no comm) */
	const char *exe;	/* NULL: a kernel thread */
	const char *env;
	size_t env_len;
	const char *cgroup;
	unsigned long anon_kb;
};

static void make_proc(const struct fake_proc *p)
{
	char rel[PATH_MAX], text[512];

	snprintf(rel, sizeof(rel), "proc/%d", p->pid);
	make_dirs(rel);
	if (!p->comm)
		return;
	snprintf(rel, sizeof(rel), "proc/%d/comm", p->pid);
	snprintf(text, sizeof(text), "%s\n", p->comm);
	put_text(rel, text);
	if (!p->exe)
		return;
	snprintf(rel, sizeof(rel), "%s/proc/%d/exe", tree, p->pid);
	if (symlink(p->exe, rel))
		abort();
	snprintf(rel, sizeof(rel), "proc/%d/environ", p->pid);
	put_file(rel, p->env, p->env_len);
	snprintf(rel, sizeof(rel), "proc/%d/cgroup", p->pid);
	snprintf(text, sizeof(text), "1:name=systemd:/x\n0::%s\n", p->cgroup);
	put_text(rel, text);
	snprintf(rel, sizeof(rel), "proc/%d/status", p->pid);
	snprintf(text, sizeof(text),
		 "Name:\t%s\nState:\tS (sleeping)\nRssAnon:\t%8lu kB\nRssFile:\t    1024 kB\n",
		 p->comm, p->anon_kb);
	put_text(rel, text);
}

#define ENV(s) s, sizeof(s)

/* The made-up Go 1.17 program, and the rest of the tree. */
static bool make_tree(void)
{
	static const struct synth old = {
		true, false, false, true, true, "go1.17.13",
		"example.com/old/cmd/old", "example.com/old",
	};
	const struct fake_proc procs[] = {
		{ 4711, "payments", go_exe, ENV("GOMEMLIMIT=64MiB\0GOGC=off\0"),
		  "/app.slice/pay.service", 51200 },
		{ 4712, "worker", go_exe, ENV("PATH=/bin\0"),
		  "/app.slice/worker.service", 20480 },
		{ 4713, "cron", bins->c, ENV("GOMEMLIMIT=1GiB\0"), "/app.slice",
		  100 },
		{ 4714, "batch", cgo_exe, ENV("GOMEMLIMIT=1GiB\0"),
		  "/app.slice/batch.service", 1258292 },
		{ 4715, "lonely", go_exe, ENV("GOGC=50\0"), "/", 1024 },
		{ 4716, "kthreadd", NULL, NULL, 0, NULL, 0 },
		{ 4717, NULL, NULL, NULL, 0, NULL, 0 },
		{ 4718, "old", old_exe, ENV("GOMEMLIMIT=64MiB\0"),
		  "/app.slice/old.service", 2048 },
		{ 4719, "pod", go_exe, ENV("GOMEMLIMIT=off\0"), "/kubepods/pod1",
		  4096 },
	};
	char mountinfo[3 * PATH_MAX];
	unsigned char *f;
	struct goelf_info gi;
	size_t i, len;
	int fd;

	if (!mkdtemp(tree))
		return fail("mkdtemp: %s", strerror(errno));
	tree_made = true;
	if (!realpath(bins->go, go_exe) || !realpath(bins->cgo, cgo_exe)) {
		skip_why = "the Go workloads are not built (make workloads)";
		return true;
	}
	fd = open(go_exe, O_RDONLY | O_CLOEXEC);
	if (fd < 0 || goelf_read_fd(fd, &gi))
		return fail("%s is not a Go program", go_exe);
	close(fd);
	snprintf(go_version, sizeof(go_version), "%s", gi.version);
	snprintf(proc_dir, sizeof(proc_dir), "%s/proc", tree);
	snprintf(old_exe, sizeof(old_exe), "%s/bin/old", tree);
	make_dirs("bin");
	f = synth_elf(&old, &len);
	put_file("bin/old", f, len);
	free(f);

	make_dirs("proc/self");
	snprintf(mountinfo, sizeof(mountinfo),
		 "22 1 0:21 / /proc rw,nosuid - proc proc rw\n"
		 "30 22 0:26 / %s/cg rw,nosuid shared:4 - cgroup2 cgroup2 rw,nsdelegate\n"
		 "31 22 0:26 /kubepods %s/sub rw shared:5 - cgroup2 cgroup2 rw\n",
		 tree, tree);
	put_text("proc/self/mountinfo", mountinfo);
	make_dirs("cg/app.slice/pay.service");
	make_dirs("cg/app.slice/worker.service");
	make_dirs("cg/app.slice/batch.service");
	make_dirs("sub/pod1");
	put_text("cg/app.slice/memory.max", "268435456\n");
	put_text("cg/app.slice/memory.high", "max\n");
	put_text("cg/app.slice/pay.service/memory.max", "max\n");
	put_text("cg/app.slice/pay.service/memory.high", "max\n");
	put_text("cg/app.slice/worker.service/memory.max", "104857600\n");
	put_text("cg/app.slice/worker.service/memory.high", "94371840\n");
	put_text("sub/memory.max", "max\n");
	put_text("sub/pod1/memory.max", "52428800\n");
	for (i = 0; i < ARRAY_SIZE_T(procs); i++)
		make_proc(&procs[i]);
	make_dirs("proc/net");
	goproc_root = proc_dir;
	return true;
}

/*
 * Only ever the directory mkdtemp() made (its name may hold an X of its
 * own: the template's are gone only when it succeeded).
 */
static void remove_tree(void)
{
	if (tree_made)
		fake_remove_tree(tree);
}

/* Running a verb, and what the fake kernel saw. */

struct run {
	int status;
	char out[16384];
};

/* Usage errors print the verb's help on stderr: not in the test's output. */
static bool quiet;

static void run_verb(struct run *r, int (*verb_main)(int, char **),
		     const char *const args[])
{
	char *argv[32];
	int argc = 0, st;
	size_t n;
	FILE *out;
	pid_t pid;

	while (args[argc]) {
		argv[argc] = (char *)args[argc];
		argc++;
	}
	argv[argc] = NULL;
	out = must(tmpfile());
	fflush(stdout);
	pid = fork();
	if (pid < 0)
		abort();
	if (pid == 0) {
		dup2(fileno(out), STDOUT_FILENO);
		if (quiet && !freopen("/dev/null", "w", stderr))
			abort();
		optind = 0;
		exit(verb_main(argc, argv));
	}
	waitpid(pid, &st, 0);
	r->status = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
	rewind(out);
	n = fread(r->out, 1, sizeof(r->out) - 1, out);
	r->out[n] = '\0';
	fclose(out);
}

static bool check_run(const struct run *r, int status, const char *out,
		      const char *said)
{
	bool ok = true;

	if (r->status != status)
		ok = fail("exit status %d, expected %d", r->status, status);
	if (out && strcmp(r->out, out)) {
		ktap_diag("stdout", r->out);
		ktap_diag("expected", out);
		ok = false;
	}
	if (said && strcmp(fake_said, said)) {
		ktap_diag("stderr", fake_said);
		ktap_diag("expected", said);
		ok = false;
	}
	return ok;
}

/* TAG_NEW requests as the child sent them, in shared memory. */
struct tag_sent {
	uint32_t pid, origin, signal;
	uint64_t soft_limit;
	bool has_origin, has_signal;
};

struct tag_log {
	unsigned int n;
	struct tag_sent t[8];
};

static struct tag_log *tags;

/* What the fake module holds: watched processes, and a PID it refuses. */
struct watched {
	uint32_t pid;
	const char *comm;
	uint64_t soft_limit;
	uint32_t origin;
	uint64_t anon;
	const char *memcg;
};

static const struct watched *watched;
static size_t n_watched;
static uint32_t refuse_pid;
static bool refuse_dump;

static void put_watched(struct nl_msg *m, const struct watched *w)
{
	static const uint32_t levels[] = { 80, 90, 100 };

	nla_put_u32(m, GOMEMGUARD_A_PID, w->pid);
	nla_put_string(m, GOMEMGUARD_A_COMM, w->comm);
	nla_put_u32(m, GOMEMGUARD_A_SOURCE, GOMEMGUARD_SOURCE_PID);
	nla_put_string(m, GOMEMGUARD_A_MEMCG, w->memcg);
	nla_put_u64(m, GOMEMGUARD_A_MEMCG_ID, 77);
	nla_put_u64(m, GOMEMGUARD_A_ANON, w->anon);
	nla_put_u64(m, GOMEMGUARD_A_SWAP, 0);
	nla_put_u64(m, GOMEMGUARD_A_SHMEM, 0);
	nla_put_u64(m, GOMEMGUARD_A_FILE, 0);
	nla_put_u64(m, GOMEMGUARD_A_HWM, w->anon);
	nla_put_s64(m, GOMEMGUARD_A_RATE, 0);
	nla_put_u32(m, GOMEMGUARD_A_LEVEL_PCT, 0);
	nla_put_u32(m, GOMEMGUARD_A_USAGE_PCT,
		    (uint32_t)(w->anon * 100 / w->soft_limit));
	nla_put_u64(m, GOMEMGUARD_A_SOFT_LIMIT, w->soft_limit);
	nla_put(m, GOMEMGUARD_A_LEVELS, sizeof(levels), levels);
	nla_put_u32(m, GOMEMGUARD_A_ETA_HORIZON_MS, 30000);
	nla_put_u32(m, GOMEMGUARD_A_SIGNAL, 0);
	nla_put_u32(m, GOMEMGUARD_A_RATE_WINDOW_MS, 5000);
	nla_put_u8(m, GOMEMGUARD_A_INHERIT, 0);
	nla_put_u32(m, GOMEMGUARD_A_LIMIT_ORIGIN, w->origin);
	nla_put_u64(m, GOMEMGUARD_A_MEMCG_USAGE, w->anon);
	nla_put_u32(m, GOMEMGUARD_A_SIGNALS_SENT, 0);
}

static void answer_dump(struct nlmsghdr *req)
{
	struct nl_msg *a = NULL, *b;
	size_t i;

	if (refuse_dump) {
		fake_queue(fake_done(req, -EPERM,
				     "reading needs CAP_NET_ADMIN (or module parameter open_read=1)"),
			   NULL);
		return;
	}
	for (i = 0; i < n_watched; i++) {
		b = fake_reply(req, GOMEMGUARD_CMD_PROC_GET, NLM_F_MULTI);
		put_watched(b, &watched[i]);
		if (a) {
			fake_queue(a, b);
			a = NULL;
		} else {
			a = b;
		}
	}
	if (a)
		fake_queue(a, NULL);
	fake_queue(fake_done(req, 0, NULL), NULL);
}

static void answer_tag_new(struct nlmsghdr *req)
{
	static const struct fake_tlvs exists = { .msg = "process is already tagged" };
	struct genlmsghdr *gnlh = nlmsg_data(req);
	struct nlattr *tb[GOMEMGUARD_A_MAX + 1];
	struct tag_sent *t;

	if (nla_parse(tb, GOMEMGUARD_A_MAX, genlmsg_attrdata(gnlh, 0),
		      genlmsg_attrlen(gnlh, 0), NULL) < 0 ||
	    !tb[GOMEMGUARD_A_PID] || !tb[GOMEMGUARD_A_SOFT_LIMIT] ||
	    tags->n == ARRAY_SIZE_T(tags->t)) {
		fake_queue(fake_ack(req, -EINVAL, true, NULL), NULL);
		return;
	}
	t = &tags->t[tags->n++];
	t->pid = nla_get_u32(tb[GOMEMGUARD_A_PID]);
	t->soft_limit = nla_get_u64(tb[GOMEMGUARD_A_SOFT_LIMIT]);
	t->has_origin = tb[GOMEMGUARD_A_LIMIT_ORIGIN];
	t->origin = t->has_origin ? nla_get_u32(tb[GOMEMGUARD_A_LIMIT_ORIGIN]) : 0;
	t->has_signal = tb[GOMEMGUARD_A_SIGNAL];
	t->signal = t->has_signal ? nla_get_u32(tb[GOMEMGUARD_A_SIGNAL]) : 0;
	if (t->pid == refuse_pid)
		fake_queue(fake_ack(req, -EEXIST, true, &exists), NULL);
	else
		fake_queue(fake_ack(req, 0, true, NULL), NULL);
}

static void answer(struct nlmsghdr *req)
{
	struct genlmsghdr *gnlh = nlmsg_data(req);

	if (gnlh->cmd == GOMEMGUARD_CMD_PROC_GET)
		answer_dump(req);
	else if (gnlh->cmd == GOMEMGUARD_CMD_TAG_NEW)
		answer_tag_new(req);
	else
		fake_queue(fake_ack(req, -EOPNOTSUPP, true, NULL), NULL);
}

static void module_holds(const struct watched *w, size_t n)
{
	watched = w;
	n_watched = n;
	refuse_pid = 0;
	refuse_dump = false;
	memset(tags, 0, sizeof(*tags));
	fake_answer_with(answer);
}

static bool tagged(unsigned int i, uint32_t pid, uint64_t soft, uint32_t origin)
{
	const struct tag_sent *t = &tags->t[i];

	if (i >= tags->n)
		return fail("TAG_NEW #%u was not sent (%u were)", i, tags->n);
	if (t->pid != pid || t->soft_limit != soft || !t->has_origin ||
	    t->origin != origin)
		return fail("TAG_NEW #%u: pid %" PRIu32 ", soft limit %" PRIu64 ", origin %s%" PRIu32 "; expected %" PRIu32 ", %" PRIu64 ", %" PRIu32,
			    i, t->pid, t->soft_limit, t->has_origin ? "" : "none ",
			    t->origin, pid, soft, origin);
	return true;
}

/* JSON compared as values. */
static bool json_equals(const char *got_text, const char *want_text)
{
	struct json_object *got = json_tokener_parse(got_text);
	struct json_object *want = json_tokener_parse(want_text);
	bool ok = got && want && json_object_equal(got, want);

	if (!want)
		fail("expected JSON does not parse: %s", want_text);
	if (!ok) {
		printf("# got:      %s\n", got ? json_object_to_json_string(got) : got_text);
		printf("# expected: %s\n", want ? json_object_to_json_string(want) : "");
	}
	json_object_put(got);
	json_object_put(want);
	return ok;
}

static const struct watched worker_watched[] = {
	{ 4712, "worker", 90 * MIB, GOMEMGUARD_ORIGIN_MEMCG_MAX, 20 * MIB,
	  "/app.slice/worker.service" },
};

/* The tests. */

static char *discover_json(bool know_watched)
{
	const char *tag_no = know_watched ? "false" : "null";

	return format("["
		"{\"pid\":4711,\"comm\":\"payments\",\"exe\":\"%1$s\","
		"\"go_version\":\"%3$s\",\"go_path\":\"gomemguard/workloads/gosleep\","
		"\"go_module\":\"gomemguard/workloads\",\"gomemlimit\":\"64MiB\","
		"\"gomemlimit_bytes\":67108864,\"gogc\":\"off\",\"gogc_pct\":null,"
		"\"memcg_max_bytes\":268435456,\"memcg_high_bytes\":null,"
		"\"tagged\":%5$s,\"soft_limit_bytes\":null,\"limit_origin\":null,"
		"\"memcg\":\"/app.slice/pay.service\",\"anon_bytes\":52428800,"
		"\"warnings\":[]},"
		"{\"pid\":4712,\"comm\":\"worker\",\"exe\":\"%1$s\","
		"\"go_version\":\"%3$s\",\"go_path\":\"gomemguard/workloads/gosleep\","
		"\"go_module\":\"gomemguard/workloads\",\"gomemlimit\":null,"
		"\"gomemlimit_bytes\":null,\"gogc\":null,\"gogc_pct\":100,"
		"\"memcg_max_bytes\":104857600,\"memcg_high_bytes\":94371840,"
		"%6$s"
		"\"memcg\":\"/app.slice/worker.service\",\"anon_bytes\":20971520,"
		"\"warnings\":[\"gomemlimit_unset\"]},"
		"{\"pid\":4714,\"comm\":\"batch\",\"exe\":\"%2$s\","
		"\"go_version\":\"%3$s\",\"go_path\":\"gomemguard/workloads/cgoleak\","
		"\"go_module\":\"gomemguard/workloads\",\"gomemlimit\":\"1GiB\","
		"\"gomemlimit_bytes\":1073741824,\"gogc\":null,\"gogc_pct\":100,"
		"\"memcg_max_bytes\":268435456,\"memcg_high_bytes\":null,"
		"\"tagged\":%5$s,\"soft_limit_bytes\":null,\"limit_origin\":null,"
		"\"memcg\":\"/app.slice/batch.service\",\"anon_bytes\":1288491008,"
		"\"warnings\":[\"gomemlimit_above_memory_max\",\"anon_above_gomemlimit\"]},"
		"{\"pid\":4715,\"comm\":\"lonely\",\"exe\":\"%1$s\","
		"\"go_version\":\"%3$s\",\"go_path\":\"gomemguard/workloads/gosleep\","
		"\"go_module\":\"gomemguard/workloads\",\"gomemlimit\":null,"
		"\"gomemlimit_bytes\":null,\"gogc\":\"50\",\"gogc_pct\":50,"
		"\"memcg_max_bytes\":null,\"memcg_high_bytes\":null,"
		"\"tagged\":%5$s,\"soft_limit_bytes\":null,\"limit_origin\":null,"
		"\"memcg\":\"/\",\"anon_bytes\":1048576,\"warnings\":[]},"
		"{\"pid\":4718,\"comm\":\"old\",\"exe\":\"%4$s\","
		"\"go_version\":\"go1.17.13\",\"go_path\":\"example.com/old/cmd/old\","
		"\"go_module\":\"example.com/old\",\"gomemlimit\":\"64MiB\","
		"\"gomemlimit_bytes\":67108864,\"gogc\":null,\"gogc_pct\":100,"
		"\"memcg_max_bytes\":268435456,\"memcg_high_bytes\":null,"
		"\"tagged\":%5$s,\"soft_limit_bytes\":null,\"limit_origin\":null,"
		"\"memcg\":\"/app.slice/old.service\",\"anon_bytes\":2097152,"
		"\"warnings\":[\"gomemlimit_ignored\"]},"
		"{\"pid\":4719,\"comm\":\"pod\",\"exe\":\"%1$s\","
		"\"go_version\":\"%3$s\",\"go_path\":\"gomemguard/workloads/gosleep\","
		"\"go_module\":\"gomemguard/workloads\",\"gomemlimit\":\"off\","
		"\"gomemlimit_bytes\":null,\"gogc\":null,\"gogc_pct\":100,"
		"\"memcg_max_bytes\":52428800,\"memcg_high_bytes\":null,"
		"\"tagged\":%5$s,\"soft_limit_bytes\":null,\"limit_origin\":null,"
		"\"memcg\":\"/kubepods/pod1\",\"anon_bytes\":4194304,"
		"\"warnings\":[\"gomemlimit_unset\"]}]",
		go_exe, cgo_exe, go_version, old_exe, tag_no,
		know_watched ?
		"\"tagged\":true,\"soft_limit_bytes\":94371840,\"limit_origin\":\"memcg_max\"," :
		"\"tagged\":null,\"soft_limit_bytes\":null,\"limit_origin\":null,");
}

static bool test_discover_json(void)
{
	static const char *const args[] = { "discover", "-j", NULL };
	struct run r;
	char *want;
	bool ok;

	module_holds(worker_watched, ARRAY_SIZE_T(worker_watched));
	run_verb(&r, discover_main, args);
	want = discover_json(true);
	ok = check_run(&r, 0, NULL, "") && json_equals(r.out, want);
	free(want);
	return ok;
}

static bool test_discover_text(void)
{
	static const char *const args[] = { "discover", NULL };
	struct run r;
	char *want;
	bool ok;

	module_holds(worker_watched, ARRAY_SIZE_T(worker_watched));
	run_verb(&r, discover_main, args);
	want = format(
		"    PID COMM            GO         GOMEMLIMIT  GOGC       MAX      SOFT ORIGIN     MEMCG\n"
		"   4711 payments        %-10s     64 MiB   off   256 MiB         - -          /app.slice/pay.service\n"
		"   4712 worker          %-10s          -   100   100 MiB    90 MiB memory.max /app.slice/worker.service\n"
		"        ! GOMEMLIMIT unset under memory.max 100 MiB: Go's GC does not know the limit\n"
		"   4714 batch           %-10s      1 GiB   100   256 MiB         - -          /app.slice/batch.service\n"
		"        ! GOMEMLIMIT 1 GiB above memory.max 256 MiB: the OOM kill comes first\n"
		"        ! anon 1.2 GiB is 120%% of GOMEMLIMIT 1 GiB: memory Go does not account (cgo, non-Go threads)\n"
		"   4715 lonely          %-10s          -    50       max         - -          /\n"
		"   4718 old             go1.17.13      64 MiB   100   256 MiB         - -          /app.slice/old.service\n"
		"        ! GOMEMLIMIT is set, but go1.17.13 ignores it (Go 1.19 and later read it)\n"
		"   4719 pod             %-10s        off   100    50 MiB         - -          /kubepods/pod1\n"
		"        ! GOMEMLIMIT unset under memory.max 50 MiB: Go's GC does not know the limit\n",
		go_version, go_version, go_version, go_version, go_version);
	ok = check_run(&r, 0, want, "");
	free(want);
	return ok;
}

/* Without the module's word, discover still lists; "tagged" is null. */
static bool test_discover_no_module(void)
{
	static const char *const args[] = { "discover", "-j", NULL };
	struct run r;
	char *want;
	bool ok;

	module_holds(NULL, 0);
	refuse_dump = true;
	run_verb(&r, discover_main, args);
	want = discover_json(false);
	ok = check_run(&r, 0, NULL,
		       "gomemctl: discover: Operation not permitted\n"
		       "kernel reports: reading needs CAP_NET_ADMIN (or module parameter open_read=1)\n"
		       "(listing Go programs without saying which are watched)\n") &&
	     json_equals(r.out, want);
	free(want);
	return ok;
}

static bool test_tag_all(void)
{
	static const char *const args[] = { "tag", "--go", "--all", NULL };
	struct run r;

	module_holds(worker_watched, ARRAY_SIZE_T(worker_watched));
	run_verb(&r, tag_main, args);
	return check_run(&r, 1,
		"pid 4711 (payments): tagged, soft limit 64 MiB (GOMEMLIMIT=64MiB)\n"
		"pid 4712 (worker): already watched, soft limit 90 MiB from memory.max, skipped\n"
		"pid 4714 (batch): tagged, soft limit 1 GiB (GOMEMLIMIT=1GiB)\n"
		"pid 4718 (old): tagged, soft limit 230 MiB (90% of memory.max 256 MiB)\n"
		"pid 4719 (pod): tagged, soft limit 45 MiB (90% of memory.max 50 MiB)\n",
		"gomemctl: tag: pid 4715 (lonely): no --soft-limit, no GOMEMLIMIT and no memory.max: give --soft-limit\n") &&
	       tags->n == 4 &&
	       tagged(0, 4711, 64 * MIB, GOMEMGUARD_ORIGIN_GOMEMLIMIT) &&
	       tagged(1, 4714, GIB, GOMEMGUARD_ORIGIN_GOMEMLIMIT) &&
	       tagged(2, 4718, 241591910, GOMEMGUARD_ORIGIN_MEMCG_MAX) &&
	       tagged(3, 4719, 45 * MIB, GOMEMGUARD_ORIGIN_MEMCG_MAX);
}

static bool test_tag_pids(void)
{
	static const char *const args[] = {
		"tag", "4711", "--go", "4713", "4716", "4717", "99999",
		"--soft-limit", "1G", "--signal", "USR1", NULL,
	};
	char said[2048];
	struct run r;

	module_holds(NULL, 0);
	run_verb(&r, tag_main, args);
	snprintf(said, sizeof(said),
		"gomemctl: tag: warning: pid 4711 (payments) is a Go program (%s) not built with gomemguard.dev/fuse: whether it handles SIGUSR1 cannot be told from outside; unless it calls signal.Notify for it, Go ignores it: the fuse would go unnoticed\n"
		"gomemctl: tag: pid 4713 (cron): not a Go program (its executable has no Go build info or build ID); tag it without --go\n"
		"gomemctl: tag: pid 4716 (kthreadd): not a Go program (its executable has no Go build info or build ID); tag it without --go\n"
		"gomemctl: tag: pid 4717: no such process\n"
		"gomemctl: tag: pid 99999: no such process\n", go_version);
	return check_run(&r, 1,
		"pid 4711 (payments): tagged, soft limit 1 GiB (--soft-limit)\n",
		said) &&
	       tags->n == 1 && tagged(0, 4711, GIB, GOMEMGUARD_ORIGIN_USER) &&
	       (tags->t[0].has_signal && tags->t[0].signal == SIGUSR1 ? true :
		fail("no SIGNAL USR1 in TAG_NEW"));
}

/*
 * A fuse signal for a Go program: a warning unless it was built with
 * go/fuse, saying what Go does with that signal; none for SIGKILL, none
 * for a C program.  Tagged all the same, exit 0.
 */
static bool test_tag_signal_warnings(void)
{
	static const struct {
		const char *pid, *signal, *go_does;	/* NULL: no warning */
	} cases[] = {
		{ "4711", "TERM", "Go exits on it: the fuse would end the service" },
		{ "4711", "QUIT", "Go exits on it with a stack dump: the fuse would end the service" },
		{ "4711", "KILL", NULL },
		{ "4721", "USR1", NULL },
		{ "4713", "USR1", NULL },
	};
	const struct fake_proc fused = {
		4721, "fused", bins->fuse, ENV("PATH=/bin\0"),
		"/app.slice/pay.service", 1024,
	};
	char dir[PATH_MAX + 32], want[1024];
	bool ok = true;
	struct run r;
	size_t i;

	if (access(bins->fuse, X_OK))
		return fail("%s is not built (make workloads)", bins->fuse);
	make_proc(&fused);
	for (i = 0; i < ARRAY_SIZE_T(cases); i++) {
		const char *args[] = { "tag", cases[i].pid, "--soft-limit", "64M",
				       "--signal", cases[i].signal, NULL };

		fake_reset();
		module_holds(NULL, 0);
		run_verb(&r, tag_main, args);
		want[0] = '\0';
		if (cases[i].go_does)
			snprintf(want, sizeof(want), "gomemctl: tag: warning: pid 4711 (payments) is a Go program (%s) not built with gomemguard.dev/fuse: whether it handles SIG%s cannot be told from outside; unless it calls signal.Notify for it, %s\n",
				 go_version, cases[i].signal, cases[i].go_does);
		if (!check_run(&r, 0, "", want))
			ok = fail("tag %s --signal %s", cases[i].pid, cases[i].signal);
	}
	snprintf(dir, sizeof(dir), "%s/4721", proc_dir);
	fake_remove_tree(dir);
	return ok;
}

static bool test_tag_watched(void)
{
	static const char *const args[] = { "tag", "--go", "4712", NULL };
	struct run r;

	module_holds(worker_watched, ARRAY_SIZE_T(worker_watched));
	run_verb(&r, tag_main, args);
	return check_run(&r, 0,
		"pid 4712 (worker): already watched, soft limit 90 MiB from memory.max, skipped\n",
		"") &&
	       (tags->n == 0 ? true : fail("%u TAG_NEW sent", tags->n));
}

static bool test_tag_refused(void)
{
	static const char *const args[] = { "tag", "--go", "4711", "4712", NULL };
	struct run r;

	module_holds(NULL, 0);
	refuse_pid = 4711;
	run_verb(&r, tag_main, args);
	return check_run(&r, 1,
		"pid 4712 (worker): tagged, soft limit 90 MiB (90% of memory.max 100 MiB)\n",
		"gomemctl: tag: File exists\n"
		"kernel reports: process is already tagged\n"
		"pid 4711 (payments): not tagged\n") &&
	       tagged(0, 4711, 64 * MIB, GOMEMGUARD_ORIGIN_GOMEMLIMIT) &&
	       tagged(1, 4712, 90 * MIB, GOMEMGUARD_ORIGIN_MEMCG_MAX);
}

/*
 * A GOMEMLIMIT of 2 EiB (Go takes it) is no soft limit the module takes:
 * refused before any TAG_NEW, the others tagged all the same.
 */
static bool test_tag_limit_bound(void)
{
	static const struct fake_proc huge = {
		4720, "huge", go_exe, ENV("GOMEMLIMIT=2305843009213693952\0"),
		"/app.slice/pay.service", 1024,
	};
	static const char *const args[] = { "tag", "--go", "4720", "4711", NULL };
	char dir[PATH_MAX + 32];
	struct run r;
	bool ok;

	make_proc(&huge);
	module_holds(NULL, 0);
	run_verb(&r, tag_main, args);
	ok = check_run(&r, 1,
		"pid 4711 (payments): tagged, soft limit 64 MiB (GOMEMLIMIT=64MiB)\n",
		"gomemctl: tag: pid 4720 (huge): GOMEMLIMIT=2305843009213693952 is above the module's bound of 1 EiB for a soft limit: give --soft-limit\n") &&
	     (tags->n == 1 || fail("%u TAG_NEW sent", tags->n)) &&
	     tagged(0, 4711, 64 * MIB, GOMEMGUARD_ORIGIN_GOMEMLIMIT);
	snprintf(dir, sizeof(dir), "%s/4720", proc_dir);
	fake_remove_tree(dir);
	return ok;
}

static bool test_tag_usage(void)
{
	static const struct {
		const char *args[6];
		const char *said;
	} cases[] = {
		{ { "tag", "--all", "--soft-limit", "1G" },
		  "--all tags every Go program: give --go with it" },
		{ { "tag", "--go", "--cgroup", "/app.slice" },
		  "--go tags processes: give PIDs or --all, not --cgroup" },
		{ { "tag", "--go" }, "--go needs the PIDs of Go programs, or --all" },
		{ { "tag", "--go", "--all", "4711" }, "give PIDs or --all, not both" },
		{ { "tag", "--go", "4711", "x1" }, "invalid PID \"x1\": not a number" },
		{ { "tag", "4711", "4712", "--soft-limit", "1G" },
		  "unexpected argument \"4712\"" },
	};
	bool ok = true;
	struct run r;
	size_t i;

	quiet = true;
	for (i = 0; i < ARRAY_SIZE_T(cases); i++) {
		fake_reset();
		module_holds(NULL, 0);
		run_verb(&r, tag_main, cases[i].args);
		if (r.status != GMC_EXIT_USAGE ||
		    !strstr(fake_said, cases[i].said) || fake_log->n_reqs)
			ok = fail("case %zu: status %d, said \"%s\", %u requests",
				  i, r.status, fake_said, fake_log->n_reqs);
	}
	quiet = false;
	return ok;
}

static const struct watched show_watched[] = {
	{ 4712, "worker", 90 * MIB, GOMEMGUARD_ORIGIN_MEMCG_MAX, 20 * MIB,
	  "/app.slice/worker.service" },
	{ 4713, "cron", GIB, GOMEMGUARD_ORIGIN_USER, MIB, "/app.slice" },
	{ 4714, "batch", GIB, GOMEMGUARD_ORIGIN_GOMEMLIMIT, 1200 * MIB,
	  "/app.slice/batch.service" },
};

static bool test_show_json(void)
{
	static const char *const args[] = { "show", "-j", NULL };
	static const char *const want[][2] = {
		{ "memcg_max", "[\"gomemlimit_unset\"]" },
		{ "user", "[]" },
		{ "gomemlimit",
		  "[\"gomemlimit_above_memory_max\",\"anon_above_gomemlimit\"]" },
	};
	struct json_object *o, *e, *v;
	bool ok = true;
	struct run r;
	size_t i;

	module_holds(show_watched, ARRAY_SIZE_T(show_watched));
	run_verb(&r, show_main, args);
	if (!check_run(&r, 0, NULL, ""))
		return false;
	o = json_tokener_parse(r.out);
	if (!o || json_object_array_length(o) != ARRAY_SIZE_T(want)) {
		json_object_put(o);
		return fail("not an array of %zu: %s", ARRAY_SIZE_T(want), r.out);
	}
	for (i = 0; i < ARRAY_SIZE_T(want); i++) {
		e = json_object_array_get_idx(o, i);
		if (!json_object_object_get_ex(e, "limit_origin", &v) ||
		    strcmp(json_object_get_string(v), want[i][0]))
			ok = fail("entry %zu: limit_origin is not \"%s\"", i,
				  want[i][0]);
		if (!json_object_object_get_ex(e, "warnings", &v) ||
		    !json_equals(json_object_to_json_string(v), want[i][1]))
			ok = fail("entry %zu: warnings differ", i);
	}
	json_object_put(o);
	return ok;
}

static bool test_show_text(void)
{
	static const char *const args[] = { "show", NULL };
	struct run r;

	module_holds(show_watched, ARRAY_SIZE_T(show_watched));
	run_verb(&r, show_main, args);
	return check_run(&r, 0,
		"    PID COMM                 ANON      FILE     SHMEM      SWAP        RATE SHAPE        ETA      SOFT ORIGIN     LEVEL MEMCG\n"
		"   4712 worker             20 MiB       0 B       0 B       0 B           - -              -    90 MiB memory.max     - /app.slice/worker.service\n"
		"        ! GOMEMLIMIT unset under memory.max 100 MiB: Go's GC does not know the limit\n"
		"   4713 cron                1 MiB       0 B       0 B       0 B           - -              -     1 GiB user           - /app.slice\n"
		"   4714 batch            1.17 GiB       0 B       0 B       0 B           - -              -     1 GiB GOMEMLIMIT     - /app.slice/batch.service\n"
		"        ! GOMEMLIMIT 1 GiB above memory.max 256 MiB: the OOM kill comes first\n"
		"        ! anon 1.17 GiB is 117% of GOMEMLIMIT 1 GiB: memory Go does not account (cgo, non-Go threads)\n",
		"");
}

static const struct {
	const char *name;
	bool (*fn)(void);
} tests[] = {
	{ "discover -j: Go programs only, by their ELF; settings, limits, tags, warnings",
	  test_discover_json },
	{ "discover: a table, and warnings under the rows", test_discover_text },
	{ "discover without the module's word: tagged is null",
	  test_discover_no_module },
	{ "tag --go --all: GOMEMLIMIT, else 90% of memory.max, else refused; watched skipped",
	  test_tag_all },
	{ "tag --go PIDs --soft-limit: origin user; C programs, kernel threads, gone PIDs refused",
	  test_tag_pids },
	{ "tag --signal for a Go program: a warning unless built with go/fuse, what Go does with it",
	  test_tag_signal_warnings },
	{ "tag --go of a watched process: skipped, exit 0", test_tag_watched },
	{ "tag --go: the kernel's refusal of one process, the others tagged",
	  test_tag_refused },
	{ "tag --go: a GOMEMLIMIT above 1 EiB is refused before the module",
	  test_tag_limit_bound },
	{ "tag --go: usage errors", test_tag_usage },
	{ "show -j: limit_origin and warnings", test_show_json },
	{ "show: ORIGIN column, warnings under the rows", test_show_text },
};

size_t goverbs_test_count(void)
{
	return ARRAY_SIZE_T(tests) + 1;
}

void goverbs_test_run(const struct go_bins *b, const char *skip)
{
	const char *saved_root = goproc_root;
	bool ok;
	size_t i;

	bins = b;
	tags = mmap(NULL, sizeof(*tags), PROT_READ | PROT_WRITE,
		    MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (tags == MAP_FAILED)
		abort();
	skip_why = NULL;
	ok = make_tree();
	ktap_result(skip_why ? KTAP_SKIP : ok ? KTAP_PASS : KTAP_FAIL,
		    "a /proc tree with Go, cgo, Go 1.17 and C programs", skip_why);
	if (!skip && !ok)
		skip = "no /proc tree";
	if (!skip)
		skip = skip_why;
	for (i = 0; i < ARRAY_SIZE_T(tests); i++) {
		if (skip) {
			ktap_result(KTAP_SKIP, tests[i].name, skip);
			continue;
		}
		fake_reset();
		skip_why = NULL;
		ok = tests[i].fn();
		ktap_result(skip_why ? KTAP_SKIP : ok ? KTAP_PASS : KTAP_FAIL,
			    tests[i].name, skip_why);
	}
	goproc_root = saved_root;
	remove_tree();
	munmap(tags, sizeof(*tags));
}
