// SPDX-License-Identifier: GPL-2.0
/*
 * The verbs against the fake kernel (fake.h), each run in a child process
 * as gomemctl would run it: what they send (attribute by attribute), what
 * they print on stdout (JSON compared as values, text as bytes) and on
 * stderr, and their exit status.  Also --cgroup path conversion against a
 * crafted mountinfo.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <sys/wait.h>
#include <unistd.h>

#include <json-c/json.h>
#include <netlink/genl/genl.h>

#include "../cgroup.h"
#include "../nl.h"
#include "../gomemctl.h"
#include "../goproc.h"
#include "../memstat.h"
#include "fake.h"

#define GIB (1ULL << 30)

/* What a verb did, run in a child process. */
struct run {
	int status;		/* exit status, or 128 + signal */
	char out[16384];	/* its stdout */
};

/* Why the test at hand was skipped. */
static const char *skip_why;

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
		optind = 0;
		/* exit(), not _exit(): LeakSanitizer checks the verb too. */
		exit(verb_main(argc, argv));
	}
	waitpid(pid, &st, 0);
	r->status = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
	rewind(out);
	n = fread(r->out, 1, sizeof(r->out) - 1, out);
	r->out[n] = '\0';
	fclose(out);
}

/* The failure's story, for the KTAP diagnostics. */
/*
 * The cgroup2 tree the verbs read memory.stat and memory.pressure from,
 * and where --cgroup paths must exist
 * (GOMEMCTL_CGROUP2_ROOT, set for every test): cg2_base/root stands for the
 * global root.  /app.slice has both files; /system.slice/worker.service
 * neither; the root itself neither.  cg2_base holds a memory.stat of its
 * own, which a path with ".." would reach.
 */
static char cg2_base[] = "/tmp/gmg-cg2.XXXXXX";
static char cg2_root[sizeof(cg2_base) + 8];

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

/* Request i as sent: its command, flags and attributes (all counted). */
struct sent {
	uint8_t cmd;
	uint16_t flags;
	struct nlattr *tb[GOMEMGUARD_A_MAX + 1];
	int n_attrs;
};

static bool decode(unsigned int i, struct sent *s)
{
	struct nlmsghdr *nlh = (struct nlmsghdr *)fake_log->req[i];
	struct genlmsghdr *gnlh;
	struct nlattr *nla;
	int rem;

	if (i >= fake_log->n_reqs)
		return fail("request %u was not sent (%u were)", i,
			    fake_log->n_reqs);
	gnlh = nlmsg_data(nlh);
	s->cmd = gnlh->cmd;
	s->flags = nlh->nlmsg_flags;
	s->n_attrs = 0;
	nla_for_each_attr(nla, genlmsg_attrdata(gnlh, 0),
			  genlmsg_attrlen(gnlh, 0), rem)
		s->n_attrs++;
	if (nla_parse(s->tb, GOMEMGUARD_A_MAX, genlmsg_attrdata(gnlh, 0),
		      genlmsg_attrlen(gnlh, 0), NULL) < 0)
		return fail("request %u does not parse", i);
	return true;
}

static bool sent_u32(const struct sent *s, int type, uint32_t want)
{
	const struct nlattr *a = s->tb[type];

	if (!a || nla_len(a) != 4)
		return fail("attribute %d missing or not 4 bytes", type);
	if (nla_get_u32(a) != want)
		return fail("attribute %d is %" PRIu32 ", expected %" PRIu32,
			    type, nla_get_u32(a), want);
	return true;
}

static bool sent_u64(const struct sent *s, int type, uint64_t want)
{
	const struct nlattr *a = s->tb[type];

	if (!a || nla_len(a) != 8)
		return fail("attribute %d missing or not 8 bytes", type);
	if (nla_get_u64(a) != want)
		return fail("attribute %d is %" PRIu64 ", expected %" PRIu64,
			    type, nla_get_u64(a), want);
	return true;
}

static bool sent_u8(const struct sent *s, int type, uint8_t want)
{
	const struct nlattr *a = s->tb[type];

	if (!a || nla_len(a) != 1 || nla_get_u8(a) != want)
		return fail("attribute %d missing, not 1 byte or not %u", type,
			    want);
	return true;
}

/* A string attribute: exactly the text and its NUL. */
static bool sent_string(const struct sent *s, int type, const char *want)
{
	const struct nlattr *a = s->tb[type];

	if (!a || (size_t)nla_len(a) != strlen(want) + 1 ||
	    memcmp(nla_data(a), want, strlen(want) + 1))
		return fail("attribute %d is not \"%s\" with its NUL", type,
			    want);
	return true;
}

static bool sent_levels(const struct sent *s, const uint32_t *want, size_t n)
{
	const struct nlattr *a = s->tb[GOMEMGUARD_A_LEVELS];

	if (!a || (size_t)nla_len(a) != n * sizeof(uint32_t) ||
	    memcmp(nla_data(a), want, n * sizeof(uint32_t)))
		return fail("LEVELS is not the %zu native-endian u32s given", n);
	return true;
}

static bool sent_head(const struct sent *s, uint8_t cmd, bool dump,
		      int n_attrs)
{
	if (s->cmd != cmd)
		return fail("command %u, expected %u", s->cmd, cmd);
	if (!!(s->flags & NLM_F_DUMP) != dump)
		return fail("NLM_F_DUMP %s", dump ? "missing" : "set");
	if (s->n_attrs != n_attrs)
		return fail("%d attributes, expected %d", s->n_attrs, n_attrs);
	return true;
}

/* The answers of the fake kernel. */

static void answer_ack(struct nlmsghdr *req)
{
	fake_queue(fake_ack(req, 0, true, NULL), NULL);
}

static void answer_levels_refused(struct nlmsghdr *req)
{
	static const struct fake_tlvs t = {
		.msg = "levels must ascend",
		.bad_attr = GOMEMGUARD_A_LEVELS,
	};

	fake_queue(fake_ack(req, -EINVAL, false, &t), NULL);
}

static void answer_no_such_pid(struct nlmsghdr *req)
{
	static const struct fake_tlvs t = {
		.msg = "no such process",
		.bad_attr = GOMEMGUARD_A_PID,
	};

	fake_queue(fake_ack(req, -ESRCH, true, &t), NULL);
}

/* A process tagged through its cgroup, with every attribute there is. */
static void put_proc_full(struct nl_msg *m)
{
	static const uint32_t levels[] = { 80, 90, 100 };

	nla_put_u32(m, GOMEMGUARD_A_PID, 4711);
	nla_put_string(m, GOMEMGUARD_A_COMM, "payments");
	nla_put_u32(m, GOMEMGUARD_A_SOURCE, GOMEMGUARD_SOURCE_CGROUP);
	nla_put_string(m, GOMEMGUARD_A_CGROUP, "/app.slice");
	nla_put_string(m, GOMEMGUARD_A_MEMCG, "/app.slice");
	nla_put_u64(m, GOMEMGUARD_A_MEMCG_ID, 1234);
	nla_put_u64(m, GOMEMGUARD_A_ANON, 1739461754);
	nla_put_u64(m, GOMEMGUARD_A_SWAP, 0);
	nla_put_u64(m, GOMEMGUARD_A_SHMEM, 0);
	nla_put_u64(m, GOMEMGUARD_A_FILE, 310ULL << 20);
	nla_put_u64(m, GOMEMGUARD_A_HWM, 1800000000);
	nla_put_s64(m, GOMEMGUARD_A_RATE, 10276044);
	nla_put_u64(m, GOMEMGUARD_A_ETA_MS, 28500);
	nla_put_u32(m, GOMEMGUARD_A_ETA_LIMIT, GOMEMGUARD_LIMIT_SOFT);
	nla_put_u32(m, GOMEMGUARD_A_LEVEL_PCT, 90);
	nla_put_u32(m, GOMEMGUARD_A_USAGE_PCT, 90);
	nla_put_u64(m, GOMEMGUARD_A_SOFT_LIMIT, 1932735283);
	nla_put(m, GOMEMGUARD_A_LEVELS, sizeof(levels), levels);
	nla_put_u32(m, GOMEMGUARD_A_ETA_HORIZON_MS, 30000);
	nla_put_u32(m, GOMEMGUARD_A_SIGNAL, SIGUSR1);
	nla_put_u32(m, GOMEMGUARD_A_RATE_WINDOW_MS, 5000);
	nla_put_u8(m, GOMEMGUARD_A_INHERIT, 1);
	nla_put_u64(m, GOMEMGUARD_A_MEMCG_USAGE, 2040109465);
	nla_put_u64(m, GOMEMGUARD_A_MEMCG_MAX, 2 * GIB);
	nla_put_u64(m, GOMEMGUARD_A_MEMCG_HIGH, 2080374784);
	nla_put_u32(m, GOMEMGUARD_A_SIGNALS_SENT, 1);
	nla_put_u64(m, GOMEMGUARD_A_FIRST_WARN_NS, 987654321000);
	nla_put_u32(m, GOMEMGUARD_A_LIMIT_ORIGIN, GOMEMGUARD_ORIGIN_GOMEMLIMIT);
	nla_put_u32(m, GOMEMGUARD_A_SHAPE, GOMEMGUARD_SHAPE_GROWTH);
}

static const char proc_full_json[] =
	"{\"pid\":4711,\"comm\":\"payments\",\"source\":\"cgroup\","
	"\"cgroup\":\"/app.slice\",\"memcg\":\"/app.slice\",\"memcg_id\":1234,"
	"\"anon_bytes\":1739461754,\"swap_bytes\":0,\"shmem_bytes\":0,"
	"\"file_bytes\":325058560,\"hwm_bytes\":1800000000,"
	"\"rate_bytes_per_s\":10276044,\"shape\":\"steady_growth\","
	"\"eta_ms\":28500,\"eta_limit\":\"soft\","
	"\"level_pct\":90,\"usage_pct\":90,\"soft_limit_bytes\":1932735283,"
	"\"levels\":[80,90,100],\"eta_horizon_ms\":30000,\"signal\":10,"
	"\"rate_window_ms\":5000,\"inherit\":true,\"limit_origin\":\"gomemlimit\","
	"\"memcg_usage_bytes\":2040109465,\"memcg_max_bytes\":2147483648,"
	"\"memcg_high_bytes\":2080374784,\"signals_sent\":1,"
	"\"first_warn_ns\":987654321000}";

/* A process tagged by PID, no optional attribute, SIGNAL 0, no INHERIT. */
static void put_proc_minimal(struct nl_msg *m)
{
	static const uint32_t levels[] = { 80, 90, 100 };

	nla_put_u32(m, GOMEMGUARD_A_PID, 815);
	nla_put_string(m, GOMEMGUARD_A_COMM, "worker");
	nla_put_u32(m, GOMEMGUARD_A_SOURCE, GOMEMGUARD_SOURCE_PID);
	nla_put_string(m, GOMEMGUARD_A_MEMCG, "/system.slice/worker.service");
	nla_put_u64(m, GOMEMGUARD_A_MEMCG_ID, 99);
	nla_put_u64(m, GOMEMGUARD_A_ANON, 4096);
	nla_put_u64(m, GOMEMGUARD_A_SWAP, 8192);
	nla_put_u64(m, GOMEMGUARD_A_SHMEM, 1 << 20);
	nla_put_u64(m, GOMEMGUARD_A_FILE, 0);
	nla_put_u64(m, GOMEMGUARD_A_HWM, 12288);
	nla_put_s64(m, GOMEMGUARD_A_RATE, -4096);
	nla_put_u32(m, GOMEMGUARD_A_LEVEL_PCT, 0);
	nla_put_u32(m, GOMEMGUARD_A_USAGE_PCT, 1);
	nla_put_u64(m, GOMEMGUARD_A_SOFT_LIMIT, GIB);
	nla_put(m, GOMEMGUARD_A_LEVELS, sizeof(levels), levels);
	nla_put_u32(m, GOMEMGUARD_A_ETA_HORIZON_MS, 30000);
	nla_put_u32(m, GOMEMGUARD_A_SIGNAL, 0);
	nla_put_u32(m, GOMEMGUARD_A_RATE_WINDOW_MS, 5000);
	nla_put_u64(m, GOMEMGUARD_A_MEMCG_USAGE, 50 << 20);
	nla_put_u32(m, GOMEMGUARD_A_SIGNALS_SENT, 0);
}

static const char proc_minimal_json[] =
	"{\"pid\":815,\"comm\":\"worker\",\"source\":\"pid\",\"cgroup\":null,"
	"\"memcg\":\"/system.slice/worker.service\",\"memcg_id\":99,"
	"\"anon_bytes\":4096,\"swap_bytes\":8192,\"shmem_bytes\":1048576,"
	"\"file_bytes\":0,\"hwm_bytes\":12288,\"rate_bytes_per_s\":-4096,"
	"\"shape\":null,"
	"\"eta_ms\":null,\"eta_limit\":null,\"level_pct\":0,\"usage_pct\":1,"
	"\"soft_limit_bytes\":1073741824,\"levels\":[80,90,100],"
	"\"eta_horizon_ms\":30000,\"signal\":null,\"rate_window_ms\":5000,"
	"\"inherit\":false,\"limit_origin\":null,\"memcg_usage_bytes\":52428800,"
	"\"memcg_max_bytes\":null,\"memcg_high_bytes\":null,"
	"\"signals_sent\":0,\"first_warn_ns\":null}";

static struct nl_msg *proc_reply(struct nlmsghdr *req, int flags,
				 void (*put)(struct nl_msg *m))
{
	struct nl_msg *m = fake_reply(req, GOMEMGUARD_CMD_PROC_GET, flags);

	put(m);
	return m;
}

static void answer_proc_dump(struct nlmsghdr *req)
{
	fake_queue(proc_reply(req, NLM_F_MULTI, put_proc_full),
		   proc_reply(req, NLM_F_MULTI, put_proc_minimal));
	fake_queue(fake_done(req, 0, NULL), NULL);
}

static void answer_proc_one(struct nlmsghdr *req)
{
	fake_queue(proc_reply(req, 0, put_proc_full), NULL);
	fake_queue(fake_ack(req, 0, true, NULL), NULL);
}

static void answer_proc_dump_failing(struct nlmsghdr *req)
{
	fake_queue(proc_reply(req, NLM_F_MULTI, put_proc_full), NULL);
	fake_queue(fake_done(req, -EPERM, "not in your PID namespace"), NULL);
}

/*
 * Dumps the fake kernel answered in the test at hand (in the verb's child),
 * and how many of the first ones the set changed under: 4711 twice (as a
 * dump by position would show it after an exit), flagged from then on.
 * Those after them are whole.
 */
static int dumps, intr_dumps;

static void answer_proc_dump_intr(struct nlmsghdr *req)
{
	if (dumps++ >= intr_dumps) {
		answer_proc_dump(req);
		return;
	}
	fake_queue(proc_reply(req, NLM_F_MULTI, put_proc_full),
		   fake_intr(proc_reply(req, NLM_F_MULTI, put_proc_full)));
	fake_queue(fake_intr(fake_done(req, 0, NULL)), NULL);
}

static void answer_proc_dump_lacking(struct nlmsghdr *req)
{
	struct nl_msg *m = fake_reply(req, GOMEMGUARD_CMD_PROC_GET, NLM_F_MULTI);

	nla_put_u32(m, GOMEMGUARD_A_PID, 1);
	fake_queue(m, NULL);
	fake_queue(fake_done(req, 0, NULL), NULL);
}

