/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * What every libFuzzer harness of tests/fuzz shares: the input as a C
 * string or as a file the parsers open by path, and a quiet error sink (the
 * parsers report every bad line; at fuzzing speed that is noise).
 */
#ifndef KPR_FUZZ_H
#define KPR_FUZZ_H

#define _GNU_SOURCE
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "core/util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The input NUL-terminated, for the parsers of one string; NULL if the
 * input holds a NUL itself (a C string cannot say it). */
static inline char *fuzz_cstr(const uint8_t *data, size_t size)
{
	char *s;

	if (memchr(data, '\0', size))
		return NULL;
	s = malloc(size + 1);
	if (!s)
		abort();
	memcpy(s, data, size);
	s[size] = '\0';
	return s;
}

/* The input as a file that a parser opens by path: a memfd, named by its
 * /proc/self/fd link. Returns the fd; path gets the name. */
static inline int fuzz_file(const uint8_t *data, size_t size, char *path, size_t len)
{
	int fd = memfd_create("kpr-fuzz", MFD_CLOEXEC);

	if (fd < 0 || (size && write(fd, data, size) != (ssize_t)size))
		abort();
	snprintf(path, len, "/proc/self/fd/%d", fd);
	return fd;
}

static void fuzz_quiet_sink(const char *msg)
{
	(void)msg;
}

/* Fuzzers run the parsers millions of times: errors are expected and not
 * printed (run with -close_fd_mask=2 to hide what goes to stderr too). */
static inline void fuzz_quiet(void)
{
	kpr_set_error_sink(fuzz_quiet_sink);
}

#define FUZZ_ASSERT(cond)						\
	do {								\
		if (!(cond)) {						\
			fprintf(stderr, "%s:%d: %s\n", __FILE__, __LINE__, #cond); \
			abort();					\
		}							\
	} while (0)

#endif
