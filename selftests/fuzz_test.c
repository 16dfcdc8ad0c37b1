// SPDX-License-Identifier: GPL-2.0
/*
 * Fuzzing the gomemguard generic-netlink family: at least GMG_FUZZ_COUNT
 * (default 100,000) random and mutated messages from a seeded generator
 * (GMG_FUZZ_SEED reproduces a run), then the module must still answer, let
 * go of everything the fuzzing left once it is untagged, and the kernel log
 * must stay free of warnings.
 *
 * Four kinds of message: valid headers with random commands, versions and
 * flags; random attributes (types, flags, lengths, payloads, nests of
 * nests with lying lengths); truncated and overlong messages and lengths;
 * mutations of valid requests (tags by PID and by cgroup, settings, reads,
 * dumps, subscriptions).  Each goes out on a raw socket and whatever comes
 * back is drained without blocking; every few thousand messages the socket
 * is replaced, which tears down subscriptions and dumps in flight.
 *
 * Safety.  A mutated TAG_NEW can arm the fuse: a signal, SIGKILL say, sent
 * to a process that crosses its soft limit.  Most messages are therefore
 * sent by PID 1 of a fresh PID namespace, where a PID in a request can only
 * name the namespace's own processes: the sender and its sacrificial
 * sleepers, whose PIDs are picked (ns_last_pid) so that no single bit flip
 * turns one into the sender's.  Cgroups cannot be tagged from there, so a
 * shorter second phase runs in the initial PID namespace, with every PID
 * attribute forced onto a sleeper of the test's cgroup and every CGROUP
 * attribute that could name a cgroup outside it made relative (refused).
 * Messages only ever reach gomemguard: the netlink message type of every
 * message the kernel will parse is pinned to the family.  CONFIG_SET
 * changes module-wide settings: they are restored afterwards.
 */
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <linux/genetlink.h>
#include <linux/netlink.h>

#include <uapi/linux/gomemguard.h>

#include "cgroup_util.h"
#include "genl_raw.h"
#include "gmg_harness.h"

#ifndef SOL_NETLINK
#define SOL_NETLINK 270
#endif

#define COUNT_DEFAULT	100000
/* Share of the messages sent from the initial PID namespace (cgroups). */
#define PHASE2_PCT	10
/* A fresh socket after this many messages, give or take half. */
#define REOPEN_EVERY	3000
#define SLEEPERS	4
/* A sender that died this often is not restarted again. */
#define RESTARTS_MAX	20
/* Not one message in this long (scaled): the kernel is stuck in a request. */
#define STALL_SEC	120

#define PAYLOAD_MAX	512
#define ATTRS_MAX	16
#define DGRAM_MAX	16384
#define RX_SLOTS	8
#define RX_BUF		65536	/* an OOM post-mortem takes up to 32 KiB */
#define ERRNO_SLOTS	4096
#define NOTES_MAX	4
#define NOTE_BYTES	256

#define CG_NAME		"gmgtest.fuzz"
/* Above every PID the kernel can hand out (PID_MAX_LIMIT). */
#define PID_NEVER	0x400000u

/* K_CORPUS: each phase starts with every valid request, unchanged. */
enum kind { K_HEADER, K_ATTRS, K_TRUNC, K_MUTATE, K_CORPUS, NR_KINDS };

static const char *const kind_name[NR_KINDS] = {
	"header", "attributes", "truncated", "mutated", "corpus",
};

/* Percentages of the random kinds, in enum order. */
static const unsigned int kind_pct[K_CORPUS] = { 20, 25, 20, 35 };

/* Something a sender saw that it did not expect, with what it sent last. */
struct note {
	int err;
	int phase;
	int kind;
	char extack[128];
	uint32_t len;
	uint8_t dgram[NOTE_BYTES];
};

/* Shared by the test and its senders (MAP_SHARED); senders write, one at a time. */
struct shared {
	uint64_t seed;
	uint64_t sent;			/* datagrams sent, both phases */
	uint64_t phase_start;		/* sent when the phase began */
	uint64_t kind_sent[NR_KINDS];
	uint64_t kind_ns[NR_KINDS];
	uint64_t errs[ERRNO_SLOTS];	/* error and done codes; [0]: ACKs */
	uint64_t send_errs;
	int last_send_errno;
	uint64_t enobufs;		/* receive queue overflowed */
	uint64_t data_msgs, events, dumps_done, truncated, sockets, sleepers;
	uint64_t max_seq;		/* highest event SEQ seen */
	uint64_t unexpected;		/* replies with an errno not in the contract */
	uint32_t n_notes;		/* the first of each such errno */
	struct note notes[NOTES_MAX];
	int status;			/* phase 1 launcher: the sender's wait status */
	char fail[256];			/* why a sender gave up */
	int cur_kind;
	uint32_t cur_len;		/* the datagram being sent */
	uint8_t cur[DGRAM_MAX];
};

/* ---- a seeded generator: xoshiro256** ---- */

struct rng {
	uint64_t s[4];
};

