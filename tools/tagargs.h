/* SPDX-License-Identifier: GPL-2.0 */
/*
 * What tag, untag and set share: the target (a PID or --cgroup PATH), the
 * tag settings, their parsing and their netlink attributes.  Each verb's file
 * holds its option table, its help and a struct tag_verb.
 */
#ifndef GOMEMCTL_TAGARGS_H
#define GOMEMCTL_TAGARGS_H

#include <getopt.h>
#include <stdint.h>
#include <stdio.h>

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
};

/* The help lines of TAGARGS_OPTS_SETTINGS, with the module's defaults. */
void tagargs_usage_settings(FILE *f);

/* Parses argv as v says, sends the request, returns the exit code. */
int tagargs_main(const struct tag_verb *v, int argc, char *argv[]);

#endif /* GOMEMCTL_TAGARGS_H */
