// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* kp-cleanup: remove kube-proxy's leftovers, and nothing else; or put them back. */
#include <errno.h>
#include <stdlib.h>

#include "kpcleanup/kpcleanup.h"
#include "core/netns.h"
#include "cli/opts.h"
#include "core/out.h"
#include "core/util.h"

/* Above 255: getopt values below are taken for short option letters. */
enum { OPT_BACKUP_DIR = 0x1000, OPT_RESTORE, OPT_ONLY, OPT_FORCE };

struct args {
	struct kpc_opts o;
	const char *restore;
};

static const struct kpr_opt opts[] = {
	{ "backup-dir", 0, "DIR", "save what is removed under DIR (default " KPC_BACKUP_ROOT "/<UTC time>)", OPT_BACKUP_DIR, .type = KPR_OPT_STRING },
	{ "restore", 0, "DIR", "put back what the backup in DIR holds and is missing", OPT_RESTORE, .type = KPR_OPT_STRING },
	{ "only", 0, "KINDS", "only these kinds, comma-separated", OPT_ONLY,
	  .type = KPR_OPT_ENUM_LIST, .names = kpc_kinds },
	{ "force", 0, NULL, "go on although a kube-proxy process is running", OPT_FORCE, .type = KPR_OPT_FLAG },
	{ NULL },
};

static int handle(void *priv, int id, const struct kpr_optval *v)
{
	struct args *a = priv;

	switch (id) {
	case OPT_BACKUP_DIR:
		if (!*v->s) {
			kpr_err("--backup-dir needs a directory");
			return -EINVAL;
		}
		a->o.backup_dir = v->s;
		return 0;
	case OPT_RESTORE:
		if (!*v->s) {
			kpr_err("--restore needs a backup directory");
			return -EINVAL;
		}
		a->restore = v->s;
		return 0;
	case OPT_ONLY:
		a->o.kinds = (unsigned int)v->u;
		return 0;
	case OPT_FORCE:
		a->o.force = true;
		return 0;
	}
	kpr_err("unknown option; see 'kp-cleanup --help'");
	return -EINVAL;
}

static const struct kpr_tool_desc tool = {
	.name = "kp-cleanup",
	.usage = "[OPTIONS]\n[OPTIONS] --restore DIR",
	.summary = "Remove what kube-proxy leaves behind (iptables chains and jumps of every table,\n"
		   "IPv4 and IPv6, nft and legacy backends; its ipsets, nftables tables, IPVS services\n"
		   "and the kube-ipvs0 link), keeping kubelet's chains and everything else. It saves\n"
		   "what it removes first; --restore puts a backup back.",
	.opts = opts,
	.flags = KPR_T_MUTATE | KPR_T_NETNS,
	.handle = handle,
};

int main(int argc, char **argv)
{
	struct args a = { .o.kinds = KPC_ALL };
	struct kpr_ctx ctx;
	int ret;

	ret = kpr_parse_args(&tool, &a, argc, argv, &ctx);
	if (ret)
		goto out;
	if (ctx.argc) {
		kpr_err("unexpected argument '%s'; see 'kp-cleanup --help'", ctx.argv[0]);
		ret = -EINVAL;
		goto out;
	}
	if (a.restore && a.o.backup_dir) {
		kpr_err("--backup-dir and --restore do not go together: --restore names the backup");
		ret = -EINVAL;
		goto out;
	}
	a.o.dry_run = ctx.dry_run;
	a.o.wait = ctx.wait;
	ret = kpr_netns_enter(ctx.netns);
	if (ret)
		goto out;
	if (a.restore)
		ret = kpc_restore(&a.o, a.restore);
	else
		ret = kpc_cleanup(&a.o);
out:
	return out_finish(ret == KPR_PARSE_DONE ? 0 : ret);
}
