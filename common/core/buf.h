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

/* The name an input is reported by: "<stdin>" for "-". */
const char *kpr_input_name(const char *path);

/*
 * Reads all of path ("-": stdin) into b as text. A file that is not there is
 * -EINVAL (bad input); a read error (a directory, EIO, a closed stdin) is its
 * -errno, never a short input. A NUL byte is -EINVAL naming its line: a torn
 * write leaves zeros, and a parser would stop at the first one. Errors are
 * reported; on error b holds nothing.
 */
int kpr_buf_read_input(const char *path, struct kpr_buf *b);

/* Points a closed fd 0, 1 or 2 at /dev/null, opened so that using it still
 * fails (stdin write-only, stdout and stderr read-only): a file the tool opens
 * next must not become its stdin or stdout, and a closed stdin must read as a
 * read error, not as an empty input. */
void kpr_guard_std_fds(void);

#endif
