// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/opts.h"
#include "core/buf.h"
#include "core/out.h"
#include "state/state.h"
#include "core/util.h"

#ifndef KPR_VERSION
#define KPR_VERSION "0.0.0"
#endif

enum {
	OPT_HELP = 0x10000,
	OPT_VERSION,
	OPT_PIN_ROOT,
	OPT_OUTPUT,
	OPT_JSON,
	OPT_PRETTY,
	OPT_QUIET,
	OPT_VERBOSE,
	OPT_DRY_RUN,
	OPT_WAIT,
	OPT_NETNS,
};

static const struct kpr_opt common_opts[] = {
	{ "help", 'h', NULL, "show this help and exit", OPT_HELP, .type = KPR_OPT_FLAG },
	{ "version", 'V', NULL, "show the version and exit", OPT_VERSION, .type = KPR_OPT_FLAG },
	{ "pin-root", 0, "DIR", "pinned state under DIR (default $KPR_PIN_ROOT or " KPR_DEFAULT_PIN_ROOT ")", OPT_PIN_ROOT, .type = KPR_OPT_STRING },
	{ "output", 'o', "FORMAT", NULL, OPT_OUTPUT, .type = KPR_OPT_STRING },
	{ "json", 'j', NULL, "same as -o json", OPT_JSON, .type = KPR_OPT_FLAG },
	{ "pretty", 'p', NULL, "JSON indented for reading (implies -o json)", OPT_PRETTY, .type = KPR_OPT_FLAG },
	{ "quiet", 'q', NULL, "print nothing on success", OPT_QUIET, .type = KPR_OPT_FLAG },
	{ "verbose", 'v', NULL, "say more about what is done", OPT_VERBOSE, .type = KPR_OPT_FLAG },
	{ NULL },
};

static const struct kpr_opt mutate_opts[] = {
	{ "dry-run", 'n', NULL, "print what would change, change nothing", OPT_DRY_RUN, .type = KPR_OPT_FLAG },
	{ "wait", 'w', "SECS", "wait up to SECS for the lock (default 10, 0: do not wait)", OPT_WAIT,
	  .type = KPR_OPT_UINT, .min = 0, .max = 3600 },
	{ NULL },
};

static const struct kpr_opt netns_opts[] = {
	{ "netns", 'N', "NAME", "act in network namespace NAME (as ip -n)", OPT_NETNS, .type = KPR_OPT_STRING },
	{ NULL },
};

const char *kpr_version(void)
{
	return KPR_VERSION;
}

static const char *outputs_of(const struct kpr_tool_desc *t)
{
	return t->outputs ? t->outputs : "text,json";
}

static bool output_ok(const struct kpr_tool_desc *t, const char *v)
{
	const char *list = outputs_of(t);
	size_t n = strlen(v);

	while (*list) {
		const char *end = strchr(list, ',');
		size_t len = end ? (size_t)(end - list) : strlen(list);

		if (len == n && !strncmp(list, v, n))
			return true;
		if (!end)
			break;
		list = end + 1;
	}
	return false;
}

static void print_opt(const struct kpr_opt *o, const char *help)
{
	char left[64], meta[256];
	const char *arg = kpr_opt_metavar(o, meta, sizeof(meta));

	snprintf(left, sizeof(left), "%c%c%s--%s%s%s",
		 o->short_name ? '-' : ' ', o->short_name ? o->short_name : ' ',
		 o->short_name ? ", " : "  ", o->name, arg ? " " : "", arg ? arg : "");
	printf("  %-26s %s\n", left, help ? help : o->help);
}

/* The lines under an option that name its values; the completion reads them. */
static void print_values(const struct kpr_opt *o)
{
	char buf[512];

	if (*kpr_opt_values(o, ", ", buf, sizeof(buf)))
		printf("  %-26s one of: %s\n", "", buf);
	if (*kpr_opt_range(o, buf, sizeof(buf)))
		printf("  %-26s range: %s\n", "", buf);
}

