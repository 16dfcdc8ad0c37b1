// SPDX-License-Identifier: GPL-2.0
/*
 * Generic netlink through libnl-genl-3, the way iw does it: genl_connect(),
 * NETLINK_EXT_ACK on, genl_ctrl_resolve(), then request, replies, ACK; or,
 * for notifications, a socket of its own in the multicast group (iw event).
 *
 * The socket's own callback set carries only the error handler, so it also
 * runs inside genl_ctrl_resolve() (which clones that set): libnl turns every
 * failure there into NLE_OBJ_NOTFOUND, and the handler is how we still learn
 * the kernel's errno.  Each request clones the set and adds its reply and
 * ACK handlers.
 *
 * A dump's replies are held until its NLMSG_DONE and only then passed on:
 * when the watched set changed while the module dumped it, its messages
 * carry NLM_F_DUMP_INTR, and the dump is asked for again from scratch,
 * what it held thrown away, so that no caller ever sees an entry twice or
 * misses one.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/socket.h>

#include <netlink/genl/ctrl.h>
#include <netlink/genl/family.h>
#include <netlink/genl/genl.h>
#include <netlink/netlink.h>
#include <netlink/socket.h>

#include "cgroup.h"
#include "gomemctl.h"
#include "nl.h"

/* Notifications can come in bursts: room for thousands of them. */
#define EVENT_RCVBUF (4 << 20)

/* Dumps of a set that keeps changing are tried this often, then given up. */
#define DUMP_TRIES 5

/*
 * The same names as the JSON keys.  Retired attributes (MEMCG_SHMEM, PINNED,
 * PSI_*_AVG10: never sent) have none, and no type below: ignored.
 */
static const char *const attr_names[GOMEMGUARD_A_MAX + 1] = {
	[GOMEMGUARD_A_VERSION]		 = "version",
	[GOMEMGUARD_A_KERNEL_RELEASE]	 = "kernel_release",
	[GOMEMGUARD_A_TAGGED]		 = "tagged",
	[GOMEMGUARD_A_EVENTS_SENT]	 = "events_sent",
	[GOMEMGUARD_A_EVENTS_DROPPED]	 = "events_dropped",
	[GOMEMGUARD_A_EVENTS_OVERFLOWED] = "events_overflowed",
	[GOMEMGUARD_A_LISTENERS]	 = "listeners",
	[GOMEMGUARD_A_OPEN_READ]	 = "open_read",
	[GOMEMGUARD_A_EVENT_INTERVAL_MS] = "event_interval_ms",
	[GOMEMGUARD_A_EVENT_BURST]	 = "event_burst",
	[GOMEMGUARD_A_PID]		 = "pid",
	[GOMEMGUARD_A_CGROUP]		 = "cgroup",
	[GOMEMGUARD_A_SOFT_LIMIT]	 = "soft_limit_bytes",
	[GOMEMGUARD_A_LEVELS]		 = "levels",
	[GOMEMGUARD_A_ETA_HORIZON_MS]	 = "eta_horizon_ms",
	[GOMEMGUARD_A_SIGNAL]		 = "signal",
	[GOMEMGUARD_A_RATE_WINDOW_MS]	 = "rate_window_ms",
	[GOMEMGUARD_A_INHERIT]		 = "inherit",
	[GOMEMGUARD_A_SOURCE]		 = "source",
	[GOMEMGUARD_A_COMM]		 = "comm",
	[GOMEMGUARD_A_MEMCG]		 = "memcg",
	[GOMEMGUARD_A_MEMCG_ID]		 = "memcg_id",
	[GOMEMGUARD_A_ANON]		 = "anon_bytes",
	[GOMEMGUARD_A_SWAP]		 = "swap_bytes",
	[GOMEMGUARD_A_SHMEM]		 = "shmem_bytes",
	[GOMEMGUARD_A_FILE]		 = "file_bytes",
	[GOMEMGUARD_A_HWM]		 = "hwm_bytes",
	[GOMEMGUARD_A_RATE]		 = "rate_bytes_per_s",
	[GOMEMGUARD_A_ETA_MS]		 = "eta_ms",
	[GOMEMGUARD_A_ETA_LIMIT]	 = "eta_limit",
	[GOMEMGUARD_A_LEVEL_PCT]	 = "level_pct",
	[GOMEMGUARD_A_USAGE_PCT]	 = "usage_pct",
	[GOMEMGUARD_A_MEMCG_USAGE]	 = "memcg_usage_bytes",
	[GOMEMGUARD_A_MEMCG_MAX]	 = "memcg_max_bytes",
	[GOMEMGUARD_A_MEMCG_HIGH]	 = "memcg_high_bytes",
	[GOMEMGUARD_A_EVENT]		 = "event",
	[GOMEMGUARD_A_SEQ]		 = "seq",
	[GOMEMGUARD_A_TIME_NS]		 = "time_ns",
	[GOMEMGUARD_A_TAG_MEMBERS]	 = "members",
	[GOMEMGUARD_A_SIGNALS_SENT]	 = "signals_sent",
	[GOMEMGUARD_A_FIRST_WARN_NS]	 = "first_warn_ns",
	[GOMEMGUARD_A_MEMCG_ANON]	 = "swapbacked_bytes",
	/* Shown as reclaimable_bytes: file_bytes is memory.stat's. */
	[GOMEMGUARD_A_MEMCG_FILE]	 = "file LRU",
	[GOMEMGUARD_A_MEMCG_UNEVICTABLE] = "unevictable_bytes",
	[GOMEMGUARD_A_RECLAIMABLE]	 = "reclaimable_bytes",
	[GOMEMGUARD_A_PRESSURE_LEVEL]	 = "pressure",
	[GOMEMGUARD_A_PRESSURE_KIND]	 = "kind",
	[GOMEMGUARD_A_MEMCG_EVENTS_HIGH] = "events_high",
	[GOMEMGUARD_A_MEMCG_EVENTS_MAX]	 = "events_max",
	[GOMEMGUARD_A_MEMCG_EVENTS_OOM]	 = "events_oom",
	[GOMEMGUARD_A_MEMCG_EVENTS_OOM_KILL] = "events_oom_kill",
	[GOMEMGUARD_A_OOM_ID]		 = "oom_id",
	[GOMEMGUARD_A_CONSTRAINT]	 = "constraint",
	[GOMEMGUARD_A_VICTIM_PID]	 = "victim_pid",
	[GOMEMGUARD_A_VICTIM_COMM]	 = "victim_comm",
	[GOMEMGUARD_A_VICTIM_TAGGED]	 = "victim_tagged",
	[GOMEMGUARD_A_VICTIM_ANON]	 = "victim_anon_bytes",
	[GOMEMGUARD_A_VICTIM_FILE]	 = "victim_file_bytes",
	[GOMEMGUARD_A_VICTIM_SHMEM]	 = "victim_shmem_bytes",
	[GOMEMGUARD_A_LEAD_MS]		 = "lead_ms",
	[GOMEMGUARD_A_SNAPSHOT]		 = "snapshot",
	[GOMEMGUARD_A_SNAPSHOT_PROC]	 = "snapshot entry",
	[GOMEMGUARD_A_OOM_REPORTS_MAX]	 = "oom_reports_max",
	[GOMEMGUARD_A_OOM_KILLS]	 = "oom_kills",
	[GOMEMGUARD_A_EXITS_QUIET]	 = "exits_quiet",
	[GOMEMGUARD_A_PRESSURE_MEDIUM_PCT] = "pressure_medium_pct",
	[GOMEMGUARD_A_PRESSURE_CRITICAL_PCT] = "pressure_critical_pct",
	[GOMEMGUARD_A_HOOKS]		 = "hooks",
	[GOMEMGUARD_A_HOOK]		 = "hook",
	[GOMEMGUARD_A_LIMIT_ORIGIN]	 = "limit_origin",
	[GOMEMGUARD_A_SHAPE]		 = "shape",
	[GOMEMGUARD_A_RECLAIM_SCANNED]	 = "reclaim_scanned_pages",
	[GOMEMGUARD_A_RECLAIM_RECLAIMED] = "reclaim_reclaimed_pages",
};

