/* SPDX-License-Identifier: GPL-2.0 */
/*
 * A fake gomemguard for nl.c and the verbs, and what the tests around it
 * share.  Sockets are real and resolve "nlctrl", which every kernel has;
 * libnl's send and receive hooks then answer each request with the replies,
 * ACKs, dump ends and extended-ACK errors the module would send, byte for
 * byte as the kernel lays them out, and hand out notifications (or an
 * overflow) queued by the test.  Verbs open their sockets through the fake
 * gmc_nl_open() and gmc_nl_open_events() in fake.c.
 *
 * What a verb prints on stderr and the requests it sends live in shared
 * memory, so tests can run verbs in a child process (fresh global state,
 * their own stdout) and still see them.
 */
#ifndef GOMEMCTL_TESTS_FAKE_H
#define GOMEMCTL_TESTS_FAKE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <netlink/msg.h>

#include <linux/gomemguard.h>

#define ARRAY_SIZE_T(a) (sizeof(a) / sizeof((a)[0]))

/* Everything gmc_err() and gmc_note() printed, as it would appear. */
extern char *fake_said;

/* The requests the code under test sent, and whether it subscribed to events. */
#define FAKE_MAX_REQS 8
struct fake_log {
	unsigned int n_reqs;
	unsigned int len[FAKE_MAX_REQS];
	unsigned char req[FAKE_MAX_REQS][4096];
	bool subscribed;
	/*
	 * Set by the test, even while a verb runs in a child: gmc_nl_open()
	 * and gmc_nl_open_events() find no module, through nl.c's own lookup
	 * of a family no kernel has.
	 */
	bool module_absent;
	/*
	 * Lookups of the family while it was absent: each would have made
	 * the kernel load the module.
	 */
	unsigned int absent_lookups;
};
extern struct fake_log *fake_log;

/*
 * The clocks clock_now() reads: 2026-11-27 09:00:00 UTC, ten days after
 * boot.  nl_test runs with TZ=UTC.
 */
#define FAKE_REALTIME_NS 1795770000000000000ULL
#define FAKE_BOOTTIME_NS (10ULL * 24 * 3600 * 1000000000ULL)

/* Allocation failures end the test run. */
void *must(void *p);

/* "# " and the message, as a KTAP diagnostic; false, for "ok = fail(...)". */
bool fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* A formatted string (malloc'ed); out of memory ends the run. */
char *format(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Once, before anything else. */
void fake_init(void);
/* Forgets what was queued, printed and sent. */
void fake_reset(void);

/* The kernel's side of a request: queues its answer with fake_queue(). */
typedef void (*fake_answer_fn)(struct nlmsghdr *req);
void fake_answer_with(fake_answer_fn answer);

/*
 * The kernel's side of EVENTS_SUBSCRIBE, for gmc_nl_open_events(): with
 * one, the event socket subscribes through nl.c's own code first (the
 * request is logged); without (the default), it is simply ready.
 */
void fake_subscribe_with(fake_answer_fn answer);

/* Queues one datagram holding a and, unless NULL, b; frees them. */
void fake_queue(struct nl_msg *a, struct nl_msg *b);

/* A reply to req, flags NLM_F_MULTI in a dump; add attributes. */
struct nl_msg *fake_reply(struct nlmsghdr *req, uint8_t cmd, int flags);

/* What an extended ACK carries. */
struct fake_tlvs {
	const char *msg;
	int bad_attr;
	bool range;
	uint64_t min, max;
	int missing;
};

/* NLMSG_ERROR as netlink_ack() builds it: error 0 is an ACK. */
struct nl_msg *fake_ack(struct nlmsghdr *req, int error, bool capped,
			const struct fake_tlvs *t);

/* NLMSG_DONE as netlink_dump_done() builds it, msg its extack or NULL. */
struct nl_msg *fake_done(struct nlmsghdr *req, int error, const char *msg);

/*
 * m flagged NLM_F_DUMP_INTR, as genl_dump_check_consistent() flags a dump's
 * messages (and its NLMSG_DONE) once the set changed under it; returns m.
 */
struct nl_msg *fake_intr(struct nl_msg *m);

/* A notification of the family (add attributes), for fake_queue_event(). */
struct nl_msg *fake_event(void);
/* Queues a datagram of notifications for the group socket; frees them. */
void fake_queue_event(struct nl_msg *a, struct nl_msg *b);
/* Queues an ENOBUFS: the group socket overflowed. */
void fake_queue_overflow(void);
/* With no notifications left the group socket raises SIGTERM, or not. */
void fake_events_end_with_sigterm(bool sigterm);

/* A socket as gmc_nl_open() makes it, on a family the kernel has or not. */
struct gmc_nl *fake_open(const char *verb);
struct gmc_nl *fake_open_family(const char *verb, const char *family);

/*
 * A cgroup2 tree for memstat.c under dir, which stands for the global root
 * (GOMEMCTL_CGROUP2_ROOT): the directory of memcg ("/app.slice"), made as
 * needed, with memory.stat and memory.pressure holding stat and pressure,
 * each left out when NULL.
 */
void fake_memcg_files(const char *dir, const char *memcg, const char *stat,
		      const char *pressure);
/* Removes dir and everything in it. */
void fake_remove_tree(const char *dir);

/* KTAP: one result line, and multi-line text as diagnostics. */
enum ktap { KTAP_FAIL, KTAP_PASS, KTAP_SKIP };
void ktap_result(enum ktap result, const char *name, const char *skip_why);
void ktap_diag(const char *label, const char *text);
/* "# Totals" and the exit status. */
int ktap_finish(void);

/* The verbs against the fake kernel (verbs_test.c). */
size_t verbs_test_count(void);
void verbs_test_run(const char *skip);

#endif /* GOMEMCTL_TESTS_FAKE_H */