static void print_table(const struct kpr_opt *opts, const struct kpr_tool_desc *t)
{
	char buf[160];

	for (; opts->name; opts++) {
		if (opts->id != OPT_OUTPUT) {
			print_opt(opts, NULL);
			print_values(opts);
			continue;
		}
		snprintf(buf, sizeof(buf), "output format: %s (default %.*s)", outputs_of(t),
			 (int)strcspn(outputs_of(t), ","), outputs_of(t));
		print_opt(opts, buf);
		printf("  %-26s one of: ", "");
		for (const char *c = outputs_of(t); *c; c++) {
			if (*c == ',')
				fputs(", ", stdout);
			else
				putchar(*c);
		}
		putchar('\n');
	}
}

void kpr_print_help(const struct kpr_tool_desc *t)
{
	const char *u = t->usage;

	/* Several usage lines are separated by '\n' in the descriptor. */
	printf("Usage: %s ", t->name);
	for (; *u; u++) {
		putchar(*u);
		if (*u == '\n')
			printf("       %s ", t->name);
	}
	printf("\n%s\n\nOptions:\n", t->summary);
	if (t->opts)
		print_table(t->opts, t);
	if (t->opts2)
		print_table(t->opts2, t);
	if (t->flags & KPR_T_MUTATE)
		print_table(mutate_opts, t);
	if (t->flags & KPR_T_NETNS)
		print_table(netns_opts, t);
	print_table(common_opts, t);
	printf("\nExit status: 0 success, 1 runtime error, 2 bad usage or input,\n"
	       "3 lock not obtained in time, 4 kpr state missing or of another layout.\n");
}

#define LONG_BASE 0x20000	/* above every char, so getopt's values never clash */

/* Every option of the tool in one flat list; getopt_long returns LONG_BASE+i
 * for a long option and the letter for a short one. */
static void add_opts(const struct kpr_opt **flat, struct option *lo, int *n, char *so,
		     const struct kpr_opt *o)
{
	for (; o->name; o++) {
		flat[*n] = o;
		lo[*n].name = o->name;
		lo[*n].has_arg = kpr_opt_has_arg(o) ? required_argument : no_argument;
		lo[*n].flag = NULL;
		lo[*n].val = LONG_BASE + *n;
		(*n)++;
		if (o->short_name) {
			char s[3] = { (char)o->short_name, kpr_opt_has_arg(o) ? ':' : '\0', '\0' };

			strcat(so, s);
		}
	}
}

static const struct kpr_opt *option_of(const struct kpr_opt **flat, int n, int c)
{
	if (c >= LONG_BASE && c < LONG_BASE + n)
		return flat[c - LONG_BASE];
	/* The tool's own options come first, so they may reuse a letter. */
	for (int i = 0; i < n; i++)
		if (flat[i]->short_name == c)
			return flat[i];
	return NULL;
}

/*
 * -o json must shape even the errors of parsing itself, so a first pass of
 * the same parser looks for it: -qj, --js and --outp=json are found as
 * getopt finds them, and an error later on the line still comes as JSON.
 */
static void prescan_json(int argc, char **argv, const char *so, const struct option *lo,
			 const struct kpr_opt **flat, int n)
{
	char **copy = malloc(((size_t)argc + 1) * sizeof(*copy));
	int c;

	if (!copy)
		return;
	memcpy(copy, argv, ((size_t)argc + 1) * sizeof(*copy));
	opterr = 0;
	optind = 0;
	while ((c = getopt_long(argc, copy, so, lo, NULL)) != -1) {
		const struct kpr_opt *o = c == '?' || c == ':' ? NULL : option_of(flat, n, c);

		if (o && (o->id == OPT_JSON || o->id == OPT_PRETTY ||
			  (o->id == OPT_OUTPUT && !strcmp(optarg, "json"))))
			out_init(OUT_JSON, false);
		if (o && o->id == OPT_PRETTY)
			out_set_pretty(true);
	}
	free(copy);
}