static void answer_tag_dump(struct nlmsghdr *req)
{
	static const uint32_t levels[] = { 70, 85, 95, 100 };
	struct nl_msg *a, *b;

	a = fake_reply(req, GOMEMGUARD_CMD_TAG_GET, NLM_F_MULTI);
	nla_put_string(a, GOMEMGUARD_A_CGROUP, "/app.slice");
	nla_put_u64(a, GOMEMGUARD_A_SOFT_LIMIT, 1932735283);
	nla_put(a, GOMEMGUARD_A_LEVELS, sizeof(levels), levels);
	nla_put_u32(a, GOMEMGUARD_A_ETA_HORIZON_MS, 45000);
	nla_put_u32(a, GOMEMGUARD_A_SIGNAL, SIGUSR1);
	nla_put_u32(a, GOMEMGUARD_A_RATE_WINDOW_MS, 2000);
	nla_put_u8(a, GOMEMGUARD_A_INHERIT, 1);
	nla_put_u32(a, GOMEMGUARD_A_TAG_MEMBERS, 3);
	b = fake_reply(req, GOMEMGUARD_CMD_TAG_GET, NLM_F_MULTI);
	nla_put_string(b, GOMEMGUARD_A_CGROUP, "/batch.slice");
	nla_put_u64(b, GOMEMGUARD_A_SOFT_LIMIT, 512ULL << 20);
	nla_put(b, GOMEMGUARD_A_LEVELS, sizeof(levels[0]), levels);
	nla_put_u32(b, GOMEMGUARD_A_ETA_HORIZON_MS, 30000);
	nla_put_u32(b, GOMEMGUARD_A_RATE_WINDOW_MS, 5000);
	nla_put_u32(b, GOMEMGUARD_A_TAG_MEMBERS, 0);
	fake_queue(a, b);
	fake_queue(fake_done(req, 0, NULL), NULL);
}

/* A JSON document equal, as values, to the expected text. */
static bool json_equals(struct json_object *got, const char *want_text)
{
	struct json_object *want = json_tokener_parse(want_text);
	bool ok;

	if (!want)
		return fail("expected JSON does not parse: %s", want_text);
	ok = json_object_equal(got, want);
	if (!ok) {
		printf("# got:      %s\n", json_object_to_json_string(got));
		printf("# expected: %s\n", json_object_to_json_string(want));
	}
	json_object_put(want);
	return ok;
}

/* Line i (from 0) of text, parsed as JSON; NULL if none. */
static struct json_object *json_line(const char *text, int i)
{
	char line[8192];
	const char *end;

	for (; i > 0 && text; i--) {
		text = strchr(text, '\n');
		if (text)
			text++;
	}
	if (!text || !*text)
		return NULL;
	end = strchrnul(text, '\n');
	snprintf(line, sizeof(line), "%.*s", (int)(end - text), text);
	return json_tokener_parse(line);
}

static int count_lines(const char *text)
{
	int n = 0;

	for (; *text; text++)
		n += *text == '\n';
	return n;
}

/* Line i of text is, as JSON values, want. */
static bool line_equals(const char *text, int i, const char *want)
{
	struct json_object *got = json_line(text, i);
	bool ok;

	if (!got)
		return fail("line %d is missing or not JSON", i + 1);
	ok = json_equals(got, want);
	json_object_put(got);
	return ok || fail("line %d differs", i + 1);
}

/*
 * "time" and "time_unix_ns" of a CLOCK_BOOTTIME stamp, by the fake clocks
 * (2026-11-27 09:00:00 UTC, ten days after boot), with a comma after.
 */
static char *wall_keys(uint64_t time_ns)
{
	uint64_t wall = FAKE_REALTIME_NS - FAKE_BOOTTIME_NS + time_ns;
	time_t secs = (time_t)(wall / 1000000000);
	char date[32];
	struct tm tm;

	strftime(date, sizeof(date), "%Y-%m-%dT%H:%M:%S", gmtime_r(&secs, &tm));
	return format("\"time\":\"%s.%09" PRIu64 "Z\",\"time_unix_ns\":%" PRIu64 ",",
		      date, wall % 1000000000, wall);
}

/* What monitor reads from the memcg paths of /app.slice and of worker. */
#define APP_NAMES "\"unit\":\"app.slice\",\"pod_uid\":null,\"container_id\":null,"
#define WORKER_NAMES \
	"\"unit\":\"worker.service\",\"pod_uid\":null,\"container_id\":null,"

/* The proc JSON with the event's keys added. */
static char *event_json(const char *event, uint64_t seq, uint64_t time_ns,
			const char *proc)
{
	char *wall = wall_keys(time_ns), *s;

	s = format("{\"event\":\"%s\",\"seq\":%" PRIu64 ",\"time_ns\":%" PRIu64 ",%s%s%s",
		   event, seq, time_ns, wall,
		   proc == proc_full_json ? APP_NAMES : WORKER_NAMES, proc + 1);
	free(wall);
	return s;
}

static struct nl_msg *event_msg(uint32_t event, uint64_t seq,
				void (*put)(struct nl_msg *m))
{
	struct nl_msg *m = fake_event();

	nla_put_u32(m, GOMEMGUARD_A_EVENT, event);
	nla_put_u64(m, GOMEMGUARD_A_SEQ, seq);
	nla_put_u64(m, GOMEMGUARD_A_TIME_NS, seq * 1000000000ULL);
	if (put)
		put(m);
	return m;
}

/* The tests. */

static bool test_tag_encoding(void)
{
	static const char *const args[] = {
		"tag", "4711", "--soft-limit", "1.5G", "--levels", "70,85%,100",
		"--eta", "45s", "--signal", "sigusr1", "--rate-window", "2s",
		"--inherit", NULL,
	};
	static const uint32_t levels[] = { 70, 85, 100 };
	struct sent s;
	struct run r;

	fake_answer_with(answer_ack);
	run_verb(&r, tag_main, args);
	return check_run(&r, 0, "", "") && decode(0, &s) &&
	       sent_head(&s, GOMEMGUARD_CMD_TAG_NEW, false, 7) &&
	       sent_u32(&s, GOMEMGUARD_A_PID, 4711) &&
	       sent_u64(&s, GOMEMGUARD_A_SOFT_LIMIT, 1610612736) &&
	       sent_levels(&s, levels, ARRAY_SIZE_T(levels)) &&
	       sent_u32(&s, GOMEMGUARD_A_ETA_HORIZON_MS, 45000) &&
	       sent_u32(&s, GOMEMGUARD_A_SIGNAL, SIGUSR1) &&
	       sent_u32(&s, GOMEMGUARD_A_RATE_WINDOW_MS, 2000) &&
	       sent_u8(&s, GOMEMGUARD_A_INHERIT, 1);
}

static bool test_tag_cgroup_relative(void)
{
	static const char *const args[] = {
		"tag", "--soft-limit", "512M", "--cgroup",
		"/system.slice/worker.service", NULL,
	};
	struct sent s;
	struct run r;

	fake_answer_with(answer_ack);
	run_verb(&r, tag_main, args);
	return check_run(&r, 0, "", "") && decode(0, &s) &&
	       sent_head(&s, GOMEMGUARD_CMD_TAG_NEW, false, 2) &&
	       sent_string(&s, GOMEMGUARD_A_CGROUP,
			   "/system.slice/worker.service") &&
	       sent_u64(&s, GOMEMGUARD_A_SOFT_LIMIT, 512ULL << 20);
}

/*
 * The reported trap: a pod's "memory: 256M" is 256 * 10^6 bytes in
 * memory.max, and --soft-limit 256M is 256 MiB, above it.  Refused with
 * both numbers, nothing sent; 244Mi fits and is sent.
 */
static bool test_soft_limit_above_max(void)
{
	static const char *const above[] = {
		"tag", "--cgroup", "/app.slice", "--soft-limit", "256M", NULL,
	};
	static const char *const set_above[] = {
		"set", "--cgroup", "/app.slice", "--soft-limit", "1G", NULL,
	};
	static const char *const below[] = {
		"tag", "--cgroup", "/app.slice", "--soft-limit", "244Mi", NULL,
	};
	char path[sizeof(cg2_root) + 32];
	struct sent snt;
	struct run r;
	bool ok;
	FILE *f;

	snprintf(path, sizeof(path), "%s/app.slice/memory.max", cg2_root);
	f = must(fopen(path, "w"));
	fputs("256000000\n", f);
	fclose(f);
	fake_answer_with(answer_ack);
	run_verb(&r, tag_main, above);
	ok = check_run(&r, 1, "",
		       "gomemctl: tag: --soft-limit 256 MiB (268435456 bytes) is above memory.max 244 MiB (256000000 bytes) of /app.slice: the OOM killer would act before any warning (Kubernetes' M is 10^6 bytes, gomemctl's M is MiB: use Mi, or bytes)\n") &&
	     (fake_log->n_reqs == 0 || fail("%u requests sent", fake_log->n_reqs));
	fake_reset();
	fake_answer_with(answer_ack);
	run_verb(&r, set_main, set_above);
	ok = ok && check_run(&r, 1, "", NULL) &&
	     (strstr(fake_said, "gomemctl: set: --soft-limit 1 GiB (1073741824 bytes) is above memory.max 244 MiB (256000000 bytes)") ||
	      fail("set said: %s", fake_said));
	fake_reset();
	fake_answer_with(answer_ack);
	run_verb(&r, tag_main, below);
	ok = ok && check_run(&r, 0, "", "") && decode(0, &snt) &&
	     sent_u64(&snt, GOMEMGUARD_A_SOFT_LIMIT, 244ULL << 20);
	unlink(path);
	return ok;
}

/* Not below the cgroup2 root (setup_cg2_tree()'s): said, nothing sent. */
static bool test_tag_cgroup_missing(void)
{
	static const char *const args[] = {
		"tag", "--soft-limit", "512M", "--cgroup", "/gmg-no-such.slice/x",
		NULL,
	};
	char said[512];
	struct run r;

	snprintf(said, sizeof(said),
		 "gomemctl: tag: no such cgroup: /gmg-no-such.slice/x (no directory %s/gmg-no-such.slice/x)\n",
		 cg2_root);
	fake_answer_with(answer_ack);
	run_verb(&r, tag_main, args);
	return check_run(&r, GMC_EXIT_ERROR, "", said) &&
	       (fake_log->n_reqs == 0 || fail("%u requests sent", fake_log->n_reqs));
}

/* The first cgroup2 mount point in mountinfo, if there is one. */
static bool cgroup2_mount(char *dir, size_t len)
{
	char line[4096], mnt[4096];
	bool found = false;
	FILE *f = fopen("/proc/self/mountinfo", "re");

	while (f && !found && fgets(line, sizeof(line), f)) {
		if (strstr(line, " - cgroup2 ") &&
		    sscanf(line, "%*s %*s %*s %*s %4095s", mnt) == 1 &&
		    !strchr(mnt, '\\')) {
			snprintf(dir, len, "%s", mnt);
			found = true;
		}
	}
	if (f)
		fclose(f);
	return found;
}

static bool test_tag_cgroup_mount(void)
{
	const char *args[] = { "tag", "--cgroup", NULL, "--soft-limit", "1G",
			       NULL };
	char dir[4096];
	struct sent s;
	struct run r;

	if (!cgroup2_mount(dir, sizeof(dir))) {
		skip_why = "no cgroup2 mount here";
		return true;
	}
	args[2] = dir;
	fake_answer_with(answer_ack);
	run_verb(&r, tag_main, args);
	return check_run(&r, 0, "", "") && decode(0, &s) &&
	       sent_string(&s, GOMEMGUARD_A_CGROUP, "/");
}

static bool test_tag_levels_refused(void)
{
	static const char *const args[] = {
		"tag", "4711", "--soft-limit", "1G", "--levels", "90,80", NULL,
	};
	static const uint32_t levels[] = { 90, 80 };
	struct sent s;
	struct run r;

	fake_answer_with(answer_levels_refused);
	run_verb(&r, tag_main, args);
	return check_run(&r, 1, "",
			 "gomemctl: tag: Invalid argument\n"
			 "kernel reports: levels must ascend (attribute levels)\n") &&
	       decode(0, &s) && sent_levels(&s, levels, ARRAY_SIZE_T(levels));
}

static bool test_tag_pid_zero(void)
{
	static const char *const args[] = {
		"tag", "0", "--soft-limit", "1G", "--signal", "64", NULL,
	};
	struct sent s;
	struct run r;

	fake_answer_with(answer_no_such_pid);
	run_verb(&r, tag_main, args);
	return check_run(&r, 1, "",
			 "gomemctl: tag: No such process\n"
			 "kernel reports: no such process (attribute pid)\n") &&
	       decode(0, &s) && sent_u32(&s, GOMEMGUARD_A_PID, 0) &&
	       sent_u32(&s, GOMEMGUARD_A_SIGNAL, 64);
}

/*
 * PID 4711 tagged with --soft-limit 1G and the defaults (source, below),
 * /app.slice as answer_tag_dump() has it: TAG_NEW is EEXIST.
 */
static uint32_t existing_source = GOMEMGUARD_SOURCE_PID;

static void answer_tagged_already(struct nlmsghdr *req)
{
	static const uint32_t levels[] = { 80, 90, 100 };
	static const struct fake_tlvs pid_t_tlvs = {
		.msg = "process is already tagged",
	};
	static const struct fake_tlvs cg_tlvs = {
		.msg = "process is already watched through a cgroup tag or its parent",
	};
	uint8_t cmd = ((struct genlmsghdr *)nlmsg_data(req))->cmd;
	struct nl_msg *m;

	switch (cmd) {
	case GOMEMGUARD_CMD_TAG_NEW:
		fake_queue(fake_ack(req, -EEXIST, false,
				    existing_source == GOMEMGUARD_SOURCE_PID ?
				    &pid_t_tlvs : &cg_tlvs), NULL);
		break;
	case GOMEMGUARD_CMD_PROC_GET:
		m = fake_reply(req, cmd, NLM_F_MULTI);
		nla_put_u32(m, GOMEMGUARD_A_PID, 4711);
		nla_put_u32(m, GOMEMGUARD_A_SOURCE, existing_source);
		nla_put_u64(m, GOMEMGUARD_A_SOFT_LIMIT, 1ULL << 30);
		nla_put(m, GOMEMGUARD_A_LEVELS, sizeof(levels), levels);
		nla_put_u32(m, GOMEMGUARD_A_ETA_HORIZON_MS, 30000);
		nla_put_u32(m, GOMEMGUARD_A_RATE_WINDOW_MS, 15000);
		nla_put_u8(m, GOMEMGUARD_A_INHERIT, 0);
		fake_queue(m, fake_done(req, 0, NULL));
		break;
	default:
		answer_tag_dump(req);
	}
}

static bool tag_again(const char *const args[], int status, const char *out,
		      const char *said)
{
	struct run r;

	fake_reset();
	fake_answer_with(answer_tagged_already);
	run_verb(&r, tag_main, args);
	return check_run(&r, status, out, said);
}

static bool test_tag_already(void)
{
	static const char *const same[] = {
		"tag", "4711", "--soft-limit", "1G", "--eta", "30s", NULL,
	};
	static const char *const other[] = {
		"tag", "4711", "--soft-limit", "2G", "--signal", "USR1",
		"--inherit", NULL,
	};
	static const char *const cg_same[] = {
		"tag", "--cgroup", "/app.slice", "--soft-limit", "1932735283",
		"--levels", "70,85,95,100", "--eta", "45s", "--signal", "USR1",
		"--rate-window", "2s", "--inherit", NULL,
	};
	static const char *const cg_other[] = {
		"tag", "--cgroup", "/app.slice", "--soft-limit", "1932735283",
		"--levels", "70,85,95,100", "--eta", "45s", "--signal", "USR1",
		"--rate-window", "2s", NULL,
	};
	bool ok;

	existing_source = GOMEMGUARD_SOURCE_PID;
	ok = tag_again(same, 0, "pid 4711: already tagged with these settings\n", "") &&
	     tag_again(other, 1, "",
		       "gomemctl: tag: pid 4711 is already tagged, with another --soft-limit, --signal, --inherit (soft limit 1 GiB): change a tag with \"gomemctl set 4711 ...\"\n") &&
	     tag_again(cg_same, 0,
		       "cgroup /app.slice: already tagged with these settings\n", "") &&
	     tag_again(cg_other, 1, "",
		       "gomemctl: tag: cgroup /app.slice is already tagged, with another --inherit (soft limit 1.8 GiB): change a tag with \"gomemctl set --cgroup /app.slice ...\"\n");
	/* Watched through a cgroup tag: the module's word, as it was. */
	existing_source = GOMEMGUARD_SOURCE_CGROUP;
	ok = ok && tag_again(same, 1, "",
			     "gomemctl: tag: File exists\n"
			     "kernel reports: process is already watched through a cgroup tag or its parent\n");
	existing_source = GOMEMGUARD_SOURCE_PID;
	return ok;
}

