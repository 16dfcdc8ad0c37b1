// SPDX-License-Identifier: GPL-2.0
/*
 * Signal names: a table of our own rather than sigabbrev_np(), which does
 * not know the aliases people type (IOT, CLD, POLL) and is glibc-only.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include <linux/gomemguard.h>

#include "signals.h"
#include "units.h"

/* The first name of a number is the one signal_format() writes. */
static const struct {
	const char *name;
	int sig;
} names[] = {
	{ "HUP", SIGHUP },
	{ "INT", SIGINT },
	{ "QUIT", SIGQUIT },
	{ "ILL", SIGILL },
	{ "TRAP", SIGTRAP },
	{ "ABRT", SIGABRT },
	{ "IOT", SIGIOT },
	{ "BUS", SIGBUS },
	{ "FPE", SIGFPE },
	{ "KILL", SIGKILL },
	{ "USR1", SIGUSR1 },
	{ "SEGV", SIGSEGV },
	{ "USR2", SIGUSR2 },
	{ "PIPE", SIGPIPE },
	{ "ALRM", SIGALRM },
	{ "TERM", SIGTERM },
#ifdef SIGSTKFLT
	{ "STKFLT", SIGSTKFLT },
#endif
	{ "CHLD", SIGCHLD },
	{ "CLD", SIGCHLD },
	{ "CONT", SIGCONT },
	{ "STOP", SIGSTOP },
	{ "TSTP", SIGTSTP },
	{ "TTIN", SIGTTIN },
	{ "TTOU", SIGTTOU },
	{ "URG", SIGURG },
	{ "XCPU", SIGXCPU },
	{ "XFSZ", SIGXFSZ },
	{ "VTALRM", SIGVTALRM },
	{ "PROF", SIGPROF },
	{ "WINCH", SIGWINCH },
	{ "IO", SIGIO },
	{ "POLL", SIGPOLL },
	{ "PWR", SIGPWR },
	{ "SYS", SIGSYS },
};

static const char unknown[] = "unknown signal name (see kill -l)";

/* After "RTMIN" or "RTMAX": nothing, or "+N" / "-N" respectively. */
static int parse_rt(const char *s, int base, char sign, uint32_t *sig,
		    const char **why)
{
	uint32_t n;
	int err;

	if (!*s) {
		*sig = (uint32_t)base;
		return 0;
	}
	if (*s != sign) {
		*why = unknown;
		return -EINVAL;
	}
	err = units_parse_u32(s + 1, &n, why);
	if (err == -EINVAL)
		*why = "RTMIN+N and RTMAX-N need a number N";
	if (err)
		return err;
	if (n > (uint32_t)(SIGRTMAX - SIGRTMIN)) {
		*why = "beyond the real-time signals RTMIN..RTMAX";
		return -ERANGE;
	}
	*sig = sign == '+' ? (uint32_t)base + n : (uint32_t)base - n;
	return 0;
}

int signal_parse(const char *s, uint32_t *sig, const char **why)
{
	size_t i;

	if (!*s) {
		*why = "empty";
		return -EINVAL;
	}
	if (*s >= '0' && *s <= '9')
		return units_parse_u32(s, sig, why);
	if (!strncasecmp(s, "SIG", 3))
		s += 3;
	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		if (!strcasecmp(s, names[i].name)) {
			*sig = (uint32_t)names[i].sig;
			return 0;
		}
	}
	if (!strncasecmp(s, "RTMIN", 5))
		return parse_rt(s + 5, SIGRTMIN, '+', sig, why);
	if (!strncasecmp(s, "RTMAX", 5))
		return parse_rt(s + 5, SIGRTMAX, '-', sig, why);
	*why = unknown;
	return -EINVAL;
}

int signal_parse_fuse(const char *s, uint32_t *sig, const char **why)
{
	int err = signal_parse(s, sig, why);

	if (err)
		return err;
	/* The module's policy: 1..GOMEMGUARD_SIGNAL_MAX, as RTMIN+N is. */
	if (*sig > GOMEMGUARD_SIGNAL_MAX) {
		*why = "beyond the signals the kernel has (1 to 64, SIGRTMAX)";
		return -ERANGE;
	}
	if (*sig == SIGSTOP || *sig == SIGTSTP || *sig == SIGTTIN ||
	    *sig == SIGTTOU) {
		*why = "a stop signal: the module refuses STOP, TSTP, TTIN and TTOU (a stopped service looks alive and serves nothing)";
		return -EINVAL;
	}
	return 0;
}

char *signal_format(char *buf, size_t len, uint32_t sig)
{
	size_t i;

	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		if ((uint32_t)names[i].sig == sig) {
			snprintf(buf, len, "SIG%s", names[i].name);
			return buf;
		}
	}
	if (sig == (uint32_t)SIGRTMAX)
		snprintf(buf, len, "SIGRTMAX");
	else if (sig == (uint32_t)SIGRTMIN)
		snprintf(buf, len, "SIGRTMIN");
	else if (sig > (uint32_t)SIGRTMIN && sig < (uint32_t)SIGRTMAX)
		snprintf(buf, len, "SIGRTMIN+%u", sig - (uint32_t)SIGRTMIN);
	else
		snprintf(buf, len, "%u", sig);
	return buf;
}
