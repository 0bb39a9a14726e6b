// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <errno.h>
#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/out.h"
#include "core/util.h"

#define OUT_DEPTH 16

static enum out_fmt fmt_mode;
static bool quiet_mode;
static json_t *stack[OUT_DEPTH];
static int depth;
static char *error_msg;
static bool pretty;

void out_set_pretty(bool on)
{
	pretty = on;
}

/*
 * A JSON string of any bytes: jansson refuses invalid UTF-8 (an input's
 * bytes quoted in a message, or a message cut mid-character), which would
 * leave the document without its error. Each invalid byte becomes U+FFFD.
 */
static json_t *json_text(const char *s)
{
	json_t *j = json_string(s);
	size_t len = strlen(s), n = 0;
	char *t;

	if (j)
		return j;
	t = malloc(len * 3 + 1);
	if (!t)
		return json_string("(out of memory)");
	for (size_t i = 0; i < len;) {
		size_t k;

		/* the longest prefix of 1 to 4 bytes that jansson takes */
		for (k = 1; k <= 4 && i + k <= len; k++) {
			json_t *c = json_stringn(s + i, k);

			if (c) {
				json_decref(c);
				break;
			}
		}
		if (k <= 4 && i + k <= len) {
			memcpy(t + n, s + i, k);
			n += k;
			i += k;
		} else {
			memcpy(t + n, "\xef\xbf\xbd", 3);
			n += 3;
			i++;
		}
	}
	j = json_stringn(t, n);
	free(t);
	return j;
}

void out_init(enum out_fmt fmt, bool quiet)
{
	fmt_mode = fmt;
	quiet_mode = quiet;
	if (fmt == OUT_JSON && !stack[0]) {
		stack[0] = json_object();
		depth = 0;
	}
}

bool out_json(void)
{
	return fmt_mode == OUT_JSON;
}

bool out_quiet(void)
{
	return quiet_mode;
}

static void json_add(const char *key, json_t *v)
{
	json_t *top;

	if (!v)
		return;
	top = stack[depth];
	if (json_is_array(top))
		json_array_append_new(top, v);
	else
		json_object_set_new(top, key ? key : "value", v);
}

static void push(const char *key, json_t *v)
{
	json_add(key, json_incref(v));
	if (depth + 1 < OUT_DEPTH)
		stack[++depth] = v;
	json_decref(v);
}

void out_obj_open(const char *key)
{
	if (fmt_mode == OUT_JSON)
		push(key, json_object());
}

void out_arr_open(const char *key)
{
	if (fmt_mode == OUT_JSON)
		push(key, json_array());
}

void out_obj_close(void)
{
	if (fmt_mode == OUT_JSON && depth > 0)
		depth--;
}

void out_arr_close(void)
{
	out_obj_close();
}

static bool text_on(const char *fmt)
{
	return fmt_mode == OUT_TEXT && fmt && !quiet_mode;
}

void out_str(const char *key, const char *fmt, const char *val)
{
	if (fmt_mode == OUT_JSON && key)
		json_add(key, val ? json_text(val) : json_null());
	else if (text_on(fmt))
		printf(fmt, val ? val : "");
}

void out_uint(const char *key, const char *fmt, uint64_t val)
{
	if (fmt_mode == OUT_JSON && key)
		json_add(key, json_integer((json_int_t)val));
	else if (text_on(fmt))
		printf(fmt, (unsigned long long)val);
}

void out_int(const char *key, const char *fmt, int64_t val)
{
	if (fmt_mode == OUT_JSON && key)
		json_add(key, json_integer(val));
	else if (text_on(fmt))
		printf(fmt, (long long)val);
}

void out_float(const char *key, const char *fmt, double val)
{
	if (fmt_mode == OUT_JSON && key)
		json_add(key, json_real(val));
	else if (text_on(fmt))
		printf(fmt, val);
}

void out_bool(const char *key, const char *fmt, bool val)
{
	if (fmt_mode == OUT_JSON && key)
		json_add(key, json_boolean(val));
	else if (text_on(fmt))
		printf(fmt, val ? "on" : "off");
}

void out_null(const char *key)
{
	if (fmt_mode == OUT_JSON && key)
		json_add(key, json_null());
}

#define OUT_LABEL_W	28

void out_line_str(const char *key, const char *label, const char *val)
{
	out_text("%-*s", OUT_LABEL_W, label);
	out_str(key, "%s\n", val);
}

void out_line_uint(const char *key, const char *label, uint64_t val)
{
	out_text("%-*s", OUT_LABEL_W, label);
	out_uint(key, "%llu\n", val);
}

void out_line_bool(const char *key, const char *label, bool val)
{
	out_text("%-*s", OUT_LABEL_W, label);
	out_bool(key, "%s\n", val);
}

void out_text(const char *fmt, ...)
{
	va_list ap;

	if (fmt_mode != OUT_TEXT || quiet_mode)
		return;
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
}

static json_t *errors;

void out_set_error(const char *msg)
{
	if (!error_msg)
		error_msg = strdup(msg);
	if (!errors)
		errors = json_array();
	json_array_append_new(errors, json_text(msg));
}

/* Errors are recorded from the first one on, before out_init has run too. */
__attribute__((constructor)) static void out_register_sink(void)
{
	kpr_set_error_sink(out_set_error);
}

void out_changed(bool changed)
{
	if (fmt_mode == OUT_JSON)
		json_object_set_new(stack[0], "changed", json_boolean(changed));
}

int out_finish(int rc)
{
	int code = kpr_exit_code(rc);

	if (fmt_mode == OUT_JSON && stack[0]) {
		if (code != KPR_EXIT_OK) {
			const char *msg = error_msg ? error_msg : strerror(-rc);

			json_object_set_new(stack[0], "error", json_text(msg));
			if (!errors) {
				errors = json_array();
				json_array_append_new(errors, json_text(msg));
			}
			/* every error, in order: a batch with four bad lines has four */
			json_object_set(stack[0], "errors", errors);
			json_object_set_new(stack[0], "exit_code", json_integer(code));
		}
		json_dumpf(stack[0], stdout, (pretty ? JSON_INDENT(2) : JSON_COMPACT) |
			   JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(12));
		fputc('\n', stdout);
		json_decref(stack[0]);
		stack[0] = NULL;
	}
	/* Output that did not reach its reader (a full disk, a closed pipe or
	 * stdout) is a failure: a script saving svc-list -o save must know. */
	if (fflush(stdout) || ferror(stdout)) {
		fprintf(stderr, "%s: cannot write the output: %s\n", kpr_tool,
			strerror(errno ? errno : EIO));
		if (code == KPR_EXIT_OK)
			code = KPR_EXIT_ERR;
	}
	return code;
}
