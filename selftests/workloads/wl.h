/* SPDX-License-Identifier: GPL-2.0 */
/*
 * What the C workloads share: size and duration arguments that read like
 * the Go workloads' flags, the ready file, the SIGUSR1 log, sleeping and
 * touching memory. Everything that fails here exits: these are test
 * programs, and a half-working one would only make a test lie.
 */
#ifndef WL_H
#define WL_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define NSEC_PER_SEC 1000000000ULL
#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/*
 * The bytes the program says it holds, logged with each SIGUSR1. Lock-free
 * on every architecture the tests run on, so the handler may read it.
 */
extern _Atomic long long wl_bytes;

/*
 * Line-buffer stdout and remember the program's usage function (which
 * prints to stderr) for the argument parsers below.
 */
void wl_init(const char *prog, void (*usage)(void));
const char *wl_prog(void);
_Noreturn void wl_usage(void);

/*
 * Argument values; a bad one prints "<prog>: bad <what> for -<opt>: <arg>"
 * and the usage, and exits 2. Sizes: a whole number with an optional K, M,
 * G or T suffix (powers of 1024, any case, optionally followed by iB or B).
 * Durations: a number with an optional unit ns, us, ms, s, m or h; no unit
 * means seconds.
 */
uint64_t wl_size_arg(const char *opt, const char *arg);
uint64_t wl_duration_arg(const char *opt, const char *arg);
unsigned int wl_uint_arg(const char *opt, const char *arg);
int wl_parse_size(const char *s, uint64_t *bytes);
int wl_parse_duration(const char *s, uint64_t *ns);

/*
 * "<prog>: <message>", the usage, exit 2: for arguments that parse but
 * make no sense.
 */
_Noreturn void wl_usage_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Reject leftover arguments after getopt_long_only(). */
void wl_no_args(int argc, char **argv);

_Noreturn void wl_die(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

uint64_t wl_now_ns(void);		/* CLOCK_MONOTONIC */
void wl_sleep_until(uint64_t when);	/* CLOCK_MONOTONIC, restarts on signals */

/*
 * Take over SIGUSR1 (gomemguard's signal fuse): for each one, print
 * "SIGUSR1 <unix-nanos> <wl_bytes>" on stdout and, if sigfile is not NULL,
 * append the same line to it and fsync. with_pid adds " pid=<pid>", for
 * programs whose children share the file. Handled by whichever thread does
 * not block SIGUSR1, with SA_RESTART.
 */
void wl_sigusr1_init(const char *sigfile, bool with_pid);

/*
 * Write "<pid>\n" to readyfile (if not NULL) whole, by rename, then print
 * "ready pid=<pid>".
 */
void wl_ready(const char *readyfile);

/* Fresh private anonymous memory; nohuge asks for 4 KiB pages only. */
void *wl_map(size_t size, bool nohuge);
/* Write one byte in each page, one page at a time. */
void wl_touch(void *p, size_t size);
size_t wl_page_size(void);

#endif
