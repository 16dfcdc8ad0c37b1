// SPDX-License-Identifier: GPL-2.0
/*
 * The fake kernel (see fake.h).  It includes nl.c itself, to reach its
 * internals (open_family(), listen_setup(), the socket's callbacks), and
 * stands in for gmc_nl_open() and gmc_nl_open_events(), and for gomemctl.c's
 * error printers, for the code under test.
 */
#define gmc_nl_open real_gmc_nl_open
#define gmc_nl_open_events real_gmc_nl_open_events
#define gmc_nl_module_loaded real_gmc_nl_module_loaded
#include "../nl.c"
#undef gmc_nl_open
#undef gmc_nl_open_events
#undef gmc_nl_module_loaded

#include <assert.h>
#include <ftw.h>
#include <getopt.h>
#include <signal.h>
#include <stdarg.h>
#include <sys/mman.h>
#include <sys/stat.h>

#include "../clock.h"
#include "fake.h"

struct gmc_nl *gmc_nl_open(const char *verb);
struct gmc_nl *gmc_nl_open_events(const char *verb);
bool gmc_nl_module_loaded(void);

/* Replies and notifications come from "nlctrl", which the sockets resolve. */
#define FAMILY GENL_ID_CTRL
#define SAID_LEN 8192
#define MAX_DGRAMS 16

char *fake_said;
struct fake_log *fake_log;

/* Datagrams for fake_recv() (replies) or fake_event_recv() (the group). */
struct queue {
	unsigned char *dgram[MAX_DGRAMS];	/* NULL: an overflow */
	int len[MAX_DGRAMS];
	int queued, next;
};

static struct queue replies, events;
static fake_answer_fn answer, subscribe_answer;
static bool events_sigterm = true;

void *must(void *p)
{
	if (!p)
		abort();
	return p;
}

bool fail(const char *fmt, ...)
{
	va_list ap;

	printf("# ");
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
	return false;
}

char *format(const char *fmt, ...)
{
	va_list ap;
	char *s;
	int n;

	va_start(ap, fmt);
	n = vasprintf(&s, fmt, ap);
	va_end(ap);
	if (n < 0)
		abort();
	return s;
}

void fake_init(void)
{
	void *p = mmap(NULL, SAID_LEN + sizeof(*fake_log),
		       PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);

	if (p == MAP_FAILED)
		abort();
	fake_said = p;
	fake_log = (struct fake_log *)((char *)p + SAID_LEN);
	/* The fake module is loaded, as far as sysfs tells. */
	gmc_nl_module_dir = "/";
	/* A cgroup v2 host, whatever this one is. */
	gmc_nl_proc_cgroups = "/nonexistent/cgroups";
}

static void drain(struct queue *q)
{
	while (q->next < q->queued)
		free(q->dgram[q->next++]);
	q->next = q->queued = 0;
}

void fake_reset(void)
{
	drain(&replies);
	drain(&events);
	answer = NULL;
	subscribe_answer = NULL;
	events_sigterm = true;
	fake_said[0] = '\0';
	memset(fake_log, 0, sizeof(*fake_log));
}

void fake_answer_with(fake_answer_fn fn)
{
	answer = fn;
}

void fake_subscribe_with(fake_answer_fn fn)
{
	subscribe_answer = fn;
}

void fake_events_end_with_sigterm(bool sigterm)
{
	events_sigterm = sigterm;
}

static void say(const char *prefix, const char *fmt, va_list ap)
	__attribute__((format(printf, 2, 0)));

static void say(const char *prefix, const char *fmt, va_list ap)
{
	size_t len = strlen(fake_said);

	snprintf(fake_said + len, SAID_LEN - len, "%s", prefix);
	len = strlen(fake_said);
	vsnprintf(fake_said + len, SAID_LEN - len, fmt, ap);
	len = strlen(fake_said);
	snprintf(fake_said + len, SAID_LEN - len, "\n");
}

/* As in gomemctl.c. */
static char *capture;
static size_t capture_len;

void gmc_err_capture(char *buf, size_t len)
{
	capture = buf;
	capture_len = len;
	if (buf && len)
		buf[0] = '\0';
}

static void captured(const char *fmt, va_list ap)
	__attribute__((format(printf, 1, 0)));

static void captured(const char *fmt, va_list ap)
{
	size_t n = strlen(capture);

	if (n && n + 2 < capture_len) {
		memcpy(capture + n, "; ", 3);
		n += 2;
	}
	if (n + 1 < capture_len)
		vsnprintf(capture + n, capture_len - n, fmt, ap);
}

void gmc_err(const char *verb, const char *fmt, ...)
{
	char prefix[64];
	va_list ap;

	snprintf(prefix, sizeof(prefix), "gomemctl: %s%s", verb ? verb : "",
		 verb ? ": " : "");
	va_start(ap, fmt);
	if (capture)
		captured(fmt, ap);
	else
		say(prefix, fmt, ap);
	va_end(ap);
}

