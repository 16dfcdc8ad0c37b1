// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/socket.h>
#include <linux/genetlink.h>
#include <linux/netlink.h>
#include <uapi/linux/gomemguard.h>

#include "genl_raw.h"

#ifndef SOL_NETLINK
#define SOL_NETLINK 270
#endif

int gr_open(struct gr_sock *s)
{
	struct sockaddr_nl sa = { .nl_family = AF_NETLINK };
	int one = 1;

	s->seq = 1;
	s->fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_GENERIC);
	if (s->fd < 0)
		return -errno;
	if (setsockopt(s->fd, SOL_NETLINK, NETLINK_EXT_ACK, &one, sizeof(one)) ||
	    setsockopt(s->fd, SOL_NETLINK, NETLINK_CAP_ACK, &one, sizeof(one)) ||
	    bind(s->fd, (struct sockaddr *)&sa, sizeof(sa))) {
		int err = -errno;

		close(s->fd);
		s->fd = -1;
		return err;
	}
	return 0;
}

void gr_close(struct gr_sock *s)
{
	if (s->fd >= 0)
		close(s->fd);
	s->fd = -1;
}

void gr_start(struct gr_msg *m, uint16_t type, uint8_t cmd, uint8_t version)
{
	struct nlmsghdr *nlh = (struct nlmsghdr *)m->buf;
	struct genlmsghdr *g;

	memset(m->buf, 0, NLMSG_HDRLEN + GENL_HDRLEN);
	nlh->nlmsg_type = type;
	nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK;
	g = (struct genlmsghdr *)(m->buf + NLMSG_HDRLEN);
	g->cmd = cmd;
	g->version = version;
	m->len = NLMSG_HDRLEN + GENL_HDRLEN;
}

void gr_put(struct gr_msg *m, uint16_t type, const void *data, size_t len)
{
	struct nlattr *a = (struct nlattr *)(m->buf + m->len);
	size_t total = NLA_ALIGN(NLA_HDRLEN + len);

	if (m->len + total > sizeof(m->buf))
		return;
	memset(a, 0, total);
	a->nla_type = type;
	a->nla_len = NLA_HDRLEN + len;
	if (len)
		memcpy((char *)a + NLA_HDRLEN, data, len);
	m->len += total;
}

void gr_put_u32(struct gr_msg *m, uint16_t type, uint32_t v)
{
	gr_put(m, type, &v, sizeof(v));
}

static void gr_parse_attrs(const char *p, size_t len,
			   const struct nlattr **tb, int max)
{
	memset(tb, 0, sizeof(*tb) * (max + 1));
	while (len >= NLA_HDRLEN) {
		const struct nlattr *a = (const struct nlattr *)p;
		size_t alen = NLA_ALIGN(a->nla_len);
		int type = a->nla_type & NLA_TYPE_MASK;

		if (a->nla_len < NLA_HDRLEN || a->nla_len > len)
			return;
		if (type <= max)
			tb[type] = a;
		if (alen > len)
			return;
		p += alen;
		len -= alen;
	}
}

void gr_parse_nested(const struct nlattr *a, const struct nlattr **tb, int max)
{
	gr_parse_attrs((const char *)a + NLA_HDRLEN, a->nla_len - NLA_HDRLEN, tb, max);
}

static void gr_parse_error(const struct nlmsghdr *nlh, struct gr_reply *r)
{
	const struct nlmsgerr *e = NLMSG_DATA(nlh);
	const struct nlattr *tb[NLMSGERR_ATTR_MAX + 1];
	size_t off = NLMSG_HDRLEN + sizeof(*e);

	r->err = e->error;
	if (!(nlh->nlmsg_flags & NLM_F_ACK_TLVS) || nlh->nlmsg_len <= off)
		return;
	/* NETLINK_CAP_ACK: the request is not echoed back, TLVs follow. */
	gr_parse_attrs((const char *)nlh + off, nlh->nlmsg_len - off, tb,
		       NLMSGERR_ATTR_MAX);
	if (tb[NLMSGERR_ATTR_MSG]) {
		size_t n = tb[NLMSGERR_ATTR_MSG]->nla_len - NLA_HDRLEN;

		if (n >= sizeof(r->extack))
			n = sizeof(r->extack) - 1;
		memcpy(r->extack, (const char *)tb[NLMSGERR_ATTR_MSG] + NLA_HDRLEN, n);
		r->extack[n] = '\0';
	}
	if (tb[NLMSGERR_ATTR_OFFS]) {
		r->has_offs = 1;
		r->offs = gr_get_u32(tb[NLMSGERR_ATTR_OFFS]);
	}
}

