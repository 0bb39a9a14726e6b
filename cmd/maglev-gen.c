// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * maglev-gen: print a Maglev table identical to Cilium's for the same
 * backends, seed and size; compare two backend sets; make a seed; check the
 * live table of a loaded service against the one it should be.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "cli/opts.h"
#include "core/out.h"
#include "core/util.h"
#include "svc/maglev_set.h"

enum { OPT_SIZE = 100, OPT_SEED, OPT_COMPARE, OPT_NEW_SEED, OPT_SERVICE };

struct args {
	__u32 size;
	bool size_set, seed_set, new_seed;
	__u8 seed[KPR_SEED_LEN];
	const char *compare;
	const char *service;
};

static const struct kpr_opt opts[] = {
	{ "size", 0, "M", "table size, a prime (default 16381)", OPT_SIZE,
	  .type = KPR_OPT_UINT, .list = kpr_maglev_sizes, .n_list = KPR_MAGLEV_NSIZES },
	{ "seed", 0, "SEED", "base64 of 12 bytes (default " KPR_MAGLEV_DEFAULT_SEED ", Cilium's)", OPT_SEED, .type = KPR_OPT_STRING },
	/* lb-mode's spellings, so that one command line serves both tools */
	{ "maglev-table-size", 0, "M", "same as --size", OPT_SIZE,
	  .type = KPR_OPT_UINT, .list = kpr_maglev_sizes, .n_list = KPR_MAGLEV_NSIZES },
	{ "maglev-seed", 0, "SEED", "same as --seed", OPT_SEED, .type = KPR_OPT_STRING },
	{ "compare", 0, "OLD,OLD,...", "print the share of slots that move from the OLD backends to BACKEND...", OPT_COMPARE, .type = KPR_OPT_STRING },
	{ "new-seed", 0, NULL, "print a fresh random seed and exit", OPT_NEW_SEED, .type = KPR_OPT_FLAG },
	{ "service", 0, "FRONTEND", "print the live table of a loaded service; exit 1 unless it is the expected one", OPT_SERVICE, .type = KPR_OPT_STRING },
	{ NULL },
};

static int handle(void *priv, int id, const struct kpr_optval *v)
{
	struct args *a = priv;
	const char *arg = v->s;

	switch (id) {
	case OPT_SIZE:
		a->size = (__u32)v->u;
		a->size_set = true;
		return 0;
	case OPT_SEED:
		if (kpr_maglev_seed_parse(arg, a->seed)) {
			kpr_err("bad --seed '%s': give base64 of exactly 12 bytes (16 characters), as 'maglev-gen --new-seed' prints",
				arg);
			return -EINVAL;
		}
		a->seed_set = true;
		return 0;
	case OPT_COMPARE:
		a->compare = arg;
		return 0;
	case OPT_NEW_SEED:
		a->new_seed = true;
		return 0;
	case OPT_SERVICE:
		a->service = arg;
		return 0;
	}
	return -EINVAL;
}

static const struct kpr_tool_desc tool = {
	.name = "maglev-gen",
	.usage = "[OPTIONS] BACKEND...\n--compare OLD,OLD,... [OPTIONS] BACKEND...\n--new-seed\n--service FRONTEND [OPTIONS]",
	.summary = "Print the Maglev table Cilium builds for BACKENDs (ADDR:PORT[/tcp|/udp][,weight=N][,state=STATE];\n"
		   "only active backends get slots). -o counts: slots and share per backend; -o table: line k names\n"
		   "the backend owning slot k, as given; -o json: {\"size\", \"seed\", \"backends\", \"table\"}.",
	.opts = opts,
	.outputs = "counts,table,json",
	.handle = handle,
};

static double pct(unsigned long part, unsigned long whole)
{
	double v = whole ? 100.0 * (double)part / (double)whole : 0;

	return (double)(long)(v * 100 + 0.5) / 100;	/* two decimals, in JSON too */
}