static uint64_t splitmix64(uint64_t *x)
{
	uint64_t z = (*x += 0x9e3779b97f4a7c15ull);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

static void rng_seed(struct rng *r, uint64_t seed)
{
	int i;

	for (i = 0; i < 4; i++)
		r->s[i] = splitmix64(&seed);
}

static uint64_t rotl(uint64_t x, int k)
{
	return (x << k) | (x >> (64 - k));
}

static uint64_t rnd64(struct rng *r)
{
	uint64_t *s = r->s, res = rotl(s[1] * 5, 7) * 9, t = s[1] << 17;

	s[2] ^= s[0];
	s[3] ^= s[1];
	s[1] ^= s[2];
	s[0] ^= s[3];
	s[2] ^= t;
	s[3] = rotl(s[3], 45);
	return res;
}

/* Uniform in [0, n). */
static uint32_t rnd(struct rng *r, uint32_t n)
{
	return (uint32_t)(((rnd64(r) >> 32) * n) >> 32);
}

static bool chance(struct rng *r, unsigned int pct)
{
	return rnd(r, 100) < pct;
}

static void rnd_bytes(struct rng *r, uint8_t *p, size_t n)
{
	while (n--)
		*p++ = rnd64(r) >> 56;
}

/* ---- the message model: attributes first, bytes last ---- */

struct fattr {
	uint16_t type;		/* with NLA_F_* bits */
	uint16_t len;		/* payload bytes */
	int16_t fiddle;		/* added to nla_len: a length that lies */
	uint8_t data[PAYLOAD_MAX];
};

struct fmsg {
	uint16_t flags;
	uint8_t cmd, version;
	uint16_t reserved;
	bool garbage_pad;	/* attribute padding random, not zero */
	int n;
	struct fattr a[ATTRS_MAX];
};

/* Everything a sender owns. */
struct sender {
	struct shared *sh;
	struct rng rng;
	int phase;
	int family;
	int fd;
	uint32_t seq;
	pid_t sleeper[SLEEPERS];
	const char *cg[2];		/* phase 2: where the sleepers live */
	int cgroot;			/* phase 2: the cgroup2 root, for lookups */
	struct fmsg m, m2;		/* being built */
	uint8_t dgram[DGRAM_MAX];
	struct mmsghdr rx[RX_SLOTS];
	struct iovec iov[RX_SLOTS];
	uint8_t *rxbuf;
};

static void fm_start(struct fmsg *m, uint8_t cmd, uint16_t flags)
{
	m->flags = flags;
	m->cmd = cmd;
	m->version = GOMEMGUARD_GENL_VERSION;
	m->reserved = 0;
	m->garbage_pad = false;
	m->n = 0;
}

static struct fattr *fm_add(struct fmsg *m, uint16_t type, const void *data,
			    size_t len)
{
	struct fattr *a;

	if (m->n == ATTRS_MAX || len > PAYLOAD_MAX)
		return NULL;
	a = &m->a[m->n++];
	a->type = type;
	a->len = len;
	a->fiddle = 0;
	if (len)
		memcpy(a->data, data, len);
	return a;
}

static void fm_u8(struct fmsg *m, uint16_t type, uint8_t v)
{
	fm_add(m, type, &v, 1);
}

static void fm_u32(struct fmsg *m, uint16_t type, uint32_t v)
{
	fm_add(m, type, &v, 4);
}

static void fm_u64(struct fmsg *m, uint16_t type, uint64_t v)
{
	fm_add(m, type, &v, 8);
}

static void fm_str(struct fmsg *m, uint16_t type, const char *s)
{
	fm_add(m, type, s, strlen(s) + 1);
}

/* Lay @m out in @out as the kernel will see it; returns the length. */
static size_t fm_serialize(struct rng *r, const struct fmsg *m, int family,
			   uint32_t seq, uint8_t *out, size_t cap)
{
	struct nlmsghdr nlh = {
		.nlmsg_type = family,
		.nlmsg_flags = m->flags,
		.nlmsg_seq = seq,
		.nlmsg_pid = chance(r, 5) ? (uint32_t)rnd64(r) : 0,
	};
	struct genlmsghdr g = {
		.cmd = m->cmd,
		.version = m->version,
		.reserved = m->reserved,
	};
	size_t len = NLMSG_HDRLEN + GENL_HDRLEN;
	int i;

	for (i = 0; i < m->n; i++) {
		const struct fattr *a = &m->a[i];
		size_t total = NLA_ALIGN(NLA_HDRLEN + a->len);
		struct nlattr na = {
			.nla_type = a->type,
			.nla_len = (uint16_t)(NLA_HDRLEN + a->len + a->fiddle),
		};

		if (len + total > cap)
			break;
		memcpy(out + len, &na, sizeof(na));
		memcpy(out + len + NLA_HDRLEN, a->data, a->len);
		if (m->garbage_pad)
			rnd_bytes(r, out + len + NLA_HDRLEN + a->len,
				  total - NLA_HDRLEN - a->len);
		else
			memset(out + len + NLA_HDRLEN + a->len, 0,
			       total - NLA_HDRLEN - a->len);
		len += total;
	}
	nlh.nlmsg_len = len;
	memcpy(out, &nlh, sizeof(nlh));
	memcpy(out + NLMSG_HDRLEN, &g, sizeof(g));
	return len;
}

/* ---- values ---- */

/* Payload size of a request attribute's type: 1, 4, 8; 0 string; -1 other. */
static int attr_size(int type)
{
	switch (type) {
	case GOMEMGUARD_A_INHERIT:
	case GOMEMGUARD_A_VICTIM_TAGGED:
	case GOMEMGUARD_A_OPEN_READ:
		return 1;
	case GOMEMGUARD_A_TAGGED:
	case GOMEMGUARD_A_EVENT_INTERVAL_MS:
	case GOMEMGUARD_A_EVENT_BURST:
	case GOMEMGUARD_A_PID:
	case GOMEMGUARD_A_ETA_HORIZON_MS:
	case GOMEMGUARD_A_SIGNAL:
	case GOMEMGUARD_A_RATE_WINDOW_MS:
	case GOMEMGUARD_A_SOURCE:
	case GOMEMGUARD_A_ETA_LIMIT:
	case GOMEMGUARD_A_LEVEL_PCT:
	case GOMEMGUARD_A_USAGE_PCT:
	case GOMEMGUARD_A_EVENT:
	case GOMEMGUARD_A_TAG_MEMBERS:
	case GOMEMGUARD_A_SIGNALS_SENT:
	case GOMEMGUARD_A_PRESSURE_LEVEL:
	case GOMEMGUARD_A_PRESSURE_KIND:
	case GOMEMGUARD_A_PSI_SOME_AVG10:
	case GOMEMGUARD_A_PSI_FULL_AVG10:
	case GOMEMGUARD_A_OOM_ID:
	case GOMEMGUARD_A_CONSTRAINT:
	case GOMEMGUARD_A_VICTIM_PID:
	case GOMEMGUARD_A_OOM_REPORTS_MAX:
	case GOMEMGUARD_A_PRESSURE_MEDIUM_PCT:
	case GOMEMGUARD_A_PRESSURE_CRITICAL_PCT:
	case GOMEMGUARD_A_LIMIT_ORIGIN:
	case GOMEMGUARD_A_LISTENERS:
		return 4;
	case GOMEMGUARD_A_VERSION:
	case GOMEMGUARD_A_KERNEL_RELEASE:
	case GOMEMGUARD_A_CGROUP:
	case GOMEMGUARD_A_COMM:
	case GOMEMGUARD_A_MEMCG:
	case GOMEMGUARD_A_VICTIM_COMM:
	case GOMEMGUARD_A_HOOK:
		return 0;
	case GOMEMGUARD_A_LEVELS:
	case GOMEMGUARD_A_SNAPSHOT:
	case GOMEMGUARD_A_SNAPSHOT_PROC:
	case GOMEMGUARD_A_HOOKS:
	case GOMEMGUARD_A_UNSPEC:
		return -1;
	default:
		return type <= GOMEMGUARD_A_MAX ? 8 : -1;
	}
}

/* Values at and around every edge the policies and handlers have. */
static uint32_t edgy_u32(struct rng *r)
{
	static const uint32_t v[] = {
		0, 1, 2, 3, 4, 7, 8, 9, 10, 63, 64, 65, 99, 100, 101, 199, 200,
		999, 1000, 1001, 1023, 1024, 1025, 30000, 86400000, 86400001,
		3600000, 3600001, 0x7fff, 0x8000, 0xffff, 0x10000, 0x7fffffff,
		0x80000000, 0xfffffffe, 0xffffffff,
	};

	return chance(r, 70) ? v[rnd(r, ARRAY_SIZE(v))] :
	       (uint32_t)rnd64(r);
}

static uint64_t edgy_u64(struct rng *r)
{
	static const uint64_t v[] = {
		0, 1, 4095, 4096, 1ull << 20, 1ull << 30, 1ull << 40,
		0x7fffffffffffffffull, 0x8000000000000000ull, ~0ull,
	};

	return chance(r, 60) ? v[rnd(r, ARRAY_SIZE(v))] : rnd64(r);
}

static pid_t any_sleeper(struct sender *s)
{
	return s->sleeper[rnd(&s->rng, SLEEPERS)];
}

/* A value the command's handler accepts. */
static uint32_t valid_u32(struct sender *s, int type)
{
	struct rng *r = &s->rng;

	switch (type) {
	case GOMEMGUARD_A_EVENT_INTERVAL_MS:
		return chance(r, 50) ? 10 + rnd(r, 5000) :
		       GOMEMGUARD_EVENT_INTERVAL_MS_MIN +
		       rnd(r, GOMEMGUARD_EVENT_INTERVAL_MS_MAX);
	case GOMEMGUARD_A_EVENT_BURST:
		return 1 + rnd(r, GOMEMGUARD_EVENT_BURST_MAX);
	case GOMEMGUARD_A_OOM_REPORTS_MAX:
		return 1 + rnd(r, GOMEMGUARD_OOM_REPORTS_MAX);
	case GOMEMGUARD_A_PRESSURE_MEDIUM_PCT:
	case GOMEMGUARD_A_PRESSURE_CRITICAL_PCT:
		return 1 + rnd(r, 100);
	case GOMEMGUARD_A_ETA_HORIZON_MS:
		return GOMEMGUARD_ETA_HORIZON_MS_MIN +
		       rnd(r, GOMEMGUARD_ETA_HORIZON_MS_MAX - GOMEMGUARD_ETA_HORIZON_MS_MIN + 1);
	case GOMEMGUARD_A_SIGNAL:
		return 1 + rnd(r, GOMEMGUARD_SIGNAL_MAX);
	case GOMEMGUARD_A_RATE_WINDOW_MS:
		return GOMEMGUARD_RATE_WINDOW_MS_MIN +
		       rnd(r, GOMEMGUARD_RATE_WINDOW_MS_MAX - GOMEMGUARD_RATE_WINDOW_MS_MIN + 1);
	case GOMEMGUARD_A_LIMIT_ORIGIN:
		return 1 + rnd(r, GOMEMGUARD_ORIGIN_MAX);
	case GOMEMGUARD_A_PID:
		return any_sleeper(s);
	default:
		return edgy_u32(r);
	}
}

/*
 * Soft limits: small ones make the fuse fire on the sleepers (signals,
 * EXIT events, respawns), large ones keep tags alive.
 */
static uint64_t valid_soft_limit(struct rng *r)
{
	static const uint64_t v[] = { 1, 4096, 65536, 1ull << 20, 64ull << 20, 1ull << 30 };

	return chance(r, 80) ? v[rnd(r, ARRAY_SIZE(v))] : 1 + (rnd64(r) >> 1);
}

/* 1..LEVELS_MAX ascending percentages, the whole attribute. */
static void put_levels(struct rng *r, struct fmsg *m)
{
	uint32_t lv[GOMEMGUARD_LEVELS_MAX], pct = 0;
	int n = 1 + rnd(r, GOMEMGUARD_LEVELS_MAX), i;

	for (i = 0; i < n; i++) {
		pct += 1 + rnd(r, GOMEMGUARD_LEVEL_PCT_MAX / GOMEMGUARD_LEVELS_MAX);
		lv[i] = pct;
	}
	fm_add(m, GOMEMGUARD_A_LEVELS, lv, n * sizeof(uint32_t));
}

/* Cgroup paths: ours, under ours, and everything around them. */
static const char *const paths[] = {
	"/" CG_NAME, "/" CG_NAME "/sub", "//" CG_NAME "//sub/",
	"/" CG_NAME "/", "/" CG_NAME "/..", "/" CG_NAME "/sub/../sub",
	"/" CG_NAME "/cgroup.procs", "/" CG_NAME "/nonexistent",
	"/" CG_NAME "/./sub", "/", "", "//", "/..", "/.", "relative",
	"/gmgtest.fuzz-no", "/nonexistent/deeper", CG_NAME,
};

#define NR_PATHS	((int)ARRAY_SIZE(paths))

static const char *pick_path(struct rng *r)
{
	return paths[rnd(r, NR_PATHS)];
}

/* A string payload: a path, a long one, one without its NUL, or bytes. */
static void put_string(struct rng *r, struct fattr *a)
{
	size_t n;

	switch (rnd(r, 6)) {
	case 0:
	case 1:
	case 2: {
		const char *p = pick_path(r);

		n = strlen(p) + 1;
		memcpy(a->data, p, n);
		break;
	}
	case 3:
		/* Around the 255-byte limit. */
		n = 250 + rnd(r, 12);
		a->data[0] = '/';
		memset(a->data + 1, 'a', n - 1);
		a->data[n - 1] = '\0';
		break;
	case 4: {
		const char *p = pick_path(r);

		/* No terminating NUL. */
		n = strlen(p);
		memcpy(a->data, p, n);
		break;
	}
	default:
		n = rnd(r, 64);
		rnd_bytes(r, a->data, n);
		break;
	}
	a->len = n;
}

/* Nests of nests, some of whose lengths lie; returns the bytes used. */
static size_t gen_nest(struct rng *r, uint8_t *buf, size_t cap, int depth)
{
	int n = 1 + rnd(r, 4);
	size_t off = 0;

	while (n-- && cap - off >= NLA_HDRLEN) {
		size_t room = (cap - off - NLA_HDRLEN) & ~(size_t)(NLA_ALIGNTO - 1);
		size_t plen = rnd(r, (room < 64 ? room : 64) + 1);
		struct nlattr na = {
			.nla_type = rnd(r, GOMEMGUARD_A_MAX + 6) |
				    (chance(r, 50) ? NLA_F_NESTED : 0),
		};

		if (depth < 4 && (na.nla_type & NLA_F_NESTED) && chance(r, 60))
			plen = gen_nest(r, buf + off + NLA_HDRLEN,
					room < 128 ? room : 128, depth + 1);
		else
			rnd_bytes(r, buf + off + NLA_HDRLEN, plen);
		na.nla_len = NLA_HDRLEN + plen;
		switch (rnd(r, 8)) {
		case 0:		/* runs past its parent */
			na.nla_len += 1 + rnd(r, 64);
			break;
		case 1:		/* shorter than its own header */
			na.nla_len = rnd(r, NLA_HDRLEN);
			break;
		case 2:		/* cuts its payload short */
			na.nla_len -= plen < 3 ? plen : 1 + rnd(r, 3);
			break;
		default:
			break;
		}
		memcpy(buf + off, &na, sizeof(na));
		off += NLA_ALIGN(NLA_HDRLEN + plen);
	}
	return off < cap ? off : cap;
}

/* A right-sized attribute of @type with an edge or random value. */
static void put_typed(struct sender *s, struct fmsg *m, int type)
{
	struct rng *r = &s->rng;
	struct fattr *a;

	switch (attr_size(type)) {
	case 1:
		fm_u8(m, type, chance(r, 50) ? rnd(r, 3) : (uint8_t)rnd64(r));
		break;
	case 4:
		fm_u32(m, type, chance(r, 50) ? valid_u32(s, type) : edgy_u32(r));
		break;
	case 8:
		fm_u64(m, type, type == GOMEMGUARD_A_SOFT_LIMIT && chance(r, 50) ?
				valid_soft_limit(r) : edgy_u64(r));
		break;
	case 0:
		a = fm_add(m, type, NULL, 0);
		if (a)
			put_string(r, a);
		break;
	default:
		if (type == GOMEMGUARD_A_LEVELS && chance(r, 60)) {
			put_levels(r, m);
		} else {
			uint32_t lv[GOMEMGUARD_LEVELS_MAX + 2];
			int n = rnd(r, GOMEMGUARD_LEVELS_MAX + 3), i;

			for (i = 0; i < n; i++)
				lv[i] = edgy_u32(r);
			fm_add(m, type, lv, n * sizeof(uint32_t));
		}
		break;
	}
}

/* An attribute of any type, flags, length and payload. */
static void put_random_attr(struct sender *s, struct fmsg *m)
{
	struct rng *r = &s->rng;
	int type = rnd(r, GOMEMGUARD_A_MAX + 6);
	struct fattr *a;
	uint16_t flags = (chance(r, 20) ? NLA_F_NESTED : 0) |
			 (chance(r, 5) ? NLA_F_NET_BYTEORDER : 0);

	if (!(flags & NLA_F_NESTED) && chance(r, 35)) {
		put_typed(s, m, type);
		return;
	}
	a = fm_add(m, type | flags, NULL, 0);
	if (!a)
		return;
	if ((flags & NLA_F_NESTED) && chance(r, 70)) {
		a->len = gen_nest(r, a->data, PAYLOAD_MAX, 0);
	} else {
		a->len = chance(r, 60) ? rnd(r, 17) : rnd(r, PAYLOAD_MAX + 1);
		rnd_bytes(r, a->data, a->len);
	}
}

/* ---- templates: valid requests ---- */

enum tmpl {
	T_TAG_NEW, T_TAG_SET, T_TAG_DEL, T_CONFIG_SET, T_PROC_GET, T_PROC_DUMP,
	T_OOM_GET, T_MEMCG_GET, T_TAG_GET, T_INFO_GET, T_SUBSCRIBE, NR_TMPL
};

#define REQ_ACK		(NLM_F_REQUEST | NLM_F_ACK)
#define REQ_DUMP	(NLM_F_REQUEST | NLM_F_DUMP)

/* PID of a sleeper; in phase 2 usually the cgroup they live in instead. */
static void put_target(struct sender *s, struct fmsg *m)
{
	if (s->phase == 2 && chance(&s->rng, 85))
		fm_str(m, GOMEMGUARD_A_CGROUP, chance(&s->rng, 10) ? pick_path(&s->rng) :
		       s->cg[rnd(&s->rng, 2)] + strlen(CG_ROOT));
	else
		fm_u32(m, GOMEMGUARD_A_PID, any_sleeper(s));
}

static void put_settings(struct sender *s, struct fmsg *m, int min)
{
	struct rng *r = &s->rng;
	int before = m->n;

	do {
		if (chance(r, 50))
			put_levels(r, m);
		if (chance(r, 40))
			fm_u32(m, GOMEMGUARD_A_ETA_HORIZON_MS,
			       valid_u32(s, GOMEMGUARD_A_ETA_HORIZON_MS));
		if (chance(r, 40))
			fm_u32(m, GOMEMGUARD_A_SIGNAL, m->cmd == GOMEMGUARD_CMD_TAG_SET &&
			       chance(r, 30) ? 0 : valid_u32(s, GOMEMGUARD_A_SIGNAL));
		if (chance(r, 40))
			fm_u32(m, GOMEMGUARD_A_RATE_WINDOW_MS,
			       valid_u32(s, GOMEMGUARD_A_RATE_WINDOW_MS));
		if (chance(r, 30))
			fm_u8(m, GOMEMGUARD_A_INHERIT, rnd(r, 2));
		if (chance(r, 30))
			fm_u32(m, GOMEMGUARD_A_LIMIT_ORIGIN,
			       valid_u32(s, GOMEMGUARD_A_LIMIT_ORIGIN));
		if (m->cmd == GOMEMGUARD_CMD_TAG_SET && chance(r, 40))
			fm_u64(m, GOMEMGUARD_A_SOFT_LIMIT, valid_soft_limit(r));
	} while (m->n - before < min);
}

static void put_config(struct sender *s, struct fmsg *m)
{
	struct rng *r = &s->rng;
	static const int opt[] = {
		GOMEMGUARD_A_EVENT_INTERVAL_MS, GOMEMGUARD_A_EVENT_BURST,
		GOMEMGUARD_A_OOM_REPORTS_MAX,
	};
	unsigned int i;

	do {
		for (i = 0; i < ARRAY_SIZE(opt); i++)
			if (chance(r, 40))
				fm_u32(m, opt[i], valid_u32(s, opt[i]));
		if (chance(r, 30)) {
			uint32_t med = 1 + rnd(r, 99);

			fm_u32(m, GOMEMGUARD_A_PRESSURE_MEDIUM_PCT, med);
			fm_u32(m, GOMEMGUARD_A_PRESSURE_CRITICAL_PCT,
			       med + 1 + rnd(r, 100 - med));
		} else if (chance(r, 10)) {
			fm_u32(m, GOMEMGUARD_A_PRESSURE_CRITICAL_PCT,
			       valid_u32(s, GOMEMGUARD_A_PRESSURE_CRITICAL_PCT));
		}
	} while (!m->n);
}

static void build_template(struct sender *s, struct fmsg *m, int t)
{
	struct rng *r = &s->rng;
	uint16_t ack = chance(r, 30) ? NLM_F_ACK : 0;

	switch (t) {
	case T_TAG_NEW:
		fm_start(m, GOMEMGUARD_CMD_TAG_NEW, REQ_ACK);
		put_target(s, m);
		fm_u64(m, GOMEMGUARD_A_SOFT_LIMIT, valid_soft_limit(r));
		put_settings(s, m, 0);
		break;
	case T_TAG_SET:
		fm_start(m, GOMEMGUARD_CMD_TAG_SET, REQ_ACK);
		put_target(s, m);
		put_settings(s, m, 1);
		break;
	case T_TAG_DEL:
		fm_start(m, GOMEMGUARD_CMD_TAG_DEL, REQ_ACK);
		put_target(s, m);
		break;
	case T_CONFIG_SET:
		fm_start(m, GOMEMGUARD_CMD_CONFIG_SET, REQ_ACK);
		put_config(s, m);
		break;
	case T_PROC_GET:
		fm_start(m, GOMEMGUARD_CMD_PROC_GET, REQ_ACK);
		fm_u32(m, GOMEMGUARD_A_PID, any_sleeper(s));
		break;
	case T_PROC_DUMP:
		fm_start(m, GOMEMGUARD_CMD_PROC_GET, REQ_DUMP | ack);
		break;
	case T_OOM_GET:
		fm_start(m, GOMEMGUARD_CMD_OOM_GET, REQ_DUMP | ack);
		break;
	case T_MEMCG_GET:
		fm_start(m, GOMEMGUARD_CMD_MEMCG_GET, REQ_DUMP | ack);
		break;
	case T_TAG_GET:
		fm_start(m, GOMEMGUARD_CMD_TAG_GET, REQ_DUMP | ack);
		break;
	case T_INFO_GET:
		fm_start(m, GOMEMGUARD_CMD_INFO_GET, REQ_ACK);
		break;
	default:
		fm_start(m, GOMEMGUARD_CMD_EVENTS_SUBSCRIBE, NLM_F_REQUEST | ack);
		break;
	}
}

/* Mostly tags, which exercise the most code; reads and the rest as well. */
static void random_template(struct sender *s, struct fmsg *m)
{
	static const uint8_t weight[NR_TMPL] = { 18, 16, 10, 8, 8, 6, 4, 6, 6, 8, 10 };
	uint32_t x = rnd(&s->rng, 100);
	int t = 0;

	while (t < NR_TMPL - 1 && x >= weight[t])
		x -= weight[t++];
	build_template(s, m, t);
}

/* ---- the four kinds ---- */

static uint16_t random_flags(struct rng *r)
{
	uint16_t f = NLM_F_REQUEST;

	if (chance(r, 50))
		f |= NLM_F_ACK;
	switch (rnd(r, 6)) {
	case 0:
	case 1:
		f |= NLM_F_DUMP;
		break;
	case 2:
		f |= chance(r, 50) ? NLM_F_ROOT : NLM_F_MATCH;
		break;
	default:
		break;
	}
	if (chance(r, 5))
		f |= NLM_F_ECHO;
	if (chance(r, 3))
		f |= (uint16_t)rnd64(r) & ~(NLM_F_DUMP | NLM_F_ACK);
	return f;
}

static void gen_header(struct sender *s, struct fmsg *m)
{
	struct rng *r = &s->rng;
	int n = rnd(r, 3);

	fm_start(m, rnd(r, GOMEMGUARD_CMD_MAX + 4), random_flags(r));
	m->version = chance(r, 50) ? GOMEMGUARD_GENL_VERSION : rnd64(r) >> 56;
	if (chance(r, 10))
		m->reserved = rnd64(r);
	while (n--)
		put_typed(s, m, 1 + rnd(r, GOMEMGUARD_A_MAX));
}

static void gen_attrs(struct sender *s, struct fmsg *m)
{
	struct rng *r = &s->rng;
	int n = 1 + rnd(r, 8);

	fm_start(m, 1 + rnd(r, GOMEMGUARD_CMD_MAX), REQ_ACK);
	if (m->cmd == GOMEMGUARD_CMD_PROC_GET || m->cmd == GOMEMGUARD_CMD_TAG_GET ||
	    m->cmd == GOMEMGUARD_CMD_MEMCG_GET || m->cmd == GOMEMGUARD_CMD_OOM_GET)
		if (chance(r, 50))
			m->flags |= NLM_F_DUMP;
	while (n--)
		put_random_attr(s, m);
}

/* Replace @a's value with one of the same size that sits on an edge. */
static void edge_value(struct rng *r, struct fattr *a)
{
	uint32_t v32;
	uint64_t v64;
	size_t i;

	switch (a->len) {
	case 1:
		a->data[0] = chance(r, 50) ? rnd(r, 3) : rnd64(r) >> 56;
		break;
	case 4:
		v32 = edgy_u32(r);
		memcpy(a->data, &v32, 4);
		break;
	case 8:
		v64 = edgy_u64(r);
		memcpy(a->data, &v64, 8);
		break;
	default:
		if ((a->type & NLA_TYPE_MASK) == GOMEMGUARD_A_CGROUP) {
			put_string(r, a);
		} else {
			for (i = 0; i + 4 <= a->len; i += 4) {
				v32 = chance(r, 30) ? edgy_u32(r) : rnd(r, 1002);
				memcpy(a->data + i, &v32, 4);
			}
		}
		break;
	}
}

/* Structural damage to a valid request. */
static void mutate_struct(struct sender *s, struct fmsg *m)
{
	struct rng *r = &s->rng;
	struct fattr *a = m->n ? &m->a[rnd(r, m->n)] : NULL;
	int i;

	switch (rnd(r, 13)) {
	case 10:
	case 11:
	case 12:	/* another value of the same size: an edge, mostly */
		if (a)
			edge_value(r, a);
		break;
	case 0:		/* drop */
		if (a) {
			i = a - m->a;
			memmove(a, a + 1, (m->n - i - 1) * sizeof(*a));
			m->n--;
		}
		break;
	case 1:		/* duplicate */
		if (a && m->n < ATTRS_MAX)
			m->a[m->n++] = *a;
		break;
	case 2:		/* swap */
		if (m->n > 1) {
			struct fattr tmp = *a;
			struct fattr *b = &m->a[rnd(r, m->n)];

			*a = *b;
			*b = tmp;
		}
		break;
	case 3:		/* a length that lies */
		if (a)
			a->fiddle = chance(r, 50) ? (int)rnd(r, 17) - 8 :
				    (int)rnd(r, 600) - 300;
		break;
	case 4:		/* longer or shorter payload */
		if (a) {
			if (chance(r, 50) && a->len) {
				a->len -= 1 + rnd(r, a->len);
			} else {
				size_t more = 1 + rnd(r, 16);

				if (a->len + more <= PAYLOAD_MAX) {
					rnd_bytes(r, a->data + a->len, more);
					a->len += more;
				}
			}
		}
		break;
	case 5:		/* another type */
		if (a)
			a->type = rnd(r, GOMEMGUARD_A_MAX + 6);
		break;
	case 6:
		if (a)
			a->type |= NLA_F_NESTED;
		break;
	case 7:		/* another command, same attributes */
		m->cmd = rnd(r, GOMEMGUARD_CMD_MAX + 4);
		break;
	case 8:
		m->flags ^= chance(r, 50) ? NLM_F_ACK :
			    chance(r, 50) ? NLM_F_DUMP : NLM_F_REQUEST;
		break;
	default:
		put_random_attr(s, m);
		break;
	}
}

/* Byte damage: bit flips, byte and word replacements, anywhere. */
static void mutate_bytes(struct rng *r, uint8_t *buf, size_t len)
{
	static const uint8_t bytes[] = { 0x00, 0x01, 0x7f, 0x80, 0xfe, 0xff, '/' };
	size_t at;

	if (!len)
		return;
	at = rnd(r, len);
	switch (rnd(r, 4)) {
	case 0:
	case 1:
		buf[at] ^= 1 << rnd(r, 8);
		break;
	case 2:
		buf[at] = chance(r, 50) ? bytes[rnd(r, sizeof(bytes))] :
			  rnd64(r) >> 56;
		break;
	default:
		if (len >= 4) {
			uint32_t v = edgy_u32(r);

			at = rnd(r, len / 4) * 4;
			memcpy(buf + at, &v, 4);
		}
		break;
	}
}

static void set_nlmsg_len(uint8_t *buf, size_t len, uint32_t v)
{
	if (len >= sizeof(uint32_t))
		memcpy(buf, &v, sizeof(v));
}

/* Offset of the last attribute in a serialized message, or 0. */
static size_t last_attr(const uint8_t *buf, size_t len)
{
	size_t off = NLMSG_HDRLEN + GENL_HDRLEN, last = 0;
	struct nlattr na;

	while (off + NLA_HDRLEN <= len) {
		memcpy(&na, buf + off, sizeof(na));
		if (na.nla_len < NLA_HDRLEN)
			break;
		last = off;
		off += NLA_ALIGN(na.nla_len);
	}
	return last;
}

static size_t base_message(struct sender *s, struct fmsg *m, uint8_t *out,
			   size_t cap)
{
	if (chance(&s->rng, 50))
		random_template(s, m);
	else
		gen_attrs(s, m);
	return fm_serialize(&s->rng, m, s->family, ++s->seq, out, cap);
}

/* Lengths that disagree with what was sent. */
static size_t gen_trunc(struct sender *s, uint8_t *out)
{
	struct rng *r = &s->rng;
	size_t len = base_message(s, &s->m, out, DGRAM_MAX / 2), at, cut;
	uint16_t nla_len;

	switch (rnd(r, 8)) {
	case 0:		/* claims more than was sent: dropped unread */
		set_nlmsg_len(out, len, len + 1 + rnd(r, 64));
		break;
	case 1:		/* claims less: the rest reads as another message */
		set_nlmsg_len(out, len, rnd(r, len));
		break;
	case 2:		/* the datagram cut short, the header unchanged */
		len = rnd(r, len);
		break;
	case 3:		/* the last attribute runs past the message */
		at = last_attr(out, len);
		if (at) {
			memcpy(&nla_len, out + at, sizeof(nla_len));
			nla_len += 1 + rnd(r, 300);
			memcpy(out + at, &nla_len, sizeof(nla_len));
		}
		break;
	case 4:		/* cut inside the attributes, the header agreeing */
		cut = NLMSG_HDRLEN + GENL_HDRLEN;
		if (len > cut)
			cut += rnd(r, len - cut);
		len = cut;
		set_nlmsg_len(out, len, len);
		break;
	case 5:		/* odd padding: garbage pad bytes, unaligned ends */
		s->m.garbage_pad = true;
		for (at = 0; at < (size_t)s->m.n; at++)
			if (chance(r, 50) && s->m.a[at].len)
				s->m.a[at].len -= 1 + rnd(r, s->m.a[at].len < 3 ?
							   s->m.a[at].len : 3);
		len = fm_serialize(r, &s->m, s->family, ++s->seq, out, DGRAM_MAX / 2);
		cut = 1 + rnd(r, 3);
		rnd_bytes(r, out + len, cut);
		if (chance(r, 50))
			set_nlmsg_len(out, len, len + cut);
		len += cut;
		break;
	case 6:		/* two messages in one datagram */
		random_template(s, &s->m2);
		len = NLMSG_ALIGN(len);
		len += fm_serialize(r, &s->m2, s->family, ++s->seq, out + len,
				    DGRAM_MAX - len);
		if (chance(r, 30))
			mutate_bytes(r, out, len);
		break;
	default:	/* no room for the genl header */
		len = NLMSG_HDRLEN + rnd(r, GENL_HDRLEN);
		set_nlmsg_len(out, len, len);
		break;
	}
	return len;
}

static size_t gen_mutate(struct sender *s, uint8_t *out)
{
	struct rng *r = &s->rng;
	int structural = chance(r, 60) ? 1 + rnd(r, 3) : 0;
	int bytewise = structural && chance(r, 50) ? 0 : 1 + rnd(r, 3);
	size_t len;

	random_template(s, &s->m);
	while (structural--)
		mutate_struct(s, &s->m);
	len = fm_serialize(r, &s->m, s->family, ++s->seq, out, DGRAM_MAX);
	while (bytewise--)
		mutate_bytes(r, out, len);
	return len;
}

/*
 * Corpus message @i: every template as is; in phase 2 also every tag
 * command with every path, so that each run sees their answers.
 */
static int corpus_size(int phase)
{
	return NR_TMPL + (phase == 2 ? 3 * NR_PATHS : 0);
}

static size_t gen_corpus(struct sender *s, int i, uint8_t *out)
{
	struct fattr *a = &s->m.a[0];

	if (i < NR_TMPL) {
		build_template(s, &s->m, i);
	} else {
		i -= NR_TMPL;
		/* The target comes first in tag requests. */
		build_template(s, &s->m, T_TAG_NEW + i / NR_PATHS);
		a->type = GOMEMGUARD_A_CGROUP;
		a->len = strlen(paths[i % NR_PATHS]) + 1;
		memcpy(a->data, paths[i % NR_PATHS], a->len);
	}
	return fm_serialize(&s->rng, &s->m, s->family, ++s->seq, out, DGRAM_MAX);
}

static size_t generate(struct sender *s, int kind, uint8_t *out)
{
	switch (kind) {
	case K_HEADER:
		gen_header(s, &s->m);
		return fm_serialize(&s->rng, &s->m, s->family, ++s->seq, out, DGRAM_MAX);
	case K_ATTRS:
		gen_attrs(s, &s->m);
		return fm_serialize(&s->rng, &s->m, s->family, ++s->seq, out, DGRAM_MAX);
	case K_TRUNC:
		return gen_trunc(s, out);
	default:
		return gen_mutate(s, out);
	}
}

/* ---- what may reach the kernel ---- */

static bool is_sleeper(const struct sender *s, uint32_t pid)
{
	int i;

	for (i = 0; i < SLEEPERS; i++)
		if ((uint32_t)s->sleeper[i] == pid)
			return true;
	return false;
}

/*
 * Phase 2: could this CGROUP string name a cgroup outside the test's?  The
 * kernel walks it component by component from the root, skipping empty
 * ones (kernfs_walk_ns); an unknown first component finds nothing.
 */
static bool cgroup_path_unsafe(const struct sender *s, const uint8_t *p, size_t n)
{
	char first[256];
	size_t i = 0, j;
	struct stat st;

	n = strnlen((const char *)p, n);
	if (!n || p[0] != '/')
		return false;		/* refused: not absolute */
	while (i < n && p[i] == '/')
		i++;
	if (i == n)
		return true;		/* the root */
	for (j = i; j < n && p[j] != '/'; j++)
		;
	if (j - i >= sizeof(first))
		return false;		/* longer than any name */
	memcpy(first, p + i, j - i);
	first[j - i] = '\0';
	if (!strcmp(first, CG_NAME))
		return false;		/* ours, and all below it */
	if (!strcmp(first, ".") || !strcmp(first, ".."))
		return true;
	return !fstatat(s->cgroot, first, &st, AT_SYMLINK_NOFOLLOW);
}

/* Phase 2: PIDs onto sleepers, cgroup paths inside the test's cgroup. */
static void sanitize_attrs(struct sender *s, uint8_t *p, size_t len)
{
	struct nlattr na;
	uint32_t pid;

	/* As nla_for_each_attr() walks them. */
	while (len >= NLA_HDRLEN) {
		memcpy(&na, p, sizeof(na));
		if (na.nla_len < NLA_HDRLEN || na.nla_len > len)
			break;
		switch (na.nla_type & NLA_TYPE_MASK) {
		case GOMEMGUARD_A_PID:
			if (na.nla_len < NLA_HDRLEN + sizeof(pid))
				break;
			memcpy(&pid, p + NLA_HDRLEN, sizeof(pid));
			/* 0 and "negative" PIDs are refused, huge ones never exist. */
			if (pid && pid < PID_NEVER && !is_sleeper(s, pid)) {
				pid = any_sleeper(s);
				memcpy(p + NLA_HDRLEN, &pid, sizeof(pid));
			}
			break;
		case GOMEMGUARD_A_CGROUP:
			if (cgroup_path_unsafe(s, p + NLA_HDRLEN, na.nla_len - NLA_HDRLEN))
				p[NLA_HDRLEN] = 'x';
			break;
		default:
			break;
		}
		if ((size_t)NLA_ALIGN(na.nla_len) >= len)
			break;
		len -= NLA_ALIGN(na.nla_len);
		p += NLA_ALIGN(na.nla_len);
	}
}

/*
 * Walk the datagram as netlink_rcv_skb() will: every message it passes to
 * generic netlink goes to gomemguard, and in phase 2 names nothing but
 * sacrificial processes and the test's cgroup.
 */
static void sanitize(struct sender *s, uint8_t *buf, size_t len)
{
	struct nlmsghdr nlh;
	size_t off = 0, step;

	while (len - off >= NLMSG_HDRLEN) {
		memcpy(&nlh, buf + off, sizeof(nlh));
		if (nlh.nlmsg_len < NLMSG_HDRLEN || nlh.nlmsg_len > len - off)
			return;
		/* Control types (below NLMSG_MIN_TYPE) are skipped by the kernel. */
		if (nlh.nlmsg_type >= NLMSG_MIN_TYPE) {
			nlh.nlmsg_type = s->family;
			memcpy(buf + off, &nlh, sizeof(nlh));
		}
		if (s->phase == 2 && nlh.nlmsg_len > NLMSG_HDRLEN + GENL_HDRLEN)
			sanitize_attrs(s, buf + off + NLMSG_HDRLEN + GENL_HDRLEN,
				       nlh.nlmsg_len - NLMSG_HDRLEN - GENL_HDRLEN);
		step = NLMSG_ALIGN(nlh.nlmsg_len);
		if (step > len - off)
			step = len - off;
		off += step;
	}
}

/* ---- replies ---- */

/* Errors a request can earn; anything else is a finding. */
static bool errno_expected(int phase, int err)
{
	switch (err) {
	case 0:
	case EINVAL:		/* policies, malformed messages */
	case ERANGE:		/* policy ranges, handler ranges */
	case EOPNOTSUPP:	/* unknown command, do/dump mismatch */
	case ENOENT:		/* not tagged, no such cgroup */
	case ESRCH:		/* no such process */
	case EEXIST:		/* already tagged */
	case EBUSY:		/* a cgroup's member; a dump already running */
	case EAGAIN:		/* the reply did not fit the receive queue */
	case ENOBUFS:
		return true;
	case EPERM:		/* cgroups from a child PID namespace */
		return phase == 1;
	default:
		return false;
	}
}

static void extack_of(const uint8_t *h, size_t len, char *out, size_t outsz)
{
	struct nlmsghdr nlh;
	struct nlmsgerr e;
	struct nlattr na;
	size_t off;

	out[0] = '\0';
	memcpy(&nlh, h, sizeof(nlh));
	memcpy(&e, h + NLMSG_HDRLEN, sizeof(e));
	if (!(nlh.nlmsg_flags & NLM_F_ACK_TLVS))
		return;
	off = NLMSG_HDRLEN + sizeof(e);
	if (!(nlh.nlmsg_flags & NLM_F_CAPPED))
		off += e.msg.nlmsg_len > NLMSG_HDRLEN ? NLMSG_ALIGN(e.msg.nlmsg_len - NLMSG_HDRLEN) : 0;
	while (off + NLA_HDRLEN <= len) {
		memcpy(&na, h + off, sizeof(na));
		if (na.nla_len < NLA_HDRLEN || off + na.nla_len > len)
			return;
		if (na.nla_type == NLMSGERR_ATTR_MSG) {
			size_t n = na.nla_len - NLA_HDRLEN;

			if (n >= outsz)
				n = outsz - 1;
			memcpy(out, h + off + NLA_HDRLEN, n);
			out[n] = '\0';
			return;
		}
		off += NLA_ALIGN(na.nla_len);
	}
}

static void note(struct sender *s, int err, const uint8_t *h, size_t len)
{
	struct shared *sh = s->sh;
	struct note *n;
	uint32_t i;

	sh->unexpected++;
	for (i = 0; i < sh->n_notes; i++)
		if (sh->notes[i].err == err)
			return;
	if (sh->n_notes >= NOTES_MAX)
		return;
	n = &sh->notes[sh->n_notes++];
	n->err = err;
	n->phase = s->phase;
	n->kind = sh->cur_kind;
	n->extack[0] = '\0';
	if (h)
		extack_of(h, len, n->extack, sizeof(n->extack));
	n->len = sh->cur_len < NOTE_BYTES ? sh->cur_len : NOTE_BYTES;
	memcpy(n->dgram, sh->cur, n->len);
}

static void record(struct sender *s, int err, const uint8_t *h, size_t len)
{
	if (err < 0 || err >= ERRNO_SLOTS) {
		note(s, err, h, len);
		return;
	}
	s->sh->errs[err]++;
	if (!errno_expected(s->phase, err))
		note(s, err, h, len);
}

/* An event or a subscription reply: the highest SEQ seen so far. */
static void data_reply(struct sender *s, const uint8_t *h, size_t len)
{
	size_t off = NLMSG_HDRLEN + GENL_HDRLEN;
	struct genlmsghdr g;
	struct nlattr na;
	uint64_t seq;

	s->sh->data_msgs++;
	if (len < off)
		return;
	memcpy(&g, h + NLMSG_HDRLEN, sizeof(g));
	if (g.cmd == GOMEMGUARD_CMD_EVENT)
		s->sh->events++;
	else if (g.cmd != GOMEMGUARD_CMD_EVENTS_SUBSCRIBE)
		return;
	while (off + NLA_HDRLEN <= len) {
		memcpy(&na, h + off, sizeof(na));
		if (na.nla_len < NLA_HDRLEN || off + na.nla_len > len)
			return;
		if (na.nla_type == GOMEMGUARD_A_SEQ && na.nla_len == NLA_HDRLEN + 8) {
			memcpy(&seq, h + off + NLA_HDRLEN, sizeof(seq));
			if (seq > s->sh->max_seq)
				s->sh->max_seq = seq;
			return;
		}
		off += NLA_ALIGN(na.nla_len);
	}
}

static void parse_dgram(struct sender *s, const uint8_t *buf, size_t len)
{
	struct nlmsghdr nlh;
	size_t off = 0;
	int code;

	while (len - off >= NLMSG_HDRLEN) {
		const uint8_t *h = buf + off;

		memcpy(&nlh, h, sizeof(nlh));
		if (nlh.nlmsg_len < NLMSG_HDRLEN || nlh.nlmsg_len > len - off)
			return;
		switch (nlh.nlmsg_type) {
		case NLMSG_ERROR:
			if (nlh.nlmsg_len >= NLMSG_HDRLEN + sizeof(struct nlmsgerr)) {
				memcpy(&code, h + NLMSG_HDRLEN, sizeof(code));
				record(s, -code, h, nlh.nlmsg_len);
			}
			break;
		case NLMSG_DONE:
			s->sh->dumps_done++;
			if (nlh.nlmsg_len >= NLMSG_HDRLEN + sizeof(code)) {
				memcpy(&code, h + NLMSG_HDRLEN, sizeof(code));
				if (code)
					record(s, -code, NULL, 0);
			}
			break;
		default:
			if (nlh.nlmsg_type >= NLMSG_MIN_TYPE)
				data_reply(s, h, nlh.nlmsg_len);
			break;
		}
		if ((size_t)NLMSG_ALIGN(nlh.nlmsg_len) >= len - off)
			return;
		off += NLMSG_ALIGN(nlh.nlmsg_len);
	}
}

/* Everything queued on the socket, without waiting for more. */
static void drain(struct sender *s)
{
	int i, n;

	for (;;) {
		for (i = 0; i < RX_SLOTS; i++) {
			s->iov[i] = (struct iovec){ s->rxbuf + (size_t)i * RX_BUF, RX_BUF };
			s->rx[i].msg_hdr = (struct msghdr){
				.msg_iov = &s->iov[i], .msg_iovlen = 1,
			};
		}
		n = recvmmsg(s->fd, s->rx, RX_SLOTS, MSG_DONTWAIT, NULL);
		if (n < 0) {
			if (errno == ENOBUFS) {
				s->sh->enobufs++;
				continue;
			}
			if (errno == EINTR)
				continue;
			return;
		}
		for (i = 0; i < n; i++) {
			if (s->rx[i].msg_hdr.msg_flags & MSG_TRUNC)
				s->sh->truncated++;
			parse_dgram(s, s->iov[i].iov_base, s->rx[i].msg_len);
		}
		if (n < RX_SLOTS)
			return;
	}
}

/* ---- the sender ---- */

static int fz_open(struct sender *s)
{
	struct sockaddr_nl sa = { .nl_family = AF_NETLINK };
	struct rng *r = &s->rng;
	int on = 1, off = 0, small = 4096;

	if (s->fd >= 0)
		close(s->fd);
	s->fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_GENERIC);
	if (s->fd < 0)
		return -errno;
	/* Extended ACKs mostly; without CAP_ACK errors echo the request. */
	if (setsockopt(s->fd, SOL_NETLINK, NETLINK_EXT_ACK, chance(r, 80) ? &on : &off,
		       sizeof(on)) ||
	    setsockopt(s->fd, SOL_NETLINK, NETLINK_CAP_ACK, chance(r, 70) ? &on : &off,
		       sizeof(on)))
		return -errno;
	/* Now and then a receive queue that overflows. */
	if (chance(r, 20) &&
	    setsockopt(s->fd, SOL_SOCKET, SO_RCVBUF, &small, sizeof(small)))
		return -errno;
	if (bind(s->fd, (struct sockaddr *)&sa, sizeof(sa)))
		return -errno;
	s->sh->sockets++;
	return 0;
}

