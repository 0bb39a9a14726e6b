// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* svc-list: the services in the pinned maps, as a table (Cilium's layout),
 * JSON, or svc-add lines (-o save) that restore them. */
#include <errno.h>
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/opts.h"
#include "core/out.h"
#include "core/prom.h"
#include "dev/dev_prom.h"
#include "state/state.h"
#include "svc/maglev_map.h"
#include "svc/svc.h"
#include "svc/svc_check.h"
#include "svc/svc_prom.h"
#include "core/util.h"

enum { OPT_STATS = 100, OPT_VERIFY };

struct args {
	bool stats;
	bool verify;
};

static const struct kpr_opt opts[] = {
	{ "stats", 0, NULL, "add packets, bytes, new flows and drops per service and backend, nat allocation failures per service", OPT_STATS, .type = KPR_OPT_FLAG },
	{ "verify", 0, NULL, "check the maps against each other (services, slots, backends, index, Maglev tables, revnat); exit 1 naming each inconsistency", OPT_VERIFY, .type = KPR_OPT_FLAG },
	{ NULL },
};

static int handle(void *priv, int id, const struct kpr_optval *v)
{
	struct args *a = priv;

	if (id == OPT_VERIFY)
		a->verify = true;
	else
		a->stats = true;
	return 0;
}

static const struct kpr_tool_desc tool = {
	.name = "svc-list",
	.usage = "[OPTIONS] [FRONTEND]",
	.summary = "List services. -o save prints svc-add lines: svc-list -o save > f; svc-add -f f --replace\n"
		   "restores them exactly. -o prometheus prints node_exporter's textfile format: counters\n"
		   "per service and backend, table fill, nat port exhaustion, attached devices.",
	.opts = opts,
	.outputs = "table,json,save,prometheus",
	.handle = handle,
};

static void print_table(struct kpr_state *st, const struct kpr_svc_info *v, size_t n, bool stats)
{
	int wid = 2, wfe = 8, wty = 12;
	char a[KPR_ADDRSTRLEN], num[16];
	struct kpr_stats s;

	for (size_t i = 0; i < n; i++) {
		int l = snprintf(num, sizeof(num), "%u", v[i].svc.id);

		wid = l > wid ? l : wid;
		l = (int)strlen(kpr_fmt_l4addr(&v[i].key.fe, true, a, sizeof(a)));
		wfe = l > wfe ? l : wfe;
	}
	out_text("%-*s   %-*s   %-*s   %s\n", wid, "ID", wfe, "Frontend", wty, "Service Type", "Backend");
	for (size_t i = 0; i < n; i++) {
		const struct kpr_svc_info *x = &v[i];

		out_text("%-*u   %-*s   %-*s   ", wid, x->svc.id, wfe,
			 kpr_fmt_l4addr(&x->key.fe, true, a, sizeof(a)), wty,
			 kpr_svc_type_name(x->svc.type, true));
		if (!x->svc.total)
			out_text("(no backends)");
		if (stats && !kpr_svc_stats(st, KPR_STATS_SVC, x->svc.id, &s)) {
			kpr_svc_stats_out(&s, true);
			out_text("\n%*s", wid + wfe + wty + 9, "");
		}
		for (__u32 j = 0; j < x->svc.total; j++) {
			if (j)
				out_text("%*s", wid + wfe + wty + 9, "");
			out_text("%u => %s (%s", j + 1, kpr_fmt_l4addr(&x->be[j].be, true, a, sizeof(a)),
				 kpr_state_name(x->be[j].state));
			if (x->be[j].weight != 1)
				out_text(", weight %u", x->be[j].weight);
			out_text(")");
			if (stats && !kpr_svc_be_stats(st, x->svc.id, x->be_ids[j], &s))
				kpr_svc_stats_out(&s, false);
			if (j + 1 < x->svc.total)
				out_text("\n");
		}
		out_text("\n");
	}
}

