// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* svc-del: delete services by frontend, by id, or all of them. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "cli/opts.h"
#include "core/out.h"
#include "state/state.h"
#include "svc/svc.h"
#include "core/util.h"

enum { OPT_ID = 100, OPT_ALL };

struct args {
	bool by_id;
	bool all;
};

static const struct kpr_opt opts[] = {
	{ "id", 0, NULL, "the arguments are service ids, not frontends", OPT_ID, .type = KPR_OPT_FLAG },
	{ "all", 0, NULL, "delete every service", OPT_ALL, .type = KPR_OPT_FLAG },
	{ NULL },
};

static int handle(void *priv, int id, const struct kpr_optval *v)
{
	struct args *a = priv;

	if (id == OPT_ID)
		a->by_id = true;
	else
		a->all = true;
	return 0;
}

static const struct kpr_tool_desc tool = {
	.name = "svc-del",
	.usage = "[OPTIONS] FRONTEND...\n[OPTIONS] --id ID...\n[OPTIONS] --all",
	.summary = "Delete services. Deleting a service that is not there succeeds and changes nothing.",
	.opts = opts,
	.flags = KPR_T_MUTATE,
	.handle = handle,
};

/* Resolves every argument before anything is deleted: bad input changes nothing. */
static int resolve(struct kpr_state *st, const struct args *a, const struct kpr_ctx *ctx,
		   struct kpr_svc_key *keys, bool *present)
{
	char err[KPR_ERRLEN];

	for (int i = 0; i < ctx->argc; i++) {
		unsigned long id;

		present[i] = true;
		if (a->by_id) {
			if (kpr_parse_uint(ctx->argv[i], 1, KPR_MAX_SERVICES - 1, &id)) {
				kpr_err("bad service id '%s': use 1 to %u", ctx->argv[i], KPR_MAX_SERVICES - 1);
				return -EINVAL;
			}
			if (kpr_svc_key_by_id(st, (__u32)id, &keys[i]))
				present[i] = false;
			continue;
		}
		memset(&keys[i], 0, sizeof(keys[i]));
		if (kpr_parse_frontend(ctx->argv[i], true, &keys[i].fe, err, sizeof(err))) {
			kpr_err("%s", err);
			return -EINVAL;
		}
		kpr_svc_key_resolve(st, &keys[i]);
	}
	return 0;
}

int main(int argc, char **argv)
{
	struct kpr_state st = { .lock_fd = -1 };
	struct kpr_batch_result res = {};
	struct kpr_svc_key *keys = NULL;
	bool *present = NULL;
	struct kpr_ctx ctx;
	struct args a = {};
	size_t n = 0;
	int ret;

	ret = kpr_parse_args(&tool, &a, argc, argv, &ctx);
	if (ret)
		goto out;
	if (a.all == (ctx.argc > 0) || (a.all && a.by_id)) {
		kpr_err(a.all ? "--all takes no arguments" :
			"nothing to delete: give FRONTEND..., --id ID... or --all");
		ret = -EINVAL;
		goto out;
	}
	ret = kpr_ctx_state_open(&st, &ctx, KPR_OPEN_WRITE);
	if (ret)
		goto out;

	if (a.all) {
		out_arr_open("services");
		ret = kpr_svc_delete_all(&st, ctx.dry_run, kpr_svc_report, &res);
		out_arr_close();
		goto done;
	}
	n = (size_t)ctx.argc;
	keys = calloc(n, sizeof(*keys));
	present = calloc(n, sizeof(*present));
	if (!keys || !present) {
		ret = -ENOMEM;
		goto out;
	}
	ret = resolve(&st, &a, &ctx, keys, present);
	if (ret)
		goto out;

	/* ids that name no service are unchanged; the rest go */
	for (size_t i = 0, j = 0; i < n; i++) {
		if (present[i])
			keys[j++] = keys[i];
		else
			res.unchanged++;
	}
	out_arr_open("services");
	ret = kpr_svc_delete_keys(&st, keys, n - res.unchanged, ctx.dry_run, kpr_svc_report, &res);
	out_arr_close();
done:
	if (!ret)
		kpr_svc_report_summary(&res, ctx.dry_run);
out:
	kpr_state_close(&st);
	free(keys);
	free(present);
	return out_finish(ret == KPR_PARSE_DONE ? 0 : ret);
}