/*
 * Phase 1 sleeper PIDs: no single bit flip of one is 1 (the sender) or 0,
 * every one having at least three bits set.
 */
static const pid_t pid_plan[SLEEPERS] = { 0x2b6d, 0x35a3, 0x4c5b, 0x5ad6 };

static int write_file(const char *path, const char *s)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC), err = 0;

	if (fd < 0)
		return -errno;
	if (write(fd, s, strlen(s)) < 0)
		err = -errno;
	close(fd);
	return err;
}

/*
 * A child that waits to be killed, or -errno.  Its PID is never reused
 * while it is in s->sleeper[]: only sleepers_respawn() reaps, and it puts
 * a new sleeper in the slot at once.
 */
static pid_t sleeper_spawn(struct sender *s, int i)
{
	struct rlimit no_core = { 0, 0 };
	pid_t pid;
	int err;

	if (s->phase == 1) {
		char last[16];

		/* The next PID of this (the caller's) PID namespace. */
		snprintf(last, sizeof(last), "%d", pid_plan[i] - 1);
		err = write_file("/proc/sys/kernel/ns_last_pid", last);
		if (err)
			return err;
	}
	pid = fork();
	if (pid < 0)
		return -errno;
	if (!pid) {
		/* A fuse may well be SIGSEGV or SIGQUIT: no core files. */
		setrlimit(RLIMIT_CORE, &no_core);
		/* Not even the sender's socket may outlive the sender. */
		syscall(SYS_close_range, 0, ~0U, 0);
		if (s->phase == 2 && cg_write(s->cg[i % 2], "cgroup.procs", "0"))
			_exit(1);
		for (;;)
			pause();
	}
	s->sh->sleepers++;
	return pid;
}

