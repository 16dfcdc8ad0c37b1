// SPDX-License-Identifier: GPL-2.0
/*
 * Sizes and durations: parsing without floating point (so "1.5GiB" is exactly
 * 1610612736 and overflow is caught, not rounded), formatting for people.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "units.h"

#define NSEC_PER_USEC	1000ULL
#define NSEC_PER_MSEC	1000000ULL
#define NSEC_PER_SEC	1000000000ULL
#define NSEC_PER_MIN	(60 * NSEC_PER_SEC)
#define NSEC_PER_HOUR	(60 * NSEC_PER_MIN)
#define NSEC_PER_DAY	(24 * NSEC_PER_HOUR)

struct unit {
	const char *name;
	uint64_t mult;	/* at most UINT64_MAX / 10: see scale() */
};

static const struct unit duration_units[] = {
	{ "ns", 1 },
	{ "us", NSEC_PER_USEC },
	{ "ms", NSEC_PER_MSEC },
	{ "s", NSEC_PER_SEC },
	{ "m", NSEC_PER_MIN },
	{ "min", NSEC_PER_MIN },
	{ "h", NSEC_PER_HOUR },
	{ "d", NSEC_PER_DAY },
};

/* Largest first, one name per unit: what units_format_duration() writes. */
static const struct unit duration_fmt_units[] = {
	{ "d", NSEC_PER_DAY },
	{ "h", NSEC_PER_HOUR },
	{ "m", NSEC_PER_MIN },
	{ "s", NSEC_PER_SEC },
	{ "ms", NSEC_PER_MSEC },
	{ "us", NSEC_PER_USEC },
	{ "ns", 1 },
};

static const char size_prefixes[] = "KMGTPE";

/* ASCII only: the C library's versions depend on the locale. */
static bool is_digit(char c)
{
	return c >= '0' && c <= '9';
}

