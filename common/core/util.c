// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/util.h"

const char *kpr_tool = "kpr";
bool kpr_verbose;

int kpr_exit_code(int err)
{
	switch (err) {
	case 0:
		return KPR_EXIT_OK;
	case -EINVAL:
	case -ERANGE:
	case -EEXIST:
	case -E2BIG:
	case -ENAMETOOLONG:
		return KPR_EXIT_USAGE;
	case -ETIME:
		return KPR_EXIT_LOCK;
	case -EPROTO:
	case -ENODATA:
		return KPR_EXIT_STATE;
	default:
		return KPR_EXIT_ERR;
	}
}

static void (*error_sink)(const char *msg);

void kpr_set_error_sink(void (*sink)(const char *msg))
{
	error_sink = sink;
}

static void vreport(const char *level, const char *fmt, va_list ap)
{
	char msg[1024];

	vsnprintf(msg, sizeof(msg), fmt, ap);
	if (level[0] == 'e' && error_sink)
		error_sink(msg);
	/* In JSON mode stdout carries the document; humans still get stderr. */
	fprintf(stderr, "%s: %s%s\n", kpr_tool, level[0] == 'e' ? "" : level, msg);
}

void kpr_err(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vreport("error", fmt, ap);
	va_end(ap);
}

void kpr_warn(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vreport("warning: ", fmt, ap);
	va_end(ap);
}

void kpr_dbg(const char *fmt, ...)
{
	va_list ap;

	if (!kpr_verbose)
		return;
	va_start(ap, fmt);
	vreport("debug: ", fmt, ap);
	va_end(ap);
}

int kpr_parse_uint(const char *s, unsigned long min, unsigned long max,
		   unsigned long *out)
{
	unsigned long v = 0;
	const char *p;

	if (!s || !*s)
		return -EINVAL;
	for (p = s; *p; p++)
		if (!isdigit((unsigned char)*p))
			return -EINVAL;
	for (p = s; *p; p++) {
		unsigned long d = (unsigned long)(*p - '0');

		if (v > (~0UL - d) / 10)
			return -ERANGE;
		v = v * 10 + d;
	}
	if (v < min || v > max)
		return -ERANGE;
	*out = v;
	return 0;
}

int kpr_split_words(char *line, char **words, int max)
{
	int n = 0;
	char *p = line;

	for (;;) {
		while (*p && isspace((unsigned char)*p))
			p++;
		if (!*p || *p == '#')
			break;
		if (n == max)
			return -E2BIG;
		words[n++] = p;
		while (*p && !isspace((unsigned char)*p))
			p++;
		if (*p)
			*p++ = '\0';
	}
	return n;
}

void *kpr_push(void **arr, size_t *n, size_t sz)
{
	char *a = realloc(*arr, (*n + 1) * sz);

	if (!a)
		return NULL;
	*arr = a;
	memset(a + *n * sz, 0, sz);
	return a + (*n)++ * sz;
}