static void print_json(struct kpr_state *st, const struct kpr_svc_info *v, size_t n, bool stats)
{
	char a[KPR_ADDRSTRLEN];
	struct kpr_config cfg;
	struct kpr_stats s;
	bool have_cfg = !kpr_config_read(st, &cfg);

	out_arr_open("services");
	for (size_t i = 0; i < n; i++) {
		const struct kpr_svc_info *x = &v[i];
		double *share = calloc(x->svc.total + 1u, sizeof(*share));
		bool shares = share && have_cfg && !kpr_svc_shares(st, x, &cfg, share);

		out_obj_open(NULL);
		out_uint("id", NULL, x->svc.id);
		out_str("frontend", NULL, kpr_fmt_l4addr(&x->key.fe, false, a, sizeof(a)));
		out_str("address", NULL, kpr_fmt_addr(&x->key.fe.addr, x->key.fe.family, a, sizeof(a)));
		out_uint("port", NULL, ntohs(x->key.fe.port));
		out_str("protocol", NULL, kpr_proto_name(x->key.fe.proto, false));
		out_str("type", NULL, kpr_svc_type_name(x->svc.type, false));
		out_str("algorithm", NULL, kpr_alg_name(x->svc.algorithm));
		out_str("mode", NULL, kpr_mode_name(x->svc.mode));
		out_uint("affinity", NULL, x->svc.affinity_timeout);
		out_uint("active", NULL, x->svc.active);
		out_bool("weighted", NULL, x->svc.flags & KPR_SVC_F_WEIGHTED);
		if (stats && !kpr_svc_stats(st, KPR_STATS_SVC, x->svc.id, &s))
			kpr_svc_stats_out(&s, true);
		out_arr_open("backends");
		for (__u32 j = 0; j < x->svc.total; j++) {
			const struct kpr_backend *b = &x->be[j];

			out_obj_open(NULL);
			out_uint("id", NULL, x->be_ids[j]);
			out_str("backend", NULL, kpr_fmt_l4addr(&b->be, false, a, sizeof(a)));
			out_str("address", NULL, kpr_fmt_addr(&b->be.addr, b->be.family, a, sizeof(a)));
			out_uint("port", NULL, ntohs(b->be.port));
			out_str("protocol", NULL, kpr_proto_name(b->be.proto, false));
			out_str("state", NULL, kpr_state_name(b->state));
			out_uint("weight", NULL, b->weight);
			if (shares)
				out_float("share", NULL, share[j]);
			else
				out_null("share");
			if (stats && !kpr_svc_be_stats(st, x->svc.id, x->be_ids[j], &s))
				kpr_svc_stats_out(&s, false);
			out_obj_close();
		}
		out_arr_close();
		out_obj_close();
		free(share);
	}
	out_arr_close();
}

/* Printed whole or not at all: a textfile collector must never read half. */
static int print_prometheus(struct kpr_state *st, const struct kpr_svc_info *v, size_t n)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *m = open_memstream(&buf, &len);
	int ret;

	if (!m)
		return -ENOMEM;
	kpr_prom_build_info(m, kpr_version(), KPR_LAYOUT_VERSION);
	ret = kpr_prom_services(st, v, n, m);
	if (!ret)
		ret = kpr_prom_tables(st, m);
	if (!ret)
		ret = kpr_prom_devices(st->root, m);
	if (fclose(m) && !ret)
		ret = -ENOMEM;
	if (!ret && fwrite(buf, 1, len, stdout) != len)
		ret = -EIO;
	free(buf);
	return ret;
}

