/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The one way gomemctl talks to gomemguard.ko: a generic-netlink socket with
 * extended ACKs, the family resolved by name (which autoloads the module when
 * run as root), requests answered by replies and an ACK, and the one place
 * where the kernel's errors are put into words.
 */
#ifndef GOMEMCTL_NL_H
#define GOMEMCTL_NL_H

#include <stddef.h>
#include <stdint.h>

#include <netlink/attr.h>
#include <netlink/msg.h>

#include <linux/gomemguard.h>

struct gmc_nl;

/*
 * Called for each reply, its attributes checked against the family's types
 * and indexed by GOMEMGUARD_A_*.  Returns 0, or -1 after reporting why.
 */
typedef int (*gmc_nl_reply_fn)(struct gmc_nl *nl, struct nlattr *tb[],
			       void *arg);

/* verb names the command in error messages.  NULL: already reported. */
struct gmc_nl *gmc_nl_open(const char *verb);
void gmc_nl_close(struct gmc_nl *nl);

/* A request for cmd with NLM_F_* flags; add attributes with nla_put_*(). */
struct nl_msg *gmc_nl_request(struct gmc_nl *nl, uint8_t cmd, int flags);

/*
 * Sends req (and frees it), passes each reply to fn (NULL: none expected)
 * and waits for the ACK.  Returns 0, or -1 after reporting the error.
 */
int gmc_nl_transact(struct gmc_nl *nl, struct nl_msg *req,
		    gmc_nl_reply_fn fn, void *arg);

/* 0 if tb[] holds every attribute in types[], else -1 after saying which not. */
int gmc_nl_require(struct gmc_nl *nl, struct nlattr *tb[], const int types[],
		   size_t n);

#endif /* GOMEMCTL_NL_H */