void gmc_note(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	if (capture)
		captured(fmt, ap);
	else
		say("", fmt, ap);
	va_end(ap);
}

/* The same time, always: what the verbs print from it can be compared. */
void clock_now(uint64_t *realtime_ns, uint64_t *boottime_ns)
{
	*realtime_ns = FAKE_REALTIME_NS;
	*boottime_ns = FAKE_BOOTTIME_NS;
}

/* As in gomemctl.c. */
void gmc_bad_option(const char *verb, int c, char *argv[])
{
	const char *arg = argv[optind - 1];

	if (c == ':')
		gmc_err(verb, "option \"%s\" needs a value", arg);
	else if (optopt && !strncmp(arg, "--", 2))
		/* A known long option with "=value": its val is no character. */
		gmc_err(verb, "option \"%.*s\" takes no value", (int)strcspn(arg, "="),
			arg);
	else if (optopt)
		gmc_err(verb, "unknown option \"-%c\"", optopt);
	else
		gmc_err(verb, "unknown option \"%s\"", arg);
}

static void push(struct queue *q, struct nl_msg *a, struct nl_msg *b)
{
	struct nl_msg *msgs[] = { a, b };
	unsigned char *d;
	size_t i, len = 0;

	/* All read: start over, so that retried dumps find room. */
	if (q->next == q->queued)
		q->next = q->queued = 0;
	assert(q->queued < MAX_DGRAMS);
	d = must(calloc(1, 2 * 4096));
	for (i = 0; i < 2 && msgs[i]; i++) {
		struct nlmsghdr *nlh = nlmsg_hdr(msgs[i]);

		memcpy(d + len, nlh, nlh->nlmsg_len);
		len += NLMSG_ALIGN(nlh->nlmsg_len);
		nlmsg_free(msgs[i]);
	}
	q->dgram[q->queued] = d;
	q->len[q->queued++] = (int)len;
}

void fake_queue(struct nl_msg *a, struct nl_msg *b)
{
	push(&replies, a, b);
}

void fake_queue_event(struct nl_msg *a, struct nl_msg *b)
{
	push(&events, a, b);
}

void fake_queue_overflow(void)
{
	assert(events.queued < MAX_DGRAMS);
	events.dgram[events.queued] = NULL;
	events.len[events.queued++] = 0;
}

struct nl_msg *fake_reply(struct nlmsghdr *req, uint8_t cmd, int flags)
{
	struct nl_msg *m = must(nlmsg_alloc());

	must(genlmsg_put(m, req->nlmsg_pid, req->nlmsg_seq, FAMILY, 0, flags,
			 cmd, GOMEMGUARD_GENL_VERSION));
	return m;
}

struct nl_msg *fake_event(void)
{
	struct nl_msg *m = must(nlmsg_alloc());

	must(genlmsg_put(m, 0, 0, FAMILY, 0, 0, GOMEMGUARD_CMD_EVENT,
			 GOMEMGUARD_GENL_VERSION));
	return m;
}

/* Byte offset of the request's attribute type from its netlink header. */
static uint32_t offset_of(struct nlmsghdr *req, int type)
{
	struct genlmsghdr *gnlh = nlmsg_data(req);
	struct nlattr *nla;
	int rem;

	nla_for_each_attr(nla, genlmsg_attrdata(gnlh, 0),
			  genlmsg_attrlen(gnlh, 0), rem) {
		if (nla_type(nla) == type)
			return (uint32_t)((char *)nla - (char *)req);
	}
	assert(!"attribute not in request");
	return 0;
}

struct nl_msg *fake_ack(struct nlmsghdr *req, int error, bool capped,
			const struct fake_tlvs *t)
{
	size_t echo = capped ? 0 : req->nlmsg_len - NLMSG_HDRLEN;
	int flags = (capped ? NLM_F_CAPPED : 0) | (t ? NLM_F_ACK_TLVS : 0);
	struct nl_msg *m = must(nlmsg_alloc());
	struct nlmsghdr *nlh;
	struct nlmsgerr *e;

	nlh = must(nlmsg_put(m, req->nlmsg_pid, req->nlmsg_seq, NLMSG_ERROR,
			     (int)(sizeof(*e) + echo), flags));
	e = nlmsg_data(nlh);
	e->error = error;
	e->msg = *req;
	memcpy(e + 1, nlmsg_data(req), echo);
	if (!t)
		return m;
	if (t->msg)
		nla_put_string(m, NLMSGERR_ATTR_MSG, t->msg);
	if (t->bad_attr)
		nla_put_u32(m, NLMSGERR_ATTR_OFFS, offset_of(req, t->bad_attr));
	if (t->range) {
		struct nlattr *nest = nla_nest_start(m, NLMSGERR_ATTR_POLICY);

		nla_put_u32(m, NL_POLICY_TYPE_ATTR_TYPE, NL_ATTR_TYPE_U32);
		nla_put_u64(m, NL_POLICY_TYPE_ATTR_MIN_VALUE_U, t->min);
		nla_put_u64(m, NL_POLICY_TYPE_ATTR_MAX_VALUE_U, t->max);
		nla_nest_end(m, nest);
	}
	if (t->missing)
		nla_put_u32(m, NLMSGERR_ATTR_MISS_TYPE, (uint32_t)t->missing);
	return m;
}