#define U8	{ .type = NLA_U8, .maxlen = 1 }
#define U32	{ .type = NLA_U32, .maxlen = 4 }
#define U64	{ .type = NLA_U64, .maxlen = 8 }
#define S64	{ .type = NLA_S64, .minlen = 8, .maxlen = 8 }
#define STRING	{ .type = NLA_STRING }
#define NESTED	{ .type = NLA_NESTED }

/*
 * What replies and notifications must look like; strings only need their
 * NUL.  LEVELS is a u32 array, which parse() checks further.
 */
static const struct nla_policy reply_policy[GOMEMGUARD_A_MAX + 1] = {
	[GOMEMGUARD_A_VERSION]		 = STRING,
	[GOMEMGUARD_A_KERNEL_RELEASE]	 = STRING,
	[GOMEMGUARD_A_TAGGED]		 = U32,
	[GOMEMGUARD_A_EVENTS_SENT]	 = U64,
	[GOMEMGUARD_A_EVENTS_DROPPED]	 = U64,
	[GOMEMGUARD_A_EVENTS_OVERFLOWED] = U64,
	[GOMEMGUARD_A_LISTENERS]	 = U32,
	[GOMEMGUARD_A_OPEN_READ]	 = U8,
	[GOMEMGUARD_A_EVENT_INTERVAL_MS] = U32,
	[GOMEMGUARD_A_EVENT_BURST]	 = U32,
	[GOMEMGUARD_A_PID]		 = U32,
	[GOMEMGUARD_A_CGROUP]		 = STRING,
	[GOMEMGUARD_A_SOFT_LIMIT]	 = U64,
	[GOMEMGUARD_A_LEVELS]		 = { .type = NLA_UNSPEC,
					     .maxlen = GOMEMGUARD_LEVELS_MAX *
						       sizeof(uint32_t) },
	[GOMEMGUARD_A_ETA_HORIZON_MS]	 = U32,
	[GOMEMGUARD_A_SIGNAL]		 = U32,
	[GOMEMGUARD_A_RATE_WINDOW_MS]	 = U32,
	[GOMEMGUARD_A_INHERIT]		 = U8,
	[GOMEMGUARD_A_SOURCE]		 = U32,
	[GOMEMGUARD_A_COMM]		 = STRING,
	[GOMEMGUARD_A_MEMCG]		 = STRING,
	[GOMEMGUARD_A_MEMCG_ID]		 = U64,
	[GOMEMGUARD_A_ANON]		 = U64,
	[GOMEMGUARD_A_SWAP]		 = U64,
	[GOMEMGUARD_A_SHMEM]		 = U64,
	[GOMEMGUARD_A_FILE]		 = U64,
	[GOMEMGUARD_A_HWM]		 = U64,
	[GOMEMGUARD_A_RATE]		 = S64,
	[GOMEMGUARD_A_ETA_MS]		 = U64,
	[GOMEMGUARD_A_ETA_LIMIT]	 = U32,
	[GOMEMGUARD_A_LEVEL_PCT]	 = U32,
	[GOMEMGUARD_A_USAGE_PCT]	 = U32,
	[GOMEMGUARD_A_MEMCG_USAGE]	 = U64,
	[GOMEMGUARD_A_MEMCG_MAX]	 = U64,
	[GOMEMGUARD_A_MEMCG_HIGH]	 = U64,
	[GOMEMGUARD_A_EVENT]		 = U32,
	[GOMEMGUARD_A_SEQ]		 = U64,
	[GOMEMGUARD_A_TIME_NS]		 = U64,
	[GOMEMGUARD_A_TAG_MEMBERS]	 = U32,
	[GOMEMGUARD_A_SIGNALS_SENT]	 = U32,
	[GOMEMGUARD_A_FIRST_WARN_NS]	 = U64,
	[GOMEMGUARD_A_MEMCG_ANON]	 = U64,
	[GOMEMGUARD_A_MEMCG_FILE]	 = U64,
	[GOMEMGUARD_A_MEMCG_UNEVICTABLE] = U64,
	[GOMEMGUARD_A_RECLAIMABLE]	 = U64,
	[GOMEMGUARD_A_PRESSURE_LEVEL]	 = U32,
	[GOMEMGUARD_A_PRESSURE_KIND]	 = U32,
	[GOMEMGUARD_A_MEMCG_EVENTS_HIGH] = U64,
	[GOMEMGUARD_A_MEMCG_EVENTS_MAX]	 = U64,
	[GOMEMGUARD_A_MEMCG_EVENTS_OOM]	 = U64,
	[GOMEMGUARD_A_MEMCG_EVENTS_OOM_KILL] = U64,
	[GOMEMGUARD_A_OOM_ID]		 = U32,
	[GOMEMGUARD_A_CONSTRAINT]	 = U32,
	[GOMEMGUARD_A_VICTIM_PID]	 = U32,
	[GOMEMGUARD_A_VICTIM_COMM]	 = STRING,
	[GOMEMGUARD_A_VICTIM_TAGGED]	 = U8,
	[GOMEMGUARD_A_VICTIM_ANON]	 = U64,
	[GOMEMGUARD_A_VICTIM_FILE]	 = U64,
	[GOMEMGUARD_A_VICTIM_SHMEM]	 = U64,
	[GOMEMGUARD_A_LEAD_MS]		 = U64,
	[GOMEMGUARD_A_SNAPSHOT]		 = NESTED,
	[GOMEMGUARD_A_SNAPSHOT_PROC]	 = NESTED,
	[GOMEMGUARD_A_OOM_REPORTS_MAX]	 = U32,
	[GOMEMGUARD_A_OOM_KILLS]	 = U64,
	[GOMEMGUARD_A_EXITS_QUIET]	 = U64,
	[GOMEMGUARD_A_PRESSURE_MEDIUM_PCT] = U32,
	[GOMEMGUARD_A_PRESSURE_CRITICAL_PCT] = U32,
	[GOMEMGUARD_A_HOOKS]		 = NESTED,
	[GOMEMGUARD_A_HOOK]		 = STRING,
	[GOMEMGUARD_A_LIMIT_ORIGIN]	 = U32,
	[GOMEMGUARD_A_SHAPE]		 = U32,
	[GOMEMGUARD_A_RECLAIM_SCANNED]	 = U64,
	[GOMEMGUARD_A_RECLAIM_RECLAIMED] = U64,
};

