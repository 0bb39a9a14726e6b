// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * maglev-gen: print a Maglev table identical to Cilium's for the same
 * backends, seed and size; compare two backend sets; make a seed; check the
 * live table of a loaded service against the one it should be.
 */
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "svc/addr.h"
#include "svc/maglev.h"
#include "svc/maglev_map.h"
#include "cli/opts.h"
#include "core/out.h"
#include "state/state.h"
#include "svc/svc.h"
#include "core/util.h"

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

/* A set of backends and its table. */
struct set {
	unsigned int n, n_active;
	char **names;			/* as given */
	struct kpr_be_spec *spec;
	struct kpr_maglev_be *mbe;	/* the active ones */
	unsigned int *act;		/* mbe[i] is spec[act[i]] */
	__u32 *table;			/* indexes into names */
	unsigned int *slots;
};

static void set_free(struct set *s)
{
	free(s->names);
	free(s->spec);
	free(s->mbe);
	free(s->act);
	free(s->table);
	free(s->slots);
	memset(s, 0, sizeof(*s));
}

static const struct kpr_be_spec *sort_base;

static int cmp_addr(const void *a, const void *b)
{
	unsigned int x = *(const unsigned int *)a, y = *(const unsigned int *)b;
	int c = memcmp(&sort_base[x].addr, &sort_base[y].addr, sizeof(sort_base[x].addr));

	return c ? c : (x > y) - (x < y);
}

/* A backend given twice, found by sorting: thousands of backends stay cheap. */
static int check_twice(const struct set *s)
{
	unsigned int *ord = malloc(s->n * sizeof(*ord));
	int ret = 0;

	if (!ord)
		return -ENOMEM;
	for (unsigned int i = 0; i < s->n; i++)
		ord[i] = i;
	sort_base = s->spec;
	qsort(ord, s->n, sizeof(*ord), cmp_addr);
	for (unsigned int i = 1; i < s->n && !ret; i++) {
		if (memcmp(&s->spec[ord[i - 1]].addr, &s->spec[ord[i]].addr, sizeof(s->spec[0].addr)))
			continue;
		kpr_err("backend '%s' is given twice (as '%s')", s->names[ord[i]], s->names[ord[i - 1]]);
		ret = -EINVAL;
	}
	free(ord);
	return ret;
}

static int set_parse(struct set *s, char **names, unsigned int n, const char *what)
{
	char err[KPR_ERRLEN];
	unsigned long wsum = 0;
	bool uneven = false;
	int ret;

	memset(s, 0, sizeof(*s));
	if (!n) {
		kpr_err("no %s given: expected at least one ADDR:PORT[/tcp|/udp][,weight=N]", what);
		return -EINVAL;
	}
	s->n = n;
	s->names = calloc(n, sizeof(*s->names));
	s->spec = calloc(n, sizeof(*s->spec));
	s->mbe = calloc(n, sizeof(*s->mbe));
	s->act = calloc(n, sizeof(*s->act));
	s->slots = calloc(n, sizeof(*s->slots));
	if (!s->names || !s->spec || !s->mbe || !s->act || !s->slots)
		return -ENOMEM;
	for (unsigned int i = 0; i < n; i++) {
		s->names[i] = names[i];
		if (kpr_parse_backend(names[i], IPPROTO_TCP, &s->spec[i], err, sizeof(err))) {
			kpr_err("%s", err);
			return -EINVAL;
		}
		if (s->spec[i].state != KPR_BE_ACTIVE)
			continue;
		s->mbe[s->n_active].addr = s->spec[i].addr;
		s->mbe[s->n_active].weight = s->spec[i].weight;
		s->act[s->n_active++] = i;
	}
	ret = check_twice(s);
	if (ret)
		return ret;
	if (!s->n_active) {
		kpr_err("none of the %s is active: only active backends get slots", what);
		return -EINVAL;
	}
	for (unsigned int i = 0; i < s->n_active; i++)
		wsum += s->mbe[i].weight;
	for (unsigned int i = 1; i < s->n_active; i++)
		uneven |= s->mbe[i].weight != s->mbe[0].weight;
	if (uneven && wsum / s->n_active <= 1)
		kpr_warn("weights of %s ignored: as in Cilium, they count only when their sum (%lu) divided by the number of active backends (%u) is above 1",
			 what, wsum, s->n_active);
	return 0;
}