static void answer_kill_refused(struct nlmsghdr *req)
{
	static const struct fake_tlvs t = {
		.msg = "you may not signal this process (kill(2) needs the same user ID or CAP_KILL): no fuse for it",
	};

	fake_queue(fake_ack(req, -EPERM, false, &t), NULL);
}

/* KILL gets to the module; its kill(2) verdict reaches the user as it is. */
static bool test_tag_kill_refused(void)
{
	static const char *const args[] = {
		"tag", "4711", "--soft-limit", "1G", "--signal", "KILL", NULL,
	};
	struct sent s;
	struct run r;

	fake_answer_with(answer_kill_refused);
	run_verb(&r, tag_main, args);
	return check_run(&r, 1, "",
			 "gomemctl: tag: Operation not permitted\n"
			 "kernel reports: you may not signal this process (kill(2) needs the same user ID or CAP_KILL): no fuse for it\n") &&
	       decode(0, &s) && sent_u32(&s, GOMEMGUARD_A_SIGNAL, SIGKILL);
}

/*
 * Stop signals, by any name or number, and soft limits above 1 EiB never
 * reach the module; 1 EiB itself and KILL do.
 */
static bool test_tag_refused_locally(void)
{
	static char stop_number[16];
	static const struct {
		int (*verb)(int, char **);
		const char *args[8];
		const char *said;
	} cases[] = {
		{ tag_main, { "tag", "4711", "--soft-limit", "1G", "--signal", "STOP" },
		  "gomemctl: tag: invalid --signal \"STOP\": a stop signal: the module refuses STOP, TSTP, TTIN and TTOU" },
		{ tag_main, { "tag", "--cgroup", "/app.slice", "--soft-limit", "1G", "--signal", "sigtstp" },
		  "invalid --signal \"sigtstp\": a stop signal" },
		{ set_main, { "set", "4711", "--signal", "TTIN" },
		  "gomemctl: set: invalid --signal \"TTIN\": a stop signal" },
		{ set_main, { "set", "4711", "--signal", "SIGTTOU" },
		  "invalid --signal \"SIGTTOU\": a stop signal" },
		{ set_main, { "set", "4711", "--signal", stop_number },
		  "a stop signal" },
		{ tag_main, { "tag", "4711", "--soft-limit", "1.5E" },
		  "gomemctl: tag: invalid --soft-limit \"1.5E\": above the module's bound of 1 EiB" },
		{ set_main, { "set", "--cgroup", "/app.slice", "--soft-limit", "1152921504606846977" },
		  "above the module's bound of 1 EiB" },
	};
	static const char *const allowed[][8] = {
		{ "tag", "4711", "--soft-limit", "1E", "--signal", "KILL" },
		{ "set", "4711", "--signal", "CONT" },
	};
	struct sent s;
	bool ok = true;
	struct run r;
	size_t i;

	snprintf(stop_number, sizeof(stop_number), "%d", SIGSTOP);
	for (i = 0; i < ARRAY_SIZE_T(cases); i++) {
		fake_reset();
		fake_answer_with(answer_ack);
		run_verb(&r, cases[i].verb, cases[i].args);
		if (r.status != GMC_EXIT_USAGE || !strstr(fake_said, cases[i].said) ||
		    fake_log->n_reqs)
			ok = fail("case %zu: status %d, %u requests, said \"%s\"",
				  i, r.status, fake_log->n_reqs, fake_said);
	}
	fake_reset();
	fake_answer_with(answer_ack);
	run_verb(&r, tag_main, allowed[0]);
	ok &= check_run(&r, 0, "", "") && decode(0, &s) &&
	      sent_u64(&s, GOMEMGUARD_A_SOFT_LIMIT, GOMEMGUARD_SOFT_LIMIT_MAX) &&
	      sent_u32(&s, GOMEMGUARD_A_SIGNAL, SIGKILL);
	fake_reset();
	fake_answer_with(answer_ack);
	run_verb(&r, set_main, allowed[1]);
	ok &= check_run(&r, 0, "", "") && decode(0, &s) &&
	      sent_u32(&s, GOMEMGUARD_A_SIGNAL, SIGCONT);
	return ok;
}

static bool test_set_encoding(void)
{
	static const char *const args[] = {
		"set", "--cgroup", "/app.slice", "--signal", "TERM", "--no-signal",
		"--no-inherit", "--levels", "95", NULL,
	};
	static const uint32_t levels[] = { 95 };
	struct sent s;
	struct run r;

	fake_answer_with(answer_ack);
	run_verb(&r, set_main, args);
	return check_run(&r, 0, "", "") && decode(0, &s) &&
	       sent_head(&s, GOMEMGUARD_CMD_TAG_SET, false, 4) &&
	       sent_string(&s, GOMEMGUARD_A_CGROUP, "/app.slice") &&
	       sent_u32(&s, GOMEMGUARD_A_SIGNAL, 0) &&
	       sent_u8(&s, GOMEMGUARD_A_INHERIT, 0) &&
	       sent_levels(&s, levels, 1);
}

static bool test_untag_encoding(void)
{
	static const char *const args[] = { "untag", "4711", NULL };
	struct sent s;
	struct run r;

	fake_answer_with(answer_ack);
	run_verb(&r, untag_main, args);
	return check_run(&r, 0, "", "") && decode(0, &s) &&
	       sent_head(&s, GOMEMGUARD_CMD_TAG_DEL, false, 1) &&
	       sent_u32(&s, GOMEMGUARD_A_PID, 4711);
}

/* A process as show -j has it: with its Go warnings (none here). */
static char *show_json(const char *proc)
{
	return format("%.*s,\"warnings\":[]}", (int)strlen(proc) - 1, proc);
}

static bool test_show_json(void)
{
	static const char *const args[] = { "show", "-j", NULL };
	char *want, *full, *minimal;
	struct json_object *got;
	struct sent s;
	struct run r;
	bool ok;

	fake_answer_with(answer_proc_dump);
	run_verb(&r, show_main, args);
	if (!check_run(&r, 0, NULL, "") || !decode(0, &s) ||
	    !sent_head(&s, GOMEMGUARD_CMD_PROC_GET, true, 0))
		return false;
	if (count_lines(r.out) != 1)
		return fail("%d lines, expected one", count_lines(r.out));
	got = json_line(r.out, 0);
	full = show_json(proc_full_json);
	minimal = show_json(proc_minimal_json);
	want = format("[%s,%s]", full, minimal);
	ok = got && json_equals(got, want);
	json_object_put(got);
	free(want);
	free(full);
	free(minimal);
	return ok;
}

/* show's table of answer_proc_dump(). */
static const char proc_dump_text[] =
	"    PID COMM                 ANON      FILE     SHMEM      SWAP        RATE SHAPE        ETA      SOFT ORIGIN     LEVEL MEMCG\n"
	"   4711 payments         1.62 GiB   310 MiB       0 B       0 B  +9.8 MiB/s growth       28s   1.8 GiB GOMEMLIMIT   90% /app.slice\n"
	"    815 worker              4 KiB       0 B     1 MiB     8 KiB    -4 KiB/s -              -     1 GiB -              - /system.slice/worker.service\n";

static bool test_show_text(void)
{
	static const char *const args[] = { "show", NULL };
	struct run r;

	fake_answer_with(answer_proc_dump);
	run_verb(&r, show_main, args);
	return check_run(&r, 0, proc_dump_text, "");
}

static bool test_show_pid(void)
{
	static const char *const args[] = { "show", "4711", "--json", NULL };
	char *want, *full;
	struct sent s;
	struct run r;
	bool ok;

	fake_answer_with(answer_proc_one);
	run_verb(&r, show_main, args);
	full = show_json(proc_full_json);
	want = format("[%s]", full);
	free(full);
	ok = check_run(&r, 0, NULL, "") && line_equals(r.out, 0, want) &&
	     decode(0, &s) && sent_head(&s, GOMEMGUARD_CMD_PROC_GET, false, 1) &&
	     sent_u32(&s, GOMEMGUARD_A_PID, 4711);
	free(want);
	return ok;
}

static bool test_show_dump_intr(void)
{
	static const char *const args[] = { "show", NULL };
	struct sent s;
	struct run r;

	dumps = 0;
	intr_dumps = 1;
	fake_answer_with(answer_proc_dump_intr);
	run_verb(&r, show_main, args);
	return check_run(&r, 0, proc_dump_text, "") &&
	       (fake_log->n_reqs == 2 || fail("%u requests, expected 2",
					       fake_log->n_reqs)) &&
	       decode(1, &s) && sent_head(&s, GOMEMGUARD_CMD_PROC_GET, true, 0);
}

static bool test_show_dump_intr_always(void)
{
	static const char *const args[] = { "show", "-j", NULL };
	struct run r;

	/* Whole only at the 8th dump: too late. */
	dumps = 0;
	intr_dumps = 7;
	fake_answer_with(answer_proc_dump_intr);
	run_verb(&r, show_main, args);
	return check_run(&r, 1, "",
			 "gomemctl: show: the watched set kept changing during the dump; try again\n") &&
	       (fake_log->n_reqs == 5 || fail("%u requests, expected 5",
					       fake_log->n_reqs));
}

static bool test_show_dump_error(void)
{
	static const char *const args[] = { "show", "-j", NULL };
	struct run r;

	fake_answer_with(answer_proc_dump_failing);
	run_verb(&r, show_main, args);
	return check_run(&r, 1, "",
			 "gomemctl: show: Operation not permitted\n"
			 "kernel reports: not in your PID namespace\n");
}

static bool test_show_lacking(void)
{
	static const char *const args[] = { "show", "-j", NULL };
	struct run r;

	fake_answer_with(answer_proc_dump_lacking);
	run_verb(&r, show_main, args);
	return check_run(&r, 1, "",
			 "gomemctl: show: reply lacks comm (is the module older than gomemctl?)\n");
}

static bool test_show_tags(void)
{
	static const char *const json_args[] = { "show", "--tags", "-j", NULL };
	static const char *const text_args[] = { "show", "--tags", NULL };
	struct sent s;
	struct run r;

	fake_answer_with(answer_tag_dump);
	run_verb(&r, show_main, json_args);
	if (!check_run(&r, 0, NULL, "") || !decode(0, &s) ||
	    !sent_head(&s, GOMEMGUARD_CMD_TAG_GET, true, 0) ||
	    !line_equals(r.out, 0,
			 "[{\"cgroup\":\"/app.slice\",\"soft_limit_bytes\":1932735283,"
			 "\"levels\":[70,85,95,100],\"eta_horizon_ms\":45000,"
			 "\"signal\":10,\"rate_window_ms\":2000,\"inherit\":true,"
			 "\"members\":3},"
			 "{\"cgroup\":\"/batch.slice\",\"soft_limit_bytes\":536870912,"
			 "\"levels\":[70],\"eta_horizon_ms\":30000,\"signal\":null,"
			 "\"rate_window_ms\":5000,\"inherit\":false,\"members\":0}]"))
		return false;
	fake_reset();
	fake_answer_with(answer_tag_dump);
	run_verb(&r, show_main, text_args);
	return check_run(&r, 0,
		"     SOFT LEVELS             ETA SIGNAL        WINDOW INHERIT MEMBERS CGROUP\n"
		"  1.8 GiB 70,85,95,100       45s SIGUSR1           2s yes           3 /app.slice\n"
		"  512 MiB 70                 30s -                 5s no            0 /batch.slice\n",
		"");
}

static bool test_monitor_gap(void)
{
	static const char *const args[] = { "monitor", "-j", "--count", "3",
					     NULL };
	char *e1, *e2, *e5;
	struct run r;
	bool ok;

	/* Two in one datagram, as the kernel may batch them. */
	fake_queue_event(event_msg(GOMEMGUARD_EVENT_WARN, 1, put_proc_full),
			 event_msg(GOMEMGUARD_EVENT_ETA, 2, put_proc_full));
	fake_queue_event(event_msg(GOMEMGUARD_EVENT_RECOVER, 5, put_proc_full),
			 NULL);
	run_verb(&r, monitor_main, args);
	e1 = event_json("warn", 1, 1000000000, proc_full_json);
	e2 = event_json("eta", 2, 2000000000, proc_full_json);
	e5 = event_json("recover", 5, 5000000000, proc_full_json);
	ok = check_run(&r, 0, NULL,
		       "gomemctl: monitor: lost 2 events (seq 3..4)\n") &&
	     (count_lines(r.out) == 4 || fail("%d lines, expected 4",
					      count_lines(r.out))) &&
	     line_equals(r.out, 0, e1) && line_equals(r.out, 1, e2) &&
	     line_equals(r.out, 2, "{\"event\":\"lost\",\"count\":2,"
				   "\"first_seq\":3,\"last_seq\":4}") &&
	     line_equals(r.out, 3, e5) &&
	     (fake_log->subscribed || fail("did not subscribe to events"));
	free(e1);
	free(e2);
	free(e5);
	return ok;
}

static bool test_monitor_overflow(void)
{
	static const char *const args[] = { "monitor", "--count", "2", "-j",
					     NULL };
	char *e1, *e4, *state;
	struct sent s;
	struct run r;
	bool ok;

	fake_queue_event(event_msg(GOMEMGUARD_EVENT_WARN, 1, put_proc_full),
			 NULL);
	fake_queue_overflow();
	fake_queue_event(event_msg(GOMEMGUARD_EVENT_EXIT, 4, put_proc_minimal),
			 NULL);
	fake_answer_with(answer_proc_dump);
	run_verb(&r, monitor_main, args);
	e1 = event_json("warn", 1, 1000000000, proc_full_json);
	e4 = event_json("exit", 4, 4000000000, proc_minimal_json);
	state = format("{\"event\":\"state\"," APP_NAMES "%s", proc_full_json + 1);
	ok = check_run(&r, 0, NULL,
		       "gomemctl: monitor: event socket overflowed; resyncing\n"
		       "gomemctl: monitor: lost 2 events (seq 2..3)\n") &&
	     (count_lines(r.out) == 5 || fail("%d lines, expected 5",
					      count_lines(r.out))) &&
	     line_equals(r.out, 0, e1) && line_equals(r.out, 1, state) &&
	     line_equals(r.out, 3,
			 "{\"event\":\"lost\",\"count\":2,\"first_seq\":2,\"last_seq\":3}") &&
	     line_equals(r.out, 4, e4) && decode(0, &s) &&
	     sent_head(&s, GOMEMGUARD_CMD_PROC_GET, true, 0);
	free(e1);
	free(e4);
	free(state);
	return ok;
}

static bool test_monitor_text(void)
{
	static const char *const args[] = { "monitor", "--count", "2", NULL };
	static const char want[] =
		" warn payments[4711] anon 1.62 GiB (90% of 1.8 GiB), +9.8 MiB/s, reaches soft limit in 28s (file 310 MiB, memcg /app.slice 1.9 GiB/2 GiB)\n"
		" exit worker[815] anon 4 KiB + swap 8 KiB (1% of 1 GiB), -4 KiB/s (file 0 B, shmem 1 MiB, memcg /system.slice/worker.service 50 MiB/max)\n";
	unsigned int h, m, s, ms;
	char *second;
	struct run r;

	fake_queue_event(event_msg(GOMEMGUARD_EVENT_WARN, 1, put_proc_full),
			 event_msg(GOMEMGUARD_EVENT_EXIT, 2, put_proc_minimal));
	run_verb(&r, monitor_main, args);
	if (!check_run(&r, 0, NULL, ""))
		return false;
	/*
	 * Each line starts with the event's time by the local wall clock,
	 * "HH:MM:SS.mmm": the fake boot was 10 days before 09:00:00 (TZ=UTC),
	 * the events 1 s and 2 s after it.
	 */
	second = strchr(r.out, '\n');
	if (sscanf(r.out, "%2u:%2u:%2u.%3u", &h, &m, &s, &ms) != 4 ||
	    !second || sscanf(second + 1, "%2u:%2u:%2u.%3u", &h, &m, &s, &ms) != 4)
		return fail("no clock time in \"%s\"", r.out);
	if (strncmp(r.out, "09:00:01.000 ", 13) ||
	    strncmp(second + 1, "09:00:02.000 ", 13))
		return fail("not the events' times in \"%s\"", r.out);
	memmove(second + 1, second + 13, strlen(second + 13) + 1);
	memmove(r.out, r.out + 12, strlen(r.out + 12) + 1);
	if (strcmp(r.out, want)) {
		ktap_diag("stdout without the clock", r.out);
		ktap_diag("expected", want);
		return false;
	}
	return true;
}

