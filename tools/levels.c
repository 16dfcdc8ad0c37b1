// SPDX-License-Identifier: GPL-2.0
/*
 * Warn-level lists.  No sorting and no range checks: the module validates
 * the meaning and says why in its extack, so that both speak with one voice.
 */
#include <errno.h>
#include <stdio.h>

#include "levels.h"

#define STR(x) #x
#define XSTR(x) STR(x)

int levels_parse(const char *s, uint32_t levels[GOMEMGUARD_LEVELS_MAX],
		 size_t *n, const char **why)
{
	uint32_t parsed[GOMEMGUARD_LEVELS_MAX];
	size_t count = 0;

	if (!*s) {
		*why = "empty";
		return -EINVAL;
	}
	for (;;) {
		uint64_t v = 0;
		const char *start = s;

		if (*s == ',' || !*s) {
			*why = "empty level (two commas in a row, or one at an end)";
			return -EINVAL;
		}
		if (count == GOMEMGUARD_LEVELS_MAX) {
			*why = "more than " XSTR(GOMEMGUARD_LEVELS_MAX) " levels";
			return -EINVAL;
		}
		for (; *s >= '0' && *s <= '9'; s++) {
			v = v * 10 + (uint64_t)(*s - '0');
			if (v > UINT32_MAX) {
				*why = "larger than 4294967295";
				return -ERANGE;
			}
		}
		if (s > start && *s == '%')
			s++;
		if (s == start || (*s && *s != ',')) {
			*why = *start == '-' ? "must not be negative" :
					       "not a number";
			return -EINVAL;
		}
		parsed[count++] = (uint32_t)v;
		if (!*s)
			break;
		s++;
	}
	for (*n = 0; *n < count; (*n)++)
		levels[*n] = parsed[*n];
	return 0;
}

char *levels_format(char *buf, size_t len, const uint32_t *levels, size_t n)
{
	size_t i, pos = 0;

	if (len)
		buf[0] = '\0';
	if (!n) {
		snprintf(buf, len, "-");
		return buf;
	}
	for (i = 0; i < n && pos < len; i++) {
		int w = snprintf(buf + pos, len - pos, "%s%u", i ? "," : "",
				 levels[i]);

		if (w < 0)
			break;
		pos += (size_t)w;
	}
	return buf;
}