/*
 * Sleepers the fuzzing killed come back (with other PIDs in phase 2).  One
 * that exited by itself could not join its cgroup.
 */
static int sleepers_respawn(struct sender *s)
{
	int i, status;
	pid_t pid;

	while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
		if (WIFEXITED(status))
			return -ECHILD;
		for (i = 0; i < SLEEPERS; i++) {
			if (s->sleeper[i] != pid)
				continue;
			s->sleeper[i] = sleeper_spawn(s, i);
			if (s->sleeper[i] < 0)
				return s->sleeper[i];
		}
	}
	return 0;
}

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + ts.tv_nsec;
}

static int pick_kind(struct rng *r)
{
	uint32_t x = rnd(r, 100);
	int k = 0;

	while (k < K_CORPUS - 1 && x >= kind_pct[k])
		x -= kind_pct[k++];
	return k;
}

/* Why the sender gives up, for the test to print; its exit code. */
static __printf(2, 3) int sender_fail(struct sender *s, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(s->sh->fail, sizeof(s->sh->fail), fmt, ap);
	va_end(ap);
	return 2;
}

/* Send until @end datagrams went out in total; the process's exit code. */
static int sender_run(struct sender *s, uint64_t end)
{
	struct shared *sh = s->sh;
	uint64_t sent = __atomic_load_n(&sh->sent, __ATOMIC_RELAXED), t0;
	uint64_t reopen = 0;
	int i, err;

	for (i = 0; i < SLEEPERS; i++) {
		s->sleeper[i] = sleeper_spawn(s, i);
		if (s->sleeper[i] < 0)
			return sender_fail(s, "sleeper: %s", strerror(-s->sleeper[i]));
		/* Any other PID might be one bit flip away from the sender's. */
		if (s->phase == 1 && s->sleeper[i] != pid_plan[i])
			return sender_fail(s, "sleeper got PID %d, not %d",
					   s->sleeper[i], pid_plan[i]);
	}
	while (sent < end) {
		uint64_t corpus = sent - sh->phase_start;
		int kind = corpus < (uint64_t)corpus_size(s->phase) ? K_CORPUS :
			   pick_kind(&s->rng);
		size_t len;
		ssize_t n;

		if (!reopen--) {
			err = fz_open(s);
			if (err)
				return sender_fail(s, "socket: %s", strerror(-err));
			reopen = REOPEN_EVERY / 2 + rnd(&s->rng, REOPEN_EVERY);
		}
		if (!(sent % 32)) {
			err = sleepers_respawn(s);
			if (err)
				return sender_fail(s, "respawning a sleeper: %s", strerror(-err));
		}
		len = kind == K_CORPUS ? gen_corpus(s, corpus, s->dgram) :
					 generate(s, kind, s->dgram);
		sanitize(s, s->dgram, len);
		sh->cur_kind = kind;
		sh->cur_len = len;
		memcpy(sh->cur, s->dgram, len);

		t0 = now_ns();
		n = send(s->fd, s->dgram, len, 0);
		if (n < 0) {
			sh->send_errs++;
			sh->last_send_errno = errno;
			if (sh->send_errs > 1000)
				return sender_fail(s, "send: %s", strerror(errno));
		}
		drain(s);
		sh->kind_ns[kind] += now_ns() - t0;
		if (n < 0)
			continue;
		sh->kind_sent[kind]++;
		__atomic_store_n(&sh->sent, ++sent, __ATOMIC_RELAXED);
	}
	close(s->fd);
	return 0;
}

