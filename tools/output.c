// SPDX-License-Identifier: GPL-2.0
/*
 * Human text goes straight to stdout; JSON is built with json-c and printed
 * by out_end(), so a record is never half-printed.
 */
#include <assert.h>
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "gomemctl.h"
#include "output.h"

#define OUT_MAX_DEPTH 8

static enum out_mode mode = OUT_TEXT;

/* Open JSON values of the current record; stack[0] is the record itself. */
static struct json_object *stack[OUT_MAX_DEPTH];
static int depth;
/* Some value could not be allocated or added: the record is incomplete. */
static bool failed;

void out_set_mode(enum out_mode m)
{
	if (m > mode)
		mode = m;
}

bool out_is_json(void)
{
	return mode != OUT_TEXT;
}

/* Gives value to the innermost open object or array. */
static bool add(const char *key, struct json_object *value)
{
	struct json_object *top = depth ? stack[depth - 1] : NULL;
	int err;

	if (!value || !top) {
		json_object_put(value);
		failed = true;
		return false;
	}
	if (json_object_is_type(top, json_type_array))
		err = json_object_array_add(top, value);
	else
		err = json_object_object_add(top, key, value);
	if (err) {
		json_object_put(value);
		failed = true;
		return false;
	}
	return true;
}

/* Callers allocate value only in JSON mode: text mode has no use for it. */
static void push(const char *key, struct json_object *value)
{
	assert(depth > 0 && depth < OUT_MAX_DEPTH);
	/* The parent owns value; the stack only borrows it. */
	stack[depth++] = add(key, value) ? value : NULL;
}

static void pop(void)
{
	if (!out_is_json())
		return;
	assert(depth > 1);
	depth--;
}

static void begin(struct json_object *root)
{
	assert(depth == 0);
	stack[0] = root;
	failed = !root;
	depth = 1;
}

void out_begin(void)
{
	if (out_is_json())
		begin(json_object_new_object());
}

void out_begin_list(void)
{
	if (out_is_json())
		begin(json_object_new_array());
}

/* Also from inside nested values: the root owns them all. */
void out_discard(void)
{
	if (!out_is_json())
		return;
	json_object_put(stack[0]);
	stack[0] = NULL;
	depth = 0;
}

int out_end(void)
{
	int ret = 0;

	if (out_is_json()) {
		int flags = JSON_C_TO_STRING_NOSLASHESCAPE;
		const char *text = NULL;

		assert(depth == 1);
		if (mode == OUT_JSON_PRETTY)
			flags |= JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_SPACED;
		if (!failed)
			text = json_object_to_json_string_ext(stack[0], flags);
		if (text) {
			puts(text);
		} else {
			gmc_err(NULL, "cannot build the JSON output: %s",
				strerror(ENOMEM));
			ret = -1;
		}
		out_discard();
	}
	if (fflush(stdout) == EOF && !ret) {
		gmc_err(NULL, "cannot write the output: %s", strerror(errno));
		ret = -1;
	}
	return ret;
}

/*
 * print() writes text with printf() like every printer here, so stdout
 * itself is pointed at the string for the while (glibc's stdout is a
 * variable that may be assigned).
 */
char *out_capture(enum out_mode m, void (*print)(void *arg), void *arg)
{
	enum out_mode saved_mode = mode;
	FILE *saved = stdout, *f;
	char *text = NULL;
	size_t len = 0;
	int err;

	f = open_memstream(&text, &len);
	if (!f) {
		gmc_err(NULL, "cannot build the output: %s", strerror(errno));
		return NULL;
	}
	mode = m;
	stdout = f;
	out_begin();
	print(arg);
	err = out_end();
	stdout = saved;
	mode = saved_mode;
	if (fclose(f) || err) {
		free(text);
		return NULL;
	}
	if (len && text[len - 1] == '\n')
		text[len - 1] = '\0';
	return text;
}

void out_object_begin(const char *key)
{
	if (out_is_json())
		push(key, json_object_new_object());
}

void out_object_end(void)
{
	pop();
}

void out_array_begin(const char *key)
{
	if (out_is_json())
		push(key, json_object_new_array());
}

void out_array_end(void)
{
	pop();
}

void out_json_u64(const char *key, uint64_t value)
{
	add(key, json_object_new_uint64(value));
}

void out_json_s64(const char *key, int64_t value)
{
	add(key, json_object_new_int64(value));
}

void out_json_bool(const char *key, bool value)
{
	add(key, json_object_new_boolean(value));
}

void out_json_str(const char *key, const char *value)
{
	add(key, json_object_new_string(value));
}

/*
 * Written as the module counts it, "12.34": a double printed by json-c
 * would be 12.339999999999999.
 */
void out_json_hundredths(const char *key, uint64_t hundredths)
{
	char text[UNITS_BUF_LEN];

	units_format_hundredths(text, sizeof(text), hundredths);
	add(key, json_object_new_double_s((double)hundredths / 100, text));
}

/* null is the one value json-c represents as NULL, which add() refuses. */
void out_json_null(const char *key)
{
	struct json_object *top = depth ? stack[depth - 1] : NULL;
	int err;

	if (!top) {
		failed = true;
		return;
	}
	if (json_object_is_type(top, json_type_array))
		err = json_object_array_add(top, NULL);
	else
		err = json_object_object_add(top, key, NULL);
	if (err)
		failed = true;
}

void out_text(const char *fmt, ...)
{
	va_list ap;

	if (out_is_json())
		return;
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
}