static void put_comm_only(struct nl_msg *m)
{
	nla_put_string(m, GOMEMGUARD_A_COMM, "x");
}

static bool test_monitor_odd_events(void)
{
	static const char *const args[] = { "monitor", "-j", "--count", "1",
					     NULL };
	struct json_object *got, *ev = NULL;
	struct run r;
	bool ok;

	fake_queue_event(event_msg(GOMEMGUARD_EVENT_WARN, 1, put_comm_only),
			 event_msg(99, 2, put_proc_minimal));
	run_verb(&r, monitor_main, args);
	ok = check_run(&r, 0, NULL,
		       "gomemctl: monitor: event lacks memcg (is the module older than gomemctl?); skipped\n");
	got = json_line(r.out, 0);
	if (!got || !json_object_object_get_ex(got, "event", &ev) ||
	    strcmp(json_object_get_string(ev), "unknown"))
		ok = fail("the event numbered 99 is not \"unknown\": %s", r.out);
	if (count_lines(r.out) != 1)
		ok = fail("%d lines, expected 1", count_lines(r.out));
	json_object_put(got);
	return ok;
}

/* What put() puts into a message, but attribute type. */
static void put_without(struct nl_msg *m, void (*put)(struct nl_msg *m),
			int type)
{
	struct nl_msg *full = must(nlmsg_alloc());
	struct nlattr *a;
	int rem;

	put(full);
	nlmsg_for_each_attr(a, nlmsg_hdr(full), 0, rem)
		if (nla_type(a) != type)
			nla_put(m, nla_type(a), nla_len(a), nla_data(a));
	nlmsg_free(full);
}

/* What a monitor outside the initial PID namespace gets: no PID. */
static void put_proc_no_pid(struct nl_msg *m)
{
	put_without(m, put_proc_minimal, GOMEMGUARD_A_PID);
}

static bool test_monitor_no_pid(void)
{
	static const char *const args[] = { "monitor", "-j", "--count", "1",
					     NULL };
	struct json_object *got, *pid = NULL;
	struct run r;
	bool ok;

	fake_queue_event(event_msg(GOMEMGUARD_EVENT_EXIT, 1, put_proc_no_pid),
			 NULL);
	run_verb(&r, monitor_main, args);
	ok = check_run(&r, 0, NULL, "");
	got = json_line(r.out, 0);
	if (!got || !json_object_object_get_ex(got, "pid", &pid) || pid)
		ok = fail("no \"pid\": null in %s", r.out);
	json_object_put(got);
	return ok;
}

/* A memcg's own ETA, as the module sends it: no PID, no COMM. */
static void put_memcg_eta(struct nl_msg *m)
{
	nla_put_string(m, GOMEMGUARD_A_MEMCG, "/app.slice");
	nla_put_u64(m, GOMEMGUARD_A_MEMCG_ID, 1234);
	nla_put_u64(m, GOMEMGUARD_A_MEMCG_USAGE, 230 * 1048576ULL);
	nla_put_u64(m, GOMEMGUARD_A_MEMCG_MAX, 256 * 1048576ULL);
	nla_put_u64(m, GOMEMGUARD_A_MEMCG_ANON, 228 * 1048576ULL);
	nla_put_u64(m, GOMEMGUARD_A_MEMCG_FILE, 1048576);
	nla_put_u64(m, GOMEMGUARD_A_MEMCG_UNEVICTABLE, 0);
	nla_put_u64(m, GOMEMGUARD_A_RECLAIMABLE, 1048576);
	nla_put_s64(m, GOMEMGUARD_A_RATE, 4 * 1048576);
	nla_put_u64(m, GOMEMGUARD_A_ETA_MS, 3500);
	nla_put_u32(m, GOMEMGUARD_A_ETA_LIMIT, GOMEMGUARD_LIMIT_MEMCG_MAX);
	nla_put_u32(m, GOMEMGUARD_A_ETA_HORIZON_MS, 4000);
	nla_put_u32(m, GOMEMGUARD_A_RATE_WINDOW_MS, 2000);
	nla_put_u64(m, GOMEMGUARD_A_FIRST_WARN_NS, 987654321000);
}

/*
 * A memcg's ETA is printed, not skipped for lacking COMM: "scope":
 * "memcg", null pid and comm, its memcg's numbers; a line of prose.
 */
static bool test_monitor_memcg_eta(void)
{
	static const char *const json[] = { "monitor", "-j", "--count", "1", NULL };
	static const char *const text[] = { "monitor", "--count", "1", NULL };
	struct json_object *got, *v = NULL;
	struct run r;
	bool ok;

	fake_queue_event(event_msg(GOMEMGUARD_EVENT_ETA, 1, put_memcg_eta), NULL);
	run_verb(&r, monitor_main, json);
	ok = check_run(&r, 0, NULL, "");
	got = json_line(r.out, 0);
	if (!got || !json_object_object_get_ex(got, "scope", &v) ||
	    strcmp(json_object_get_string(v), "memcg") ||
	    !json_object_object_get_ex(got, "pid", &v) || v ||
	    !json_object_object_get_ex(got, "eta_ms", &v) ||
	    json_object_get_int64(v) != 3500 ||
	    !json_object_object_get_ex(got, "eta_limit", &v) ||
	    strcmp(json_object_get_string(v), "memcg_max") ||
	    !json_object_object_get_ex(got, "shmem_bytes", &v) ||
	    json_object_get_int64(v) != 104857600)
		ok = fail("memcg ETA: %s", r.out);
	json_object_put(got);
	fake_queue_event(event_msg(GOMEMGUARD_EVENT_ETA, 1, put_memcg_eta), NULL);
	run_verb(&r, monitor_main, text);
	ok &= check_run(&r, 0, NULL, "");
	if (!strstr(r.out, " eta memcg /app.slice reaches memory.max in 3s, +4 MiB/s (usage 230 MiB/256 MiB, shmem 100 MiB, anon 1.07 GiB, reclaimable 1 MiB): growth no watched process owns\n"))
		ok = fail("memcg ETA text: %s", r.out);
	return ok;
}

static bool test_monitor_sigterm(void)
{
	char ready[] = "/tmp/gmg-ready.XXXXXX";
	const char *args[] = { "monitor", "-j", "--ready-file", ready, NULL };
	struct stat st;
	struct run r;
	bool ok;
	int fd;

	fd = mkstemp(ready);
	if (fd < 0)
		return fail("mkstemp: %s", strerror(errno));
	close(fd);
	unlink(ready);
	fake_queue_event(event_msg(GOMEMGUARD_EVENT_WARN, 7, put_proc_full),
			 NULL);
	run_verb(&r, monitor_main, args);
	ok = check_run(&r, 0, NULL, "") &&
	     (count_lines(r.out) == 1 || fail("%d lines, expected 1",
					      count_lines(r.out))) &&
	     (!stat(ready, &st) || fail("no ready file %s", ready));
	unlink(ready);
	return ok;
}

static void answer_subscribed(struct nlmsghdr *req)
{
	struct nl_msg *m = fake_reply(req, GOMEMGUARD_CMD_EVENTS_SUBSCRIBE, 0);

	nla_put_u64(m, GOMEMGUARD_A_SEQ, 6);
	fake_queue(m, NULL);
}

static void answer_listeners_full(struct nlmsghdr *req)
{
	static const struct fake_tlvs t = {
		.msg = "too many event listeners for this user (4 without CAP_NET_ADMIN)",
	};

	fake_queue(fake_ack(req, -EBUSY, false, &t), NULL);
}

/* A per-user or unprivileged listener cap: said as the module says it, exit 1. */
static bool test_monitor_listeners_full(void)
{
	static const char *const args[] = { "monitor", "-j", "--count", "1",
					     NULL };
	struct sent s;
	struct run r;

	fake_subscribe_with(answer_listeners_full);
	fake_queue_event(event_msg(GOMEMGUARD_EVENT_WARN, 7, put_proc_full),
			 NULL);
	run_verb(&r, monitor_main, args);
	if (!check_run(&r, 1, "",
		       "gomemctl: monitor: Device or resource busy\n"
		       "kernel reports: too many event listeners for this user (4 without CAP_NET_ADMIN)\n") ||
	    !decode(0, &s) ||
	    !sent_head(&s, GOMEMGUARD_CMD_EVENTS_SUBSCRIBE, false, 0))
		return false;
	/* The same monitor with room for it: subscribed, it prints the event. */
	fake_reset();
	fake_subscribe_with(answer_subscribed);
	fake_queue_event(event_msg(GOMEMGUARD_EVENT_WARN, 7, put_proc_full),
			 NULL);
	run_verb(&r, monitor_main, args);
	return check_run(&r, 0, NULL, "") &&
	       (count_lines(r.out) == 1 || fail("%d lines, expected 1",
					       count_lines(r.out)));
}


static bool test_monitor_timeout(void)
{
	static const char *const args[] = { "monitor", "--timeout", "50ms",
					     NULL };
	struct run r;

	fake_events_end_with_sigterm(false);
	run_verb(&r, monitor_main, args);
	return check_run(&r, 0, "", "");
}

/* OOM post-mortems: OOM_GET replies and OOM events. */

#define MIB (1ULL << 20)
#define NS_PER_S 1000000000ULL

/* Report #2 was taken 28 min 30 s before the fake clock's now, #1 6 h. */
#define OOM2_TIME_NS (FAKE_BOOTTIME_NS - (28 * 60 + 30) * NS_PER_S)
#define OOM1_TIME_NS (FAKE_BOOTTIME_NS - 6 * 3600 * NS_PER_S)

/* A SNAPSHOT_PROC nest as the kernel lays it out: NLA_F_NESTED set. */
static void put_snapshot_proc(struct nl_msg *m, void (*put)(struct nl_msg *m),
			      int64_t lead_ms)
{
	struct nlattr *nest = nla_nest_start(m, GOMEMGUARD_A_SNAPSHOT_PROC |
						NLA_F_NESTED);

	put(m);
	if (lead_ms >= 0)
		nla_put_u64(m, GOMEMGUARD_A_LEAD_MS, (uint64_t)lead_ms);
	nla_nest_end(m, nest);
}

/* A memcg OOM of a tagged process warned 28.5 s before; two in the snapshot. */
static void put_oom2(struct nl_msg *m)
{
	struct nlattr *snap;

	nla_put_u32(m, GOMEMGUARD_A_OOM_ID, 2);
	nla_put_u32(m, GOMEMGUARD_A_CONSTRAINT, GOMEMGUARD_CONSTRAINT_MEMCG);
	nla_put_string(m, GOMEMGUARD_A_MEMCG, "/app.slice");
	nla_put_u32(m, GOMEMGUARD_A_VICTIM_PID, 4711);
	nla_put_string(m, GOMEMGUARD_A_VICTIM_COMM, "payments");
	nla_put_u8(m, GOMEMGUARD_A_VICTIM_TAGGED, 1);
	nla_put_u64(m, GOMEMGUARD_A_VICTIM_ANON, 2040109465);
	nla_put_u64(m, GOMEMGUARD_A_VICTIM_FILE, 12 * MIB);
	nla_put_u64(m, GOMEMGUARD_A_VICTIM_SHMEM, 0);
	nla_put_u64(m, GOMEMGUARD_A_LEAD_MS, 28500);
	snap = nla_nest_start(m, GOMEMGUARD_A_SNAPSHOT | NLA_F_NESTED);
	put_snapshot_proc(m, put_proc_full, 28500);
	put_snapshot_proc(m, put_proc_minimal, -1);
	nla_nest_end(m, snap);
}

/*
 * An empty nest as the kernel sends it; libnl's nla_nest_end() would drop
 * it from the message.
 */
static void put_empty_nest(struct nl_msg *m, int type)
{
	nla_put(m, type | NLA_F_NESTED, 0, NULL);
}

/* A global OOM of an untagged process, no warning, nobody watched. */
static void put_oom1(struct nl_msg *m)
{
	nla_put_u32(m, GOMEMGUARD_A_OOM_ID, 1);
	nla_put_u32(m, GOMEMGUARD_A_CONSTRAINT, GOMEMGUARD_CONSTRAINT_GLOBAL);
	nla_put_string(m, GOMEMGUARD_A_MEMCG, "/");
	nla_put_u32(m, GOMEMGUARD_A_VICTIM_PID, 999);
	nla_put_string(m, GOMEMGUARD_A_VICTIM_COMM, "cc1plus");
	nla_put_u8(m, GOMEMGUARD_A_VICTIM_TAGGED, 0);
	nla_put_u64(m, GOMEMGUARD_A_VICTIM_ANON, 3 * GIB);
	nla_put_u64(m, GOMEMGUARD_A_VICTIM_FILE, 0);
	nla_put_u64(m, GOMEMGUARD_A_VICTIM_SHMEM, 64 * MIB);
	put_empty_nest(m, GOMEMGUARD_A_SNAPSHOT);
}

static struct nl_msg *oom_reply(struct nlmsghdr *req, uint64_t time_ns,
				void (*put)(struct nl_msg *m))
{
	struct nl_msg *m = fake_reply(req, GOMEMGUARD_CMD_OOM_GET, NLM_F_MULTI);

	nla_put_u64(m, GOMEMGUARD_A_TIME_NS, time_ns);
	put(m);
	return m;
}

static void answer_dump_empty(struct nlmsghdr *req)
{
	fake_queue(fake_done(req, 0, NULL), NULL);
}

static void answer_oom_dump(struct nlmsghdr *req)
{
	fake_queue(oom_reply(req, OOM2_TIME_NS, put_oom2), NULL);
	fake_queue(oom_reply(req, OOM1_TIME_NS, put_oom1),
		   fake_done(req, 0, NULL));
}

/*
 * A shell loop filled tmpfs in /app.slice: the OOM killed a dd that never
 * warned; the memcg's own ETA went out 3.7 s before, and 150 MiB stayed.
 */
static void put_oom_tmpfs(struct nl_msg *m)
{
	struct nlattr *snap;

	nla_put_u32(m, GOMEMGUARD_A_OOM_ID, 4);
	nla_put_u32(m, GOMEMGUARD_A_CONSTRAINT, GOMEMGUARD_CONSTRAINT_MEMCG);
	nla_put_string(m, GOMEMGUARD_A_MEMCG, "/app.slice");
	nla_put_u32(m, GOMEMGUARD_A_VICTIM_PID, 314);
	nla_put_string(m, GOMEMGUARD_A_VICTIM_COMM, "dd");
	nla_put_u8(m, GOMEMGUARD_A_VICTIM_TAGGED, 1);
	nla_put_u64(m, GOMEMGUARD_A_VICTIM_ANON, 1 * MIB);
	nla_put_u64(m, GOMEMGUARD_A_VICTIM_FILE, 0);
	nla_put_u64(m, GOMEMGUARD_A_VICTIM_SHMEM, 0);
	nla_put_u64(m, GOMEMGUARD_A_LEAD_MS, 3700);
	nla_put_u64(m, GOMEMGUARD_A_MEMCG_LEAD_MS, 3700);
	nla_put_u64(m, GOMEMGUARD_A_UNFREED, 150 * MIB);
	snap = nla_nest_start(m, GOMEMGUARD_A_SNAPSHOT | NLA_F_NESTED);
	put_snapshot_proc(m, put_proc_minimal, -1);
	nla_nest_end(m, snap);
}

static void answer_oom_tmpfs(struct nlmsghdr *req)
{
	fake_queue(oom_reply(req, OOM2_TIME_NS, put_oom_tmpfs),
		   fake_done(req, 0, NULL));
}

