/* SPDX-License-Identifier: GPL-2.0 */
/*
 * What every verb shares: its entry point, exit codes, error and usage lines.
 *
 * Adding a verb: write <verb>.c with <verb>_main(), declare it below and add
 * one line to the verb table in gomemctl.c.  The Makefile builds every .c.
 */
#ifndef GOMEMCTL_H
#define GOMEMCTL_H

#include <stdio.h>

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/* Exit codes, documented in gomemctl.8. */
enum {
	GMC_EXIT_OK = 0,
	GMC_EXIT_ERROR = 1,	/* run time: kernel, netlink, output */
	GMC_EXIT_USAGE = 2,	/* bad command line */
	GMC_EXIT_UNAVAILABLE = 3,	/* the module is not loaded */
};

/*
 * A verb gets argv starting at its own name and getopt reset; it returns an
 * exit code.  Every verb takes -h/--help.
 */
int tag_main(int argc, char *argv[]);
int untag_main(int argc, char *argv[]);
int set_main(int argc, char *argv[]);
int show_main(int argc, char *argv[]);
int oom_main(int argc, char *argv[]);
int monitor_main(int argc, char *argv[]);
int info_main(int argc, char *argv[]);
int config_main(int argc, char *argv[]);
int discover_main(int argc, char *argv[]);
int policy_main(int argc, char *argv[]);

/* "gomemctl: <verb>: <message>" on stderr; verb may be NULL. */
void gmc_err(const char *verb, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* A line on stderr that continues the one before ("kernel reports: ..."). */
void gmc_note(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/*
 * While buf is set, what gmc_err() and gmc_note() would print goes there
 * instead, lines joined by "; " (and cut at len): monitor, retrying, says
 * why once rather than on every try.  NULL: stderr again.
 */
void gmc_err_capture(char *buf, size_t len);

/*
 * getopt_long() with opterr = 0 and an optstring starting "+:" returned c
 * ('?' or ':'): says what was wrong with the option.
 */
void gmc_bad_option(const char *verb, int c, char *argv[]);

#endif /* GOMEMCTL_H */