struct nl_msg *fake_done(struct nlmsghdr *req, int error, const char *msg)
{
	struct nl_msg *m = must(nlmsg_alloc());
	struct nlmsghdr *nlh;

	nlh = must(nlmsg_put(m, req->nlmsg_pid, req->nlmsg_seq, NLMSG_DONE,
			     sizeof(error), NLM_F_MULTI));
	memcpy(nlmsg_data(nlh), &error, sizeof(error));
	if (msg) {
		nlh->nlmsg_flags |= NLM_F_ACK_TLVS;
		nla_put_string(m, NLMSGERR_ATTR_MSG, msg);
	}
	return m;
}

struct nl_msg *fake_intr(struct nl_msg *m)
{
	nlmsg_hdr(m)->nlmsg_flags |= NLM_F_DUMP_INTR;
	return m;
}

/* Records the request, and lets the test's answer() reply to it. */
static int fake_send(struct nl_sock *sk, struct nl_msg *msg)
{
	struct nlmsghdr *nlh = nlmsg_hdr(msg);
	unsigned int i = fake_log->n_reqs;

	(void)sk;
	if (i < FAKE_MAX_REQS && nlh->nlmsg_len <= sizeof(fake_log->req[i])) {
		memcpy(fake_log->req[i], nlh, nlh->nlmsg_len);
		fake_log->len[i] = nlh->nlmsg_len;
		fake_log->n_reqs++;
	}
	if (answer)
		answer(nlh);
	return (int)nlh->nlmsg_len;
}

static int pop(struct queue *q, struct sockaddr_nl *nla, unsigned char **buf,
	       struct ucred **creds)
{
	memset(nla, 0, sizeof(*nla));
	nla->nl_family = AF_NETLINK;
	if (creds)
		*creds = NULL;
	*buf = q->dgram[q->next];	/* libnl frees it */
	q->dgram[q->next] = NULL;
	return q->len[q->next++];
}

static int fake_recv(struct nl_sock *sk, struct sockaddr_nl *nla,
		     unsigned char **buf, struct ucred **creds)
{
	(void)sk;
	if (replies.next == replies.queued)
		return 0;
	return pop(&replies, nla, buf, creds);
}

/* What nl_recv() returns for a socket that overflowed or has nothing. */
static int fake_event_recv(struct nl_sock *sk, struct sockaddr_nl *nla,
			   unsigned char **buf, struct ucred **creds)
{
	(void)sk;
	if (events.next == events.queued) {
		if (events_sigterm)
			raise(SIGTERM);
		errno = EAGAIN;
		return -NLE_AGAIN;
	}
	if (!events.dgram[events.next]) {
		events.next++;
		errno = ENOBUFS;
		return -NLE_NOMEM;
	}
	return pop(&events, nla, buf, creds);
}

struct gmc_nl *fake_open_family(const char *verb, const char *family)
{
	return open_family(verb, family);
}

struct gmc_nl *fake_open(const char *verb)
{
	struct gmc_nl *nl = open_family(verb, "nlctrl");

	if (!nl)
		return NULL;
	assert(nl->family == FAMILY);
	nl_cb_overwrite_send(nl->cb, fake_send);
	nl_cb_overwrite_recv(nl->cb, fake_recv);
	return nl;
}

/* A family name no kernel registers (GENL_NAMSIZ is 16). */
#define ABSENT "gmc-fake-absent"

/*
 * sysfs, as the test has it: gmc_nl_module_dir (fake_init() points it to
 * a directory that exists), unless the test took the module away.
 */
bool gmc_nl_module_loaded(void)
{
	return !fake_log->module_absent && real_gmc_nl_module_loaded();
}

struct gmc_nl *gmc_nl_open(const char *verb)
{
	if (fake_log->module_absent) {
		fake_log->absent_lookups++;
		return open_family(verb, ABSENT);
	}
	return fake_open(verb);
}

/*
 * A real request whose answer nobody reads keeps the socket readable, so
 * the caller's poll() always lets it on to fake_event_recv().
 */
