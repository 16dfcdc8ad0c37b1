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
 * for a stream of records), or indented with -p; out_begin_list() makes it
 * an array instead, of objects from out_object_begin(NULL).  A field only
 * JSON carries goes through out_json_*() directly, under if (out_is_json()).
 * A value that is absent is null in JSON and usually "-" for people:
 * out_null("eta_ms", " %8s", "-").
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
void out_begin_list(void);
/* Prints the record; -1 (reported) if it could not be built or written. */
int out_end(void);
/* Drops the record instead (after an error): no half a list in JSON. */
void out_discard(void);

/*
 * One record built by print(arg) in mode, whatever -j says, into a string
 * instead of stdout (for syslog and monitor --exec): text for people, or
 * one line of JSON.  Without the trailing newline; the caller frees it.
 * NULL (reported) when it could not be built.
 */
char *out_capture(enum out_mode mode, void (*print)(void *arg), void *arg);

/* Nested JSON values; in text mode these print nothing. */
void out_object_begin(const char *key);
void out_object_end(void);
void out_array_begin(const char *key);
void out_array_end(void);

/* JSON halves of the macros below; the key is ignored inside an array. */
void out_json_u64(const char *key, uint64_t value);
void out_json_s64(const char *key, int64_t value);
void out_json_bool(const char *key, bool value);
void out_json_str(const char *key, const char *value);
void out_json_null(const char *key);
/* A decimal number with two places: 1234 hundredths are 12.34. */
void out_json_hundredths(const char *key, uint64_t hundredths);

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

/* An integer in JSON, text (%s) made for people: "90%", "28s". */
#define out_u64_str(key, fmt, value, text) do {			\
	uint64_t out_v_ = (value);					\
	if (out_is_json())						\
		out_json_u64((key), out_v_);				\
	else								\
		printf((fmt), (text));					\
} while (0)

/* null in JSON, text (%s) for people. */
#define out_null(key, fmt, text) do {					\
	if (out_is_json())						\
		out_json_null(key);					\
	else								\
		printf((fmt), (text));					\
} while (0)

/* true or false in JSON, "yes" or "no" (%s) for people. */
#define out_bool(key, fmt, value) do {					\
	bool out_b_ = (value);						\
	if (out_is_json())						\
		out_json_bool((key), out_b_);				\
	else								\
		printf((fmt), out_b_ ? "yes" : "no");			\
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
		printf((fmt), units_format_ms(out_buf_, sizeof(out_buf_), \
					      out_v_));			\
} while (0)

/* Bytes per second: a raw integer in JSON, "+9.8 MiB/s" (%s) for people. */
#define out_rate(key, fmt, value) do {					\
	int64_t out_r_ = (value);					\
	char out_buf_[UNITS_BUF_LEN];					\
	if (out_is_json())						\
		out_json_s64((key), out_r_);				\
	else								\
		printf((fmt), units_format_rate(out_buf_,		\
						sizeof(out_buf_), out_r_)); \
} while (0)

/* Hundredths: 12.34 in JSON, "12.34" (%s) for people. */
#define out_hundredths(key, fmt, value) do {				\
	uint64_t out_v_ = (value);					\
	char out_buf_[UNITS_BUF_LEN];					\
	if (out_is_json())						\
		out_json_hundredths((key), out_v_);			\
	else								\
		printf((fmt), units_format_hundredths(out_buf_,	\
						      sizeof(out_buf_), out_v_)); \
} while (0)

#endif /* GOMEMCTL_OUTPUT_H */