int kpr_parse_args(const struct kpr_tool_desc *t, void *priv, int argc,
		   char **argv, struct kpr_ctx *ctx)
{
	const struct kpr_opt *flat[64];
	struct option lo[64];
	char so[128];
	const char *env;
	int n = 0, c, err;

	kpr_guard_std_fds();
	kpr_tool = t->name;
	memset(ctx, 0, sizeof(*ctx));
	ctx->wait = 10;
	env = getenv("KPR_PIN_ROOT");
	ctx->pin_root = env && *env ? env : KPR_DEFAULT_PIN_ROOT;
	ctx->output = NULL;

	/* Options may follow positional arguments (svc-add FE BE -t nodeport),
	 * so permute; "--" still ends them. */
	strcpy(so, ":");
	if (t->opts)
		add_opts(flat, lo, &n, so, t->opts);
	if (t->opts2)
		add_opts(flat, lo, &n, so, t->opts2);
	if (t->flags & KPR_T_MUTATE)
		add_opts(flat, lo, &n, so, mutate_opts);
	if (t->flags & KPR_T_NETNS)
		add_opts(flat, lo, &n, so, netns_opts);
	add_opts(flat, lo, &n, so, common_opts);
	memset(&lo[n], 0, sizeof(lo[n]));
	prescan_json(argc, argv, so, lo, flat, n);

	opterr = 0;
	optind = 0;
	while ((c = getopt_long(argc, argv, so, lo, NULL)) != -1) {
		const struct kpr_opt *o;
		struct kpr_optval v;
		char msg[256];

		if (c == '?') {
			if (optopt)
				kpr_err("unknown option '-%c'; see '%s --help'", optopt, t->name);
			else
				kpr_err("unknown option '%s'; see '%s --help'",
					argv[optind - 1], t->name);
			return -EINVAL;
		}
		if (c == ':') {
			kpr_err("option '%s' needs a value; see '%s --help'",
				argv[optind - 1], t->name);
			return -EINVAL;
		}
		o = option_of(flat, n, c);
		if (!o)
			return -EINVAL;
		if (kpr_opt_parse(o, optarg, &v, msg, sizeof(msg))) {
			kpr_err("%s", msg);
			return -EINVAL;
		}
		switch (o->id) {
		case OPT_HELP:
			/* help is for a human, whatever -o says: text only */
			out_init(OUT_TEXT, false);
			kpr_print_help(t);
			return KPR_PARSE_DONE;
		case OPT_VERSION:
			if (out_json()) {
				out_str("tool", NULL, t->name);
				out_str("version", NULL, KPR_VERSION);
			} else {
				printf("%s (kpr) %s\n", t->name, KPR_VERSION);
			}
			return KPR_PARSE_DONE;
		case OPT_PIN_ROOT:
			if (!*optarg) {
				kpr_err("--pin-root needs a directory");
				return -EINVAL;
			}
			ctx->pin_root = optarg;
			break;
		case OPT_OUTPUT:
			if (!output_ok(t, optarg)) {
				kpr_err("unknown output format '%s': use one of %s",
					optarg, outputs_of(t));
				return -EINVAL;
			}
			ctx->output = optarg;
			break;
		case OPT_JSON:
			ctx->output = "json";
			break;
		case OPT_PRETTY:
			ctx->output = "json";
			out_set_pretty(true);
			break;
		case OPT_QUIET:
			ctx->quiet = true;
			break;
		case OPT_VERBOSE:
			kpr_verbose = true;
			break;
		case OPT_DRY_RUN:
			ctx->dry_run = true;
			break;
		case OPT_WAIT:
			ctx->wait = (int)v.u;
			break;
		case OPT_NETNS:
			ctx->netns = optarg;
			break;
		default:
			if (!t->handle)
				return -EINVAL;
			err = t->handle(priv, o->id, &v);
			if (err)
				return err;
		}
	}
	if (!ctx->output) {
		static char def[32];

		snprintf(def, sizeof(def), "%.*s", (int)strcspn(outputs_of(t), ","),
			 outputs_of(t));
		ctx->output = def;
	}
	out_init(strcmp(ctx->output, "json") ? OUT_TEXT : OUT_JSON, ctx->quiet);
	ctx->argc = argc - optind;
	ctx->argv = argv + optind;
	return 0;
}

int kpr_ctx_state_open(struct kpr_state *st, const struct kpr_ctx *ctx, unsigned int flags)
{
	if (ctx->dry_run)
		flags |= KPR_OPEN_DRY_RUN;
	return kpr_state_open(st, ctx->pin_root, flags, ctx->wait);
}