/*
 * What the kill could not free, and how much of that is tmpfs: memory.stat's
 * shmem of /app.slice (100 MiB), read by gomemctl; the lead is the memcg's.
 */
static bool test_oom_tmpfs(void)
{
	static const char *const text[] = { "oom", NULL };
	static const char *const json[] = { "oom", "-j", NULL };
	struct run r;
	bool ok = true;

	fake_answer_with(answer_oom_tmpfs);
	run_verb(&r, oom_main, text);
	ok &= check_run(&r, 0, NULL, "");
	if (!strstr(r.out, "  warning: first warning 3 s before the kill (the memcg's own ETA 3 s before)\n") ||
	    !strstr(r.out, "  left:    killing dd[314] freed 1 MiB; 100 MiB is tmpfs/shmem in /app.slice (of 150 MiB it could not free)\n"))
		ok = fail("text: %s", r.out);
	fake_answer_with(answer_oom_tmpfs);
	run_verb(&r, oom_main, json);
	ok &= check_run(&r, 0, NULL, "");
	if (!strstr(r.out, "\"lead_ms\":3700,\"memcg_lead_ms\":3700,"
			   "\"unfreed_bytes\":157286400,"
			   "\"memcg_shmem_bytes\":104857600,"))
		ok = fail("json: %s", r.out);
	return ok;
}

/* The snapshot's second process lacks its comm. */
static void put_oom_entry_lacking(struct nl_msg *m)
{
	struct nlattr *snap;

	nla_put_u32(m, GOMEMGUARD_A_OOM_ID, 3);
	nla_put_u32(m, GOMEMGUARD_A_CONSTRAINT, GOMEMGUARD_CONSTRAINT_MEMCG);
	nla_put_string(m, GOMEMGUARD_A_MEMCG, "/app.slice");
	nla_put_u32(m, GOMEMGUARD_A_VICTIM_PID, 4711);
	nla_put_string(m, GOMEMGUARD_A_VICTIM_COMM, "payments");
	nla_put_u8(m, GOMEMGUARD_A_VICTIM_TAGGED, 1);
	nla_put_u64(m, GOMEMGUARD_A_VICTIM_ANON, 1);
	nla_put_u64(m, GOMEMGUARD_A_VICTIM_FILE, 2);
	nla_put_u64(m, GOMEMGUARD_A_VICTIM_SHMEM, 3);
	snap = nla_nest_start(m, GOMEMGUARD_A_SNAPSHOT | NLA_F_NESTED);
	put_snapshot_proc(m, put_proc_full, 1);
	put_snapshot_proc(m, put_comm_only, -1);
	nla_nest_end(m, snap);
}

/* A snapshot entry whose LEAD_MS is a u32 instead of a u64. */
static void put_oom_entry_malformed(struct nl_msg *m)
{
	struct nlattr *snap, *proc;

	nla_put_u32(m, GOMEMGUARD_A_OOM_ID, 4);
	nla_put_u32(m, GOMEMGUARD_A_CONSTRAINT, GOMEMGUARD_CONSTRAINT_GLOBAL);
	nla_put_string(m, GOMEMGUARD_A_MEMCG, "/");
	nla_put_u32(m, GOMEMGUARD_A_VICTIM_PID, 1);
	nla_put_string(m, GOMEMGUARD_A_VICTIM_COMM, "x");
	nla_put_u8(m, GOMEMGUARD_A_VICTIM_TAGGED, 0);
	nla_put_u64(m, GOMEMGUARD_A_VICTIM_ANON, 1);
	nla_put_u64(m, GOMEMGUARD_A_VICTIM_FILE, 2);
	nla_put_u64(m, GOMEMGUARD_A_VICTIM_SHMEM, 3);
	snap = nla_nest_start(m, GOMEMGUARD_A_SNAPSHOT | NLA_F_NESTED);
	proc = nla_nest_start(m, GOMEMGUARD_A_SNAPSHOT_PROC | NLA_F_NESTED);
	put_proc_full(m);
	nla_put_u32(m, GOMEMGUARD_A_LEAD_MS, 1);
	nla_nest_end(m, proc);
	nla_nest_end(m, snap);
}

static void answer_oom_dump_lacking(struct nlmsghdr *req)
{
	fake_queue(oom_reply(req, OOM2_TIME_NS, put_oom_entry_lacking),
		   fake_done(req, 0, NULL));
}

/* json (an object) with more keys at its end: "\"a\":1,\"b\":2" */
static char *json_plus(const char *json, const char *keys)
{
	return format("%.*s,%s}", (int)strlen(json) - 1, json, keys);
}

/* The oom -j object of report #2; seq: the event's number, or 0. */
static char *oom2_json(uint64_t seq)
{
	char *full = json_plus(proc_full_json, "\"lead_ms\":28500");
	char *minimal = json_plus(proc_minimal_json, "\"lead_ms\":null");
	char *seq_key = seq ? format("\"seq\":%" PRIu64 ",", seq) : format("%s", "");
	char *wall = wall_keys(OOM2_TIME_NS);
	char *s;

	s = format("{\"event\":\"oom\",\"oom_id\":2,%s\"time_ns\":%llu,%s"
		   "\"constraint\":\"memcg\",\"memcg\":\"/app.slice\","
		   "\"victim_pid\":4711,\"victim_comm\":\"payments\","
		   "\"victim_tagged\":true,\"victim_anon_bytes\":2040109465,"
		   "\"victim_file_bytes\":12582912,\"victim_shmem_bytes\":0,"
		   "\"lead_ms\":28500,\"memcg_lead_ms\":null,"
		   "\"unfreed_bytes\":null,\"memcg_shmem_bytes\":null,"
		   "\"snapshot\":[%s,%s]}",
		   seq_key, (unsigned long long)OOM2_TIME_NS, wall, full, minimal);
	free(wall);
	free(full);
	free(minimal);
	free(seq_key);
	return s;
}

static bool test_oom_json(void)
{
	static const char *const args[] = { "oom", "-j", NULL };
	char *oom2, *want;
	struct sent s;
	struct run r;
	bool ok;

	fake_answer_with(answer_oom_dump);
	run_verb(&r, oom_main, args);
	oom2 = oom2_json(0);
	/* 2026-11-27 03:00:00 UTC: by the wall clock, not since boot. */
	want = format("[%s,{\"event\":\"oom\",\"oom_id\":1,\"time_ns\":%llu,"
		      "\"time\":\"2026-11-27T03:00:00.000000000Z\","
		      "\"time_unix_ns\":1795748400000000000,"
		      "\"constraint\":\"global\",\"memcg\":\"/\","
		      "\"victim_pid\":999,\"victim_comm\":\"cc1plus\","
		      "\"victim_tagged\":false,\"victim_anon_bytes\":3221225472,"
		      "\"victim_file_bytes\":0,\"victim_shmem_bytes\":67108864,"
		      "\"lead_ms\":null,\"memcg_lead_ms\":null,"
		      "\"unfreed_bytes\":null,\"memcg_shmem_bytes\":null,"
		      "\"snapshot\":[]}]",
		      oom2, (unsigned long long)OOM1_TIME_NS);
	ok = check_run(&r, 0, NULL, "") && decode(0, &s) &&
	     sent_head(&s, GOMEMGUARD_CMD_OOM_GET, true, 0) &&
	     (count_lines(r.out) == 1 || fail("%d lines, expected one",
					      count_lines(r.out))) &&
	     line_equals(r.out, 0, want);
	free(oom2);
	free(want);
	return ok;
}

static bool test_oom_text(void)
{
	static const char *const args[] = { "oom", NULL };
	struct run r;

	fake_answer_with(answer_oom_dump);
	run_verb(&r, oom_main, args);
	return check_run(&r, 0,
		"OOM kill #2 at 2026-11-27 08:31:30 UTC (28 min 30 s ago)\n"
		"  killed:  payments[4711] (tagged): anon 1.9 GiB, file 12 MiB, shmem 0 B\n"
		"  why:     memcg /app.slice hit memory.max\n"
		"  warning: first warning 28 s before the kill\n"
		"  watched processes in /app.slice at the kill:\n"
		"      PID COMM                 ANON        RATE     ETA      SOFT LEVEL    LEAD\n"
		"     4711 payments         1.62 GiB  +9.8 MiB/s     28s   1.8 GiB   90%     28s\n"
		"      815 worker              4 KiB    -4 KiB/s       -     1 GiB     -       -\n"
		"\n"
		"OOM kill #1 at 2026-11-27 03:00:00 UTC (6 h ago)\n"
		"  killed:  cc1plus[999] (not tagged): anon 3 GiB, file 0 B, shmem 64 MiB\n"
		"  why:     global: the machine ran out of memory\n"
		"  warning: no warning was given\n"
		"  watched processes at the kill: none\n",
		"");
}

/* dir/name with text, the directories on the way made. */
static void put_in(const char *dir, const char *name, const char *text)
{
	char path[512], *slash;
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	for (slash = strchr(path + strlen(dir) + 1, '/'); slash;
	     slash = strchr(slash + 1, '/')) {
		*slash = '\0';
		mkdir(path, 0755);
		*slash = '/';
	}
	f = fopen(path, "w");
	if (f) {
		fputs(text, f);
		fclose(f);
	}
}

/*
 * go/fuse's records in --profile-dir: payments (#2, killed 08:31:30) wrote
 * its third profile 12 s before; cc1plus's PID has a record from after its
 * kill (03:00:00), another process's.
 */
static bool test_oom_profile_dir(void)
{
	char d[] = "/tmp/gmg-prof.XXXXXX", *text_want, *json_want1, *json_want2;
	const char *text_args[] = { "oom", "--profile-dir", d, NULL };
	const char *json_args[] = { "oom", "-j", "--profile-dir", d, NULL };
	struct run r;
	bool ok = true;

	if (!mkdtemp(d))
		return fail("mkdtemp: %s", strerror(errno));
	put_in(d, "fuse-4711.json",
	       "{\"pid\":4711,\"time\":\"2026-11-27T08:31:18Z\","
	       "\"profile\":\"/srv/heap/heap-4711-20261127T083118.500Z.pb.gz\","
	       "\"signal\":10,\"fuses\":3}\n");
	put_in(d, "fuse-999.json",
	       "{\"pid\":999,\"time\":\"2026-11-27T03:00:05Z\","
	       "\"profile\":\"/srv/heap/heap-999-x.pb.gz\",\"signal\":10,\"fuses\":1}\n");
	fake_answer_with(answer_oom_dump);
	run_verb(&r, oom_main, text_args);
	text_want = format("last heap profile: none of pid 999 in %s\n", d);
	if (r.status ||
	    !strstr(r.out, "  watched processes in /app.slice at the kill:\n") ||
	    !strstr(r.out, "last heap profile: /srv/heap/heap-4711-20261127T083118.500Z.pb.gz, written 12 s before the kill (fuse 3)\n") ||
	    !strstr(r.out, text_want))
		ok = fail("text: status %d:\n%s", r.status, r.out);
	fake_reset();
	fake_answer_with(answer_oom_dump);
	run_verb(&r, oom_main, json_args);
	json_want1 = format("\"last_profile\":{\"path\":\"/srv/heap/heap-4711-20261127T083118.500Z.pb.gz\","
			    "\"time\":\"2026-11-27T08:31:18.000000000Z\","
			    "\"seconds_before_kill\":12,\"fuses\":3}}");
	json_want2 = format("\"snapshot\":[],\"last_profile\":null}");
	if (r.status || !strstr(r.out, json_want1) || !strstr(r.out, json_want2))
		ok = fail("json: status %d:\n%s", r.status, r.out);
	free(text_want);
	free(json_want1);
	free(json_want2);
	fake_remove_tree(d);
	return ok;
}

static bool test_oom_empty(void)
{
	static const char *const json_args[] = { "oom", "-j", NULL };
	static const char *const text_args[] = { "oom", NULL };
	struct run r;

	fake_answer_with(answer_dump_empty);
	run_verb(&r, oom_main, json_args);
	if (!check_run(&r, 0, "[]\n", ""))
		return false;
	fake_reset();
	fake_answer_with(answer_dump_empty);
	run_verb(&r, oom_main, text_args);
	return check_run(&r, 0, "No OOM kill recorded.\n", "");
}

static bool test_oom_lacking(void)
{
	static const char *const args[] = { "oom", "-j", NULL };
	struct run r;

	fake_answer_with(answer_oom_dump_lacking);
	run_verb(&r, oom_main, args);
	return check_run(&r, 1, "",
			 "gomemctl: oom: reply lacks pid in a snapshot entry (is the module older than gomemctl?)\n");
}

/* Memory cgroups: MEMCG_GET replies and PRESSURE events. */

/*
 * anon 1100 MiB, file 800 MiB (shmem 100 MiB of it), dirty 60 MiB, under
 * writeback 20 MiB: pinned 180 MiB.  file_mapped (50 MiB, mapped shmem
 * included) is no part of it.
 */
static const char app_stat[] =
	"anon 1153433600\n"
	"file 838860800\n"
	"kernel 12582912\n"
	"sock 0\n"
	"shmem 104857600\n"
	"file_mapped 52428800\n"
	"file_dirty 62914560\n"
	"file_writeback 20971520\n"
	"anon_thp 0\n"
	"inactive_anon 1048576000\n"
	"pgfault 123456\n";
static const char app_pressure[] =
	"some avg10=12.34 avg60=1.00 avg300=0.50 total=123456\n"
	"full avg10=0.05 avg60=0.00 avg300=0.00 total=789\n";

static bool setup_cg2_tree(void)
{
	if (!mkdtemp(cg2_base))
		return false;
	snprintf(cg2_root, sizeof(cg2_root), "%s/root", cg2_base);
	if (mkdir(cg2_root, 0755))
		return false;
	fake_memcg_files(cg2_root, "/app.slice", app_stat, app_pressure);
	fake_memcg_files(cg2_root, "/system.slice/worker.service", NULL, NULL);
	/* Only "/.." gets here. */
	fake_memcg_files(cg2_base, "/", app_stat, app_pressure);
	return !setenv(MEMSTAT_ROOT_ENV, cg2_root, 1);
}

/*
 * As the module sends it: the swap-backed LRU is anon + shmem (1200 MiB),
 * the file LRU and reclaimable the page cache without shmem (700 MiB).  No
 * MEMCG_SHMEM, PINNED or PSI_*: retired.
 */
static void put_memcg_app(struct nl_msg *m)
{
	nla_put_string(m, GOMEMGUARD_A_MEMCG, "/app.slice");
	nla_put_u64(m, GOMEMGUARD_A_MEMCG_ID, 1234);
	nla_put_u64(m, GOMEMGUARD_A_MEMCG_USAGE, 2040109465);
	nla_put_u64(m, GOMEMGUARD_A_MEMCG_MAX, 2 * GIB);
	nla_put_u64(m, GOMEMGUARD_A_MEMCG_HIGH, 2080374784);
	nla_put_u64(m, GOMEMGUARD_A_MEMCG_ANON, 1200 * MIB);
	nla_put_u64(m, GOMEMGUARD_A_MEMCG_FILE, 700 * MIB);
	nla_put_u64(m, GOMEMGUARD_A_MEMCG_UNEVICTABLE, 8 * MIB);
	nla_put_u64(m, GOMEMGUARD_A_RECLAIMABLE, 700 * MIB);
	nla_put_u32(m, GOMEMGUARD_A_PRESSURE_LEVEL, GOMEMGUARD_PRESSURE_MEDIUM);
	nla_put_u64(m, GOMEMGUARD_A_MEMCG_EVENTS_HIGH, 12);
	nla_put_u64(m, GOMEMGUARD_A_MEMCG_EVENTS_MAX, 3);
	nla_put_u64(m, GOMEMGUARD_A_MEMCG_EVENTS_OOM, 1);
	nla_put_u64(m, GOMEMGUARD_A_MEMCG_EVENTS_OOM_KILL, 1);
}