/* @no_ack: the request goes without NLM_F_ACK and its reply ends it. */
static int gr_exchange(struct gr_sock *s, struct gr_msg *m, struct gr_reply *r,
		       int no_ack)
{
	struct nlmsghdr *nlh = (struct nlmsghdr *)m->buf;
	char buf[GR_BUF_SIZE * 2];
	uint32_t seq = ++s->seq;

	memset(r, 0, sizeof(*r));
	nlh->nlmsg_len = m->len;
	nlh->nlmsg_seq = seq;
	if (no_ack)
		nlh->nlmsg_flags &= ~NLM_F_ACK;
	if (send(s->fd, m->buf, m->len, 0) != (ssize_t)m->len)
		return -errno;

	for (;;) {
		ssize_t n = recv(s->fd, buf, sizeof(buf), 0);
		struct nlmsghdr *h;
		size_t left;

		if (n < 0)
			return -errno;
		left = n;
		for (h = (struct nlmsghdr *)buf; NLMSG_OK(h, left);
		     h = NLMSG_NEXT(h, left)) {
			if (h->nlmsg_seq != seq)
				continue;
			if (h->nlmsg_type == NLMSG_ERROR) {
				gr_parse_error(h, r);
				return 0;
			}
			if (h->nlmsg_len > NLMSG_HDRLEN + GENL_HDRLEN) {
				const struct genlmsghdr *g = NLMSG_DATA(h);
				size_t dl = h->nlmsg_len - NLMSG_HDRLEN - GENL_HDRLEN;

				if (dl > sizeof(r->data))
					return -EMSGSIZE;
				r->has_data = 1;
				r->cmd = g->cmd;
				memcpy(r->data, (const char *)g + GENL_HDRLEN, dl);
				r->data_len = dl;
				gr_parse_attrs(r->data, dl, r->attrs, GR_ATTR_MAX);
				if (no_ack)
					return 0;
			}
		}
	}
}

int gr_transact(struct gr_sock *s, struct gr_msg *m, struct gr_reply *r)
{
	return gr_exchange(s, m, r, 0);
}

int gr_subscribe(struct gr_sock *s, int family, struct gr_reply *r)
{
	struct gr_msg m;
	int err;

	gr_start(&m, family, GOMEMGUARD_CMD_EVENTS_SUBSCRIBE,
		 GOMEMGUARD_GENL_VERSION);
	err = gr_exchange(s, &m, r, 1);
	if (err)
		return err;
	if (r->err)
		return r->err;
	return r->has_data && r->cmd == GOMEMGUARD_CMD_EVENTS_SUBSCRIBE &&
	       r->attrs[GOMEMGUARD_A_SEQ] ? 0 : -EPROTO;
}

static void gr_take_data(const struct nlmsghdr *h, struct gr_reply *r)
{
	const struct genlmsghdr *g = NLMSG_DATA(h);
	size_t dl = h->nlmsg_len - NLMSG_HDRLEN - GENL_HDRLEN;

	memset(r, 0, sizeof(*r));
	if (h->nlmsg_len < NLMSG_HDRLEN + GENL_HDRLEN || dl > sizeof(r->data))
		return;
	r->has_data = 1;
	r->cmd = g->cmd;
	memcpy(r->data, (const char *)g + GENL_HDRLEN, dl);
	r->data_len = dl;
	gr_parse_attrs(r->data, dl, r->attrs, GR_ATTR_MAX);
}

