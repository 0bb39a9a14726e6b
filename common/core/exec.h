/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Runs a program (iptables-restore, ipset, nft...) with fork/exec: argv is
 * passed as is, never through a shell. Input, output and errors go through
 * memory files, so a large ruleset cannot deadlock on a pipe.
 */
#ifndef KPR_EXEC_H
#define KPR_EXEC_H

#include <stdbool.h>
#include <stddef.h>

#include "core/buf.h"

/*
 * Runs argv[0] (searched in PATH) with `in` (may be NULL) on stdin. Fills out
 * and err (either may be NULL) with what it printed. Returns its exit status
 * (0..255), -ENOENT when the program is not installed, or another -errno.
 */
int kpr_run(const char *const argv[], const char *in, size_t inlen,
	    struct kpr_buf *out, struct kpr_buf *err);

/* True when PROG is an executable file somewhere in PATH. */
bool kpr_have_prog(const char *prog);

/* The first line of an error text, for messages (static buffer). */
const char *kpr_first_line(const struct kpr_buf *b);

#endif