static int print_fault(const struct kpr_fault *f, void *ctx)
{
	int *repairable = ctx;

	*repairable += f->healable;
	out_obj_open(NULL);
	out_str("kind", "%s: ", kpr_fault_name(f->kind));
	out_str("message", "%s", f->msg);
	if (f->kind == KPR_FAULT_REFCNT || f->kind == KPR_FAULT_SVC_ADDRS) {
		out_uint("expected", NULL, f->want);
		out_uint("found", NULL, f->have);
	}
	if (f->svc_id)
		out_uint("service", NULL, f->svc_id);
	if (f->be_id)
		out_uint("backend", NULL, f->be_id);
	out_bool("repairable", f->healable ? " (repairable)\n" : "\n", f->healable);
	out_obj_close();
	return 0;
}

/* Under the writer lock: a writer at work raises counts before its flip. */
static int verify(struct kpr_state *st)
{
	int repairable = 0, n;

	out_arr_open("faults");
	n = kpr_svc_check(st, true, print_fault, &repairable);
	out_arr_close();
	if (n < 0)
		return n;
	out_bool("consistent", n ? NULL : "consistent\n", !n);
	if (!n)
		return 0;
	kpr_err("%d inconsistencies under %s, %d of them repairable: the next svc-add -f FILE --replace, or svc-del --all, repairs those",
		n, st->root, repairable);
	return -EIO;
}

int main(int argc, char **argv)
{
	struct kpr_state st = { .lock_fd = -1 };
	struct kpr_svc_info *v = NULL, one;
	struct kpr_ctx ctx;
	struct args a = {};
	char err[KPR_ERRLEN];
	size_t n = 0;
	int ret;

	ret = kpr_parse_args(&tool, &a, argc, argv, &ctx);
	if (ret)
		goto out;
	if (a.verify) {
		if (ctx.argc || a.stats || (strcmp(ctx.output, "table") && strcmp(ctx.output, "json"))) {
			kpr_err("--verify takes no FRONTEND, no --stats, and -o table or json");
			ret = -EINVAL;
			goto out;
		}
		ret = kpr_ctx_state_open(&st, &ctx, KPR_OPEN_LOCK);
		if (!ret)
			ret = verify(&st);
		goto out;
	}
	if (ctx.argc > 1) {
		kpr_err("give at most one FRONTEND");
		ret = -EINVAL;
		goto out;
	}
	if (ctx.argc == 1) {
		struct kpr_svc_key key = {};

		if (kpr_parse_frontend(ctx.argv[0], true, &key.fe, err, sizeof(err))) {
			kpr_err("%s", err);
			ret = -EINVAL;
			goto out;
		}
		ret = kpr_ctx_state_open(&st, &ctx, 0);
		if (ret)
			goto out;
		kpr_svc_key_resolve(&st, &key);
		ret = kpr_svc_get(&st, &key, &one);
		if (ret == -ENOENT) {
			kpr_err("no service %s", ctx.argv[0]);
			goto out;
		}
		v = malloc(sizeof(*v));
		if (!v) {
			ret = -ENOMEM;
			goto out;
		}
		*v = one;
		n = 1;
	} else {
		ret = kpr_ctx_state_open(&st, &ctx, 0);
		if (!ret)
			ret = kpr_svc_list(&st, &v, &n);
	}
	if (ret)
		goto out;

	if (!strcmp(ctx.output, "prometheus")) {
		ret = print_prometheus(&st, v, n);
	} else if (!strcmp(ctx.output, "json")) {
		print_json(&st, v, n, a.stats);
	} else if (!strcmp(ctx.output, "save")) {
		/* --replace with a part would delete the rest of the node */
		if (ctx.argc)
			printf("# kpr service %s: svc-add -f FILE restores it (not --replace: that deletes every other service)\n",
			       ctx.argv[0]);
		else
			printf("# kpr services: svc-add -f FILE --replace restores them\n");
		for (size_t i = 0; i < n; i++)
			kpr_svc_save_line(&v[i], stdout);
	} else {
		print_table(&st, v, n, a.stats);
	}
out:
	kpr_svc_info_free(v, n);
	kpr_state_close(&st);
	return out_finish(ret == KPR_PARSE_DONE ? 0 : ret);
}