#undef U8
#undef U32
#undef U64
#undef S64
#undef STRING
#undef NESTED

static const struct nla_policy ext_ack_policy[NLMSGERR_ATTR_MAX + 1] = {
	[NLMSGERR_ATTR_MSG]	  = { .type = NLA_STRING },
	[NLMSGERR_ATTR_OFFS]	  = { .type = NLA_U32 },
	[NLMSGERR_ATTR_POLICY]	  = { .type = NLA_NESTED },
	[NLMSGERR_ATTR_MISS_TYPE] = { .type = NLA_U32 },
};

static const struct nla_policy range_policy[NL_POLICY_TYPE_ATTR_MAX + 1] = {
	[NL_POLICY_TYPE_ATTR_MIN_VALUE_U] = { .type = NLA_U64 },
	[NL_POLICY_TYPE_ATTR_MAX_VALUE_U] = { .type = NLA_U64 },
};

/* What an extended ACK said about the request. */
struct ext_ack {
	char msg[256];
	int bad_attr;		/* our attribute the kernel pointed at, or 0 */
	int missing_attr;	/* attribute the kernel wanted, or 0 */
	bool has_range;
	uint64_t min, max;	/* of bad_attr, from the kernel's policy */
};

struct gmc_nl {
	const char *verb;
	struct nl_sock *sock;
	struct nl_cb *cb;	/* the socket's: error handler only */
	int family;

	/* The exchange in flight. */
	struct nl_msg *req;
	uint8_t cmd;
	gmc_nl_reply_fn reply_fn;
	void *reply_arg;
	unsigned int replies;
	bool dump;		/* NLM_F_DUMP: any number of replies */
	bool no_ack;		/* the one reply ends the exchange */
	bool done;		/* ACK, error or end of dump seen */
	bool failed;		/* a reply was refused, already reported */
	bool intr;		/* NLM_F_DUMP_INTR: the set changed mid-dump */
	int kernel_err;		/* negative errno from the kernel, or 0 */
	struct ext_ack ext;