static int name_width(char *const *names, unsigned int n)
{
	int w = 8;

	for (unsigned int i = 0; i < n; i++)
		w = (int)strlen(names[i]) > w ? (int)strlen(names[i]) : w;
	return w;
}

/* -o counts: a line per backend. */
static void print_counts(char *const *names, const struct kpr_be_spec *spec,
			 const unsigned int *slots, unsigned int n, __u32 m)
{
	int w = name_width(names, n);

	for (unsigned int i = 0; i < n; i++) {
		out_text("%-*s  %6u slots  %6.2f%%", w, names[i], slots[i], pct(slots[i], m));
		if (spec && spec[i].state != KPR_BE_ACTIVE)
			out_text("  (%s: not in the table)", kpr_state_name(spec[i].state));
		out_text("\n");
	}
}

/* -o table / -o json: the owner of each slot. */
static void print_table(const char *output, char *const *names, unsigned int n,
			const __u32 *table, const __u32 *ids, __u32 m, const __u8 *seed)
{
	char s[KPR_SEED_STRLEN];

	if (strcmp(output, "json")) {
		for (__u32 k = 0; k < m; k++) {
			if (table[k] < n)
				out_text("%s\n", names[table[k]]);
			else
				out_text("unknown backend id %u\n", ids ? ids[k] : 0);
		}
		return;
	}
	out_uint("size", NULL, m);
	out_str("seed", NULL, kpr_maglev_seed_fmt(seed, s, sizeof(s)));
	out_arr_open("backends");
	for (unsigned int i = 0; i < n; i++)
		out_str("backend", NULL, names[i]);	/* keys vanish in arrays */
	out_arr_close();
	out_arr_open("table");
	for (__u32 k = 0; k < m; k++)
		out_int("slot", NULL, table[k] < n ? (int64_t)table[k] : -1);
	out_arr_close();
}

static int compare(struct args *a, const char *output, struct kpr_maglev_set *nw, char *list)
{
	char **names = NULL, s[KPR_SEED_STRLEN];
	struct kpr_maglev_set old = {};
	struct kpr_maglev_diff d;
	unsigned int n;
	int ret;

	if (!strcmp(output, "table")) {
		kpr_err("--compare prints figures, not a table: use -o counts or -o json");
		return -EINVAL;
	}
	ret = kpr_maglev_split_list(list, &names, &n);
	if (!ret)
		ret = kpr_maglev_set_parse(&old, names, n, "--compare backends");
	if (!ret)
		ret = kpr_maglev_set_build(&old, a->size, a->seed);
	if (!ret)
		ret = kpr_maglev_set_diff(&old, nw, a->size, &d);
	if (ret)
		goto out;
	out_uint("size", "size %llu", a->size);
	out_str("seed", ", seed %s", kpr_maglev_seed_fmt(a->seed, s, sizeof(s)));
	out_uint("old_backends", ": %llu old backends", old.n_active);
	out_uint("new_backends", " -> %llu new (active)\n", nw->n_active);
	out_uint("changed_slots", "slots that change owner: %llu", d.changed);
	out_text(" of %u", a->size);
	out_float("changed_pct", " (%.2f%%)\n", pct(d.changed, a->size));
	out_uint("removed_slots", "  of them slots of backends that left: %llu\n", d.removed);
	out_uint("surviving_slots", "slots of surviving backends: %llu", d.surviving);
	out_uint("surviving_moved", ", of which move: %llu", d.moved);
	out_float("surviving_moved_pct", " (%.2f%%)\n", pct(d.moved, d.surviving));
out:
	kpr_maglev_set_free(&old);
	free(names);
	return ret;
}

