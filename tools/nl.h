/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The one way gomemctl talks to gomemguard.ko: a generic-netlink socket with
 * extended ACKs, the family resolved by name (which autoloads the module when
 * run as root), requests answered by replies and an ACK (or a dump's end),
 * events on a subscribed socket, and the one place where the kernel's
 * errors are put into words.
 */
#ifndef GOMEMCTL_NL_H
#define GOMEMCTL_NL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <netlink/attr.h>
#include <netlink/msg.h>

#include <linux/gomemguard.h>

struct gmc_nl;

/*
 * Called for each reply or notification, its attributes checked against the
 * family's types and indexed by GOMEMGUARD_A_*.  Returns 0, or -1 after
 * reporting why.
 */
typedef int (*gmc_nl_reply_fn)(struct gmc_nl *nl, struct nlattr *tb[],
			       void *arg);

/* verb names the command in error messages.  NULL: already reported. */
struct gmc_nl *gmc_nl_open(const char *verb);
void gmc_nl_close(struct gmc_nl *nl);

/*
 * Whether the last gmc_nl_open*() failed because the module is not loaded
 * and resolving its family did not load it (gomemctl then exits 3).
 */
bool gmc_nl_module_missing(void);
/*
 * Whether sysfs shows the module (gmc_nl_module_dir: the tests point it
 * elsewhere), without looking its family up, which loads it.
 */
extern const char *gmc_nl_module_dir;
/* Where a module not loaded is told apart from one that cannot be. */
extern const char *gmc_nl_proc_cgroups;
bool gmc_nl_module_loaded(void);
/*
 * on (the default): gmc_nl_open*() look the family up by name, which
 * loads the module on first use.  off: only a family that is there is
 * found (monitor, once it has seen the module: an operator's rmmod
 * stands, even one caught halfway).
 */
void gmc_nl_autoload(bool on);

/*
 * quiet: gmc_nl_open*() keep why they found no family to themselves, for
 * gmc_nl_resolve_why(): monitor says it once, not on every retry.
 */
void gmc_nl_quiet_resolve(bool quiet);
/* Why the last gmc_nl_open*() found no family, or "". */
const char *gmc_nl_resolve_why(void);

/* The family's ID: a module unloaded and loaded again gets another one. */
int gmc_nl_family(const struct gmc_nl *nl);

/* A request for cmd with NLM_F_* flags; add attributes with nla_put_*(). */
struct nl_msg *gmc_nl_request(struct gmc_nl *nl, uint8_t cmd, int flags);

/*
 * Sends req (and frees it), passes each reply to fn (NULL: none expected)
 * and waits for the ACK.  A dump (NLM_F_DUMP) may have no replies at all,
 * and ends with NLMSG_DONE, whose errno and extack are reported like an
 * error ACK's.  A dump's replies reach fn only once the whole dump has
 * arrived consistent: one the module flagged NLM_F_DUMP_INTR (the set
 * changed meanwhile) is thrown away and asked for again, up to 5 times in
 * all.  Returns 0, or -1 after reporting the error.
 */
int gmc_nl_transact(struct gmc_nl *nl, struct nl_msg *req,
		    gmc_nl_reply_fn fn, void *arg);

/*
 * The next gmc_nl_transact() does not report an error ACK of err (a
 * negative errno): it returns -1, and gmc_nl_held_error() says err until
 * the next gmc_nl_expect_error().  gmc_nl_report_held() reports it, with
 * the kernel's extack, as gmc_nl_transact() would have.
 */
void gmc_nl_expect_error(struct gmc_nl *nl, int err);
int gmc_nl_held_error(const struct gmc_nl *nl);
void gmc_nl_report_held(const struct gmc_nl *nl);

/* The first attribute of types[] that tb[] lacks, or 0. */
int gmc_nl_missing(struct nlattr *tb[], const int types[], size_t n);

/* 0 if tb[] holds every attribute in types[], else -1 after saying which not. */
int gmc_nl_require(struct gmc_nl *nl, struct nlattr *tb[], const int types[],
		   size_t n);

/* An attribute's name in messages: its JSON key, or "#<type>". */
const char *gmc_nl_attr_name(int type, char *buf, size_t len);

/*
 * The attributes inside nest (SNAPSHOT, SNAPSHOT_PROC, HOOKS), checked
 * against the family's types like a message's and indexed the same way; of
 * attributes repeated in a list, tb[] holds the last.  Returns 0, or -1
 * after reporting that the message is malformed.
 */
int gmc_nl_parse_nested(struct gmc_nl *nl, struct nlattr *tb[],
			struct nlattr *nest);

/* LEVELS of a reply (checked on arrival) into levels[]: how many. */
size_t gmc_nl_get_levels(const struct nlattr *attr,
			 uint32_t levels[GOMEMGUARD_LEVELS_MAX]);

/*
 * A socket of its own subscribed to the module's events, with a large
 * receive buffer.  NULL: already reported.
 */
struct gmc_nl *gmc_nl_open_events(const char *verb);

/* What to poll(2) for POLLIN before gmc_nl_listen(). */
int gmc_nl_fd(const struct gmc_nl *nl);

/*
 * Reads what has arrived (without waiting) and passes each notification of
 * cmd to fn; malformed ones are reported and skipped.  Returns 0; -ENOBUFS,
 * unreported, when the socket overflowed and notifications were lost; or -1
 * after reporting an error (or fn's).
 */
int gmc_nl_listen(struct gmc_nl *nl, uint8_t cmd, gmc_nl_reply_fn fn,
		  void *arg);

#endif /* GOMEMCTL_NL_H */
