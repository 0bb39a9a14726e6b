// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/buf.h"
#include "core/util.h"

static int grow(struct kpr_buf *b, size_t need)
{
	size_t cap = b->cap ? b->cap : 256;
	char *s;

	if (b->len + need + 1 <= b->cap)
		return 0;
	while (cap < b->len + need + 1)
		cap *= 2;
	s = realloc(b->s, cap);
	if (!s)
		return -ENOMEM;
	b->s = s;
	b->cap = cap;
	return 0;
}

int kpr_buf_add(struct kpr_buf *b, const char *s, size_t n)
{
	if (grow(b, n))
		return -ENOMEM;
	memcpy(b->s + b->len, s, n);
	b->len += n;
	b->s[b->len] = '\0';
	return 0;
}

int kpr_buf_printf(struct kpr_buf *b, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0 || grow(b, (size_t)n))
		return -ENOMEM;
	va_start(ap, fmt);
	vsnprintf(b->s + b->len, (size_t)n + 1, fmt, ap);
	va_end(ap);
	b->len += (size_t)n;
	return 0;
}

void kpr_buf_free(struct kpr_buf *b)
{
	free(b->s);
	b->s = NULL;
	b->len = b->cap = 0;
}

bool kpr_next_line(const char **s, const char **line, size_t *len)
{
	if (!**s)
		return false;
	*line = *s;
	*len = strcspn(*s, "\n");
	*s += *len + ((*s)[*len] == '\n');
	return true;
}

const char *kpr_input_name(const char *path)
{
	return strcmp(path, "-") ? path : "<stdin>";
}

/* The line of offset off in s, counted from 1. */
static int line_of(const char *s, size_t off)
{
	int line = 1;
	size_t i;

	for (i = 0; i < off; i++)
		line += s[i] == '\n';
	return line;
}

int kpr_buf_read_input(const char *path, struct kpr_buf *b)
{
	bool is_stdin = !strcmp(path, "-");
	const char *name = kpr_input_name(path);
	int fd, ret = 0;
	char *nul;

	memset(b, 0, sizeof(*b));
	fd = is_stdin ? STDIN_FILENO : open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		ret = -errno;
		kpr_err("cannot open %s: %s; nothing was changed", name, strerror(errno));
		return ret == -ENOENT ? -EINVAL : ret;
	}
	for (;;) {
		ssize_t r;

		if (grow(b, 65536)) {
			ret = -ENOMEM;
			kpr_err("out of memory reading %s; nothing was changed", name);
			break;
		}
		r = read(fd, b->s + b->len, b->cap - b->len - 1);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			ret = -errno;
			kpr_err("cannot read %s: %s; nothing was changed", name, strerror(errno));
			break;
		}
		if (!r)
			break;
		/* checked as it comes: /dev/zero must end, not fill the memory */
		nul = memchr(b->s + b->len, '\0', (size_t)r);
		b->len += (size_t)r;
		if (nul) {
			kpr_err("%s:%d: a NUL byte: this is not a text file (a torn write leaves zeros); nothing was changed",
				name, line_of(b->s, (size_t)(nul - b->s)));
			ret = -EINVAL;
			break;
		}
	}
	if (!is_stdin)
		close(fd);
	if (!ret)
		b->s[b->len] = '\0';
	if (ret)
		kpr_buf_free(b);
	return ret;
}

void kpr_guard_std_fds(void)
{
	int fd;

	for (fd = 0; fd <= 2; fd++) {
		int nfd;

		if (fcntl(fd, F_GETFD) >= 0 || errno != EBADF)
			continue;
		nfd = open("/dev/null", fd ? O_RDONLY : O_WRONLY);
		if (nfd >= 0 && nfd != fd) {
			dup2(nfd, fd);
			close(nfd);
		}
	}
}