static int keep_readable(struct gmc_nl *nl)
{
	struct nl_msg *m = must(nlmsg_alloc());
	int err;

	must(genlmsg_put(m, NL_AUTO_PORT, NL_AUTO_SEQ, GENL_ID_CTRL, 0, 0,
			 CTRL_CMD_GETFAMILY, 1));
	nla_put_string(m, CTRL_ATTR_FAMILY_NAME, "nlctrl");
	err = nl_send_auto(nl->sock, m);
	nlmsg_free(m);
	return err < 0 ? -1 : 0;
}

/*
 * EVENTS_SUBSCRIBE through nl.c's subscribe(), answered by the test (which
 * is how the socket must be opened then): 0, or -1 as reported.
 */
static int fake_subscribe(struct gmc_nl *nl)
{
	fake_answer_fn saved = answer;
	int err;

	answer = subscribe_answer;
	nl_cb_overwrite_send(nl->cb, fake_send);
	nl_cb_overwrite_recv(nl->cb, fake_recv);
	err = subscribe(nl);
	/* The real socket again, for keep_readable(). */
	nl_cb_overwrite_send(nl->cb, NULL);
	nl_cb_overwrite_recv(nl->cb, NULL);
	answer = saved;
	return err;
}

/*
 * The real event socket set-up, subscribed to nlctrl's "notify" group
 * instead of the module (which the fake cannot stand in for in the kernel),
 * after the fake module's answer to EVENTS_SUBSCRIBE if the test gave one.
 */
struct gmc_nl *gmc_nl_open_events(const char *verb)
{
	struct gmc_nl *nl;
	int grp;

	if (fake_log->module_absent) {
		fake_log->absent_lookups++;
		return open_family(verb, ABSENT);
	}
	fake_log->subscribed = true;
	nl = open_family(verb, "nlctrl");
	if (!nl)
		return NULL;
	/* Before subscribe(), whose exchange leaves no sequence to check. */
	grp = genl_ctrl_resolve_grp(nl->sock, "nlctrl", "notify");
	if (grp < 0 || nl_socket_add_membership(nl->sock, grp) < 0 ||
	    (subscribe_answer && fake_subscribe(nl)) || listen_setup(nl) ||
	    keep_readable(nl)) {
		gmc_nl_close(nl);
		return NULL;
	}
	nl_cb_overwrite_recv(nl->cb, fake_event_recv);
	return nl;
}

static void write_text(const char *dir, const char *name, const char *text)
{
	char *path;
	FILE *f;

	if (!text)
		return;
	if (asprintf(&path, "%s/%s", dir, name) < 0)
		abort();
	f = must(fopen(path, "we"));
	fputs(text, f);
	if (fclose(f))
		abort();
	free(path);
}

void fake_memcg_files(const char *dir, const char *memcg, const char *stat,
		      const char *pressure)
{
	char *path, *slash;

	if (asprintf(&path, "%s%s", dir, memcg) < 0)
		abort();
	for (slash = strchr(path + strlen(dir) + 1, '/'); slash;
	     slash = strchr(slash + 1, '/')) {
		*slash = '\0';
		if (mkdir(path, 0755) && errno != EEXIST)
			abort();
		*slash = '/';
	}
	if (mkdir(path, 0755) && errno != EEXIST)
		abort();
	write_text(path, "memory.stat", stat);
	write_text(path, "memory.pressure", pressure);
	free(path);
}

static int remove_one(const char *path, const struct stat *st, int flag,
		      struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path) ? -1 : 0;
}

void fake_remove_tree(const char *dir)
{
	nftw(dir, remove_one, 16, FTW_DEPTH | FTW_PHYS);
}

static unsigned int test_no, n_failed, n_skipped;

void ktap_result(enum ktap result, const char *name, const char *skip_why)
{
	printf("%s %u %s%s%s\n", result == KTAP_FAIL ? "not ok" : "ok",
	       ++test_no, name, result == KTAP_SKIP ? " # SKIP " : "",
	       result == KTAP_SKIP ? skip_why : "");
	fflush(stdout);
	n_failed += result == KTAP_FAIL;
	n_skipped += result == KTAP_SKIP;
}

void ktap_diag(const char *label, const char *text)
{
	const char *end;

	printf("# %s:\n", label);
	for (; *text; text = end + 1) {
		end = strchrnul(text, '\n');
		printf("#   %.*s\n", (int)(end - text), text);
		if (!*end)
			break;
	}
}

/* Exit status 4 is kselftest's "skipped": everything was. */
int ktap_finish(void)
{
	printf("# Totals: pass:%u fail:%u xfail:0 xpass:0 skip:%u error:0\n",
	       test_no - n_failed - n_skipped, n_failed, n_skipped);
	return n_failed ? 1 : n_skipped == test_no ? 4 : 0;
}
