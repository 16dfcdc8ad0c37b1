/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Warn levels, percentages of the soft limit: "80,90,100" on the command line
 * and for people, a u32 array in netlink, an array of integers in JSON.
 */
#ifndef GOMEMCTL_LEVELS_H
#define GOMEMCTL_LEVELS_H

#include <stddef.h>
#include <stdint.h>

#include <linux/gomemguard.h>

#include "output.h"

/* Enough for GOMEMGUARD_LEVELS_MAX ten-digit numbers and their commas. */
#define LEVELS_BUF_LEN (GOMEMGUARD_LEVELS_MAX * 11 + 1)

/*
 * A comma-separated list of decimal integers, each optionally followed by
 * "%": "80,90,100", "95%".  Only the syntax is checked; order and range are
 * the module's call.  Returns 0 with the values in levels[] and their number
 * in *n, or -EINVAL / -ERANGE with *why set as units_parse_*() do.
 */
int levels_parse(const char *s, uint32_t levels[GOMEMGUARD_LEVELS_MAX],
		 size_t *n, const char **why);

/* "80,90,100"; "-" for none. */
char *levels_format(char *buf, size_t len, const uint32_t *levels, size_t n);

/* An array of integers in JSON, levels_format() (%s) for people. */
#define out_levels(key, fmt, levels, n) do {				\
	const uint32_t *out_l_ = (levels);				\
	size_t out_n_ = (n), out_i_;					\
	char out_buf_[LEVELS_BUF_LEN];					\
	if (out_is_json()) {						\
		out_array_begin(key);					\
		for (out_i_ = 0; out_i_ < out_n_; out_i_++)		\
			out_json_u64(NULL, out_l_[out_i_]);		\
		out_array_end();					\
	} else {							\
		printf((fmt), levels_format(out_buf_, sizeof(out_buf_),	\
					    out_l_, out_n_));		\
	}								\
} while (0)

#endif /* GOMEMCTL_LEVELS_H */
