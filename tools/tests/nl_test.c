// SPDX-License-Identifier: GPL-2.0
/*
 * nl.c against the fake kernel (fake.h): what reaches the caller and every
 * line printed, for replies, ACKs, extended-ACK errors and dumps; then the
 * verbs themselves (verbs_test.c).  KTAP on stdout; the exit status is 1
 * when any test fails, 4 (kselftest's "skip") without netlink.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <linux/genetlink.h>
#include <netlink/genl/genl.h>

#include "../nl.h"
#include "fake.h"

/* An INFO_GET reply; attribute skip (if not 0) left out. */
static struct nl_msg *info_reply_msg(struct nlmsghdr *req, int skip)
{
	struct nl_msg *m = fake_reply(req, GOMEMGUARD_CMD_INFO_GET, 0);

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

/* A TAG_GET dump reply for cgroup path. */
static struct nl_msg *tag_reply_msg(struct nlmsghdr *req, const char *path)
{
	struct nl_msg *m = fake_reply(req, GOMEMGUARD_CMD_TAG_GET, NLM_F_MULTI);

	nla_put_string(m, GOMEMGUARD_A_CGROUP, path);
	return m;
}

/* The kernel's answers, one per test. */

static void answer_info(struct nlmsghdr *req)
{
	fake_queue(info_reply_msg(req, 0), NULL);
	fake_queue(fake_ack(req, 0, true, NULL), NULL);
}

static void answer_info_one_datagram(struct nlmsghdr *req)
{
	fake_queue(info_reply_msg(req, 0), fake_ack(req, 0, true, NULL));
}

static void answer_info_lacking_dropped(struct nlmsghdr *req)
{
	fake_queue(info_reply_msg(req, GOMEMGUARD_A_EVENTS_DROPPED), NULL);
	fake_queue(fake_ack(req, 0, true, NULL), NULL);
}

static void answer_info_malformed(struct nlmsghdr *req)
{
	struct nl_msg *m = fake_reply(req, GOMEMGUARD_CMD_INFO_GET, 0);

	nla_put_u32(m, GOMEMGUARD_A_EVENTS_SENT, 1);	/* must be a u64 */
	fake_queue(m, NULL);
	fake_queue(fake_ack(req, 0, true, NULL), NULL);
}

static void answer_levels_malformed(struct nlmsghdr *req)
{
	struct nl_msg *m = fake_reply(req, GOMEMGUARD_CMD_INFO_GET, 0);
	static const uint8_t odd[6];

	nla_put(m, GOMEMGUARD_A_LEVELS, sizeof(odd), odd);	/* 1.5 u32s */
	fake_queue(m, NULL);
	fake_queue(fake_ack(req, 0, true, NULL), NULL);
}

static const struct fake_tlvs burst_range = {
	.msg = "integer out of range",
	.bad_attr = GOMEMGUARD_A_EVENT_BURST,
	.range = true, .min = 1, .max = 1000,
};

static void answer_range_echoed(struct nlmsghdr *req)
{
	fake_queue(fake_ack(req, -ERANGE, false, &burst_range), NULL);
}

static void answer_range_capped(struct nlmsghdr *req)
{
	fake_queue(fake_ack(req, -ERANGE, true, &burst_range), NULL);
}

static void answer_eperm(struct nlmsghdr *req)
{
	fake_queue(fake_ack(req, -EPERM, false, NULL), NULL);
}

static void answer_missing(struct nlmsghdr *req)
{
	static const struct fake_tlvs t = {
		.msg = "nothing to set",
		.missing = GOMEMGUARD_A_EVENT_INTERVAL_MS,
	};

	fake_queue(fake_ack(req, -EINVAL, true, &t), NULL);
}

static void answer_ack_warning(struct nlmsghdr *req)
{
	static const struct fake_tlvs t = { .msg = "burst above 100 is wasteful" };

	fake_queue(fake_ack(req, 0, true, &t), NULL);
}

static void answer_unasked_reply(struct nlmsghdr *req)
{
	fake_queue(info_reply_msg(req, 0), NULL);
	fake_queue(fake_ack(req, 0, true, NULL), NULL);
}

static void answer_ack_only(struct nlmsghdr *req)
{
	fake_queue(fake_ack(req, 0, true, NULL), NULL);
}

/* An echo length pointing far past the message: TLVs must be ignored. */
static void answer_bogus_echo(struct nlmsghdr *req)
{
	struct nl_msg *m = fake_ack(req, -EINVAL, false, &burst_range);
	struct nlmsgerr *e = nlmsg_data(nlmsg_hdr(m));

	e->msg.nlmsg_len = 0xfffff;
	fake_queue(m, NULL);
}

static void answer_nothing(struct nlmsghdr *req)
{
	(void)req;
}

static void answer_dump(struct nlmsghdr *req)
{
	fake_queue(tag_reply_msg(req, "/a"), tag_reply_msg(req, "/b"));
	fake_queue(tag_reply_msg(req, "/c"), fake_done(req, 0, NULL));
}

static void answer_dump_empty(struct nlmsghdr *req)
{
	fake_queue(fake_done(req, 0, NULL), NULL);
}

/* libnl would call this a success: the errno is in NLMSG_DONE. */
static void answer_dump_failing(struct nlmsghdr *req)
{
	fake_queue(tag_reply_msg(req, "/a"), NULL);
	fake_queue(fake_done(req, -EPERM, "dump stopped: not in your PID namespace"),
		   NULL);
}

static void answer_dump_failing_bare(struct nlmsghdr *req)
{
	fake_queue(fake_done(req, -ENOBUFS, NULL), NULL);
}

/* How many dumps the fake kernel answered in the test at hand. */
static int dumps;

/*
 * The set changed under the first dump: its second reply repeats the first
 * and the rest is flagged, as genl_dump_check_consistent() flags it.  The
 * second dump is whole.
 */
static void answer_dump_intr_once(struct nlmsghdr *req)
{
	if (dumps++) {
		answer_dump(req);
		return;
	}
	fake_queue(tag_reply_msg(req, "/a"),
		   fake_intr(tag_reply_msg(req, "/a")));
	fake_queue(fake_intr(fake_done(req, 0, NULL)), NULL);
}

/* Only NLMSG_DONE says so: the set changed after the last reply. */
static void answer_dump_intr_at_done(struct nlmsghdr *req)
{
	if (dumps++) {
		answer_dump(req);
		return;
	}
	fake_queue(tag_reply_msg(req, "/x"),
		   fake_intr(fake_done(req, 0, NULL)));
}

/* A set that never holds still; whole after 7 tries, too late. */
static void answer_dump_intr_always(struct nlmsghdr *req)
{
	if (dumps++ == 7) {
		answer_dump(req);
		return;
	}
	fake_queue(fake_intr(tag_reply_msg(req, "/x")),
		   fake_intr(fake_done(req, 0, NULL)));
}

/* What a reply handler saw. */
static struct {
	char version[32];
	uint32_t tagged, interval, burst;
	uint64_t sent, dropped;
	char cgroups[32];
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

static int record_tags(struct gmc_nl *nl, struct nlattr *tb[], void *arg)
{
	size_t len = strlen(got.cgroups);

	(void)nl;
	(void)arg;
	got.calls++;
	snprintf(got.cgroups + len, sizeof(got.cgroups) - len, "%s",
		 nla_get_string(tb[GOMEMGUARD_A_CGROUP]));
	return 0;
}

enum request {
	INFO_GET,	/* expecting record_info()'s reply */
	CONFIG_SET,	/* with interval and burst, expecting no reply */
	TAG_DUMP,	/* TAG_GET dump into record_tags() */
};

struct test {
	const char *name;
	fake_answer_fn answer;
	enum request request;
	int ret;		/* what gmc_nl_transact() must return */
	const char *said;	/* exactly what must have been printed */
	const char *cgroups;	/* TAG_DUMP: what the replies held */
	unsigned int reqs;	/* requests it must have sent */
};

static const struct test tests[] = {
	{ "info reply, then ACK", answer_info, INFO_GET, 0, "", NULL, 1 },
	{ "info reply and ACK in one datagram", answer_info_one_datagram,
	  INFO_GET, 0, "", NULL, 1 },
	{ "reply lacking an attribute", answer_info_lacking_dropped, INFO_GET, -1,
	  "gomemctl: test: reply lacks events_dropped (is the module older than gomemctl?)\n", NULL, 1 },
	{ "reply with a mistyped attribute", answer_info_malformed, INFO_GET, -1,
	  "gomemctl: test: malformed reply from the module: Input data out of range\n", NULL, 1 },
	{ "reply with levels not a whole number of u32s", answer_levels_malformed,
	  INFO_GET, -1,
	  "gomemctl: test: malformed reply from the module: Invalid input data or parameter\n", NULL, 1 },
	{ "extack with the request echoed", answer_range_echoed, CONFIG_SET, -1,
	  "gomemctl: test: Numerical result out of range\n"
	  "kernel reports: integer out of range (attribute event_burst: valid range 1..1000)\n", NULL, 1 },
	{ "extack with the echo capped", answer_range_capped, CONFIG_SET, -1,
	  "gomemctl: test: Numerical result out of range\n"
	  "kernel reports: integer out of range (attribute event_burst: valid range 1..1000)\n", NULL, 1 },
	{ "a bare EPERM names the capability", answer_eperm, CONFIG_SET, -1,
	  "gomemctl: test: Operation not permitted (gomemguard needs CAP_NET_ADMIN)\n", NULL, 1 },
	{ "extack naming a missing attribute", answer_missing, CONFIG_SET, -1,
	  "gomemctl: test: Invalid argument\n"
	  "kernel reports: nothing to set (missing attribute event_interval_ms)\n", NULL, 1 },
	{ "ACK carrying a warning", answer_ack_warning, CONFIG_SET, 0,
	  "kernel reports: burst above 100 is wasteful\n", NULL, 1 },
	{ "reply nobody asked for", answer_unasked_reply, CONFIG_SET, -1,
	  "gomemctl: test: unexpected reply from the module (command 1)\n", NULL, 1 },
	{ "ACK without the reply", answer_ack_only, INFO_GET, -1,
	  "gomemctl: test: the module acknowledged but sent no reply\n", NULL, 1 },
	{ "echo length beyond the message", answer_bogus_echo, CONFIG_SET, -1,
	  "gomemctl: test: Invalid argument\n", NULL, 1 },
	{ "no answer at all", answer_nothing, INFO_GET, -1,
	  "gomemctl: test: cannot receive the answer: connection closed\n", NULL, 1 },
	{ "dump over several datagrams", answer_dump, TAG_DUMP, 0, "", "/a/b/c", 1 },
	{ "empty dump", answer_dump_empty, TAG_DUMP, 0, "", "", 1 },
	{ "dump ending in an error with extack: none of its replies passed on",
	  answer_dump_failing, TAG_DUMP, -1,
	  "gomemctl: test: Operation not permitted\n"
	  "kernel reports: dump stopped: not in your PID namespace\n", "", 1 },
	{ "dump ending in a bare error", answer_dump_failing_bare, TAG_DUMP, -1,
	  "gomemctl: test: No buffer space available\n", "", 1 },
	{ "dump flagged NLM_F_DUMP_INTR: asked again, only the second one passed on",
	  answer_dump_intr_once, TAG_DUMP, 0, "", "/a/b/c", 2 },
	{ "dump whose NLMSG_DONE alone is flagged: asked again",
	  answer_dump_intr_at_done, TAG_DUMP, 0, "", "/a/b/c", 2 },
	{ "dump interrupted 5 times: given up, nothing passed on",
	  answer_dump_intr_always, TAG_DUMP, -1,
	  "gomemctl: test: the watched set kept changing during the dump; try again\n",
	  "", 5 },
};

static struct nl_msg *request(struct gmc_nl *nl, enum request r)
{
	struct nl_msg *req;

