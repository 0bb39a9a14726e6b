/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
#ifndef KPR_UTIL_H
#define KPR_UTIL_H

#include <stdbool.h>
#include <stddef.h>

/*
 * Exit codes, the same for every tool (docs/design.md). Inside the library errors
 * are -errno; kpr_exit_code() maps them:
 *   -EINVAL, -ERANGE, -EEXIST, -E2BIG, -ENAMETOOLONG  bad usage or input  -> 2
 *   -ETIME                                           lock not obtained  -> 3
 *   -EPROTO, -ENODATA                                state missing/incompatible -> 4
 *   anything else                                    runtime/kernel     -> 1
 */
enum kpr_exit {
	KPR_EXIT_OK = 0,
	KPR_EXIT_ERR = 1,
	KPR_EXIT_USAGE = 2,
	KPR_EXIT_LOCK = 3,
	KPR_EXIT_STATE = 4,
};

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

int kpr_exit_code(int err);

extern const char *kpr_tool;
extern bool kpr_verbose;

/* Errors go to stderr in text mode and into the JSON document in JSON mode
 * (see out.h); the first error is the one reported. */
/* Where errors go besides stderr: the output layer registers its JSON
 * document here, so that logging does not depend on output. */
void kpr_set_error_sink(void (*sink)(const char *msg));
void kpr_err(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void kpr_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void kpr_dbg(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Strict unsigned parse: decimal digits only, whole string, within [min, max]. */
int kpr_parse_uint(const char *s, unsigned long min, unsigned long max,
		   unsigned long *out);

/* Split a line into whitespace-separated words in place; '#' starts a comment.
 * Returns the number of words or -E2BIG when there are more than max. */
int kpr_split_words(char *line, char **words, int max);

/* Appends one zeroed element of size sz to the array *arr of *n: returns it
 * (and *n is one more), or NULL with nothing changed. For the short lists of
 * parsers: one realloc per element. */
void *kpr_push(void **arr, size_t *n, size_t sz);

#endif
