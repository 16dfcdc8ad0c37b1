// SPDX-License-Identifier: GPL-2.0
/*
 * nl.c against a fake kernel.  The socket is real and resolves "nlctrl",
 * which every kernel has; then libnl's send and receive hooks answer each
 * request with the replies, ACKs and extended-ACK errors the module would
 * send, byte for byte as the kernel lays them out (netlink_ack()).  Checks
 * what reaches the caller and every line printed.  KTAP on stdout; the exit
 * status is 1 when any test fails, 4 (kselftest's "skip") without netlink.
 */
#include "../nl.c"

#include <assert.h>
#include <stdarg.h>

#define ARRAY_SIZE_T(a) (sizeof(a) / sizeof((a)[0]))

/* Allocation failures end the test run. */
static void *must(void *p)
{
	if (!p)
		abort();
	return p;
}

/* Everything gmc_err() and gmc_note() printed, as it would appear. */
static char said[4096];

static void say(const char *prefix, const char *fmt, va_list ap)
{
	size_t len = strlen(said);

	snprintf(said + len, sizeof(said) - len, "%s", prefix);
	len = strlen(said);
	vsnprintf(said + len, sizeof(said) - len, fmt, ap);
	len = strlen(said);
	snprintf(said + len, sizeof(said) - len, "\n");
}

void gmc_err(const char *verb, const char *fmt, ...)
{
	char prefix[64];
	va_list ap;

	snprintf(prefix, sizeof(prefix), "gomemctl: %s%s", verb ? verb : "",
		 verb ? ": " : "");
	va_start(ap, fmt);
	say(prefix, fmt, ap);
	va_end(ap);
}

void gmc_note(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	say("", fmt, ap);
	va_end(ap);
}

/* The fake kernel: datagrams queued by answer() for fake_recv() to return. */
#define MAX_DGRAMS 4
static struct {
	unsigned char *dgram[MAX_DGRAMS];
	int len[MAX_DGRAMS];
	int queued, next;
	void (*answer)(struct nlmsghdr *req);
} fake;

static int fake_send(struct nl_sock *sk, struct nl_msg *msg)
{
	(void)sk;
	fake.answer(nlmsg_hdr(msg));
	return (int)nlmsg_hdr(msg)->nlmsg_len;
}

static int fake_recv(struct nl_sock *sk, struct sockaddr_nl *nla,
		     unsigned char **buf, struct ucred **creds)
{
	(void)sk;
	memset(nla, 0, sizeof(*nla));
	nla->nl_family = AF_NETLINK;
	if (creds)
		*creds = NULL;
	if (fake.next == fake.queued)
		return 0;
	*buf = fake.dgram[fake.next];	/* libnl frees it */
	fake.dgram[fake.next] = NULL;
	return fake.len[fake.next++];
}

/* Queues one datagram holding the given messages, which it frees. */
static void queue(struct nl_msg *a, struct nl_msg *b)
{
	struct nl_msg *msgs[] = { a, b };
	unsigned char *d;
	size_t i, len = 0;

	assert(fake.queued < MAX_DGRAMS);
	d = must(calloc(1, 2 * 4096));
	for (i = 0; i < 2 && msgs[i]; i++) {
		struct nlmsghdr *nlh = nlmsg_hdr(msgs[i]);

		memcpy(d + len, nlh, nlh->nlmsg_len);
		len += NLMSG_ALIGN(nlh->nlmsg_len);
		nlmsg_free(msgs[i]);
	}
	fake.dgram[fake.queued] = d;
	fake.len[fake.queued++] = (int)len;
}

static int test_family;

static struct nl_msg *reply(struct nlmsghdr *req, uint8_t cmd)
{
	struct nl_msg *m = must(nlmsg_alloc());

	must(genlmsg_put(m, req->nlmsg_pid, req->nlmsg_seq, test_family, 0, 0,
			 cmd, GOMEMGUARD_GENL_VERSION));
	return m;
}