/* No limits; its memory.stat and memory.pressure cannot be read. */
static void put_memcg_worker(struct nl_msg *m)
{
	nla_put_string(m, GOMEMGUARD_A_MEMCG, "/system.slice/worker.service");
	nla_put_u64(m, GOMEMGUARD_A_MEMCG_ID, 99);
	nla_put_u64(m, GOMEMGUARD_A_MEMCG_USAGE, 50 * MIB);
	nla_put_u64(m, GOMEMGUARD_A_MEMCG_ANON, 4096);
	nla_put_u64(m, GOMEMGUARD_A_MEMCG_FILE, 0);
	nla_put_u64(m, GOMEMGUARD_A_MEMCG_UNEVICTABLE, 0);
	nla_put_u64(m, GOMEMGUARD_A_RECLAIMABLE, 0);
	nla_put_u32(m, GOMEMGUARD_A_PRESSURE_LEVEL, GOMEMGUARD_PRESSURE_NONE);
	nla_put_u64(m, GOMEMGUARD_A_MEMCG_EVENTS_HIGH, 0);
	nla_put_u64(m, GOMEMGUARD_A_MEMCG_EVENTS_MAX, 0);
	nla_put_u64(m, GOMEMGUARD_A_MEMCG_EVENTS_OOM, 0);
	nla_put_u64(m, GOMEMGUARD_A_MEMCG_EVENTS_OOM_KILL, 0);
}

static struct nl_msg *memcg_reply(struct nlmsghdr *req,
				  void (*put)(struct nl_msg *m))
{
	struct nl_msg *m = fake_reply(req, GOMEMGUARD_CMD_MEMCG_GET,
				      NLM_F_MULTI);

	put(m);
	return m;
}

static void answer_memcg_dump(struct nlmsghdr *req)
{
	fake_queue(memcg_reply(req, put_memcg_app),
		   memcg_reply(req, put_memcg_worker));
	fake_queue(fake_done(req, 0, NULL), NULL);
}

/* A module from before MEMCG_UNEVICTABLE: the worker, without it. */
static void put_memcg_old(struct nl_msg *m)
{
	put_without(m, put_memcg_worker, GOMEMGUARD_A_MEMCG_UNEVICTABLE);
}

static void answer_memcg_dump_lacking(struct nlmsghdr *req)
{
	fake_queue(memcg_reply(req, put_memcg_app),
		   memcg_reply(req, put_memcg_old));
	fake_queue(fake_done(req, 0, NULL), NULL);
}

static bool test_show_memcg(void)
{
	static const char *const json_args[] = { "show", "--memcg", "-j", NULL };
	static const char *const text_args[] = { "show", "--memcg", NULL };
	struct sent s;
	struct run r;

	fake_answer_with(answer_memcg_dump);
	run_verb(&r, show_main, json_args);
	if (!check_run(&r, 0, NULL, "") || !decode(0, &s) ||
	    !sent_head(&s, GOMEMGUARD_CMD_MEMCG_GET, true, 0) ||
	    !line_equals(r.out, 0,
			 "[{\"memcg\":\"/app.slice\",\"memcg_id\":1234,"
			 "\"memcg_usage_bytes\":2040109465,"
			 "\"memcg_max_bytes\":2147483648,"
			 "\"memcg_high_bytes\":2080374784,"
			 "\"anon_bytes\":1153433600,\"file_bytes\":838860800,"
			 "\"shmem_bytes\":104857600,"
			 "\"swapbacked_bytes\":1258291200,"
			 "\"unevictable_bytes\":8388608,"
			 "\"reclaimable_bytes\":734003200,"
			 "\"pinned_bytes\":188743680,\"pressure\":\"medium\","
			 "\"events_high\":12,\"events_max\":3,\"events_oom\":1,"
			 "\"events_oom_kill\":1,\"psi_some_avg10\":12.34,"
			 "\"psi_full_avg10\":0.05},"
			 "{\"memcg\":\"/system.slice/worker.service\","
			 "\"memcg_id\":99,\"memcg_usage_bytes\":52428800,"
			 "\"memcg_max_bytes\":null,\"memcg_high_bytes\":null,"
			 "\"anon_bytes\":null,\"file_bytes\":null,"
			 "\"shmem_bytes\":null,\"swapbacked_bytes\":4096,"
			 "\"unevictable_bytes\":0,\"reclaimable_bytes\":0,"
			 "\"pinned_bytes\":null,"
			 "\"pressure\":\"none\",\"events_high\":0,"
			 "\"events_max\":0,\"events_oom\":0,"
			 "\"events_oom_kill\":0,\"psi_some_avg10\":null,"
			 "\"psi_full_avg10\":null}]"))
		return false;
	/* As memory.pressure has them, not as a double prints. */
	if (!strstr(r.out, "\"psi_some_avg10\":12.34,") ||
	    !strstr(r.out, "\"psi_full_avg10\":0.05}"))
		return fail("PSI not written as 12.34 and 0.05: %s", r.out);
	fake_reset();
	fake_answer_with(answer_memcg_dump);
	run_verb(&r, show_main, text_args);
	return check_run(&r, 0,
		"    USAGE       MAX      HIGH      ANON      FILE     SHMEM SWAPBACKED UNEVICTABLE RECLAIMABLE    PINNED PRESSURE OOM_KILLS PSI_SOME PSI_FULL MEMCG\n"
		"  1.9 GiB     2 GiB  1.94 GiB  1.07 GiB   800 MiB   100 MiB   1.17 GiB       8 MiB     700 MiB   180 MiB medium           1   12.34%    0.05% /app.slice\n"
		"   50 MiB       max       max         -         -         -      4 KiB         0 B         0 B         - none             0        -        - /system.slice/worker.service\n",
		"");
}

static bool test_show_memcg_lacking(void)
{
	static const char *const args[] = { "show", "--memcg", "-j", NULL };
	struct run r;

	fake_answer_with(answer_memcg_dump_lacking);
	run_verb(&r, show_main, args);
	return check_run(&r, 1, "",
			 "gomemctl: show: reply lacks unevictable_bytes (is the module older than gomemctl?)\n");
}

/* memstat.c on its own: what makes memory.stat and memory.pressure unknown. */
static bool test_memstat(void)
{
	static const struct {
		const char *memcg, *stat, *pressure;
		bool has_stat, has_psi;
	} cases[] = {
		/* An older kernel's memory.stat, without file_writeback. */
		{ "/old.slice", "anon 1\nfile 2\nshmem 3\nfile_dirty 4\n",
		  "some avg10=1.00 avg60=0.00 avg300=0.00 total=1\n", false,
		  false },
		{ "/odd.slice", "anon x\nfile 2\nshmem 3\nfile_dirty 4\nfile_writeback 5\n",
		  "some avg10=1.5 avg60=0.00 avg300=0.00 total=1\n"
		  "full avg10=0.00 avg60=0.00 avg300=0.00 total=0\n", false,
		  false },
		{ "/ok.slice", "file_writeback 5\nfile_dirty 4\nshmem 3\nfile 2\nanon 1\n",
		  "some avg10=100.00 avg60=0.00 avg300=0.00 total=1\n"
		  "full avg10=99.99 avg60=0.00 avg300=0.00 total=0\n", true,
		  true },
	};
	struct memstat ms;
	bool ok = true;
	size_t i;

	for (i = 0; i < ARRAY_SIZE_T(cases); i++) {
		fake_memcg_files(cg2_root, cases[i].memcg, cases[i].stat,
				 cases[i].pressure);
		memstat_read(cases[i].memcg, &ms);
		if (ms.has_stat != cases[i].has_stat ||
		    ms.has_psi != cases[i].has_psi)
			ok = fail("%s: has_stat %d, has_psi %d", cases[i].memcg,
				  ms.has_stat, ms.has_psi);
		if (!ms.has_stat && (ms.anon || ms.file || ms.shmem))
			ok = fail("%s: unknown yet not 0", cases[i].memcg);
	}
	memstat_read("/ok.slice", &ms);
	if (ms.anon != 1 || ms.file != 2 || ms.shmem != 3 ||
	    memstat_pinned(&ms) != 3 + 4 + 5 || ms.psi_some != 10000 ||
	    ms.psi_full != 9999)
		ok = fail("/ok.slice read wrongly");
	/* Out of the tree, or not a path the module sends. */
	memstat_read("/..", &ms);
	ok &= !ms.has_stat || fail("\"/..\" was read");
	memstat_read("app.slice", &ms);
	ok &= !ms.has_stat || fail("\"app.slice\" was read");
	memstat_read("/app.slice/../app.slice", &ms);
	ok &= !ms.has_stat || fail("\"/app.slice/../app.slice\" was read");
	memstat_read("/app.slice", &ms);
	ok &= ms.has_stat || fail("\"/app.slice\" was not read");
	return ok;
}

/* Events about a memcg and a kill, among events about processes. */

/*
 * A PRESSURE event about /app.slice (@limited) or "/" at @level: with its
 * reclaim window (1024 pages scanned, 62 % not freed; 2048, 97 %) and kind,
 * but at NONE, the end of pressure, which has neither.
 */
static struct nl_msg *pressure_level_msg(uint64_t seq, bool limited,
					 uint32_t level)
{
	struct nl_msg *m = event_msg(GOMEMGUARD_EVENT_PRESSURE, seq, NULL);

	nla_put_string(m, GOMEMGUARD_A_MEMCG, limited ? "/app.slice" : "/");
	nla_put_u64(m, GOMEMGUARD_A_MEMCG_ID, limited ? 1234 : 1);
	nla_put_u32(m, GOMEMGUARD_A_PRESSURE_LEVEL, level);
	if (level != GOMEMGUARD_PRESSURE_NONE) {
		nla_put_u32(m, GOMEMGUARD_A_PRESSURE_KIND,
			    limited ? GOMEMGUARD_KIND_CACHE_CHURN :
				      GOMEMGUARD_KIND_ANON_SQUEEZE);
		nla_put_u64(m, GOMEMGUARD_A_RECLAIM_SCANNED, limited ? 1024 : 2048);
		nla_put_u64(m, GOMEMGUARD_A_RECLAIM_RECLAIMED, limited ? 389 : 60);
	}
	nla_put_u64(m, GOMEMGUARD_A_MEMCG_USAGE, 2040109465);
	if (limited)
		nla_put_u64(m, GOMEMGUARD_A_MEMCG_MAX, 2 * GIB);
	nla_put_u64(m, GOMEMGUARD_A_MEMCG_ANON, 1200 * MIB);
	nla_put_u64(m, GOMEMGUARD_A_MEMCG_FILE, 700 * MIB);
	nla_put_u64(m, GOMEMGUARD_A_MEMCG_UNEVICTABLE, 8 * MIB);
	nla_put_u64(m, GOMEMGUARD_A_RECLAIMABLE, 700 * MIB);
	return m;
}

static struct nl_msg *pressure_msg(uint64_t seq, bool limited)
{
	return pressure_level_msg(seq, limited,
				  limited ? GOMEMGUARD_PRESSURE_MEDIUM :
					    GOMEMGUARD_PRESSURE_CRITICAL);
}

static struct nl_msg *oom_msg(uint64_t seq, void (*put)(struct nl_msg *m))
{
	struct nl_msg *m = fake_event();

	nla_put_u32(m, GOMEMGUARD_A_EVENT, GOMEMGUARD_EVENT_OOM);
	nla_put_u64(m, GOMEMGUARD_A_SEQ, seq);
	nla_put_u64(m, GOMEMGUARD_A_TIME_NS, OOM2_TIME_NS);
	put(m);
	return m;
}

/* /app.slice's memory.stat and memory.pressure are readable, "/"'s not. */
#define PRESSURE_APP_JSON(seq) \
	"{\"event\":\"pressure\",\"seq\":" #seq ",\"time_ns\":" #seq "000000000," \
	"\"time\":\"2026-11-17T09:00:0" #seq ".000000000Z\"," \
	"\"time_unix_ns\":179490600" #seq "000000000," APP_NAMES \
	"\"memcg\":\"/app.slice\",\"memcg_id\":1234,\"level\":\"medium\"," \
	"\"memcg_usage_bytes\":2040109465,\"memcg_max_bytes\":2147483648," \
	"\"anon_bytes\":1153433600,\"file_bytes\":838860800," \
	"\"shmem_bytes\":104857600,\"swapbacked_bytes\":1258291200," \
	"\"unevictable_bytes\":8388608,\"reclaimable_bytes\":734003200," \
	"\"pinned_bytes\":188743680,\"psi_some_avg10\":12.34," \
	"\"psi_full_avg10\":0.05,\"kind\":\"cache_churn\"," \
	"\"reclaim_scanned_pages\":1024,\"reclaim_reclaimed_pages\":389}"

static bool test_monitor_memcg_events(void)
{
	static const char *const args[] = { "monitor", "-j", "--count", "5",
					     NULL };
	char *e1, *e5, *oom;
	struct run r;
	bool ok;

	fake_queue_event(event_msg(GOMEMGUARD_EVENT_WARN, 1, put_proc_full),
			 pressure_msg(2, true));
	fake_queue_event(oom_msg(3, put_oom2), pressure_msg(4, false));
	fake_queue_event(event_msg(GOMEMGUARD_EVENT_EXIT, 5, put_proc_minimal),
			 NULL);
	run_verb(&r, monitor_main, args);
	e1 = event_json("warn", 1, 1000000000, proc_full_json);
	e5 = event_json("exit", 5, 5000000000, proc_minimal_json);
	oom = oom2_json(3);
	ok = check_run(&r, 0, NULL, "") &&
	     (count_lines(r.out) == 5 || fail("%d lines, expected 5",
					      count_lines(r.out))) &&
	     line_equals(r.out, 0, e1) &&
	     line_equals(r.out, 1, PRESSURE_APP_JSON(2)) &&
	     line_equals(r.out, 2, oom) &&
	     line_equals(r.out, 3,
			 "{\"event\":\"pressure\",\"seq\":4,\"time_ns\":4000000000,"
			 "\"time\":\"2026-11-17T09:00:04.000000000Z\","
			 "\"time_unix_ns\":1794906004000000000,"
			 "\"unit\":null,\"pod_uid\":null,\"container_id\":null,"
			 "\"memcg\":\"/\",\"memcg_id\":1,\"level\":\"critical\","
			 "\"memcg_usage_bytes\":2040109465,\"memcg_max_bytes\":null,"
			 "\"anon_bytes\":null,\"file_bytes\":null,"
			 "\"shmem_bytes\":null,\"swapbacked_bytes\":1258291200,"
			 "\"unevictable_bytes\":8388608,"
			 "\"reclaimable_bytes\":734003200,\"pinned_bytes\":null,"
			 "\"psi_some_avg10\":null,\"psi_full_avg10\":null,"
			 "\"kind\":\"anon_squeeze\",\"reclaim_scanned_pages\":2048,"
			 "\"reclaim_reclaimed_pages\":60}") &&
	     line_equals(r.out, 4, e5);
	free(e1);
	free(e5);
	free(oom);
	return ok;
}

/* Each line without its leading "HH:MM:SS.mmm". */
static bool strip_clocks(char *out)
{
	unsigned int h, m, s, ms;
	char *line = out, *dst = out;

	while (*line) {
		char *end = strchrnul(line, '\n');

		if (sscanf(line, "%2u:%2u:%2u.%3u", &h, &m, &s, &ms) != 4 ||
		    end - line < 12)
			return fail("no clock time in \"%.*s\"",
				    (int)(end - line), line);
		memmove(dst, line + 12, (size_t)(end - line) - 12);
		dst += end - line - 12;
		if (*end)
			*dst++ = '\n';
		line = *end ? end + 1 : end;
	}
	*dst = '\0';
	return true;
}