int gr_recv_event(struct gr_sock *s, int timeout_ms, struct gr_reply *r)
{
	struct pollfd p = { .fd = s->fd, .events = POLLIN };
	char buf[GR_BUF_SIZE];
	ssize_t n;

	for (;;) {
		int ret = poll(&p, 1, timeout_ms);

		if (ret < 0)
			return -errno;
		if (!ret)
			return -ETIMEDOUT;
		n = recv(s->fd, buf, sizeof(buf), MSG_TRUNC);
		if (n < 0)
			return -errno;
		/* An event cut short would just be missing: say so. */
		if ((size_t)n > sizeof(buf)) {
			fprintf(stderr, "# gr_recv_event: a %zd-byte message truncated\n", n);
			return -EMSGSIZE;
		}
		/* Notifications have portid 0 and come one per datagram. */
		if (NLMSG_OK((struct nlmsghdr *)buf, (size_t)n) &&
		    ((struct nlmsghdr *)buf)->nlmsg_type >= NLMSG_MIN_TYPE) {
			gr_take_data((struct nlmsghdr *)buf, r);
			if (r->has_data)
				return 0;
		}
	}
}

int gr_dump(struct gr_sock *s, struct gr_msg *m,
	    void (*cb)(const struct gr_reply *r, void *arg), void *arg)
{
	struct nlmsghdr *nlh = (struct nlmsghdr *)m->buf;
	static char buf[GR_BUF_SIZE * 8];
	struct gr_reply *r = malloc(sizeof(*r));
	uint32_t seq = ++s->seq;
	int err = -EPROTO;

	if (!r)
		return -ENOMEM;
	nlh->nlmsg_len = m->len;
	nlh->nlmsg_seq = seq;
	nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
	if (send(s->fd, m->buf, m->len, 0) != (ssize_t)m->len) {
		free(r);
		return -errno;
	}
	for (;;) {
		ssize_t n = recv(s->fd, buf, sizeof(buf), 0);
		struct nlmsghdr *h;
		size_t left;

		if (n < 0) {
			err = -errno;
			break;
		}
		left = n;
		for (h = (struct nlmsghdr *)buf; NLMSG_OK(h, left);
		     h = NLMSG_NEXT(h, left)) {
			if (h->nlmsg_seq != seq)
				continue;
			if (h->nlmsg_type == NLMSG_DONE) {
				err = *(int *)NLMSG_DATA(h);
				goto out;
			}
			if (h->nlmsg_type == NLMSG_ERROR) {
				err = ((struct nlmsgerr *)NLMSG_DATA(h))->error;
				goto out;
			}
			gr_take_data(h, r);
			if (r->has_data && cb)
				cb(r, arg);
		}
	}
out:
	free(r);
	return err;
}

static int gr_getfamily(struct gr_sock *s, const char *name,
			struct gr_reply *r)
{
	struct gr_msg m;
	int err;

	gr_start(&m, GENL_ID_CTRL, CTRL_CMD_GETFAMILY, 1);
	gr_put(&m, CTRL_ATTR_FAMILY_NAME, name, strlen(name) + 1);
	err = gr_transact(s, &m, r);
	if (err)
		return err;
	if (r->err)
		return r->err;
	return r->has_data ? 0 : -EPROTO;
}

int gr_family(struct gr_sock *s, const char *name)
{
	struct gr_reply r;
	int err = gr_getfamily(s, name, &r);

	if (err)
		return err;
	if (!r.attrs[CTRL_ATTR_FAMILY_ID])
		return -EPROTO;
	return *(const uint16_t *)((const char *)r.attrs[CTRL_ATTR_FAMILY_ID] +
				   NLA_HDRLEN);
}

uint32_t gr_get_u32(const struct nlattr *a)
{
	uint32_t v;

	memcpy(&v, (const char *)a + NLA_HDRLEN, sizeof(v));
	return v;
}

uint64_t gr_get_u64(const struct nlattr *a)
{
	uint64_t v;

	memcpy(&v, (const char *)a + NLA_HDRLEN, sizeof(v));
	return v;
}

const char *gr_get_str(const struct nlattr *a)
{
	return (const char *)a + NLA_HDRLEN;
}
