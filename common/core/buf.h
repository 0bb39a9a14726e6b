/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* A growable text buffer, for restore inputs and command output. */
#ifndef KPR_BUF_H
#define KPR_BUF_H

#include <stdbool.h>
#include <stddef.h>

struct kpr_buf {
	char *s;	/* always NUL-terminated once anything was added */
	size_t len;
	size_t cap;
};

/* Appends; returns 0 or -ENOMEM. */
int kpr_buf_add(struct kpr_buf *b, const char *s, size_t n);
int kpr_buf_printf(struct kpr_buf *b, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
void kpr_buf_free(struct kpr_buf *b);

/* The next line of the text at *s, without its newline, in *line and *len;
 * *s moves past it. False at the end of the text. */
bool kpr_next_line(const char **s, const char **line, size_t *len);

#endif