static bool test_monitor_memcg_text(void)
{
	static const char *const args[] = { "monitor", "--count", "5", NULL };
	static const char want[] =
		" pressure memcg /app.slice medium (cache churn): reclaim failed on 62% of 1024 pages scanned; usage 1.9 GiB/2 GiB, anon 1.07 GiB, shmem 100 MiB, reclaimable 700 MiB, pinned 180 MiB\n"
		" oom memcg /app.slice: killed payments[4711] (tagged, anon 1.9 GiB); first warning 28 s before (post-mortem #2)\n"
		" oom global: killed cc1plus[999] (not tagged, anon 3 GiB); no warning was given (post-mortem #1)\n"
		" pressure memcg / critical (anon squeeze): reclaim failed on 97% of 2048 pages scanned; usage 1.9 GiB/max, anon + shmem 1.17 GiB, reclaimable 700 MiB (no memory.stat)\n"
		" pressure memcg /app.slice none: usage 1.9 GiB/2 GiB, anon 1.07 GiB, shmem 100 MiB, reclaimable 700 MiB, pinned 180 MiB\n";
	struct run r;

	fake_queue_event(pressure_msg(1, true), oom_msg(2, put_oom2));
	fake_queue_event(oom_msg(3, put_oom1), pressure_msg(4, false));
	fake_queue_event(pressure_level_msg(5, true, GOMEMGUARD_PRESSURE_NONE), NULL);
	run_verb(&r, monitor_main, args);
	if (!check_run(&r, 0, NULL, "") || !strip_clocks(r.out))
		return false;
	if (strcmp(r.out, want)) {
		ktap_diag("stdout without the clock", r.out);
		ktap_diag("expected", want);
		return false;
	}
	return true;
}

/* Events that cannot be shown are reported and skipped; monitor goes on. */
static bool test_monitor_bad_oom(void)
{
	static const char *const args[] = { "monitor", "-j", "--count", "1",
					     NULL };
	struct run r;

	fake_queue_event(oom_msg(1, put_oom_entry_lacking),
			 oom_msg(2, put_oom_entry_malformed));
	fake_queue_event(pressure_msg(3, true), NULL);
	run_verb(&r, monitor_main, args);
	return check_run(&r, 0, NULL,
			 "gomemctl: monitor: event lacks pid in a snapshot entry (is the module older than gomemctl?); skipped\n"
			 "gomemctl: monitor: malformed snapshot entry from the module: Input data out of range\n") &&
	       (count_lines(r.out) == 1 || fail("%d lines, expected 1",
						count_lines(r.out))) &&
	       line_equals(r.out, 0, PRESSURE_APP_JSON(3));
}

/* info and config: the module-wide settings. */

static uint32_t info_tagged = 3;

static void put_info(struct nl_msg *m, int skip, int n_hooks)
{
	static const char *const hooks[] = {
		"tracepoint:rss_stat", "kprobe:oom_kill_process",
		"kprobe:vmpressure",
	};
	struct nlattr *nest;
	int i;

	nla_put_string(m, GOMEMGUARD_A_VERSION, "9.8.7");
	nla_put_string(m, GOMEMGUARD_A_KERNEL_RELEASE, "6.12.117+deb12-amd64");
	nla_put_u32(m, GOMEMGUARD_A_TAGGED, info_tagged);
	nla_put_u64(m, GOMEMGUARD_A_EVENTS_SENT, 42);
	nla_put_u64(m, GOMEMGUARD_A_EVENTS_DROPPED, 5);
	nla_put_u64(m, GOMEMGUARD_A_EVENTS_OVERFLOWED, 7);
	if (skip != GOMEMGUARD_A_LISTENERS)
		nla_put_u32(m, GOMEMGUARD_A_LISTENERS, 2);
	nla_put_u8(m, GOMEMGUARD_A_OPEN_READ, 0);
	nla_put_u32(m, GOMEMGUARD_A_EVENT_INTERVAL_MS, 1000);
	nla_put_u32(m, GOMEMGUARD_A_EVENT_BURST, 10);
	nla_put_u32(m, GOMEMGUARD_A_OOM_REPORTS_MAX, 64);
	nla_put_u64(m, GOMEMGUARD_A_OOM_KILLS, 2);
	if (skip != GOMEMGUARD_A_EXITS_QUIET)
		nla_put_u64(m, GOMEMGUARD_A_EXITS_QUIET, 124);
	if (skip != GOMEMGUARD_A_PRESSURE_MEDIUM_PCT)
		nla_put_u32(m, GOMEMGUARD_A_PRESSURE_MEDIUM_PCT, 60);
	nla_put_u32(m, GOMEMGUARD_A_PRESSURE_CRITICAL_PCT, 95);
	if (skip == GOMEMGUARD_A_HOOKS)
		return;
	if (!n_hooks) {
		put_empty_nest(m, GOMEMGUARD_A_HOOKS);
		return;
	}
	nest = nla_nest_start(m, GOMEMGUARD_A_HOOKS | NLA_F_NESTED);
	for (i = 0; i < n_hooks; i++)
		nla_put_string(m, GOMEMGUARD_A_HOOK, hooks[i]);
	nla_nest_end(m, nest);
}

static int info_skip, info_hooks;

static void answer_info(struct nlmsghdr *req)
{
	struct nl_msg *m = fake_reply(req, GOMEMGUARD_CMD_INFO_GET, 0);

	put_info(m, info_skip, info_hooks);
	fake_queue(m, fake_ack(req, 0, true, NULL));
}

static bool test_info(void)
{
	static const char *const json_args[] = { "info", "-j", NULL };
	static const char *const text_args[] = { "info", NULL };
	struct sent s;
	struct run r;

	info_skip = 0;
	info_hooks = 3;
	info_tagged = 3;
	fake_answer_with(answer_info);
	run_verb(&r, info_main, json_args);
	if (!check_run(&r, 0, NULL, "") || !decode(0, &s) ||
	    !sent_head(&s, GOMEMGUARD_CMD_INFO_GET, false, 0) ||
	    !line_equals(r.out, 0,
			 "{\"version\":\"9.8.7\",\"kernel_release\":\"6.12.117+deb12-amd64\","
			 "\"tagged_processes\":3,\"events_sent\":42,\"events_dropped\":5,"
			 "\"events_overflowed\":7,\"exits_quiet\":124,"
			 "\"listeners\":2,\"open_read\":false,"
			 "\"event_burst\":10,\"event_interval_ms\":1000,"
			 "\"oom_kills\":2,\"oom_reports_max\":64,"
			 "\"pressure_medium_pct\":60,\"pressure_critical_pct\":95,"
			 "\"hooks\":[\"tracepoint:rss_stat\","
			 "\"kprobe:oom_kill_process\",\"kprobe:vmpressure\"]}"))
		return false;
	fake_reset();
	fake_answer_with(answer_info);
	run_verb(&r, info_main, text_args);
	if (!check_run(&r, 0,
		"gomemguard 9.8.7 on 6.12.117+deb12-amd64\n"
		"  tagged processes: 3\n"
		"  events: 42 sent, 5 dropped, 7 lost in full listener sockets\n"
		"  quiet exits: 124 (adopted processes that never warned: counted, not sent)\n"
		"  listeners: 2; reading needs CAP_NET_ADMIN\n"
		"  event rate limit: 10 per 1s per process\n"
		"  OOM kills on the machine since load: 2; post-mortems kept: the last 64\n"
		"  reclaim pressure: medium from 60%, critical from 95% of scanned pages not reclaimed\n"
		"  hooks: tracepoint:rss_stat, kprobe:oom_kill_process, kprobe:vmpressure\n",
		""))
		return false;
	/* Nothing tagged: the module has no hook registered, and says so. */
	fake_reset();
	info_hooks = 0;
	info_tagged = 0;
	fake_answer_with(answer_info);
	run_verb(&r, info_main, json_args);
	if (!check_run(&r, 0, NULL, "") || !strstr(r.out, "\"hooks\":[]") ||
	    !strstr(r.out, "\"tagged_processes\":0,"))
		return fail("no hooks is not an empty array: %s", r.out);
	fake_reset();
	fake_answer_with(answer_info);
	run_verb(&r, info_main, text_args);
	if (!check_run(&r, 0, NULL, "") ||
	    !strstr(r.out, "\n  hooks: none registered (nothing tagged)\n"))
		return fail("no hooks, nothing tagged: %s", r.out);
	/* Something tagged and still none: not blamed on the tags. */
	fake_reset();
	info_tagged = 3;
	fake_answer_with(answer_info);
	run_verb(&r, info_main, text_args);
	return check_run(&r, 0, NULL, "") &&
	       (strstr(r.out, "\n  hooks: none registered\n") ||
		fail("no hooks, 3 tagged: %s", r.out));
}

static bool test_info_lacking(void)
{
	static const char *const args[] = { "info", "-j", NULL };
	static const int skips[] = { GOMEMGUARD_A_HOOKS,
				     GOMEMGUARD_A_PRESSURE_MEDIUM_PCT,
				     GOMEMGUARD_A_LISTENERS };
	static const char *const said[] = {
		"gomemctl: info: reply lacks hooks (is the module older than gomemctl?)\n",
		"gomemctl: info: reply lacks pressure_medium_pct (is the module older than gomemctl?)\n",
		"gomemctl: info: reply lacks listeners (is the module older than gomemctl?)\n",
	};
	struct run r;
	size_t i;

	for (i = 0; i < ARRAY_SIZE_T(skips); i++) {
		fake_reset();
		info_skip = skips[i];
		info_hooks = 1;
		fake_answer_with(answer_info);
		run_verb(&r, info_main, args);
		if (!check_run(&r, 1, "", said[i]))
			return false;
	}
	return true;
}

/*
 * A module loaded before an upgrade of gomemctl has no EXITS_QUIET: info
 * still works, and leaves the counter out rather than showing a 0.
 */
static bool test_info_without_exits_quiet(void)
{
	static const char *const json_args[] = { "info", "-j", NULL };
	static const char *const text_args[] = { "info", NULL };
	struct run r;

	fake_reset();
	info_skip = GOMEMGUARD_A_EXITS_QUIET;
	info_hooks = 1;
	info_tagged = 3;
	fake_answer_with(answer_info);
	run_verb(&r, info_main, json_args);
	if (!check_run(&r, 0, NULL, "") || strstr(r.out, "exits_quiet") ||
	    !strstr(r.out, "\"events_overflowed\":7,\"listeners\":2,"))
		return fail("without EXITS_QUIET, JSON: %s", r.out);
	fake_reset();
	fake_answer_with(answer_info);
	run_verb(&r, info_main, text_args);
	info_skip = 0;
	return check_run(&r, 0, NULL, "") &&
	       (!strstr(r.out, "quiet exits") ||
		fail("without EXITS_QUIET, text: %s", r.out));
}

static void answer_thresholds_refused(struct nlmsghdr *req)
{
	static const struct fake_tlvs t = {
		.msg = "medium pressure threshold must be below the critical one",
		.bad_attr = GOMEMGUARD_A_PRESSURE_MEDIUM_PCT,
	};

	fake_queue(fake_ack(req, -EINVAL, false, &t), NULL);
}

static bool test_config(void)
{
	static const char *const args[] = {
		"config", "--oom-reports", "128", "--pressure-medium", "50%",
		"--pressure-critical", "90", NULL,
	};
	static const char *const refused[] = {
		"config", "--pressure-medium", "99", NULL,
	};
	struct sent s;
	struct run r;

	fake_answer_with(answer_ack);
	run_verb(&r, config_main, args);
	if (!check_run(&r, 0, "", "") || !decode(0, &s) ||
	    !sent_head(&s, GOMEMGUARD_CMD_CONFIG_SET, false, 3) ||
	    !sent_u32(&s, GOMEMGUARD_A_OOM_REPORTS_MAX, 128) ||
	    !sent_u32(&s, GOMEMGUARD_A_PRESSURE_MEDIUM_PCT, 50) ||
	    !sent_u32(&s, GOMEMGUARD_A_PRESSURE_CRITICAL_PCT, 90))
		return false;
	fake_reset();
	fake_answer_with(answer_thresholds_refused);
	run_verb(&r, config_main, refused);
	return check_run(&r, 1, "",
			 "gomemctl: config: Invalid argument\n"
			 "kernel reports: medium pressure threshold must be below the critical one (attribute pressure_medium_pct)\n") &&
	       decode(0, &s) && sent_head(&s, GOMEMGUARD_CMD_CONFIG_SET, false, 1) &&
	       sent_u32(&s, GOMEMGUARD_A_PRESSURE_MEDIUM_PCT, 99);
}

/* --cgroup paths against a crafted mountinfo and directories in /tmp. */
static char tmp_dir[] = "/tmp/gmg-cgroup.XXXXXX";

/* tmpl with each "@" replaced by the temporary directory. */
static char *in_tmp(char *buf, size_t len, const char *tmpl)
{
	size_t n = 0;

	for (; *tmpl && n + 1 < len; tmpl++) {
		if (*tmpl == '@')
			n += (size_t)snprintf(buf + n, len - n, "%s", tmp_dir);
		else
			buf[n++] = *tmpl;
		if (n >= len)
			abort();
	}
	buf[n] = '\0';
	return buf;
}

static void make_dir(const char *name)
{
	char path[512];

	snprintf(path, sizeof(path), "%s/%s", tmp_dir, name);
	if (mkdir(path, 0700) && errno != EEXIST)
		abort();
}

static void write_file(const char *name, const char *text)
{
	char path[512];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", tmp_dir, name);
	f = must(fopen(path, "w"));
	fputs(text, f);
	fclose(f);
}

struct cg_case {
	const char *arg;	/* "@" is the temporary directory */
	const char *mountinfo;	/* its name there */
	int ret;
	const char *want;	/* the path sent, or part of the error */
};

static const struct cg_case cg_cases[] = {
	{ "@/mnt point", "mountinfo", 0, "/" },
	{ "@/mnt point/", "mountinfo", 0, "/" },
	{ "@/mnt point/app.slice/web.service", "mountinfo", 0,
	  "/app.slice/web.service" },
	{ "@/mnt point/app.slice/../app.slice", "mountinfo", 0, "/app.slice" },
	{ "@/sub/pod1", "mountinfo", 0, "/kubepods/pod1" },
	{ "@/sub", "mountinfo", 0, "/kubepods" },
	{ "/app.slice", "mountinfo", 0, "/app.slice" },
	{ "/gmg-no-such.slice", "mountinfo", GMC_EXIT_ERROR,
	  "no such cgroup: /gmg-no-such.slice" },
	{ "@/other", "mountinfo", GMC_EXIT_USAGE,
	  "not under the cgroup2 mount @/mnt point (give" },
	{ "gmg-no-such.slice", "mountinfo", GMC_EXIT_USAGE,
	  "no such directory (a cgroup path starts with \"/\"" },
	{ "@/other", "mountinfo-v1", GMC_EXIT_ERROR,
	  "no cgroup2 filesystem is mounted here" },
	{ "@/other", "mountinfo-root", 0, "@/other" },
};

static bool test_cgroup_paths(void)
{
	char arg[512], want[512], mi[512], *path;
	bool ok = true;
	size_t i;
	int ret;

	if (!mkdtemp(tmp_dir))
		return fail("mkdtemp: %s", strerror(errno));
	make_dir("mnt point");
	make_dir("mnt point/app.slice");
	make_dir("mnt point/app.slice/web.service");
	make_dir("sub");
	make_dir("sub/pod1");
	make_dir("other");
	snprintf(mi, sizeof(mi),
		 "22 1 0:21 / /proc rw,nosuid - proc proc rw\n"
		 "30 22 0:26 / %s/mnt\\040point rw,nosuid shared:4 - cgroup2 cgroup2 rw,nsdelegate\n"
		 "31 22 0:26 /kubepods %s/sub rw master:1 shared:5 - cgroup2 cgroup2 rw\n",
		 tmp_dir, tmp_dir);
	write_file("mountinfo", mi);
	write_file("mountinfo-v1",
		   "33 22 0:27 / /sys/fs/cgroup/memory rw - cgroup cgroup rw,memory\n");
	write_file("mountinfo-root", "40 1 0:28 / / rw - cgroup2 cgroup2 rw\n");

	for (i = 0; i < ARRAY_SIZE_T(cg_cases); i++) {
		const struct cg_case *c = &cg_cases[i];

		in_tmp(arg, sizeof(arg), c->arg);
		in_tmp(want, sizeof(want), c->want);
		snprintf(mi, sizeof(mi), "%s/%s", tmp_dir, c->mountinfo);
		fake_reset();
		path = NULL;
		ret = cgroup_resolve("tag", arg, mi, &path);
		if (ret != c->ret || (!ret && (!path || strcmp(path, want))) ||
		    (ret && !strstr(fake_said, want)))
			ok = fail("\"%s\" with %s: returned %d and \"%s\", said \"%s\"; expected %d and \"%s\"",
				  arg, c->mountinfo, ret, path ? path : "",
				  fake_said, c->ret, want);
		free(path);
	}
	return ok;
}

