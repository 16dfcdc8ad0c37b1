/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Signal names as kill(1) takes them, for the memory fuse (--signal).
 */
#ifndef GOMEMCTL_SIGNALS_H
#define GOMEMCTL_SIGNALS_H

#include <stddef.h>
#include <stdint.h>

/* Big enough for any name signal_format() writes. */
#define SIGNAL_BUF_LEN 16

/*
 * "USR1", "SIGUSR1", "sigterm", "RTMIN", "RTMIN+3", "SIGRTMAX-1" (letters in
 * any case; RTMIN and RTMAX are the C library's, as for kill(1)), or a
 * decimal number, which is taken as it is: whether the module can send it is
 * the module's call.  Returns 0, or -EINVAL / -ERANGE with *why set as
 * units_parse_*() do.
 */
int signal_parse(const char *s, uint32_t *sig, const char **why);

/*
 * The same for the memory fuse (--signal): a stop signal (STOP, TSTP, TTIN,
 * TTOU, by name or number) is refused with -EINVAL, as the module refuses
 * it: a stopped service looks alive and serves nothing; a number above
 * GOMEMGUARD_SIGNAL_MAX (64) with -ERANGE, as the module's policy refuses
 * it.  KILL is allowed.
 */
int signal_parse_fuse(const char *s, uint32_t *sig, const char **why);

/* "SIGUSR1", "SIGRTMIN+3", or the number when the signal has no name. */
char *signal_format(char *buf, size_t len, uint32_t sig);

#endif /* GOMEMCTL_SIGNALS_H */
