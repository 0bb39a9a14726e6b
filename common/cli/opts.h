/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Option parsing for every tool. A tool describes its own options in a table;
 * the common ones (-h, -V, --pin-root, -o/-j, -q, -v, and for mutating tools
 * -n and -w, for device tools -N) are added here. The same tables print
 * --help, which the man pages and completions are checked against.
 */
#ifndef KPR_OPTS_H
#define KPR_OPTS_H

#include <stdbool.h>

#include "core/params.h"
#include "state/state.h"


#define KPR_T_MUTATE	0x01	/* -n/--dry-run, -w/--wait */
#define KPR_T_NETNS	0x02	/* -N/--netns */

struct kpr_tool_desc {
	const char *name;
	const char *usage;	/* one or more lines after "Usage: NAME " */
	const char *summary;
	const struct kpr_opt *opts;	/* terminated by an entry with name NULL */
	const struct kpr_opt *opts2;	/* a second table, as kpr_svc_opts */
	unsigned int flags;
	const char *outputs;	/* accepted -o values, comma-separated, the first
				 * is the default; NULL means "text,json" */
	/* Called with the value parsed as the option's type says; returns 0
	 * or -EINVAL (after kpr_err) for a value the type cannot refuse. */
	int (*handle)(void *priv, int id, const struct kpr_optval *v);
};

struct kpr_ctx {
	const char *pin_root;
	const char *output;
	bool quiet;
	bool dry_run;
	int wait;		/* seconds to wait for the lock */
	const char *netns;
	int argc;		/* positional arguments */
	char **argv;
};

#define KPR_PARSE_DONE 1	/* --help or --version printed: exit 0 */

/* Returns 0, KPR_PARSE_DONE, or -EINVAL after reporting the problem. */
int kpr_parse_args(const struct kpr_tool_desc *t, void *priv, int argc,
		   char **argv, struct kpr_ctx *ctx);

/* The version -V prints. */
const char *kpr_version(void);

/* Prints the options of the tool's --help (used by tests through --help). */
void kpr_print_help(const struct kpr_tool_desc *t);

/* The pinned state as the common options ask: --pin-root, -n, -w. */
int kpr_ctx_state_open(struct kpr_state *st, const struct kpr_ctx *ctx, unsigned int flags);

#endif