static void print_check(const struct kpr_ctx *ctx, const char *fe, const struct kpr_maglev_check *c)
{
	char *const *names = c->names;
	unsigned int n = c->info.svc.total;
	char s[KPR_SEED_STRLEN];

	if (!strcmp(ctx->output, "counts")) {
		out_text("service %s (id %u): size %u, seed %s\n", fe, c->info.svc.id, c->m,
			 kpr_maglev_seed_fmt(c->cfg.maglev_seed, s, sizeof(s)));
		print_counts(names, NULL, c->slots, n, c->m);
	} else {
		if (out_json()) {
			out_uint("service", NULL, c->info.svc.id);
			out_str("frontend", NULL, fe);
		}
		print_table(ctx->output, names, n, c->idx, c->live, c->m, c->cfg.maglev_seed);
	}
	out_bool("match", NULL, !c->diff);
	out_uint("mismatched_slots", NULL, c->diff);
	if (!c->diff && !strcmp(ctx->output, "counts"))
		out_text("the live table is the expected one\n");
}

static int check_service(const struct kpr_ctx *ctx, struct args *a)
{
	struct kpr_state st = { .lock_fd = -1 };
	struct kpr_svc_key key = {};
	struct kpr_maglev_check c = {};
	char err[KPR_ERRLEN];
	int ret;

	if (ctx->argc || a->compare || a->size_set || a->seed_set) {
		kpr_err("--service takes the backends, size and seed of the loaded service: give no BACKEND, --compare, --size or --seed");
		return -EINVAL;
	}
	if (kpr_parse_frontend(a->service, true, &key.fe, err, sizeof(err))) {
		kpr_err("%s", err);
		return -EINVAL;
	}
	ret = kpr_ctx_state_open(&st, ctx, 0);
	if (!ret) {
		kpr_svc_key_resolve(&st, &key);
		ret = kpr_maglev_check_service(&st, &key, a->service, &c);
	}
	if (ret)
		goto out;
	if (!c.m) {
		out_uint("service", NULL, c.info.svc.id);
		out_str("frontend", "service %s: ", a->service);
		out_text("no active backend, so no Maglev table, as expected\n");
		out_bool("match", NULL, true);
		goto out;
	}
	print_check(ctx, a->service, &c);
	ret = kpr_maglev_check_report(&c, a->service);
out:
	kpr_maglev_check_free(&c);
	kpr_state_close(&st);
	return ret;
}

int main(int argc, char **argv)
{
	struct args a = { .size = KPR_MAGLEV_DEFAULT_SIZE };
	struct kpr_maglev_set nw = {};
	struct kpr_ctx ctx;
	char *list = NULL;
	int ret;

	kpr_maglev_seed_parse(KPR_MAGLEV_DEFAULT_SEED, a.seed);
	ret = kpr_parse_args(&tool, &a, argc, argv, &ctx);
	if (ret)
		goto out;

	if (a.new_seed) {
		char s[KPR_SEED_STRLEN];

		if (ctx.argc || a.compare || a.service || a.seed_set) {
			kpr_err("--new-seed stands alone: give no BACKEND, --compare, --service or --seed");
			ret = -EINVAL;
			goto out;
		}
		ret = kpr_maglev_seed_new(a.seed);
		if (ret) {
			kpr_err("cannot read random bytes: %s", strerror(-ret));
			goto out;
		}
		out_str("seed", "%s\n", kpr_maglev_seed_fmt(a.seed, s, sizeof(s)));
		goto out;
	}
	if (a.service) {
		ret = check_service(&ctx, &a);
		goto out;
	}

	ret = kpr_maglev_set_parse(&nw, ctx.argv, (unsigned int)ctx.argc, "BACKEND");
	if (!ret)
		ret = kpr_maglev_set_build(&nw, a.size, a.seed);
	if (ret)
		goto out;
	if (a.compare) {
		list = strdup(a.compare);
		ret = list ? compare(&a, ctx.output, &nw, list) : -ENOMEM;
	} else if (!strcmp(ctx.output, "counts")) {
		print_counts(nw.names, nw.spec, nw.slots, nw.n, a.size);
	} else {
		print_table(ctx.output, nw.names, nw.n, nw.table, NULL, a.size, a.seed);
	}
out:
	free(list);
	kpr_maglev_set_free(&nw);
	return out_finish(ret == KPR_PARSE_DONE ? 0 : ret);
}