	/* An error the caller expected, held back unreported. */
	int expect_err, held_err;
	struct ext_ack held_ext;

	/* A dump's replies, back to back as received, until it ended well. */
	unsigned char *held;
	size_t held_len, held_cap;
};

const char *gmc_nl_attr_name(int type, char *buf, size_t len)
{
	if (type > 0 && type <= GOMEMGUARD_A_MAX && attr_names[type])
		return attr_names[type];
	snprintf(buf, len, "#%d", type);
	return buf;
}

/* Which attribute of our request starts at byte offs of the message. */
static int request_attr_at(struct nl_msg *req, uint32_t offs)
{
	struct nlmsghdr *nlh = nlmsg_hdr(req);
	struct genlmsghdr *gnlh = genlmsg_hdr(nlh);
	struct nlattr *nla;
	int rem;

	nla_for_each_attr(nla, genlmsg_attrdata(gnlh, 0),
			  genlmsg_attrlen(gnlh, 0), rem) {
		if ((size_t)((char *)nla - (char *)nlh) == offs)
			return nla_type(nla);
	}
	return 0;
}

/* The extack TLVs at byte off of nlh, if the kernel sent any. */
static void parse_ext_tlvs(struct gmc_nl *nl, struct nlmsghdr *nlh, size_t off)
{
	struct nlattr *tb[NLMSGERR_ATTR_MAX + 1];
	struct ext_ack *ext = &nl->ext;

	memset(ext, 0, sizeof(*ext));
	if (!(nlh->nlmsg_flags & NLM_F_ACK_TLVS))
		return;
	if (off >= nlh->nlmsg_len ||
	    nla_parse(tb, NLMSGERR_ATTR_MAX, (struct nlattr *)((char *)nlh + off),
		      (int)(nlh->nlmsg_len - off), ext_ack_policy) < 0)
		return;

	if (tb[NLMSGERR_ATTR_MSG])
		snprintf(ext->msg, sizeof(ext->msg), "%s",
			 nla_get_string(tb[NLMSGERR_ATTR_MSG]));
	if (tb[NLMSGERR_ATTR_OFFS] && nl->req)
		ext->bad_attr = request_attr_at(nl->req,
					nla_get_u32(tb[NLMSGERR_ATTR_OFFS]));
	if (tb[NLMSGERR_ATTR_MISS_TYPE])
		ext->missing_attr = (int)nla_get_u32(tb[NLMSGERR_ATTR_MISS_TYPE]);
	if (tb[NLMSGERR_ATTR_POLICY]) {
		struct nlattr *pol[NL_POLICY_TYPE_ATTR_MAX + 1];

		if (!nla_parse_nested(pol, NL_POLICY_TYPE_ATTR_MAX,
				      tb[NLMSGERR_ATTR_POLICY], range_policy) &&
		    pol[NL_POLICY_TYPE_ATTR_MIN_VALUE_U] &&
		    pol[NL_POLICY_TYPE_ATTR_MAX_VALUE_U]) {
			ext->has_range = true;
			ext->min = nla_get_u64(pol[NL_POLICY_TYPE_ATTR_MIN_VALUE_U]);
			ext->max = nla_get_u64(pol[NL_POLICY_TYPE_ATTR_MAX_VALUE_U]);
		}
	}
}

/*
 * NLMSG_ERROR: the TLVs come after struct nlmsgerr and, unless
 * NLM_F_CAPPED, after the echo of our request (iw's error_handler does the
 * same walk).
 */
static void parse_ext_ack(struct gmc_nl *nl, struct nlmsghdr *nlh)
{
	const struct nlmsgerr *e = nlmsg_data(nlh);
	size_t off = NLMSG_HDRLEN + sizeof(*e);

	if (!(nlh->nlmsg_flags & NLM_F_CAPPED)) {
		if (e->msg.nlmsg_len < NLMSG_HDRLEN) {
			memset(&nl->ext, 0, sizeof(nl->ext));
			return;
		}
		off += NLMSG_ALIGN(e->msg.nlmsg_len - NLMSG_HDRLEN);
	}
	parse_ext_tlvs(nl, nlh, off);
}

/* "kernel reports: <msg> (attribute event_burst: valid range 1..1000)" */
static void report_ext_ack(const struct ext_ack *ext)
{
	char detail[160] = "", name[16];
	size_t n = 0;

	if (ext->bad_attr) {
		n += (size_t)snprintf(detail, sizeof(detail), "attribute %s",
				      gmc_nl_attr_name(ext->bad_attr, name, sizeof(name)));
		if (ext->has_range && n < sizeof(detail))
			n += (size_t)snprintf(detail + n, sizeof(detail) - n,
					      ": valid range %" PRIu64 "..%" PRIu64,
					      ext->min, ext->max);
	}
	if (ext->missing_attr && n < sizeof(detail))
		snprintf(detail + n, sizeof(detail) - n, "%smissing attribute %s",
			 n ? ", " : "",
			 gmc_nl_attr_name(ext->missing_attr, name, sizeof(name)));

	if (ext->msg[0] && detail[0])
		gmc_note("kernel reports: %s (%s)", ext->msg, detail);
	else if (ext->msg[0] || detail[0])
		gmc_note("kernel reports: %s", ext->msg[0] ? ext->msg : detail);
}

/*
 * The one place a kernel error becomes words.  A bare EPERM is generic
 * netlink's capability check; the module's own refusals (a process the
 * caller could not signal, another PID namespace) say why in the extack.
 */
