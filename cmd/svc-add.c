// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* svc-add: create or update services in the pinned maps. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "cli/opts.h"
#include "core/out.h"
#include "state/state.h"
#include "svc/k8s.h"
#include "svc/svc.h"
#include "core/util.h"

enum { OPT_FILE = 100, OPT_REPLACE, OPT_ALLOW_EMPTY, OPT_FORMAT };

struct args {
	struct kpr_svc_spec sp;
	const char *file;
	bool replace, allow_empty;
	int format;		/* enum kpr_input_format, -1: not given */
};

static const struct kpr_opt opts[] = {
	{ "file", 'f', "FILE", "read one service per line from FILE ('-': stdin); all or nothing", OPT_FILE, .type = KPR_OPT_STRING },
	{ "format", 0, "FORMAT", "with -f: FILE holds svc-add lines (default), or kubectl get services,endpointslices -A -o json", OPT_FORMAT,
	  .type = KPR_OPT_ENUM, .names = kpr_input_formats, .what = "input format" },
	{ "replace", 0, NULL, "with -f: delete every service that FILE does not name", OPT_REPLACE, .type = KPR_OPT_FLAG },
	{ "allow-empty", 0, NULL, "with --replace: accept a FILE without services, which deletes them all", OPT_ALLOW_EMPTY, .type = KPR_OPT_FLAG },
	{ NULL },
};

static int handle(void *priv, int id, const struct kpr_optval *v)
{
	struct args *a = priv;

	switch (id) {
	case OPT_FILE:
		a->file = v->s;
		return 0;
	case OPT_REPLACE:
		a->replace = true;
		return 0;
	case OPT_ALLOW_EMPTY:
		a->allow_empty = true;
		return 0;
	case OPT_FORMAT:
		a->format = (int)v->u;
		return 0;
	}
	kpr_svc_set_opt(&a->sp, id, v);
	return 0;
}

static const struct kpr_tool_desc tool = {
	.name = "svc-add",
	.usage = "[OPTIONS] FRONTEND [BACKEND...]\n[OPTIONS] [--format kubernetes] -f FILE|- [--replace [--allow-empty]]",
	.summary = "Create or update services: FRONTEND is ADDR:PORT[/tcp|/udp] ([IPv6]:PORT; *:PORT\n"
		   "or [*]:PORT for a NodePort on every IPv4 or IPv6 node address); a BACKEND may add ,weight=N and\n"
		   ",state=active|terminating|quarantined|maintenance. The same command twice\n"
		   "changes nothing.",
	.opts = opts,
	.opts2 = kpr_svc_opts,
	.flags = KPR_T_MUTATE,
	.handle = handle,
};

static void k8s_counts(const struct kpr_k8s_counts *c)
{
	out_obj_open("kubernetes");
	out_uint("services", NULL, c->services);
	out_uint("endpointslices", NULL, c->slices);
	out_uint("headless", NULL, c->headless);
	out_uint("external_name", NULL, c->external_name);
	out_uint("other", NULL, c->other);
	out_uint("warnings", NULL, c->warnings);
	out_obj_close();
	if (kpr_verbose && !out_json() && !out_quiet())
		printf("kubernetes: %u Services, %u EndpointSlices; skipped %u headless, %u ExternalName, %u other objects\n",
		       c->services, c->slices, c->headless, c->external_name, c->other);
}

/* The services of FILE, in either format. */
static int read_file(const struct args *a, struct kpr_svc_spec **specs, size_t *n)
{
	struct kpr_k8s_counts c;
	int ret;

	if (a->format != KPR_INPUT_KUBERNETES)
		return kpr_svc_parse_file(a->file, specs, n);
	ret = kpr_k8s_parse_file(a->file, specs, n, &c);
	if (!ret)
		k8s_counts(&c);
	return ret;
}

int main(int argc, char **argv)
{
	struct kpr_svc_spec *specs = NULL;
	struct kpr_batch_result res;
	struct kpr_state st = { .lock_fd = -1 };
	struct kpr_ctx ctx;
	struct args a;
	char err[KPR_ERRLEN];
	size_t n = 0;
	int ret;

	kpr_svc_spec_init(&a.sp);
	a.file = NULL;
	a.replace = false;
	a.allow_empty = false;
	a.format = -1;
	ret = kpr_parse_args(&tool, &a, argc, argv, &ctx);
	if (ret)
		goto out;

	if (a.file) {
		if (ctx.argc || a.sp.id || a.sp.affinity || a.sp.algorithm || a.sp.mode ||
		    a.sp.type != KPR_SVC_CLUSTERIP) {
			kpr_err("-f takes the services from FILE: give no FRONTEND or service options beside it");
			ret = -EINVAL;
			goto out;
		}
		if (a.allow_empty && !a.replace) {
			kpr_err("--allow-empty goes with --replace");
			ret = -EINVAL;
			goto out;
		}
		ret = read_file(&a, &specs, &n);
		if (ret)
			goto out;
		/* what a failed kubectl or a truncated copy leaves must not
		 * empty the node */
		if (!n && a.replace && !a.allow_empty) {
			kpr_err("%s holds no service: --replace would delete every service; add --allow-empty if that is meant",
				strcmp(a.file, "-") ? a.file : "the input");
			ret = -EINVAL;
			goto out;
		}
	} else {
		if (a.replace || a.allow_empty || a.format >= 0) {
			kpr_err("%s goes with -f FILE", a.replace ? "--replace" :
				a.allow_empty ? "--allow-empty" : "--format");
			ret = -EINVAL;
			goto out;
		}
		if (kpr_svc_set_endpoints(&a.sp, ctx.argc, ctx.argv, err, sizeof(err))) {
			kpr_err("%s", err);
			ret = -EINVAL;
			goto out;
		}
		specs = &a.sp;
		n = 1;
	}

	ret = kpr_ctx_state_open(&st, &ctx, KPR_OPEN_WRITE);
	if (ret)
		goto out;
	out_arr_open("services");
	ret = kpr_svc_apply(&st, specs, n, a.replace, ctx.dry_run, kpr_svc_report, &res);
	out_arr_close();
	if (!ret)
		kpr_svc_report_summary(&res, ctx.dry_run);
out:
	kpr_state_close(&st);
	if (specs != &a.sp)
		kpr_svc_specs_free(specs, n);
	kpr_svc_spec_free(&a.sp);
	return out_finish(ret == KPR_PARSE_DONE ? 0 : ret);
}