static bool is_alpha(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static char to_upper(char c)
{
	return c >= 'a' && c <= 'z' ? (char)(c - 'a' + 'A') : c;
}

/* <digits>[.<digits>], as scanned from the input. */
struct number {
	uint64_t whole;
	const char *frac;	/* the digits after the point */
	size_t frac_len;
	bool frac_nonzero;
};

static int scan_number(const char **sp, struct number *n, const char **why)
{
	const char *s = *sp;

	memset(n, 0, sizeof(*n));
	if (*s == '-') {
		*why = "must not be negative";
		return -EINVAL;
	}
	if (!is_digit(*s)) {
		*why = "not a number";
		return -EINVAL;
	}
	for (; is_digit(*s); s++) {
		if (__builtin_mul_overflow(n->whole, 10, &n->whole) ||
		    __builtin_add_overflow(n->whole, (uint64_t)(*s - '0'),
					   &n->whole)) {
			*why = "too large";
			return -ERANGE;
		}
	}
	if (*s == '.') {
		s++;
		if (!is_digit(*s)) {
			*why = "not a number";
			return -EINVAL;
		}
		n->frac = s;
		for (; is_digit(*s); s++)
			n->frac_nonzero |= *s != '0';
		n->frac_len = (size_t)(s - n->frac);
	}
	*sp = s;
	return 0;
}

/* The run of letters at *sp: a unit name. */
static size_t scan_unit(const char **sp, const char **unit)
{
	const char *s = *sp;

	*unit = s;
	while (is_alpha(*s))
		s++;
	*sp = s;
	return (size_t)(s - *unit);
}

/*
 * n * mult, the fraction truncated to a whole number.  The fraction is
 * evaluated digit by digit from the right, q = (mult * digit + q) / 10, which
 * is floor(0.<digits> * mult) exactly; q stays below mult, so each step stays
 * below 10 * mult and cannot overflow as long as mult <= UINT64_MAX / 10.
 */
static int scale(const struct number *n, uint64_t mult, uint64_t *out,
		 const char **why)
{
	uint64_t frac = 0, v;
	size_t i;

	for (i = n->frac_len; i-- > 0;)
		frac = (mult * (uint64_t)(n->frac[i] - '0') + frac) / 10;
	if (__builtin_mul_overflow(n->whole, mult, &v) ||
	    __builtin_add_overflow(v, frac, &v)) {
		*why = "too large";
		return -ERANGE;
	}
	*out = v;
	return 0;
}

int units_parse_u64(const char *s, uint64_t *out, const char **why)
{
	struct number n;
	int err;

	if (!*s) {
		*why = "empty";
		return -EINVAL;
	}
	err = scan_number(&s, &n, why);
	if (err)
		return err;
	if (*s || n.frac) {
		*why = "not a whole number";
		return -EINVAL;
	}
	*out = n.whole;
	return 0;
}

int units_parse_u32(const char *s, uint32_t *out, const char **why)
{
	uint64_t v;
	int err;

	err = units_parse_u64(s, &v, why);
	if (err)
		return err;
	if (v > UINT32_MAX) {
		*why = "larger than 4294967295";
		return -ERANGE;
	}
	*out = (uint32_t)v;
	return 0;
}

static int size_unit(const char *u, size_t len, uint64_t *mult,
		     const char **why)
{
	const char *prefix;

	if (len == 0 || (len == 1 && to_upper(u[0]) == 'B')) {
		*mult = 1;
		return 0;
	}
	prefix = strchr(size_prefixes, to_upper(u[0]));
	if (prefix) {
		const char *rest = u + 1;
		size_t rlen = len - 1;

		if (rlen == 0 || !strncasecmp(rest, "i", rlen) ||
		    !strncasecmp(rest, "ib", rlen)) {
			*mult = 1ULL << (10 * (prefix - size_prefixes + 1));
			return 0;
		}
		if (rlen == 1 && to_upper(rest[0]) == 'B') {
			*why = "ambiguous unit: use K, M, G, T, P, E or KiB, MiB, GiB, ... (powers of 1024)";
			return -EINVAL;
		}
	}
	*why = "unknown unit (use B, K, M, G, T, P or E, optionally followed by iB)";
	return -EINVAL;
}

int units_parse_size(const char *s, uint64_t *bytes, const char **why)
{
	const char *unit;
	struct number n;
	uint64_t mult;
	size_t len;
	int err;

	if (!*s) {
		*why = "empty";
		return -EINVAL;
	}
	err = scan_number(&s, &n, why);
	if (err)
		return err;
	len = scan_unit(&s, &unit);
	if (*s) {
		*why = "unexpected characters";
		return -EINVAL;
	}
	err = size_unit(unit, len, &mult, why);
	if (err)
		return err;
	if (mult == 1 && n.frac_nonzero) {
		*why = "fraction of a byte";
		return -EINVAL;
	}
	return scale(&n, mult, bytes, why);
}

static const struct unit *duration_unit(const char *u, size_t len)
{
	size_t i;

	for (i = 0; i < sizeof(duration_units) / sizeof(duration_units[0]); i++) {
		if (strlen(duration_units[i].name) == len &&
		    !strncasecmp(duration_units[i].name, u, len))
			return &duration_units[i];
	}
	return NULL;
}

int units_parse_duration(const char *s, uint64_t *ns, const char **why)
{
	const char *start = s;
	uint64_t total = 0;

	if (!*s) {
		*why = "empty";
		return -EINVAL;
	}
	while (*s) {
		const char *segment = s, *name;
		const struct unit *u;
		struct number n;
		uint64_t v;
		size_t len;
		int err;

		if (segment != start && !is_digit(*s)) {
			*why = "unexpected characters";
			return -EINVAL;
		}
		err = scan_number(&s, &n, why);
		if (err)
			return err;
		len = scan_unit(&s, &name);
		if (len == 0) {
			/* A lone zero needs no unit; anything else is ambiguous. */
			if (segment == start && !*s && n.whole == 0 &&
			    !n.frac_nonzero) {
				*ns = 0;
				return 0;
			}
			*why = *s ? "unexpected characters" :
				    "missing unit (e.g. 250ms, 30s, 2m, 1h)";
			return -EINVAL;
		}
		u = duration_unit(name, len);
		if (!u) {
			*why = "unknown unit (use ns, us, ms, s, m, h or d)";
			return -EINVAL;
		}
		if (u->mult == 1 && n.frac_nonzero) {
			*why = "fraction of a nanosecond";
			return -EINVAL;
		}
		err = scale(&n, u->mult, &v, why);
		if (err)
			return err;
		if (__builtin_add_overflow(total, v, &total)) {
			*why = "too large";
			return -ERANGE;
		}
	}
	*ns = total;
	return 0;
}

int units_parse_ms(const char *s, uint32_t *ms, const char **why)
{
	uint64_t ns;
	int err;

	err = units_parse_duration(s, &ns, why);
	if (err)
		return err;
	if (ns % NSEC_PER_MSEC) {
		*why = "not a whole number of milliseconds";
		return -EINVAL;
	}
	if (ns / NSEC_PER_MSEC > UINT32_MAX) {
		*why = "longer than 4294967295ms";
		return -ERANGE;
	}
	*ms = (uint32_t)(ns / NSEC_PER_MSEC);
	return 0;
}

char *units_format_bytes(char *buf, size_t len, uint64_t bytes)
{
	static const char *const names[] = {
		"B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB",
	};
	const unsigned int top = sizeof(names) / sizeof(names[0]) - 1;
	unsigned int i = 0;
	char num[32], *end;
	double x;
	int decimals;

	if (bytes < 1024) {
		snprintf(buf, len, "%" PRIu64 " B", bytes);
		return buf;
	}
	while (i < top && bytes >> (10 * (i + 1)))
		i++;
	x = (double)bytes / (double)(1ULL << (10 * i));
	for (;;) {
		decimals = x < 10 ? 2 : x < 100 ? 1 : 0;
		snprintf(num, sizeof(num), "%.*f", decimals, x);
		/* 1023.7 KiB rounds to "1024": say "1 MiB" instead. */
		if (strtod(num, NULL) < 1024 || i == top)
			break;
		x /= 1024;
		i++;
	}
	if (strchr(num, '.')) {
		end = num + strlen(num);
		while (end[-1] == '0')
			*--end = '\0';
		if (end[-1] == '.')
			end[-1] = '\0';
	}
	snprintf(buf, len, "%s %s", num, names[i]);
	return buf;
}

char *units_format_duration(char *buf, size_t len, uint64_t ns)
{
	size_t pos = 0, i;

	if (len)
		buf[0] = '\0';
	if (ns == 0) {
		snprintf(buf, len, "0s");
		return buf;
	}
	for (i = 0; i < sizeof(duration_fmt_units) / sizeof(duration_fmt_units[0]); i++) {
		const struct unit *u = &duration_fmt_units[i];
		int n;

		if (ns < u->mult)
			continue;
		n = snprintf(buf + pos, len - pos, "%" PRIu64 "%s",
			     ns / u->mult, u->name);
		if (n < 0 || (size_t)n >= len - pos)
			break;
		pos += (size_t)n;
		ns %= u->mult;
	}
	return buf;
}

char *units_format_ms(char *buf, size_t len, uint64_t ms)
{
	return units_format_duration(buf, len, ms > UINT64_MAX / NSEC_PER_MSEC ?
					       UINT64_MAX : ms * NSEC_PER_MSEC);
}

char *units_format_elapsed(char *buf, size_t len, uint64_t ms)
{
	static const struct unit units[] = {
		{ "d", 24 * 60 * 60 * 1000ULL },
		{ "h", 60 * 60 * 1000ULL },
		{ "min", 60 * 1000ULL },
		{ "s", 1000ULL },
	};
	size_t i;

	if (ms < 1000) {
		snprintf(buf, len, "%" PRIu64 " ms", ms);
		return buf;
	}
	for (i = 0; ms < units[i].mult; i++)
		;
	if (i + 1 < sizeof(units) / sizeof(units[0]) &&
	    ms % units[i].mult >= units[i + 1].mult)
		snprintf(buf, len, "%" PRIu64 " %s %" PRIu64 " %s",
			 ms / units[i].mult, units[i].name,
			 ms % units[i].mult / units[i + 1].mult,
			 units[i + 1].name);
	else
		snprintf(buf, len, "%" PRIu64 " %s", ms / units[i].mult,
			 units[i].name);
	return buf;
}

char *units_format_hundredths(char *buf, size_t len, uint64_t hundredths)
{
	snprintf(buf, len, "%" PRIu64 ".%02" PRIu64, hundredths / 100,
		 hundredths % 100);
	return buf;
}

char *units_format_rate(char *buf, size_t len, int64_t bytes_per_sec)
{
	/* The magnitude of INT64_MIN does not fit an int64_t. */
	uint64_t mag = bytes_per_sec < 0 ? -(uint64_t)bytes_per_sec :
					   (uint64_t)bytes_per_sec;
	char num[UNITS_BUF_LEN];

	if (mag < UNITS_RATE_FLAT) {
		snprintf(buf, len, "-");
		return buf;
	}
	snprintf(buf, len, "%c%s/s", bytes_per_sec < 0 ? '-' : '+',
		 units_format_bytes(num, sizeof(num), mag));
	return buf;
}