static void report_kernel_error(const struct gmc_nl *nl)
{
	int err = -nl->kernel_err;

	gmc_err(nl->verb, "%s%s", strerror(err),
		err == EPERM && !nl->ext.msg[0] ?
		" (gomemguard needs CAP_NET_ADMIN)" : "");
	report_ext_ack(&nl->ext);
}

static int on_error(struct sockaddr_nl *nla, struct nlmsgerr *e, void *arg)
{
	struct gmc_nl *nl = arg;

	(void)nla;
	nl->kernel_err = e->error;
	/* libnl hands us nlmsg_data() of the message: step back to its header. */
	parse_ext_ack(nl, (struct nlmsghdr *)((char *)e - NLMSG_HDRLEN));
	nl->done = true;
	return NL_STOP;
}

static int on_ack(struct nl_msg *msg, void *arg)
{
	struct gmc_nl *nl = arg;

	/* A successful ACK may still carry a warning. */
	parse_ext_ack(nl, nlmsg_hdr(msg));
	report_ext_ack(&nl->ext);
	nl->done = true;
	return NL_STOP;
}

/*
 * Dumps end with NLMSG_DONE rather than an ACK.  A dump that failed half-way
 * leaves its errno there, followed by extack TLVs; libnl ignores both.
 */
static int on_finish(struct nl_msg *msg, void *arg)
{
	struct nlmsghdr *nlh = nlmsg_hdr(msg);
	struct gmc_nl *nl = arg;
	int err;

	if (nlh->nlmsg_len >= NLMSG_HDRLEN + sizeof(err)) {
		memcpy(&err, nlmsg_data(nlh), sizeof(err));
		if (err < 0) {
			nl->kernel_err = err;
			parse_ext_tlvs(nl, nlh, NLMSG_HDRLEN + sizeof(err));
		}
	}
	nl->done = true;
	return NL_STOP;
}

/*
 * The family's policy, and what a policy cannot say: LEVELS holds whole
 * u32s.  Nests are checked when they are opened, by gmc_nl_parse_nested().
 */
static int parse_attrs(struct nlattr *tb[], struct nlattr *head, int len)
{
	int err = nla_parse(tb, GOMEMGUARD_A_MAX, head, len, reply_policy);

	if (!err && tb[GOMEMGUARD_A_LEVELS] &&
	    nla_len(tb[GOMEMGUARD_A_LEVELS]) % sizeof(uint32_t))
		err = -NLE_INVAL;
	return err;
}

static int parse(struct nlmsghdr *nlh, struct nlattr *tb[])
{
	if (!genlmsg_valid_hdr(nlh, 0))
		return -NLE_MSG_TOOSHORT;
	return parse_attrs(tb, genlmsg_attrdata(nlmsg_data(nlh), 0),
			   genlmsg_attrlen(nlmsg_data(nlh), 0));
}

int gmc_nl_parse_nested(struct gmc_nl *nl, struct nlattr *tb[],
			struct nlattr *nest)
{
	char name[16];
	int err = parse_attrs(tb, nla_data(nest), nla_len(nest));

	if (err < 0) {
		gmc_err(nl->verb, "malformed %s from the module: %s",
			gmc_nl_attr_name(nla_type(nest), name, sizeof(name)),
			nl_geterror(err));
		return -1;
	}
	return 0;
}

/* Keeps a dump's reply for when the dump has ended well; -1: no memory. */
static int hold(struct gmc_nl *nl, const struct nlmsghdr *nlh)
{
	size_t len = NLMSG_ALIGN(nlh->nlmsg_len), cap = nl->held_cap;
	unsigned char *bigger;

	if (cap - nl->held_len < len) {
		while (cap - nl->held_len < len)
			cap = cap ? 2 * cap : 16384;
		bigger = realloc(nl->held, cap);
		if (!bigger) {
			gmc_err(nl->verb, "%s", strerror(ENOMEM));
			return -1;
		}
		nl->held = bigger;
		nl->held_cap = cap;
	}
	memcpy(nl->held + nl->held_len, nlh, nlh->nlmsg_len);
	memset(nl->held + nl->held_len + nlh->nlmsg_len, 0,
	       len - nlh->nlmsg_len);
	nl->held_len += len;
	return 0;
}

/* The held replies of a dump that ended well, to the caller in order. */
static int pass_held(struct gmc_nl *nl)
{
	struct nlattr *tb[GOMEMGUARD_A_MAX + 1];
	struct nlmsghdr *nlh;
	size_t off;

	for (off = 0; off < nl->held_len; off += NLMSG_ALIGN(nlh->nlmsg_len)) {
		nlh = (struct nlmsghdr *)(nl->held + off);
		/* Checked on arrival: it parses. */
		if (parse(nlh, tb) < 0 ||
		    nl->reply_fn(nl, tb, nl->reply_arg) < 0)
			return -1;
	}
	return 0;
}

static int on_reply(struct nl_msg *msg, void *arg)
{
	struct nlattr *tb[GOMEMGUARD_A_MAX + 1];
	struct nlmsghdr *nlh = nlmsg_hdr(msg);
	struct gmc_nl *nl = arg;
	int err;

	if (nlh->nlmsg_type != nl->family)
		return NL_SKIP;
	err = parse(nlh, tb);
	if (err < 0) {
		gmc_err(nl->verb, "malformed reply from the module: %s",
			nl_geterror(err));
		goto fail;
	}
	if (!nl->reply_fn || genlmsg_hdr(nlh)->cmd != nl->cmd) {
		gmc_err(nl->verb, "unexpected reply from the module (command %u)",
			genlmsg_hdr(nlh)->cmd);
		goto fail;
	}
	nl->replies++;
	if ((nl->dump ? hold(nl, nlh) : nl->reply_fn(nl, tb, nl->reply_arg)) < 0)
		goto fail;
	if (nl->no_ack) {
		nl->done = true;
		return NL_STOP;
	}
	return NL_OK;

fail:
	nl->failed = true;
	nl->done = true;
	return NL_STOP;
}