/*
 * The global root for memory.stat: a mount whose root is "/" (not the
 * subtree a container sees), and only in the initial cgroup namespace.
 */
static bool test_cgroup_global_root(void)
{
	char mi[512], sub[512], root[512], ns[512], none[512], *dir;
	bool ok = true;
	struct stat st;

	in_tmp(mi, sizeof(mi), "@/mountinfo");
	in_tmp(sub, sizeof(sub), "@/mountinfo-sub");
	in_tmp(root, sizeof(root), "@/mountinfo-root");
	in_tmp(none, sizeof(none), "@/no-such-ns");
	/* The initial namespace: this one, if it is; else skip that part. */
	if (stat(CGROUP_NS, &st) || st.st_ino != 0xEFFFFFFBU)
		snprintf(ns, sizeof(ns), "%s", none);
	else
		snprintf(ns, sizeof(ns), "%s", CGROUP_NS);

	/* The first mount of the root, after a subtree's (crafted above). */
	dir = cgroup_global_root(mi, ns);
	if (!dir || !strstr(dir, "/mnt point") || strstr(dir, "\\"))
		ok = fail("global root in %s: \"%s\"", mi, dir ? dir : "(none)");
	free(dir);
	write_file("mountinfo-sub",
		   "31 22 0:26 /kubepods /sys/fs/cgroup rw - cgroup2 cgroup2 rw\n");
	dir = cgroup_global_root(sub, ns);
	if (dir)
		ok = fail("a subtree taken for the global root: \"%s\"", dir);
	free(dir);
	/* A cgroup namespace of its own: its "/" is not the hierarchy's. */
	dir = cgroup_global_root(root, mi);
	if (dir)
		ok = fail("global root \"%s\" in another cgroup namespace", dir);
	free(dir);
	dir = cgroup_global_root(none, ns);
	if (dir)
		ok = fail("global root \"%s\" without mountinfo", dir);
	free(dir);
	return ok;
}

/*
 * A container's view: a cgroup namespace of its own whose root is
 * /kubepods.slice/pod1/ctr, and the host's hierarchy mounted at cg, which
 * mountinfo shows three levels up.  The namespace file is any file but the
 * initial namespace's.
 */
static bool test_cgroup_ns(void)
{
	static const struct {
		const char *ns_root, *path, *want;
	} joins[] = {
		{ "/a/b", "/../x", "/a/x" },
		{ "/", "/", "/" },
		{ "/a", "/", "/a" },
		{ "/a", "/./b/", "/a/b" },
		{ "/a/b/c", "/../../../kubepods.slice/p", "/kubepods.slice/p" },
		{ "/a", "/../..", NULL },
		{ "/a", "x", NULL },
	};
	char d[] = "/tmp/gmg-cgns.XXXXXX", mi[512], self[512], cg[512];
	char mi_text[2048], *got;
	bool ok = true;
	size_t i;

	for (i = 0; i < ARRAY_SIZE_T(joins); i++) {
		got = cgroup_join_ns(joins[i].ns_root, joins[i].path);
		if (joins[i].want ? !got || strcmp(got, joins[i].want) : !!got)
			ok = fail("\"%s\" in a namespace at \"%s\": \"%s\", expected \"%s\"",
				  joins[i].path, joins[i].ns_root,
				  got ? got : "(null)",
				  joins[i].want ? joins[i].want : "(null)");
		free(got);
	}
	if (!mkdtemp(d))
		return fail("mkdtemp: %s", strerror(errno));
	snprintf(mi, sizeof(mi), "%s/mountinfo", d);
	snprintf(self, sizeof(self), "%s/self-cgroup", d);
	snprintf(cg, sizeof(cg), "%s/cg", d);
	/* The root cgroup has no cgroup.type; every other one has. */
	put_in(d, "cg/cgroup.procs", "1\n");
	put_in(d, "cg/kubepods.slice/cgroup.type", "domain\n");
	put_in(d, "cg/kubepods.slice/pod1/cgroup.type", "domain\n");
	put_in(d, "cg/kubepods.slice/pod1/ctr/cgroup.type", "domain\n");
	put_in(d, "cg/kubepods.slice/pod1/ctr/cgroup.procs", "7\n4242\n");
	put_in(d, "cg/kubepods.slice/pod1/ctr/sub/cgroup.type", "domain\n");
	put_in(d, "cg/kubepods.slice/pod1/ctr/sub/cgroup.procs", "4343\n");
	put_in(d, "cg/kubepods.slice/pod2/cgroup.type", "domain\n");
	put_in(d, "cg/kubepods.slice/pod2/ctr/cgroup.type", "domain\n");
	put_in(d, "cg/kubepods.slice/pod2/ctr/cgroup.procs", "42420\n");
	/* An ancestor of ours mounted too: not the whole hierarchy. */
	snprintf(mi_text, sizeof(mi_text),
		 "22 1 0:21 / /proc rw - proc proc rw\n"
		 "30 22 0:26 / /sys/fs/cgroup rw - cgroup2 cgroup2 rw\n"
		 "31 22 0:26 /../.. %s/kubepods.slice rw - cgroup2 cgroup2 rw\n"
		 "32 22 0:26 /../../.. %s rw - cgroup2 cgroup2 rw\n", cg, cg);
	put_in(d, "mountinfo", mi_text);

	got = cgroup_global_root(mi, mi);
	if (!got || strcmp(got, cg))
		ok = fail("the global root from another namespace: \"%s\", expected \"%s\"",
			  got ? got : "(null)", cg);
	free(got);

	put_in(d, "self-cgroup", "0::/\n");
	got = cgroup_ns_root(mi, mi, self, 4242);
	if (!got || strcmp(got, "/kubepods.slice/pod1/ctr"))
		ok = fail("namespace root at its root: \"%s\"", got ? got : "(null)");
	free(got);
	put_in(d, "self-cgroup", "0::/sub\n");
	got = cgroup_ns_root(mi, mi, self, 4343);
	if (!got || strcmp(got, "/kubepods.slice/pod1/ctr"))
		ok = fail("namespace root from below it: \"%s\"", got ? got : "(null)");
	free(got);
	/* Not listed anywhere at that depth: unknown, not a guess. */
	got = cgroup_ns_root(mi, mi, self, 4242);
	if (got)
		ok = fail("namespace root without us in it: \"%s\"", got);
	free(got);
	fake_remove_tree(d);
	return ok;
}

/* /proc/cgroups of a cgroup v2 host, of a hybrid one, and none. */
static bool test_cgroup_v1(void)
{
	static const char head[] = "#subsys_name\thierarchy\tnum_cgroups\tenabled\n"
				   "cpuset\t0\t1\t1\n";
	char d[] = "/tmp/gmg-cgv1.XXXXXX", path[64], text[256];
	bool ok = true;

	if (!mkdtemp(d))
		return fail("mkdtemp: %s", strerror(errno));
	snprintf(path, sizeof(path), "%s/cgroups", d);
	snprintf(text, sizeof(text), "%smemory\t0\t83\t1\npids\t0\t83\t1\n", head);
	put_in(d, "cgroups", text);
	if (cgroup_memory_on_v1(path))
		ok = fail("memory on hierarchy 0 taken for cgroup v1");
	snprintf(text, sizeof(text), "%smemory\t7\t83\t1\npids\t0\t83\t1\n", head);
	put_in(d, "cgroups", text);
	if (!cgroup_memory_on_v1(path))
		ok = fail("memory on hierarchy 7 not taken for cgroup v1");
	/* What gomemctl says when the module is missing on such a host. */
	fake_reset();
	gmc_nl_proc_cgroups = path;
	gmc_nl_close(fake_open_family("test", "gmg-no-such"));
	gmc_nl_proc_cgroups = "/nonexistent/cgroups";
	if (!strstr(fake_said, "cannot be: the memory controller is on a cgroup v1 hierarchy") ||
	    !strstr(fake_said, "needs the unified hierarchy, cgroup v2"))
		ok = fail("module missing on a cgroup v1 host: \"%s\"", fake_said);
	unlink(path);
	if (cgroup_memory_on_v1(path))
		ok = fail("no /proc/cgroups taken for cgroup v1");
	rmdir(d);
	return ok;
}

static void cleanup_cgroup_paths(void)
{
	static const char *const names[] = {
		"mnt point/app.slice/web.service", "mnt point/app.slice",
		"mnt point", "sub/pod1", "sub", "other", "mountinfo",
		"mountinfo-v1", "mountinfo-root", "mountinfo-sub",
	};
	char path[512];
	size_t i;

	for (i = 0; i < ARRAY_SIZE_T(names); i++) {
		snprintf(path, sizeof(path), "%s/%s", tmp_dir, names[i]);
		remove(path);
	}
	rmdir(tmp_dir);
}

/*
 * A /proc with no process but this one, in test_cgroup_paths()'s directory:
 * without CAP_SYS_PTRACE in CapEff, an empty list is an error (the Go
 * programs may be other users'); with it, the empty table it is.
 */
static bool discover_in(const char *cap_eff, int status, const char *said,
			bool header)
{
	static const char *const args[] = { "discover", NULL };
	const char *saved = goproc_root;
	char root[512], status_text[128];
	struct run r;
	bool ok;

	make_dir("proc");
	make_dir("proc/self");
	snprintf(status_text, sizeof(status_text),
		 "Name:\tgomemctl\nUid:\t1000\t1000\t1000\t1000\nCapEff:\t%s\n",
		 cap_eff);
	write_file("proc/self/status", status_text);
	goproc_root = in_tmp(root, sizeof(root), "@/proc");
	fake_reset();
	fake_answer_with(answer_dump_empty);
	run_verb(&r, discover_main, args);
	goproc_root = saved;
	ok = check_run(&r, status, NULL, said);
	if (ok && header != !!strstr(r.out, "PID COMM"))
		ok = fail("stdout: \"%s\"", r.out);
	return ok;
}

static bool test_discover_unprivileged(void)
{
	return discover_in("0000000000000000", GMC_EXIT_ERROR,
			   "gomemctl: discover: needs root (CAP_SYS_PTRACE) to read other users' processes (/proc/PID/exe and environ); none of yours is a Go program\n",
			   false) &&
	       discover_in("000001ffffffffff", GMC_EXIT_OK, "", true);
}

static const struct {
	const char *name;
	bool (*fn)(void);	/* false: failed; skip_why set: skipped */
} tests[] = {
	{ "tag sends the PID and every setting, levels as u32s",
	  test_tag_encoding },
	{ "tag --cgroup with a cgroup path sends it as it is",
	  test_tag_cgroup_relative },
	{ "a soft limit above memory.max (256M against a pod's 256M) is refused with both numbers",
	  test_soft_limit_above_max },
	{ "tag --cgroup that does not exist: no such cgroup, nothing sent",
	  test_tag_cgroup_missing },
	{ "tag --cgroup with the cgroup2 mount point sends \"/\"",
	  test_tag_cgroup_mount },
	{ "the kernel's verdict on unordered levels reaches the user",
	  test_tag_levels_refused },
	{ "tag again: the same settings are \"already tagged\" (exit 0), others say to use set",
	  test_tag_already },
	{ "PID 0 and signal 64 are the kernel's to refuse",
	  test_tag_pid_zero },
	{ "tag --signal KILL: the module's kill(2) refusal and its reason",
	  test_tag_kill_refused },
	{ "stop signals and soft limits above 1 EiB are refused before the module",
	  test_tag_refused_locally },
	{ "set sends what changes; --no-signal and --no-inherit send 0",
	  test_set_encoding },
	{ "untag sends the PID alone", test_untag_encoding },
	{ "show -j: every key, null for what the module left out",
	  test_show_json },
	{ "show: a table for people", test_show_text },
	{ "show PID asks for that process alone", test_show_pid },
	{ "show: a dump the set changed under is asked for again, printed once",
	  test_show_dump_intr },
	{ "show -j: a set that keeps changing is an error, no half list",
	  test_show_dump_intr_always },
	{ "show: a dump ending in an error prints its extack and no JSON",
	  test_show_dump_error },
	{ "show: a reply lacking a required attribute is an error",
	  test_show_lacking },
	{ "show --tags, in JSON and for people", test_show_tags },
	{ "monitor: events 1, 2, 5 are 2 lost (seq 3..4)", test_monitor_gap },
	{ "monitor: overflow, resync with state records, then the loss",
	  test_monitor_overflow },
	{ "monitor: a line of prose per event for people",
	  test_monitor_text },
	{ "monitor: unknown events are \"unknown\", incomplete ones skipped",
	  test_monitor_odd_events },
	{ "monitor: a memcg's own ETA (no PID, no COMM) is printed, not skipped",
	  test_monitor_memcg_eta },
	{ "monitor: an event without a PID (another PID namespace) has \"pid\": null",
	  test_monitor_no_pid },
	{ "monitor: SIGTERM ends it with status 0; the ready file exists",
	  test_monitor_sigterm },
	{ "monitor --timeout ends it with status 0", test_monitor_timeout },
	{ "monitor: a listener cap (EBUSY) is said with the module's reason, exit 1",
	  test_monitor_listeners_full },
	{ "oom -j: post-mortems newest first, snapshots with and without lead_ms",
	  test_oom_json },
	{ "oom: when, what, why, how much warning, and who was there",
	  test_oom_text },
	{ "oom: a tmpfs OOM says what the kill could not free, and the memcg's lead",
	  test_oom_tmpfs },
	{ "oom --profile-dir: the victim's last heap profile from before the kill, not after",
	  test_oom_profile_dir },
	{ "oom: no post-mortems is [] in JSON and a sentence for people",
	  test_oom_empty },
	{ "oom: a snapshot entry lacking a required attribute is an error",
	  test_oom_lacking },
	{ "show --memcg: the module's numbers, memory.stat's and PSI where readable, null/- where not",
	  test_show_memcg },
	{ "show --memcg: a reply lacking MEMCG_UNEVICTABLE is an error",
	  test_show_memcg_lacking },
	{ "memory.stat lacking a key, malformed PSI, paths out of the tree: unknown",
	  test_memstat },
	{ "monitor -j: pressure and oom events among process events",
	  test_monitor_memcg_events },
	{ "monitor: a line of prose per pressure and oom event, with the reclaim window behind the level",
	  test_monitor_memcg_text },
	{ "monitor: oom events it cannot show are skipped, monitoring goes on",
	  test_monitor_bad_oom },
	{ "info: OOM kills, post-mortems kept, thresholds, hooks; none while nothing is tagged",
	  test_info },
	{ "info: a reply lacking the new attributes is an error",
	  test_info_lacking },
	{ "info: a module without EXITS_QUIET leaves the counter out",
	  test_info_without_exits_quiet },
	{ "config: post-mortems kept and pressure thresholds; the module's verdict",
	  test_config },
	{ "--cgroup paths: mount points, subtrees, escapes, errors",
	  test_cgroup_paths },
	{ "the global cgroup2 root: a mount of \"/\", in the initial cgroup namespace only",
	  test_cgroup_global_root },
	{ "another cgroup namespace: its root found in the host's hierarchy, paths made global",
	  test_cgroup_ns },
	{ "the memory controller on a cgroup v1 hierarchy, from /proc/cgroups",
	  test_cgroup_v1 },
	{ "discover without CAP_SYS_PTRACE finding nothing is an error, not an empty table",
	  test_discover_unprivileged },
};

size_t verbs_test_count(void)
{
	return ARRAY_SIZE_T(tests);
}

void verbs_test_run(const char *skip)
{
	size_t i;

	/* show's Go checks must not read this machine's processes 4711 and 815. */
	goproc_root = "/nonexistent/gmg-proc";
	/* Nor show --memcg and monitor this machine's cgroups. */
	if (!skip && !setup_cg2_tree())
		skip = "cannot make a cgroup2 tree in /tmp";
	for (i = 0; i < ARRAY_SIZE_T(tests); i++) {
		bool ok;

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
	cleanup_cgroup_paths();
	fake_remove_tree(cg2_base);
}