	switch (r) {
	case CONFIG_SET:
		req = must(gmc_nl_request(nl, GOMEMGUARD_CMD_CONFIG_SET, 0));
		nla_put_u32(req, GOMEMGUARD_A_EVENT_INTERVAL_MS, 250);
		nla_put_u32(req, GOMEMGUARD_A_EVENT_BURST, 5000);
		return req;
	case TAG_DUMP:
		return must(gmc_nl_request(nl, GOMEMGUARD_CMD_TAG_GET,
					   NLM_F_DUMP));
	case INFO_GET:
		break;
	}
	return must(gmc_nl_request(nl, GOMEMGUARD_CMD_INFO_GET, 0));
}

/* Each request after the first repeats it under a sequence number of its own. */
static bool sent_again(unsigned int n)
{
	const struct nlmsghdr *first = (struct nlmsghdr *)fake_log->req[0];
	unsigned int i;

	for (i = 1; i < n && i < fake_log->n_reqs; i++) {
		const struct nlmsghdr *again = (struct nlmsghdr *)fake_log->req[i];

		if (fake_log->len[i] != fake_log->len[0] ||
		    again->nlmsg_flags != first->nlmsg_flags ||
		    memcmp(NLMSG_DATA(again), NLMSG_DATA(first),
			   fake_log->len[0] - NLMSG_HDRLEN)) {
			printf("# request %u is not the first one again\n", i + 1);
			return false;
		}
		if (again->nlmsg_seq ==
		    ((struct nlmsghdr *)fake_log->req[i - 1])->nlmsg_seq) {
			printf("# request %u reuses a sequence number\n", i + 1);
			return false;
		}
	}
	return true;
}

static bool run(const struct test *t)
{
	static const gmc_nl_reply_fn fns[] = {
		[INFO_GET] = record_info,
		[CONFIG_SET] = NULL,
		[TAG_DUMP] = record_tags,
	};
	struct gmc_nl *nl;
	bool ok;
	int ret;

	memset(&got, 0, sizeof(got));
	dumps = 0;
	fake_reset();
	fake_answer_with(t->answer);
	nl = fake_open("test");
	if (!nl)
		return false;
	ret = gmc_nl_transact(nl, request(nl, t->request), fns[t->request],
			      NULL);
	gmc_nl_close(nl);

	ok = ret == t->ret && !strcmp(fake_said, t->said);
	if (t->answer == answer_info || t->answer == answer_info_one_datagram)
		ok = ok && got.calls == 1 && !strcmp(got.version, "9.8.7") &&
		     got.tagged == 3 && got.sent == 1ULL << 40 &&
		     got.dropped == 5 && got.interval == 1000 && got.burst == 10;
	if (fake_log->n_reqs != t->reqs) {
		printf("# %u requests sent, expected %u\n", fake_log->n_reqs,
		       t->reqs);
		ok = false;
	}
	ok = ok && sent_again(t->reqs);
	if (t->request == TAG_DUMP && strcmp(got.cgroups, t->cgroups)) {
		printf("# replies held \"%s\", expected \"%s\"\n", got.cgroups,
		       t->cgroups);
		ok = false;
	}
	if (!ok) {
		printf("# returned %d (expected %d)\n", ret, t->ret);
		ktap_diag("printed", fake_said);
		ktap_diag("expected", t->said);
	}
	return ok;
}

int main(void)
{
	const char *skip = NULL;
	struct gmc_nl *nl;
	size_t i;

	fake_init();
	/* What the verbs print of wall-clock times must not depend on where. */
	setenv("TZ", "UTC", 1);
	tzset();
	printf("TAP version 13\n1..%zu\n",
	       ARRAY_SIZE_T(tests) + 2 + verbs_test_count());

	/* Without a usable netlink socket nothing here can run. */
	fake_reset();
	nl = fake_open_family("test", "nlctrl");
	if (!nl) {
		ktap_diag("opening a generic netlink socket", fake_said);
		skip = "generic netlink is not usable here";
	}
	gmc_nl_close(nl);

	/* The real kernel's answer: ENOENT, seen through genl_ctrl_resolve(). */
	fake_reset();
	nl = skip ? NULL : fake_open_family("test", "gmg-no-such");
	if (skip)
		ktap_result(KTAP_SKIP, "a family the kernel lacks is a module not loaded", skip);
	else
		ktap_result(!nl && !strcmp(fake_said, "gomemctl: the gomemguard module is not loaded (run \"modprobe gomemguard\" as root, or install it with \"make dkms-install\")\n"),
			    "a family the kernel lacks is a module not loaded", NULL);
	if (!skip && nl)
		printf("# resolved a family that should not exist\n");
	else if (!skip && !strstr(fake_said, "not loaded"))
		ktap_diag("printed", fake_said);
	gmc_nl_close(nl);

	/*
	 * Without autoload (monitor after an rmmod) the family comes from
	 * the controller's list: found when there, "not loaded" when not.
	 */
	gmc_nl_autoload(false);
	if (skip) {
		ktap_result(KTAP_SKIP, "without autoload a family is found in the controller's list", skip);
	} else {
		bool ok;

		fake_reset();
		nl = fake_open_family("test", "nlctrl");
		ok = nl && gmc_nl_family(nl) == GENL_ID_CTRL;
		if (!ok)
			ktap_diag("opening nlctrl from the list", fake_said);
		gmc_nl_close(nl);
		fake_reset();
		nl = fake_open_family("test", "gmg-no-such");
		if (nl || !gmc_nl_module_missing() ||
		    !strstr(fake_said, "gomemguard module is not loaded")) {
			ktap_diag("opening a missing family from the list", fake_said);
			ok = false;
		}
		gmc_nl_close(nl);
		ktap_result(ok ? KTAP_PASS : KTAP_FAIL,
			    "without autoload a family is found in the controller's list", NULL);
	}
	gmc_nl_autoload(true);

	for (i = 0; i < ARRAY_SIZE_T(tests); i++) {
		if (skip)
			ktap_result(KTAP_SKIP, tests[i].name, skip);
		else
			ktap_result(run(&tests[i]) ? KTAP_PASS : KTAP_FAIL,
				    tests[i].name, NULL);
	}
	verbs_test_run(skip);
	fake_reset();
	return ktap_finish();
}