/* On any message of the dump, NLMSG_DONE included; it is read on as usual. */
static int on_dump_intr(struct nl_msg *msg, void *arg)
{
	struct gmc_nl *nl = arg;

	(void)msg;
	nl->intr = true;
	return NL_OK;
}

/*
 * Whether the module is loaded, asked of sysfs and not of genetlink: a
 * lookup of a missing family makes the kernel load its module, which must
 * not undo an operator's rmmod.  Where sysfs is not mounted (some
 * containers) nothing but the lookup tells: then true.
 */
const char *gmc_nl_module_dir = "/sys/module/" GOMEMGUARD_GENL_NAME;

bool gmc_nl_module_loaded(void)
{
	if (!access(gmc_nl_module_dir, F_OK))
		return true;
	return access("/sys/module", F_OK) != 0;
}

const char *gmc_nl_proc_cgroups = CGROUP_PROC_CGROUPS;

/* Why the last gmc_nl_open*() found no family; "" when it did. */
static char resolve_why[256];
static bool module_missing, quiet_resolve, no_autoload;

void gmc_nl_autoload(bool on)
{
	no_autoload = !on;
}

bool gmc_nl_module_missing(void)
{
	return module_missing;
}

void gmc_nl_quiet_resolve(bool quiet)
{
	quiet_resolve = quiet;
}

const char *gmc_nl_resolve_why(void)
{
	return resolve_why;
}

static void report_resolve_error(const struct gmc_nl *nl, const char *name,
				 int err)
{
	int kerr = -nl->kernel_err;
	char *why = resolve_why;
	size_t len = sizeof(resolve_why);

	if (kerr == EPERM || kerr == EACCES) {
		snprintf(why, len, "not allowed to look up the %s netlink family: %s",
			 name, strerror(kerr));
	} else if (kerr && kerr != ENOENT) {
		snprintf(why, len, "cannot look up the %s netlink family: %s",
			 name, strerror(kerr));
	} else if (err != -NLE_OBJ_NOTFOUND) {
		snprintf(why, len, "cannot look up the %s netlink family: %s",
			 name, nl_geterror(err));
	} else {
		module_missing = true;
		if (cgroup_memory_on_v1(gmc_nl_proc_cgroups))
			snprintf(why, len, "the gomemguard module is not loaded, and cannot be: the memory controller is on a cgroup v1 hierarchy (/proc/cgroups), and gomemguard needs the unified hierarchy, cgroup v2 (boot with systemd.unified_cgroup_hierarchy=1)");
		else
			snprintf(why, len, "the gomemguard module is not loaded (run \"modprobe gomemguard\" as root, or install it with \"make dkms-install\")");
		if (!quiet_resolve)
			gmc_err(NULL, "%s", why);
		return;
	}
	if (quiet_resolve)
		return;
	gmc_err(NULL, "%s", why);
	report_ext_ack(&nl->ext);
}

/*
 * The family's ID from the controller's list of all families: a dump,
 * which unlike a lookup by name never makes the kernel load a module.
 * Asking sysfs first is not enough: rmmod unregisters the family in the
 * module's exit, which can take seconds, while sysfs still shows it.
 */
static int resolve_listed(struct gmc_nl *nl, const char *name)
{
	struct genl_family *fam;
	struct nl_cache *cache;
	int err;

	err = genl_ctrl_alloc_cache(nl->sock, &cache);
	if (err < 0)
		return err;
	fam = genl_ctrl_search_by_name(cache, name);
	/* IDs are 16 bits (nlmsg_type): the int holds them. */
	err = fam ? (int)genl_family_get_id(fam) : -NLE_OBJ_NOTFOUND;
	if (fam)
		genl_family_put(fam);
	nl_cache_free(cache);
	return err;
}

/* The family is a parameter only for tests/nl_test.c. */
static struct gmc_nl *open_family(const char *verb, const char *name)
{
	struct gmc_nl *nl;
	int err, one = 1;

	module_missing = false;
	resolve_why[0] = '\0';
	nl = calloc(1, sizeof(*nl));
	if (!nl)
		goto err_nomem;
	nl->verb = verb;
	nl->cb = nl_cb_alloc(NL_CB_DEFAULT);
	if (!nl->cb)
		goto err_nomem;
	nl_cb_err(nl->cb, NL_CB_CUSTOM, on_error, nl);
	nl->sock = nl_socket_alloc_cb(nl->cb);
	if (!nl->sock)
		goto err_nomem;

	err = genl_connect(nl->sock);
	if (err == -NLE_PERM || err == -NLE_NOACCESS) {
		gmc_err(NULL, "not allowed to open a netlink socket: %s",
			nl_geterror(err));
		goto err_free;
	} else if (err == -NLE_AF_NOSUPPORT || err == -NLE_PROTO_MISMATCH) {
		gmc_err(NULL, "generic netlink is not available here: %s",
			nl_geterror(err));
		goto err_free;
	} else if (err < 0) {
		gmc_err(NULL, "cannot open a generic netlink socket: %s",
			nl_geterror(err));
		goto err_free;
	}
	/* Kernels before 4.12 lack extended ACKs: errors then come bare. */
	setsockopt(nl_socket_get_fd(nl->sock), SOL_NETLINK, NETLINK_EXT_ACK,
		   &one, sizeof(one));

