/* SPDX-License-Identifier: GPL-2.0 */
/*
 * A Go program's memory settings as its runtime read them at start-up:
 * GOMEMLIMIT and GOGC in the environment it was started with
 * (/proc/PID/environ, which later os.Setenv() calls do not change, nor do
 * they change the runtime's settings).  A limit set from the program itself
 * with debug.SetMemoryLimit() is invisible from outside.
 */
#ifndef GOMEMCTL_GOENV_H
#define GOMEMCTL_GOENV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Raw values are kept up to this many bytes, NUL included. */
#define GOENV_VALUE_MAX 64

enum goenv_memlimit {
	GOENV_UNSET,		/* not in the environment, or empty */
	GOENV_OFF,		/* "off": no limit */
	GOENV_BYTES,		/* a byte count, in memlimit_bytes */
	GOENV_INVALID,		/* Go 1.19+ refuses to start with it */
};

struct goenv {
	bool has_gomemlimit, has_gogc;	/* the variables are set */
	char gomemlimit[GOENV_VALUE_MAX];	/* raw, printable */
	char gogc[GOENV_VALUE_MAX];
	enum goenv_memlimit memlimit;
	uint64_t memlimit_bytes;
	bool gogc_off;
	int32_t gogc_pct;		/* when !gogc_off: 100 unless set */
};

/*
 * GOMEMLIMIT's syntax, exactly as Go's runtime parses it (parseByteCount):
 * decimal digits, optionally followed by "B" or by "KiB", "MiB", "GiB" or
 * "TiB" (powers of 1024, case-sensitive), at most 2^63 - 1 bytes.  No
 * spaces, fractions or other units: "64MiB" is valid, "64M" and "64MB" are
 * not.  Returns 0, or -EINVAL.
 */
int goenv_parse_memlimit(const char *s, uint64_t *bytes);

/*
 * The settings in an environment block as /proc/PID/environ holds it:
 * "NAME=value" strings, each ended by a NUL (the last one may lack it).
 * The first definition of a name counts, as in Go's runtime.
 */
void goenv_parse(const char *env, size_t len, struct goenv *e);

/*
 * The same from /proc/<pid>/environ under proc.  Returns 0, or -errno
 * (EACCES: another user's process; ESRCH or ENOENT: it is gone).
 */
int goenv_read(const char *proc, int pid, struct goenv *e);

/*
 * Copies at most len bytes of src, up to a NUL, into dst (size > 0) with
 * every byte that is not printable ASCII replaced by '?': text from a
 * process or its binary that is safe on a terminal and valid in JSON.
 */
void goenv_printable(char *dst, size_t size, const char *src, size_t len);

#endif /* GOMEMCTL_GOENV_H */