static int set_build(struct set *s, __u32 m, const __u8 *seed)
{
	int ret;

	s->table = malloc(m * sizeof(*s->table));
	if (!s->table)
		return -ENOMEM;
	ret = kpr_maglev_build(s->mbe, s->n_active, m, seed, s->table);
	if (ret) {
		kpr_err("cannot build the Maglev table: %s", strerror(-ret));
		return ret;
	}
	for (__u32 k = 0; k < m; k++) {
		s->table[k] = s->act[s->table[k]];
		s->slots[s->table[k]]++;
	}
	return 0;
}

/* "OLD,OLD,..." where ",weight=N" and ",state=S" belong to the backend before. */
static int split_list(char *list, char ***out, unsigned int *n)
{
	unsigned int cnt = 0, cap = 1;
	char **v, *p;

	for (p = list; *p; p++)
		cap += *p == ',';
	v = calloc(cap, sizeof(*v));
	if (!v)
		return -ENOMEM;
	for (p = strtok(list, ","); p; p = strtok(NULL, ",")) {
		if ((!strncmp(p, "weight=", 7) || !strncmp(p, "state=", 6)) && cnt) {
			p[-1] = ',';	/* glue it back to its backend */
			continue;
		}
		v[cnt++] = p;
	}
	*out = v;
	*n = cnt;
	return 0;
}

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

static int compare(struct args *a, const char *output, struct set *nw, char *list)
{
	char **names = NULL, s[KPR_SEED_STRLEN];
	struct kpr_maglev_diff d;
	struct set old = {};
	int *old_to_new = NULL;
	unsigned int n;
	int ret;

	if (!strcmp(output, "table")) {
		kpr_err("--compare prints figures, not a table: use -o counts or -o json");
		return -EINVAL;
	}
	ret = split_list(list, &names, &n);
	if (!ret)
		ret = set_parse(&old, names, n, "--compare backends");
	if (!ret)
		ret = set_build(&old, a->size, a->seed);
	if (!ret && !(old_to_new = calloc(old.n, sizeof(*old_to_new))))
		ret = -ENOMEM;
	if (ret)
		goto out;
	/* Where each old backend is among the new ones that take new flows. */
	for (unsigned int i = 0; i < old.n; i++) {
		old_to_new[i] = -1;
		for (unsigned int j = 0; j < nw->n_active; j++)
			if (!memcmp(&nw->spec[nw->act[j]].addr, &old.spec[i].addr,
				    sizeof(old.spec[i].addr)))
				old_to_new[i] = (int)nw->act[j];
	}
	kpr_maglev_diff(old.table, nw->table, a->size, old_to_new, &d);
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
	set_free(&old);
	free(old_to_new);
	free(names);
	return ret;
}