	if (no_autoload)
		nl->family = resolve_listed(nl, name);
	else
		nl->family = genl_ctrl_resolve(nl->sock, name);
	if (nl->family < 0) {
		report_resolve_error(nl, name, nl->family);
		goto err_free;
	}
	return nl;

err_nomem:
	gmc_err(NULL, "%s", strerror(ENOMEM));
err_free:
	gmc_nl_close(nl);
	return NULL;
}

struct gmc_nl *gmc_nl_open(const char *verb)
{
	return open_family(verb, GOMEMGUARD_GENL_NAME);
}

void gmc_nl_close(struct gmc_nl *nl)
{
	if (!nl)
		return;
	nl_socket_free(nl->sock);
	nl_cb_put(nl->cb);
	free(nl->held);
	free(nl);
}

struct nl_msg *gmc_nl_request(struct gmc_nl *nl, uint8_t cmd, int flags)
{
	struct nl_msg *msg = nlmsg_alloc();

	if (!msg || !genlmsg_put(msg, NL_AUTO_PORT, NL_AUTO_SEQ, nl->family, 0,
				 flags, cmd, GOMEMGUARD_GENL_VERSION)) {
		nlmsg_free(msg);
		gmc_err(nl->verb, "%s", strerror(ENOMEM));
		return NULL;
	}
	return msg;
}

/*
 * Sends req and reads until its ACK, error or dump end: 0, or -1 after
 * reporting why.  A dump's replies are then in nl->held.
 */
static int exchange(struct gmc_nl *nl, struct nl_msg *req, struct nl_cb *cb)
{
	int err;

	nl->replies = 0;
	nl->held_len = 0;
	nl->done = false;
	nl->failed = false;
	nl->intr = false;
	nl->kernel_err = 0;

	/* The socket asks for ACKs (libnl's default): errors always come back. */
	err = nl_send_auto(nl->sock, req);
	if (err < 0) {
		gmc_err(nl->verb, "cannot send the request: %s", nl_geterror(err));
		return -1;
	}
	while (!nl->done) {
		err = nl_recvmsgs_report(nl->sock, cb);
		/* After on_error() libnl returns its own, lossier, error code. */
		if (nl->done)
			break;
		if (err <= 0) {
			gmc_err(nl->verb, "cannot receive the answer: %s",
				err ? nl_geterror(err) : "connection closed");
			return -1;
		}
	}
	if (nl->kernel_err && nl->kernel_err == nl->expect_err) {
		nl->held_err = nl->kernel_err;
		nl->held_ext = nl->ext;
		return -1;
	}
	if (nl->kernel_err) {
		report_kernel_error(nl);
		return -1;
	}
	return nl->failed ? -1 : 0;
}

void gmc_nl_expect_error(struct gmc_nl *nl, int err)
{
	nl->expect_err = err;
	nl->held_err = 0;
}

int gmc_nl_held_error(const struct gmc_nl *nl)
{
	return nl->held_err;
}

void gmc_nl_report_held(const struct gmc_nl *nl)
{
	struct gmc_nl copy = *nl;

	copy.kernel_err = nl->held_err;
	copy.ext = nl->held_ext;
	report_kernel_error(&copy);
}

int gmc_nl_transact(struct gmc_nl *nl, struct nl_msg *req,
		    gmc_nl_reply_fn fn, void *arg)
{
	struct nl_cb *cb;
	int err, tries = 0;

	cb = nl_cb_clone(nl->cb);
	if (!cb) {
		nlmsg_free(req);
		gmc_err(nl->verb, "%s", strerror(ENOMEM));
		return -1;
	}
	nl_cb_set(cb, NL_CB_VALID, NL_CB_CUSTOM, on_reply, nl);
	nl_cb_set(cb, NL_CB_ACK, NL_CB_CUSTOM, on_ack, nl);
	nl_cb_set(cb, NL_CB_FINISH, NL_CB_CUSTOM, on_finish, nl);
	nl_cb_set(cb, NL_CB_DUMP_INTR, NL_CB_CUSTOM, on_dump_intr, nl);

	nl->req = req;
	nl->cmd = genlmsg_hdr(nlmsg_hdr(req))->cmd;
	nl->reply_fn = fn;
	nl->reply_arg = arg;
	nl->dump = nlmsg_hdr(req)->nlmsg_flags & NLM_F_DUMP;

	for (;;) {
		err = exchange(nl, req, cb);
		if (err || !nl->intr)
			break;
		if (++tries == DUMP_TRIES) {
			gmc_err(nl->verb, "the watched set kept changing during the dump; try again");
			err = -1;
			break;
		}
		/* The same request again, under a sequence number of its own. */
		nlmsg_hdr(req)->nlmsg_seq = NL_AUTO_SEQ;
	}
	if (!err && fn && !nl->replies && !nl->dump) {
		gmc_err(nl->verb, "the module acknowledged but sent no reply");
		err = -1;
	} else if (!err && nl->dump) {
		err = pass_held(nl);
	}
	nl->req = NULL;
	nl->expect_err = 0;
	nlmsg_free(req);
	nl_cb_put(cb);
	return err < 0 ? -1 : 0;
}

int gmc_nl_missing(struct nlattr *tb[], const int types[], size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		if (!tb[types[i]])
			return types[i];
	}
	return 0;
}

