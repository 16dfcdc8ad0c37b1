/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Output discipline, after iproute2: one call per field serves both the
 * human text and the JSON.  The key names the field in JSON (raw integers);
 * the printf format, checked by the compiler, says how people see it (units
 * where they help).  Text that only people need goes through out_text().
 *
 *	out_begin();
 *	out_str("version", "gomemguard %s", version);
 *	out_u64("tagged", "  tagged processes: %" PRIu64 "\n", tagged);
 *	out_bytes("anon", "  anon %s\n", anon);		(JSON: bytes, text: "1.62 GiB")
 *	out_end();
 *
 * A record is one JSON object, printed on one line by out_end() (JSON lines
 * for a stream of records), or indented with -p.  A field only JSON carries
 * goes through out_json_*() directly, under if (out_is_json()).
 */
#ifndef GOMEMCTL_OUTPUT_H
#define GOMEMCTL_OUTPUT_H

#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>

#include "units.h"

enum out_mode {
	OUT_TEXT,
	OUT_JSON,
	OUT_JSON_PRETTY,
};

/* Never lowers the mode: -p given once stays in force with a later -j. */
void out_set_mode(enum out_mode mode);
bool out_is_json(void);

void out_begin(void);
/* Prints the record; -1 (reported) if it could not be built or written. */
int out_end(void);

/* Nested JSON values; in text mode these print nothing. */
void out_object_begin(const char *key);
void out_object_end(void);
void out_array_begin(const char *key);
void out_array_end(void);

/* JSON halves of the macros below; the key is ignored inside an array. */
void out_json_u64(const char *key, uint64_t value);
void out_json_str(const char *key, const char *value);

void out_text(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#define out_u64(key, fmt, value) do {					\
	uint64_t out_v_ = (value);					\
	if (out_is_json())						\
		out_json_u64((key), out_v_);				\
	else								\
		printf((fmt), out_v_);					\
} while (0)

#define out_str(key, fmt, value) do {					\
	const char *out_s_ = (value);					\
	if (out_is_json())						\
		out_json_str((key), out_s_);				\
	else								\
		printf((fmt), out_s_);					\
} while (0)

/* Bytes: a raw integer in JSON, "1.62 GiB" (%s) for people. */
#define out_bytes(key, fmt, value) do {					\
	uint64_t out_v_ = (value);					\
	char out_buf_[UNITS_BUF_LEN];					\
	if (out_is_json())						\
		out_json_u64((key), out_v_);				\
	else								\
		printf((fmt), units_format_bytes(out_buf_,		\
						 sizeof(out_buf_), out_v_)); \
} while (0)

/* Milliseconds: a raw integer in JSON, "1m30s" (%s) for people. */
#define out_ms(key, fmt, value) do {					\
	uint64_t out_v_ = (value);					\
	char out_buf_[UNITS_BUF_LEN];					\
	if (out_is_json())						\
		out_json_u64((key), out_v_);				\
	else								\
		printf((fmt), units_format_duration(out_buf_,		\
				sizeof(out_buf_),			\
				out_v_ > UINT64_MAX / 1000000 ?		\
				UINT64_MAX : out_v_ * 1000000));	\
} while (0)

#endif /* GOMEMCTL_OUTPUT_H */
