/* SPDX-License-Identifier: GPL-2.0 */
/*
 * A deliberately raw generic-netlink client for the selftests: it builds
 * messages byte by byte so that tests can send what no well-behaved library
 * would (unknown commands, unknown attributes, wrong lengths), and it hands
 * back the errno and the kernel's extack text exactly as they arrived.
 */
#ifndef GMG_GENL_RAW_H
#define GMG_GENL_RAW_H

#include <stddef.h>
#include <stdint.h>
#include <linux/netlink.h>

/* An OOM event with its full snapshot is some 20 KiB. */
#define GR_BUF_SIZE	65536
/* Above gomemguard's highest attribute: nothing is dropped unseen. */
#define GR_ATTR_MAX	128

struct gr_sock {
	int fd;
	uint32_t seq;
};

struct gr_msg {
	char buf[GR_BUF_SIZE];
	size_t len;
};

/* What came back for one request. */
struct gr_reply {
	int err;			/* 0 or -errno from the NLMSG_ERROR */
	char extack[256];		/* NLMSGERR_ATTR_MSG, "" when absent */
	int has_offs;			/* NLMSGERR_ATTR_OFFS present */
	uint32_t offs;
	uint8_t cmd;			/* genl command of the data reply */
	int has_data;
	char data[GR_BUF_SIZE];		/* the data reply's attributes */
	size_t data_len;
	const struct nlattr *attrs[GR_ATTR_MAX + 1];
};

int gr_open(struct gr_sock *s);
void gr_close(struct gr_sock *s);
/* Family id of @name, or -errno (-ENOENT when the family is not there). */
int gr_family(struct gr_sock *s, const char *name);

void gr_start(struct gr_msg *m, uint16_t type, uint8_t cmd, uint8_t version);
void gr_put(struct gr_msg *m, uint16_t type, const void *data, size_t len);
void gr_put_u32(struct gr_msg *m, uint16_t type, uint32_t v);
/* Send @m with NLM_F_REQUEST | NLM_F_ACK and collect the answer in @r. */
int gr_transact(struct gr_sock *s, struct gr_msg *m, struct gr_reply *r);

/*
 * Subscribe @s to gomemguard's events (EVENTS_SUBSCRIBE, family id
 * @family); @r gets the reply (SEQ: the last event number so far) or the
 * error.  0 or -errno.
 */
int gr_subscribe(struct gr_sock *s, int family, struct gr_reply *r);
/*
 * Wait up to @timeout_ms for one notification; 0 with @r filled, -ETIMEDOUT,
 * or -errno (-ENOBUFS: the socket overflowed and events were lost).
 * @timeout_ms is taken as given: a caller whose timeout is a bound passes
 * gmg_ms() of it (gmg_util.h), one that polls in a loop of its own not.
 */
int gr_recv_event(struct gr_sock *s, int timeout_ms, struct gr_reply *r);
/* Send a dump request and call @cb for each message; 0 or -errno. */
int gr_dump(struct gr_sock *s, struct gr_msg *m,
	    void (*cb)(const struct gr_reply *r, void *arg), void *arg);

/* The attributes inside nest @a. */
void gr_parse_nested(const struct nlattr *a, const struct nlattr **tb, int max);

uint32_t gr_get_u32(const struct nlattr *a);
uint64_t gr_get_u64(const struct nlattr *a);
const char *gr_get_str(const struct nlattr *a);

#endif /* GMG_GENL_RAW_H */