static int sender_main(struct shared *sh, int phase, int family, uint64_t end,
		       const char *const cg[2])
{
	struct sender *s = calloc(1, sizeof(*s));
	int ret;

	if (!s)
		return 2;
	s->rxbuf = malloc((size_t)RX_SLOTS * RX_BUF);
	if (!s->rxbuf) {
		free(s);
		return 2;
	}
	s->sh = sh;
	s->phase = phase;
	s->family = family;
	s->fd = -1;
	s->cg[0] = cg[0];
	s->cg[1] = cg[1];
	s->cgroot = open(CG_ROOT, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	/* A restarted sender continues the sequence from where it starts. */
	rng_seed(&s->rng, sh->seed ^ (0x9e3779b97f4a7c15ull * phase) ^
			  (0xbf58476d1ce4e5b9ull * sh->sent));
	if (s->cgroot < 0)
		ret = 2;
	else
		ret = sender_run(s, end);
	free(s->rxbuf);
	free(s);
	return ret;
}

/*
 * Start a sender for @phase; returns the PID to wait for.  Phase 1: a
 * launcher that moves to a new PID namespace and forks its PID 1, the
 * sender, whose wait status it leaves in sh->status.
 */
static pid_t launch(struct shared *sh, int phase, int family, uint64_t end,
		    const char *const cg[2])
{
	pid_t pid, sender;
	int status;

	fflush(stdout);
	fflush(stderr);
	sh->status = -1;
	pid = fork();
	if (pid)
		return pid;
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	if (phase == 2)
		_exit(sender_main(sh, phase, family, end, cg));
	if (unshare(CLONE_NEWPID)) {
		snprintf(sh->fail, sizeof(sh->fail), "unshare(CLONE_NEWPID): %s",
			 strerror(errno));
		_exit(2);
	}
	sender = fork();
	if (sender < 0)
		_exit(2);
	if (!sender) {
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		_exit(sender_main(sh, phase, family, end, cg));
	}
	if (waitpid(sender, &status, 0) != sender)
		_exit(2);
	sh->status = status;
	_exit(0);
}

/* ---- the test ---- */

struct settings {
	uint32_t v[5];
};

static const int setting_attr[5] = {
	GOMEMGUARD_A_EVENT_INTERVAL_MS, GOMEMGUARD_A_EVENT_BURST,
	GOMEMGUARD_A_OOM_REPORTS_MAX, GOMEMGUARD_A_PRESSURE_MEDIUM_PCT,
	GOMEMGUARD_A_PRESSURE_CRITICAL_PCT,
};

FIXTURE(fuzz) {
	struct gr_sock ctl;
	int family;
	char cg[256], sub[264];
	struct shared *sh;
	int kmsg;
	struct settings saved;
	bool saved_ok;
	uint32_t listeners;
	long refcnt;
	pid_t running;
};

static int info(FIXTURE_DATA(fuzz) *self, struct gr_reply *r)
{
	struct gr_msg m;

	gr_start(&m, self->family, GOMEMGUARD_CMD_INFO_GET, GOMEMGUARD_GENL_VERSION);
	return gr_transact(&self->ctl, &m, r) ?: r->err ?: r->has_data ? 0 : -EPROTO;
}

static uint32_t info_u32(const struct gr_reply *r, int attr)
{
	return r->attrs[attr] ? gr_get_u32(r->attrs[attr]) : UINT32_MAX;
}

static long module_refcnt(void)
{
	char buf[32] = "";
	long v = -1;
	FILE *f = fopen("/sys/module/gomemguard/refcnt", "r");

	if (!f)
		return -1;
	if (fgets(buf, sizeof(buf), f))
		v = strtol(buf, NULL, 10);
	fclose(f);
	return v;
}

static int restore_settings(FIXTURE_DATA(fuzz) *self)
{
	struct gr_reply r;
	struct gr_msg m;
	int i;

	gr_start(&m, self->family, GOMEMGUARD_CMD_CONFIG_SET, GOMEMGUARD_GENL_VERSION);
	for (i = 0; i < 5; i++)
		gr_put_u32(&m, setting_attr[i], self->saved.v[i]);
	return gr_transact(&self->ctl, &m, &r) ?: r.err;
}

static int tag_del(FIXTURE_DATA(fuzz) *self, uint32_t pid, const char *cgroup)
{
	struct gr_reply r;
	struct gr_msg m;

	gr_start(&m, self->family, GOMEMGUARD_CMD_TAG_DEL, GOMEMGUARD_GENL_VERSION);
	if (cgroup)
		gr_put(&m, GOMEMGUARD_A_CGROUP, cgroup, strlen(cgroup) + 1);
	else
		gr_put_u32(&m, GOMEMGUARD_A_PID, pid);
	return gr_transact(&self->ctl, &m, &r) ?: r.err;
}

#define LEFT_MAX 256

struct left {
	int n;
	uint32_t pid[LEFT_MAX];
	char cgroup[LEFT_MAX][GOMEMGUARD_PATH_MAX];
};

static void collect_proc(const struct gr_reply *r, void *arg)
{
	struct left *l = arg;

	if (l->n < LEFT_MAX && r->attrs[GOMEMGUARD_A_PID] &&
	    (!r->attrs[GOMEMGUARD_A_SOURCE] ||
	     gr_get_u32(r->attrs[GOMEMGUARD_A_SOURCE]) != GOMEMGUARD_SOURCE_CGROUP))
		l->pid[l->n++] = gr_get_u32(r->attrs[GOMEMGUARD_A_PID]);
}

static void collect_tag(const struct gr_reply *r, void *arg)
{
	struct left *l = arg;

	if (l->n < LEFT_MAX && r->attrs[GOMEMGUARD_A_CGROUP])
		snprintf(l->cgroup[l->n++], GOMEMGUARD_PATH_MAX, "%s",
			 gr_get_str(r->attrs[GOMEMGUARD_A_CGROUP]));
}

static void count_msg(const struct gr_reply *r, void *arg)
{
	(*(int *)arg)++;
}

/* Messages in a PROC_GET or TAG_GET dump, or -errno. */
static int dump_count(FIXTURE_DATA(fuzz) *self, uint8_t cmd)
{
	struct gr_msg m;
	int n = 0, err;

	gr_start(&m, self->family, cmd, GOMEMGUARD_GENL_VERSION);
	err = gr_dump(&self->ctl, &m, count_msg, &n);
	return err ?: n;
}

/* Untag what the fuzzing left tagged: cgroups, then processes. */
static int untag_leftovers(FIXTURE_DATA(fuzz) *self, int *tags, int *procs)
{
	struct left *l = calloc(1, sizeof(*l));
	struct gr_msg m;
	int i, err;

	if (!l)
		return -ENOMEM;
	gr_start(&m, self->family, GOMEMGUARD_CMD_TAG_GET, GOMEMGUARD_GENL_VERSION);
	err = gr_dump(&self->ctl, &m, collect_tag, l);
	for (i = 0; !err && i < l->n; i++) {
		err = tag_del(self, 0, l->cgroup[i]);
		if (err == -ENOENT)
			err = 0;
	}
	*tags = l->n;
	l->n = 0;
	if (!err) {
		gr_start(&m, self->family, GOMEMGUARD_CMD_PROC_GET, GOMEMGUARD_GENL_VERSION);
		err = gr_dump(&self->ctl, &m, collect_proc, l);
	}
	/* Gone meanwhile (a fuse, an exit): fine. */
	for (i = 0; !err && i < l->n; i++) {
		err = tag_del(self, l->pid[i], NULL);
		if (err == -ESRCH || err == -ENOENT)
			err = 0;
	}
	*procs = l->n;
	free(l);
	return err;
}

/* Lines the kernel logged since @fd was opened that mean trouble. */
static int kmsg_scan(int fd)
{
	static const char *const bad[] = {
		"WARNING:", "BUG:", "Oops", "Call Trace", "general protection",
		"UBSAN:", "KASAN:", "ODEBUG:", "kernel BUG", "refcount_t:",
		"list_add corruption", "list_del corruption",
	};
	char rec[8192];
	int found = 0;
	unsigned int i;

	for (;;) {
		ssize_t n = read(fd, rec, sizeof(rec) - 1);
		char *msg;

		if (n < 0 && errno == EPIPE)
			continue;	/* overwritten meanwhile: read on */
		if (n <= 0)
			break;
		rec[n] = '\0';
		msg = strchr(rec, ';');
		msg = msg ? msg + 1 : rec;
		msg[strcspn(msg, "\n")] = '\0';
		for (i = 0; i < ARRAY_SIZE(bad); i++) {
			if (strstr(msg, bad[i])) {
				ksft_print_msg("dmesg: %s\n", msg);
				found++;
				break;
			}
		}
	}
	return found;
}

static void hex_line(const char *what, const uint8_t *p, size_t n)
{
	char out[3 * NOTE_BYTES + 1];
	size_t i;

	for (i = 0; i < n && i < NOTE_BYTES; i++)
		snprintf(out + 3 * i, 4, "%02x ", p[i]);
	out[3 * i] = '\0';
	ksft_print_msg("%s (%zu bytes): %s\n", what, n, out);
}

static uint64_t env_u64(const char *name, uint64_t def)
{
	const char *v = getenv(name);

	return v && *v ? strtoull(v, NULL, 0) : def;
}

FIXTURE_SETUP(fuzz)
{
	struct gr_reply r;
	int i;

	self->ctl.fd = -1;
	self->kmsg = -1;
	self->sh = MAP_FAILED;
	self->running = 0;
	self->saved_ok = false;
	if (geteuid())
		SKIP(return, "needs root: a PID namespace, cgroups, CAP_NET_ADMIN");
	ASSERT_EQ(0, gr_open(&self->ctl));
	self->family = gr_family(&self->ctl, GOMEMGUARD_GENL_NAME);
	ASSERT_LT(0, self->family) TH_LOG("family: %s", strerror(-self->family));
	ASSERT_EQ(0, info(self, &r));
	for (i = 0; i < 5; i++) {
		ASSERT_NE(NULL, r.attrs[setting_attr[i]]);
		self->saved.v[i] = gr_get_u32(r.attrs[setting_attr[i]]);
	}
	self->saved_ok = true;
	self->listeners = info_u32(&r, GOMEMGUARD_A_LISTENERS);
	self->refcnt = module_refcnt();
	ASSERT_LE(0, self->refcnt);

	ASSERT_EQ(0, cg_create("fuzz", self->cg, sizeof(self->cg)));
	snprintf(self->sub, sizeof(self->sub), "%s/sub", self->cg);
	ASSERT_EQ(0, mkdir(self->sub, 0755));

	self->sh = mmap(NULL, sizeof(*self->sh), PROT_READ | PROT_WRITE,
			MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, self->sh);
	memset(self->sh, 0, sizeof(*self->sh));

	/* From here on, what the kernel logs is this test's. */
	self->kmsg = open("/dev/kmsg", O_RDONLY | O_NONBLOCK | O_CLOEXEC);
	ASSERT_LE(0, self->kmsg);
	ASSERT_LE(0, lseek(self->kmsg, 0, SEEK_END));
}

FIXTURE_TEARDOWN(fuzz)
{
	int tags, procs;

	if (self->running > 0) {
		kill(self->running, SIGKILL);
		waitpid(self->running, NULL, 0);
	}
	if (self->saved_ok)
		restore_settings(self);
	if (self->cg[0]) {
		untag_leftovers(self, &tags, &procs);
		cg_destroy(self->sub);
		cg_destroy(self->cg);
	}
	if (self->sh != MAP_FAILED)
		munmap(self->sh, sizeof(*self->sh));
	if (self->kmsg >= 0)
		close(self->kmsg);
	gr_close(&self->ctl);
}

/*
 * Run senders for @phase until @end datagrams went out in total, starting
 * another whenever one dies of a signal.  0, or a reason on stdout and -1.
 */
static int run_phase(FIXTURE_DATA(fuzz) *self, int phase, uint64_t end,
		     int *restarts)
{
	const char *const cg[2] = { self->cg, self->sub };
	struct shared *sh = self->sh;

	sh->phase_start = sh->sent;
	while (__atomic_load_n(&sh->sent, __ATOMIC_RELAXED) < end) {
		uint64_t last = sh->sent, stalled = 0;
		int status, ws;
		pid_t pid;

		if (*restarts > RESTARTS_MAX) {
			ksft_print_msg("senders died %d times: giving up\n", *restarts);
			return -1;
		}
		pid = launch(sh, phase, self->family, end, cg);
		if (pid < 0) {
			ksft_print_msg("fork: %s\n", strerror(errno));
			return -1;
		}
		self->running = pid;
		while (waitpid(pid, &ws, WNOHANG) != pid) {
			uint64_t now = __atomic_load_n(&sh->sent, __ATOMIC_RELAXED);

			stalled = now == last ? stalled + 1 : 0;
			last = now;
			if (stalled > STALL_SEC * 10 * gmg_time_scale()) {
				ksft_print_msg("no message went through in %u s: the kernel hangs in a request\n",
					       STALL_SEC * gmg_time_scale());
				hex_line("stuck datagram", sh->cur, sh->cur_len);
				kill(pid, SIGKILL);
				waitpid(pid, NULL, 0);
				self->running = 0;
				return -1;
			}
			sleep_ms(100);
		}
		self->running = 0;
		status = phase == 1 ? sh->status : ws;
		if (phase == 1 && (!WIFEXITED(ws) || WEXITSTATUS(ws))) {
			ksft_print_msg("phase 1 launcher failed (status 0x%x): %s\n", ws,
				       sh->fail);
			return -1;
		}
		if (WIFSIGNALED(status)) {
			(*restarts)++;
			ksft_print_msg("phase %d sender killed by signal %d after %llu messages; restarting\n",
				       phase, WTERMSIG(status),
				       (unsigned long long)sh->sent);
			hex_line("its last datagram", sh->cur, sh->cur_len);
			continue;
		}
		if (!WIFEXITED(status) || WEXITSTATUS(status)) {
			ksft_print_msg("phase %d sender failed (status 0x%x): %s\n", phase,
				       status, sh->fail);
			return -1;
		}
	}
	return 0;
}

static int cmp_desc(const void *a, const void *b)
{
	const uint64_t *x = a, *y = b;

	return x[0] < y[0] ? 1 : x[0] > y[0] ? -1 : 0;
}

static void print_stats(const struct shared *sh, uint64_t ns, int restarts)
{
	uint64_t top[ERRNO_SLOTS][2];
	int i, n = 0;

	for (i = 0; i < NR_KINDS; i++)
		ksft_print_msg("%-10s %8llu sent, %6.0f us each\n", kind_name[i],
			       (unsigned long long)sh->kind_sent[i],
			       sh->kind_sent[i] ? sh->kind_ns[i] / 1e3 / sh->kind_sent[i] : 0.0);
	for (i = 0; i < ERRNO_SLOTS; i++)
		if (sh->errs[i]) {
			top[n][0] = sh->errs[i];
			top[n++][1] = i;
		}
	qsort(top, n, sizeof(top[0]), cmp_desc);
	for (i = 0; i < n && i < 10; i++)
		ksft_print_msg("replies %-12s %8llu\n",
			       top[i][1] ? strerrorname_np(top[i][1]) ?: "?" : "ok (ack)",
			       (unsigned long long)top[i][0]);
	ksft_print_msg("data replies %llu (events %llu), dumps done %llu, truncated reads %llu\n",
		       (unsigned long long)sh->data_msgs, (unsigned long long)sh->events,
		       (unsigned long long)sh->dumps_done, (unsigned long long)sh->truncated);
	ksft_print_msg("ENOBUFS %llu, send errors %llu (last %s), sockets %llu, sleepers %llu\n",
		       (unsigned long long)sh->enobufs, (unsigned long long)sh->send_errs,
		       sh->send_errs ? strerror(sh->last_send_errno) : "-",
		       (unsigned long long)sh->sockets, (unsigned long long)sh->sleepers);
	ksft_print_msg("%llu messages in %.1f s: %.0f/s; sender restarts %d\n",
		       (unsigned long long)sh->sent, ns / 1e9,
		       ns ? sh->sent * 1e9 / ns : 0.0, restarts);
}

/* Poll @get until it returns @want; what it returned last. */
static long settle(long (*get)(FIXTURE_DATA(fuzz) *), FIXTURE_DATA(fuzz) *self,
		   long want)
{
	long v = get(self);
	int i;

	/* Sockets and processes go away through RCU and work items: 10 s (scaled). */
	for (i = 0; i < gmg_ms(10000) / 100 && v != want; i++) {
		sleep_ms(100);
		v = get(self);
	}
	return v;
}

static long get_refcnt(FIXTURE_DATA(fuzz) *self)
{
	return module_refcnt();
}

static long get_listeners(FIXTURE_DATA(fuzz) *self)
{
	struct gr_reply r;

	return info(self, &r) ? -1 : (long)info_u32(&r, GOMEMGUARD_A_LISTENERS);
}

static long get_tagged(FIXTURE_DATA(fuzz) *self)
{
	struct gr_reply r;

	return info(self, &r) ? -1 : (long)info_u32(&r, GOMEMGUARD_A_TAGGED);
}

/*
 * Cgroup tags: one whose cgroup went away before it was untagged (TAG_DEL
 * by path: ENOENT) goes in the sampler's next prune, within a second.
 */
static long get_cgtags(FIXTURE_DATA(fuzz) *self)
{
	return dump_count(self, GOMEMGUARD_CMD_TAG_GET);
}

TEST_F_TIMEOUT(fuzz, random_and_mutated_messages, 1200)
{
	uint64_t count = env_u64("GMG_FUZZ_COUNT", COUNT_DEFAULT);
	uint64_t phase1 = count - count * PHASE2_PCT / 100, t0, ns;
	struct shared *sh = self->sh;
	int restarts = 0, tags = 0, procs = 0, bad;
	long left;
	struct gr_reply r;
	uint32_t i;

	sh->seed = env_u64("GMG_FUZZ_SEED", now_ns() ^ ((uint64_t)getpid() << 32));
	ksft_print_msg("fuzz seed 0x%llx (GMG_FUZZ_SEED=0x%llx reproduces it), %llu messages\n",
		       (unsigned long long)sh->seed, (unsigned long long)sh->seed,
		       (unsigned long long)count);

	t0 = now_ns();
	bad = run_phase(self, 1, phase1, &restarts) ||
	      run_phase(self, 2, count, &restarts);
	ns = now_ns() - t0;
	print_stats(sh, ns, restarts);
	if (sh->unexpected)
		ksft_print_msg("%llu replies with an errno the protocol does not give; the first of each:\n",
			       (unsigned long long)sh->unexpected);
	for (i = 0; i < sh->n_notes && i < NOTES_MAX; i++) {
		const struct note *n = &sh->notes[i];

		ksft_print_msg("errno %d (%s) for a %s message in phase %d: \"%s\"\n",
			       n->err, n->err > 0 ? strerror(n->err) : "?",
			       kind_name[n->kind], n->phase, n->extack);
		hex_line("  request", n->dgram, n->len);
	}
	ASSERT_FALSE(bad);
	EXPECT_LE(count, sh->sent);
	EXPECT_EQ(0, sh->unexpected);

	/* Still answering, and the settings back as they were. */
	ASSERT_EQ(0, info(self, &r));
	ASSERT_EQ(0, restore_settings(self));
	ASSERT_EQ(0, info(self, &r));
	for (i = 0; i < 5; i++)
		EXPECT_EQ(self->saved.v[i], info_u32(&r, setting_attr[i]));
	EXPECT_GE(gr_get_u64(r.attrs[GOMEMGUARD_A_EVENTS_SENT]), sh->max_seq);

	ASSERT_EQ(0, untag_leftovers(self, &tags, &procs));
	ksft_print_msg("left tagged by the fuzzing: %d cgroups, %d processes\n", tags, procs);
	ASSERT_EQ(0, cg_destroy(self->sub));
	ASSERT_EQ(0, cg_destroy(self->cg));
	self->cg[0] = '\0';

	EXPECT_EQ(0, settle(get_tagged, self, 0));
	EXPECT_EQ(0, dump_count(self, GOMEMGUARD_CMD_PROC_GET));
	left = get_cgtags(self);
	if (left)
		TH_LOG("%ld cgroup tags left once their cgroups were removed: waiting for the prune",
		       left);
	EXPECT_EQ(0, settle(get_cgtags, self, 0));
	EXPECT_EQ(self->listeners, settle(get_listeners, self, self->listeners));
	EXPECT_EQ(self->refcnt, settle(get_refcnt, self, self->refcnt));
	EXPECT_EQ(0, kmsg_scan(self->kmsg)) TH_LOG("the kernel logged trouble while fuzzed");
}

TEST_HARNESS_MAIN
