/* SPDX-License-Identifier: GPL-2.0 */
/*
 * What tag, untag and set share: the target (a PID or --cgroup PATH), the
 * tag settings, their parsing and their netlink attributes.  Each verb's file
 * holds its option table, its help and a struct tag_verb.  tag --go (several
 * PIDs, or --all) is parsed here and carried out by tag.c.
 */
#ifndef GOMEMCTL_TAGARGS_H
#define GOMEMCTL_TAGARGS_H

#include <getopt.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <netlink/msg.h>

#include <linux/gomemguard.h>

/* getopt_long() values of the long options. */
enum {
	TA_CGROUP = 256,
	TA_SOFT_LIMIT,
	TA_LEVELS,
	TA_ETA,
	TA_SIGNAL,
	TA_NO_SIGNAL,
	TA_RATE_WINDOW,
	TA_INHERIT,
	TA_NO_INHERIT,
	TA_GO,
	TA_ALL,
};

#define TAGARGS_OPT_CGROUP \
	{ "cgroup",	 required_argument, NULL, TA_CGROUP }
#define TAGARGS_OPTS_SETTINGS \
	{ "soft-limit",	 required_argument, NULL, TA_SOFT_LIMIT }, \
	{ "levels",	 required_argument, NULL, TA_LEVELS }, \
	{ "eta",	 required_argument, NULL, TA_ETA }, \
	{ "signal",	 required_argument, NULL, TA_SIGNAL }, \
	{ "rate-window", required_argument, NULL, TA_RATE_WINDOW }, \
	{ "inherit",	 no_argument,	    NULL, TA_INHERIT }
#define TAGARGS_OPTS_UNSET \
	{ "no-signal",	 no_argument,	    NULL, TA_NO_SIGNAL }, \
	{ "no-inherit",	 no_argument,	    NULL, TA_NO_INHERIT }
#define TAGARGS_OPTS_GO \
	{ "go",		 no_argument,	    NULL, TA_GO }, \
	{ "all",	 no_argument,	    NULL, TA_ALL }

/* What the settings options said; has_* for those given. */
struct tag_settings {
	bool has_soft_limit, has_levels, has_eta, has_signal, has_rate_window,
	     has_inherit, has_limit_origin;
	uint64_t soft_limit;
	uint32_t levels[GOMEMGUARD_LEVELS_MAX];
	size_t n_levels;
	uint32_t eta_ms, signal, rate_window_ms;
	uint8_t inherit;
	uint32_t limit_origin;	/* enum gomemguard_limit_origin */
};

/* tag --go: Go programs, each with a soft limit of its own. */
struct tag_go {
	bool all;			/* every Go program running */
	const uint32_t *pids;		/* or these */
	size_t n_pids;
	const struct tag_settings *s;
};

enum tagargs_need {
	TAGARGS_TARGET_ONLY,	/* untag */
	TAGARGS_SOFT_LIMIT,	/* tag: the module requires SOFT_LIMIT */
	TAGARGS_ANY_SETTING,	/* set: something to change */
};

struct tag_verb {
	const char *name;
	uint8_t cmd;			/* GOMEMGUARD_CMD_TAG_* */
	const struct option *opts;	/* -h and what the verb takes */
	void (*usage)(FILE *f);
	enum tagargs_need need;
	/* With TAGARGS_OPTS_GO: runs tag --go; returns the exit code. */
	int (*go)(const struct tag_verb *v, const struct tag_go *g);
};

/* The help lines of TAGARGS_OPTS_SETTINGS, with the module's defaults. */
void tagargs_usage_settings(FILE *f);

/* Parses argv as v says, sends the request, returns the exit code. */
int tagargs_main(const struct tag_verb *v, int argc, char *argv[]);

/* The settings given as attributes of req; -1 when it is full. */
int tagargs_put_settings(struct nl_msg *req, const struct tag_settings *s);

#endif /* GOMEMCTL_TAGARGS_H */