/* An INFO_GET reply; attribute skip (if not 0) left out. */
static struct nl_msg *info_reply_msg(struct nlmsghdr *req, int skip)
{
	struct nl_msg *m = reply(req, GOMEMGUARD_CMD_INFO_GET);

	if (skip != GOMEMGUARD_A_VERSION)
		nla_put_string(m, GOMEMGUARD_A_VERSION, "9.8.7");
	if (skip != GOMEMGUARD_A_KERNEL_RELEASE)
		nla_put_string(m, GOMEMGUARD_A_KERNEL_RELEASE, "6.12.117+deb12-amd64");
	if (skip != GOMEMGUARD_A_TAGGED)
		nla_put_u32(m, GOMEMGUARD_A_TAGGED, 3);
	if (skip != GOMEMGUARD_A_EVENTS_SENT)
		nla_put_u64(m, GOMEMGUARD_A_EVENTS_SENT, 1ULL << 40);
	if (skip != GOMEMGUARD_A_EVENTS_DROPPED)
		nla_put_u64(m, GOMEMGUARD_A_EVENTS_DROPPED, 5);
	if (skip != GOMEMGUARD_A_EVENT_INTERVAL_MS)
		nla_put_u32(m, GOMEMGUARD_A_EVENT_INTERVAL_MS, 1000);
	if (skip != GOMEMGUARD_A_EVENT_BURST)
		nla_put_u32(m, GOMEMGUARD_A_EVENT_BURST, 10);
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

struct tlvs {
	const char *msg;
	int bad_attr;
	bool range;
	uint64_t min, max;
	int missing;
};

/* NLMSG_ERROR as netlink_ack() builds it: error 0 is an ACK. */
static struct nl_msg *ack(struct nlmsghdr *req, int error, bool capped,
			  const struct tlvs *t)
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

/* The kernel's answers, one per test. */

static void answer_info(struct nlmsghdr *req)
{
	queue(info_reply_msg(req, 0), NULL);
	queue(ack(req, 0, true, NULL), NULL);
}

static void answer_info_one_datagram(struct nlmsghdr *req)
{
	queue(info_reply_msg(req, 0), ack(req, 0, true, NULL));
}

static void answer_info_lacking_dropped(struct nlmsghdr *req)
{
	queue(info_reply_msg(req, GOMEMGUARD_A_EVENTS_DROPPED), NULL);
	queue(ack(req, 0, true, NULL), NULL);
}

static void answer_info_malformed(struct nlmsghdr *req)
{
	struct nl_msg *m = reply(req, GOMEMGUARD_CMD_INFO_GET);

	nla_put_u32(m, GOMEMGUARD_A_EVENTS_SENT, 1);	/* must be a u64 */
	queue(m, NULL);
	queue(ack(req, 0, true, NULL), NULL);
}

static const struct tlvs burst_range = {
	.msg = "integer out of range",
	.bad_attr = GOMEMGUARD_A_EVENT_BURST,
	.range = true, .min = 1, .max = 1000,
};

static void answer_range_echoed(struct nlmsghdr *req)
{
	queue(ack(req, -ERANGE, false, &burst_range), NULL);
}

static void answer_range_capped(struct nlmsghdr *req)
{
	queue(ack(req, -ERANGE, true, &burst_range), NULL);
}

static void answer_eperm(struct nlmsghdr *req)
{
	queue(ack(req, -EPERM, false, NULL), NULL);
}

static void answer_missing(struct nlmsghdr *req)
{
	static const struct tlvs t = {
		.msg = "nothing to set",
		.missing = GOMEMGUARD_A_EVENT_INTERVAL_MS,
	};

	queue(ack(req, -EINVAL, true, &t), NULL);
}

static void answer_ack_warning(struct nlmsghdr *req)
{
	static const struct tlvs t = { .msg = "burst above 100 is wasteful" };

	queue(ack(req, 0, true, &t), NULL);
}

static void answer_unasked_reply(struct nlmsghdr *req)
{
	queue(info_reply_msg(req, 0), NULL);
	queue(ack(req, 0, true, NULL), NULL);
}

static void answer_ack_only(struct nlmsghdr *req)
{
	queue(ack(req, 0, true, NULL), NULL);
}

/* An echo length pointing far past the message: TLVs must be ignored. */
static void answer_bogus_echo(struct nlmsghdr *req)
{
	struct nl_msg *m = ack(req, -EINVAL, false, &burst_range);
	struct nlmsgerr *e = nlmsg_data(nlmsg_hdr(m));

	e->msg.nlmsg_len = 0xfffff;
	queue(m, NULL);
}

static void answer_nothing(struct nlmsghdr *req)
{
	(void)req;
}

/* What a reply handler saw. */
static struct {
	char version[32];
	uint32_t tagged, interval, burst;
	uint64_t sent, dropped;
	int calls;
} got;

static int record_info(struct gmc_nl *nl, struct nlattr *tb[], void *arg)
{
	static const int required[] = {
		GOMEMGUARD_A_VERSION, GOMEMGUARD_A_KERNEL_RELEASE,
		GOMEMGUARD_A_TAGGED, GOMEMGUARD_A_EVENTS_SENT,
		GOMEMGUARD_A_EVENTS_DROPPED, GOMEMGUARD_A_EVENT_INTERVAL_MS,
		GOMEMGUARD_A_EVENT_BURST,
	};

	(void)arg;
	got.calls++;
	if (gmc_nl_require(nl, tb, required, ARRAY_SIZE_T(required)))
		return -1;
	snprintf(got.version, sizeof(got.version), "%s",
		 nla_get_string(tb[GOMEMGUARD_A_VERSION]));
	got.tagged = nla_get_u32(tb[GOMEMGUARD_A_TAGGED]);
	got.sent = nla_get_u64(tb[GOMEMGUARD_A_EVENTS_SENT]);
	got.dropped = nla_get_u64(tb[GOMEMGUARD_A_EVENTS_DROPPED]);
	got.interval = nla_get_u32(tb[GOMEMGUARD_A_EVENT_INTERVAL_MS]);
	got.burst = nla_get_u32(tb[GOMEMGUARD_A_EVENT_BURST]);
	return 0;
}

struct test {
	const char *name;
	void (*answer)(struct nlmsghdr *req);
	bool config;		/* CONFIG_SET with interval and burst, else INFO_GET */
	bool expect_reply;	/* pass record_info */
	int ret;		/* what gmc_nl_transact() must return */
	const char *said;	/* exactly what must have been printed */
};

static const struct test tests[] = {
	{ "info reply, then ACK", answer_info, false, true, 0, "" },
	{ "info reply and ACK in one datagram", answer_info_one_datagram,
	  false, true, 0, "" },
	{ "reply lacking an attribute", answer_info_lacking_dropped, false, true, -1,
	  "gomemctl: test: reply lacks events_dropped (is the module older than gomemctl?)\n" },
	{ "reply with a mistyped attribute", answer_info_malformed, false, true, -1,
	  "gomemctl: test: malformed reply from the module: Input data out of range\n" },
	{ "extack with the request echoed", answer_range_echoed, true, false, -1,
	  "gomemctl: test: Numerical result out of range\n"
	  "kernel reports: integer out of range (attribute event_burst: valid range 1..1000)\n" },
	{ "extack with the echo capped", answer_range_capped, true, false, -1,
	  "gomemctl: test: Numerical result out of range\n"
	  "kernel reports: integer out of range (attribute event_burst: valid range 1..1000)\n" },
	{ "EPERM names the capability", answer_eperm, true, false, -1,
	  "gomemctl: test: Operation not permitted (gomemguard needs CAP_NET_ADMIN)\n" },
	{ "extack naming a missing attribute", answer_missing, true, false, -1,
	  "gomemctl: test: Invalid argument\n"
	  "kernel reports: nothing to set (missing attribute event_interval_ms)\n" },
	{ "ACK carrying a warning", answer_ack_warning, true, false, 0,
	  "kernel reports: burst above 100 is wasteful\n" },
	{ "reply nobody asked for", answer_unasked_reply, true, false, -1,
	  "gomemctl: test: unexpected reply from the module (command 1)\n" },
	{ "ACK without the reply", answer_ack_only, false, true, -1,
	  "gomemctl: test: the module acknowledged but sent no reply\n" },
	{ "echo length beyond the message", answer_bogus_echo, true, false, -1,
	  "gomemctl: test: Invalid argument\n" },
	{ "no answer at all", answer_nothing, false, true, -1,
	  "gomemctl: test: cannot receive the answer: connection closed\n" },
};

static unsigned int test_no, failed;

static void report(bool ok, const char *name, const char *directive)
{
	printf("%s %u %s%s\n", ok ? "ok" : "not ok", ++test_no, name,
	       directive ? directive : "");
	failed += !ok;
}

/* Multi-line text as KTAP diagnostic lines. */
static void diag(const char *label, const char *text)
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

static bool run(const struct test *t)
{
	struct nl_msg *req;
	struct gmc_nl *nl;
	bool ok;
	int ret;

	memset(&got, 0, sizeof(got));
	said[0] = '\0';
	nl = open_family("test", "nlctrl");
	if (!nl)
		return false;
	test_family = nl->family;
	nl_cb_overwrite_send(nl->cb, fake_send);
	nl_cb_overwrite_recv(nl->cb, fake_recv);
	fake.answer = t->answer;

	req = must(gmc_nl_request(nl, t->config ? GOMEMGUARD_CMD_CONFIG_SET :
						  GOMEMGUARD_CMD_INFO_GET, 0));
	if (t->config) {
		nla_put_u32(req, GOMEMGUARD_A_EVENT_INTERVAL_MS, 250);
		nla_put_u32(req, GOMEMGUARD_A_EVENT_BURST, 5000);
	}
	ret = gmc_nl_transact(nl, req, t->expect_reply ? record_info : NULL,
			      NULL);
	gmc_nl_close(nl);

	ok = ret == t->ret && !strcmp(said, t->said);
	if (t->answer == answer_info || t->answer == answer_info_one_datagram)
		ok = ok && got.calls == 1 && !strcmp(got.version, "9.8.7") &&
		     got.tagged == 3 && got.sent == 1ULL << 40 &&
		     got.dropped == 5 && got.interval == 1000 && got.burst == 10;
	if (!ok) {
		printf("# returned %d (expected %d)\n", ret, t->ret);
		diag("printed", said);
		diag("expected", t->said);
	}

	while (fake.next < fake.queued)
		free(fake.dgram[fake.next++]);
	fake.next = fake.queued = 0;
	return ok;
}

int main(void)
{
	const char *skip = NULL;
	struct gmc_nl *nl;
	size_t i;

	printf("TAP version 13\n1..%zu\n", ARRAY_SIZE_T(tests) + 1);

	/* Without a usable netlink socket nothing here can run. */
	said[0] = '\0';
	nl = open_family("test", "nlctrl");
	if (!nl) {
		diag("opening a generic netlink socket", said);
		skip = " # SKIP generic netlink is not usable here";
	}
	gmc_nl_close(nl);

	/* The real kernel's answer: ENOENT, seen through genl_ctrl_resolve(). */
	said[0] = '\0';
	nl = skip ? NULL : open_family("test", "gmg-no-such");
	report(skip || (!nl && !strcmp(said, "gomemctl: the gomemguard module is not loaded (run \"modprobe gomemguard\" as root, or install it with \"make dkms-install\")\n")),
	       "a family the kernel lacks is a module not loaded", skip);
	if (!skip && nl)
		printf("# resolved a family that should not exist\n");
	else if (!skip && !strstr(said, "not loaded"))
		diag("printed", said);
	gmc_nl_close(nl);

	for (i = 0; i < ARRAY_SIZE_T(tests); i++)
		report(skip || run(&tests[i]), tests[i].name, skip);

	printf("# Totals: pass:%u fail:%u xfail:0 xpass:0 skip:%u error:0\n",
	       skip ? 0 : test_no - failed, failed, skip ? test_no : 0);
	return failed ? 1 : skip ? 4 : 0;
}
