// SPDX-License-Identifier: GPL-2.0
/*
 * GOMEMLIMIT and GOGC, parsed the way Go's runtime parses them (runtime's
 * readGOMEMLIMIT, parseByteCount, readGOGC and atoi64 in Go 1.19): what
 * gomemctl reports is what the program lives with, not what a person
 * would have meant.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "goenv.h"

/* An environment is at most what execve() takes; this is far beyond. */
#define ENVIRON_MAX (16 << 20)

/*
 * Go's atoi64: an optional "-", then decimal digits, within int64.  A
 * negative result is the caller's to refuse ("-0" is 0, and valid).
 */
static int atoi64(const char *s, size_t len, int64_t *out)
{
	uint64_t n = 0;
	bool neg = false;
	size_t i = 0;

	if (len && s[0] == '-') {
		neg = true;
		i = 1;
	}
	if (i == len)
		return -EINVAL;
	for (; i < len; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -EINVAL;
		if (__builtin_mul_overflow(n, 10, &n) ||
		    __builtin_add_overflow(n, (uint64_t)(s[i] - '0'), &n))
			return -EINVAL;
	}
	if (n > (uint64_t)INT64_MAX + neg)
		return -EINVAL;
	/* -(INT64_MAX + 1) without overflowing on the way. */
	*out = neg ? (int64_t)(0 - n) : (int64_t)n;
	return 0;
}

int goenv_parse_memlimit(const char *s, uint64_t *bytes)
{
	size_t len = strlen(s), digits;
	uint64_t mult = 1;
	int64_t n;

	if (!len)
		return -EINVAL;
	if (s[len - 1] >= '0' && s[len - 1] <= '9') {
		digits = len;
	} else if (s[len - 1] != 'B' || len < 2) {
		return -EINVAL;
	} else if (s[len - 2] >= '0' && s[len - 2] <= '9') {
		digits = len - 1;
	} else if (s[len - 2] != 'i' || len < 4) {
		return -EINVAL;
	} else {
		switch (s[len - 3]) {
		case 'T':
			mult <<= 10;
			/* fall through */
		case 'G':
			mult <<= 10;
			/* fall through */
		case 'M':
			mult <<= 10;
			/* fall through */
		case 'K':
			mult <<= 10;
			break;
		default:
			return -EINVAL;
		}
		digits = len - 3;
	}
	if (atoi64(s, digits, &n) || n < 0 ||
	    __builtin_mul_overflow((uint64_t)n, mult, bytes) ||
	    *bytes > (uint64_t)INT64_MAX)
		return -EINVAL;
	return 0;
}

void goenv_printable(char *dst, size_t size, const char *src, size_t len)
{
	size_t i;

	for (i = 0; i + 1 < size && i < len && src[i]; i++)
		dst[i] = src[i] >= 0x20 && src[i] < 0x7f ? src[i] : '?';
	dst[i] = '\0';
}

/* The value of the first "name=" in env, or NULL; its length in *len. */
static const char *lookup(const char *env, size_t env_len, const char *name,
			  size_t *len)
{
	size_t name_len = strlen(name), pos = 0;

	while (pos < env_len) {
		const char *var = env + pos;
		const char *nul = memchr(var, '\0', env_len - pos);
		size_t var_len = nul ? (size_t)(nul - var) : env_len - pos;

		if (var_len > name_len && var[name_len] == '=' &&
		    !memcmp(var, name, name_len)) {
			*len = var_len - name_len - 1;
			return var + name_len + 1;
		}
		pos += var_len + 1;
	}
	return NULL;
}

/*
 * readGOMEMLIMIT: empty and "off" mean no limit.  A value too long to keep
 * is not one Go accepts either: the longest valid one has 19 digits.
 */
static void parse_memlimit(struct goenv *e, const char *v, size_t len)
{
	char buf[GOENV_VALUE_MAX];

	e->has_gomemlimit = true;
	goenv_printable(e->gomemlimit, sizeof(e->gomemlimit), v, len);
	if (!len) {
		e->memlimit = GOENV_UNSET;
	} else if (len >= sizeof(buf)) {
		e->memlimit = GOENV_INVALID;
	} else {
		memcpy(buf, v, len);
		buf[len] = '\0';
		if (!strcmp(buf, "off"))
			e->memlimit = GOENV_OFF;
		else if (goenv_parse_memlimit(buf, &e->memlimit_bytes))
			e->memlimit = GOENV_INVALID;
		else
			e->memlimit = GOENV_BYTES;
	}
}

/* readGOGC: "off", or an int32 (negative is off too), else 100. */
static void parse_gogc(struct goenv *e, const char *v, size_t len)
{
	int64_t n;

	e->has_gogc = true;
	goenv_printable(e->gogc, sizeof(e->gogc), v, len);
	if (len == 3 && !memcmp(v, "off", 3)) {
		e->gogc_off = true;
	} else if (!atoi64(v, len, &n) && n == (int32_t)n) {
		e->gogc_off = n < 0;
		e->gogc_pct = (int32_t)n;
	}
}

void goenv_parse(const char *env, size_t len, struct goenv *e)
{
	const char *v;
	size_t vlen;

	memset(e, 0, sizeof(*e));
	e->gogc_pct = 100;
	v = lookup(env, len, "GOMEMLIMIT", &vlen);
	if (v)
		parse_memlimit(e, v, vlen);
	v = lookup(env, len, "GOGC", &vlen);
	if (v)
		parse_gogc(e, v, vlen);
}

int goenv_read(const char *proc, int pid, struct goenv *e)
{
	size_t len = 0, cap = 0;
	char path[4096], *buf = NULL, *bigger;
	ssize_t n = -1;
	int fd, err = 0;

	snprintf(path, sizeof(path), "%s/%d/environ", proc, pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	do {
		if (len == cap) {
			if (cap >= ENVIRON_MAX) {
				err = -EFBIG;
				break;
			}
			cap = cap ? cap * 2 : 4096;
			bigger = realloc(buf, cap);
			if (!bigger) {
				err = -ENOMEM;
				break;
			}
			buf = bigger;
		}
		n = read(fd, buf + len, cap - len);
		if (n < 0 && errno != EINTR)
			err = -errno;
		else if (n > 0)
			len += (size_t)n;
	} while (!err && n != 0);
	close(fd);
	if (!err)
		goenv_parse(buf, len, e);
	free(buf);
	return err;
}