int gmc_nl_require(struct gmc_nl *nl, struct nlattr *tb[], const int types[],
		   size_t n)
{
	int missing = gmc_nl_missing(tb, types, n);
	char name[16];

	if (!missing)
		return 0;
	gmc_err(nl->verb, "reply lacks %s (is the module older than gomemctl?)",
		gmc_nl_attr_name(missing, name, sizeof(name)));
	return -1;
}

size_t gmc_nl_get_levels(const struct nlattr *attr,
			 uint32_t levels[GOMEMGUARD_LEVELS_MAX])
{
	size_t n = (size_t)nla_len(attr) / sizeof(levels[0]);

	memcpy(levels, nla_data(attr), n * sizeof(levels[0]));
	return n;
}

/*
 * Events come unasked, so no sequence numbers to check, and the socket is
 * non-blocking: the caller polls.
 */
static int listen_setup(struct gmc_nl *nl)
{
	int err, rcvbuf = EVENT_RCVBUF;

	nl_socket_disable_seq_check(nl->sock);

	/*
	 * SO_RCVBUF is capped by net.core.rmem_max; SO_RCVBUFFORCE is not, and
	 * a listener with CAP_NET_ADMIN may use it.  A smaller buffer only
	 * means an overflow sooner, which the caller handles.
	 */
	nl_socket_set_buffer_size(nl->sock, rcvbuf, 0);
	setsockopt(nl_socket_get_fd(nl->sock), SOL_SOCKET, SO_RCVBUFFORCE,
		   &rcvbuf, sizeof(rcvbuf));

	err = nl_socket_set_nonblocking(nl->sock);
	if (err < 0) {
		gmc_err(nl->verb, "cannot set up the event socket: %s",
			nl_geterror(err));
		return -1;
	}
	return 0;
}

static int on_subscribed(struct gmc_nl *nl, struct nlattr *tb[], void *arg)
{
	(void)nl;
	(void)tb;
	(void)arg;
	return 0;
}

/*
 * EVENTS_SUBSCRIBE without an ACK: the module answers with one reply, sent
 * under the same lock as events, so the reply always comes first and an
 * event cannot be mistaken for part of the exchange.  A refusal (no
 * CAP_NET_ADMIN, too many listeners) comes back as an error with its reason.
 */
static int subscribe(struct gmc_nl *nl)
{
	struct nl_msg *req;
	int err;

	req = gmc_nl_request(nl, GOMEMGUARD_CMD_EVENTS_SUBSCRIBE, 0);
	if (!req)
		return -1;
	nl_socket_disable_auto_ack(nl->sock);
	nl->no_ack = true;
	err = gmc_nl_transact(nl, req, on_subscribed, NULL);
	nl->no_ack = false;
	nl_socket_enable_auto_ack(nl->sock);
	return err;
}

struct gmc_nl *gmc_nl_open_events(const char *verb)
{
	struct gmc_nl *nl = open_family(verb, GOMEMGUARD_GENL_NAME);

	if (nl && (subscribe(nl) || listen_setup(nl))) {
		gmc_nl_close(nl);
		return NULL;
	}
	return nl;
}

int gmc_nl_family(const struct gmc_nl *nl)
{
	return nl->family;
}

int gmc_nl_fd(const struct gmc_nl *nl)
{
	return nl_socket_get_fd(nl->sock);
}

static int on_notify(struct nl_msg *msg, void *arg)
{
	struct nlattr *tb[GOMEMGUARD_A_MAX + 1];
	struct nlmsghdr *nlh = nlmsg_hdr(msg);
	struct gmc_nl *nl = arg;
	int err;

	/* Notifications of commands we do not know yet are not ours to judge. */
	if (nlh->nlmsg_type != nl->family || !genlmsg_valid_hdr(nlh, 0) ||
	    genlmsg_hdr(nlh)->cmd != nl->cmd)
		return NL_SKIP;
	err = parse(nlh, tb);
	if (err < 0) {
		/* One bad message must not end a listener that runs for weeks. */
		gmc_err(nl->verb, "malformed notification from the module skipped: %s",
			nl_geterror(err));
		return NL_SKIP;
	}
	if (nl->reply_fn(nl, tb, nl->reply_arg) < 0) {
		nl->failed = true;
		return NL_STOP;
	}
	return NL_OK;
}

int gmc_nl_listen(struct gmc_nl *nl, uint8_t cmd, gmc_nl_reply_fn fn,
		  void *arg)
{
	struct nl_cb *cb;
	int err, saved_errno;

	cb = nl_cb_clone(nl->cb);
	if (!cb) {
		gmc_err(nl->verb, "%s", strerror(ENOMEM));
		return -1;
	}
	nl_cb_set(cb, NL_CB_VALID, NL_CB_CUSTOM, on_notify, nl);
	nl->cmd = cmd;
	nl->reply_fn = fn;
	nl->reply_arg = arg;
	nl->failed = false;

	err = nl_recvmsgs_report(nl->sock, cb);
	/* libnl says NLE_NOMEM for ENOBUFS too; errno tells them apart. */
	saved_errno = errno;
	nl_cb_put(cb);

	if (nl->failed)
		return -1;
	if (err == -NLE_NOMEM && saved_errno == ENOBUFS)
		return -ENOBUFS;
	if (err < 0 && err != -NLE_AGAIN) {
		gmc_err(nl->verb, "cannot receive events: %s", nl_geterror(err));
		return -1;
	}
	return 0;
}