static int check_service(const struct kpr_ctx *ctx, struct args *a)
{
	struct kpr_state st = { .lock_fd = -1 };
	struct kpr_svc_key key = {};
	struct kpr_svc_info info = {};
	struct kpr_config cfg;
	__u32 *live = NULL, *want = NULL, *idx = NULL, m = 0, diff = 0, first = 0;
	char **names = NULL, err[KPR_ERRLEN], s[KPR_SEED_STRLEN];
	unsigned int *slots = NULL, n = 0;
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
	if (ret)
		goto out;
	ret = kpr_config_read(&st, &cfg);
	if (ret)
		goto out;
	ret = kpr_svc_get(&st, &key, &info);
	if (ret == -ENOENT) {
		kpr_err("no service %s under %s", a->service, st.root);
		goto out;
	}
	if (ret)
		goto out;
	if (!kpr_maglev_wanted(info.svc.algorithm, &cfg)) {
		kpr_err("service %s (id %u) uses the random algorithm and has no Maglev table: svc-add --algorithm maglev, or lb-mode --algorithm maglev",
			a->service, info.svc.id);
		ret = -ENOENT;
		goto out;
	}
	n = info.svc.total;
	names = calloc(n + 1u, sizeof(*names));
	slots = calloc(n + 1u, sizeof(*slots));
	if (!names || !slots) {
		ret = -ENOMEM;
		goto out;
	}
	for (unsigned int i = 0; i < n; i++) {
		char b[KPR_BACKENDSTRLEN];

		names[i] = strdup(kpr_fmt_backend(&info.be[i], b, sizeof(b)));
		if (!names[i]) {
			ret = -ENOMEM;
			goto out;
		}
	}

	ret = kpr_maglev_read_service(&st, info.svc.id, &live, &m);
	if (ret == -ENOENT && !info.svc.active) {
		out_uint("service", NULL, info.svc.id);
		out_str("frontend", "service %s: ", a->service);
		out_text("no active backend, so no Maglev table, as expected\n");
		out_bool("match", NULL, true);
		ret = 0;
		goto out;
	}
	if (ret == -ENOENT) {
		kpr_err("service %s (id %u) has no Maglev table in %s/maglev: rewrite it with svc-add",
			a->service, info.svc.id, st.root);
		goto out;
	}
	if (ret)
		goto out;

	ret = kpr_maglev_expected(&info, &cfg, &want);
	if (ret)
		goto out;
	idx = malloc((m + 1u) * sizeof(*idx));
	if (!idx) {
		ret = -ENOMEM;
		goto out;
	}
	for (__u32 k = 0; k < m; k++) {
		idx[k] = ~0U;
		for (unsigned int i = 0; i < n; i++) {
			if (info.be_ids[i] == live[k]) {
				idx[k] = i;
				slots[i]++;
				break;
			}
		}
		if (!want || m != cfg.maglev_size || want[k] != live[k]) {
			if (!diff)
				first = k;
			diff++;
		}
	}

	if (!strcmp(ctx->output, "counts")) {
		out_text("service %s (id %u): size %u, seed %s\n", a->service, info.svc.id, m,
			 kpr_maglev_seed_fmt(cfg.maglev_seed, s, sizeof(s)));
		print_counts(names, NULL, slots, n, m);
	} else {
		if (out_json()) {
			out_uint("service", NULL, info.svc.id);
			out_str("frontend", NULL, a->service);
		}
		print_table(ctx->output, names, n, idx, live, m, cfg.maglev_seed);
	}
	out_bool("match", NULL, !diff);
	out_uint("mismatched_slots", NULL, diff);
	if (!diff) {
		if (!strcmp(ctx->output, "counts"))
			out_text("the live table is the expected one\n");
		goto out;
	}
	if (m != cfg.maglev_size)
		kpr_err("the Maglev table of service %s has %u slots, the config says %u: rewrite it by updating the service (svc-add)",
			a->service, m, cfg.maglev_size);
	else
		kpr_err("the Maglev table of service %s differs from the expected one in %u of %u slots (first: slot %u holds backend id %u, expected %u): the table is stale (a weight or state changed through another service sharing a backend?) or was changed outside kpr; an svc-add that changes this service rewrites it",
			a->service, diff, m, first, live[first], want ? want[first] : 0);
	ret = -EIO;
out:
	for (unsigned int i = 0; names && i < n; i++)
		free(names[i]);
	free(names);
	free(slots);
	free(live);
	free(want);
	free(idx);
	free(info.be_ids);
	free(info.be);
	kpr_state_close(&st);
	return ret;
}

int main(int argc, char **argv)
{
	struct args a = { .size = KPR_MAGLEV_DEFAULT_SIZE };
	struct set nw = {};
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

	ret = set_parse(&nw, ctx.argv, (unsigned int)ctx.argc, "BACKEND");
	if (!ret)
		ret = set_build(&nw, a.size, a.seed);
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
	set_free(&nw);
	return out_finish(ret == KPR_PARSE_DONE ? 0 : ret);
}
