// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* xdp-attach: attach the node datapath to devices, detach it, show it. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "svc/addr.h"
#include "core/netns.h"
#include "cli/opts.h"
#include "core/out.h"
#include "state/state.h"
#include "svc/svc.h"
#include "core/util.h"
#include "dev/xdp.h"

enum { OPT_MODE = 0x1000, OPT_DETACH, OPT_STATUS, OPT_NODE_IP, OPT_INTERNAL };

#define MAX_NODE_IPS 64

struct args {
	enum kpr_xdp_mode mode;
	bool detach, status, internal;
	const char *node_ip[MAX_NODE_IPS];
	int n_node_ip;
};

static const struct kpr_opt opts[] = {
	{ "mode", 'm', "MODE", "XDP mode; best-effort: native, else generic (the default)", OPT_MODE,
	  .type = KPR_OPT_ENUM, .names = kpr_xdp_modes },
	{ "detach", 'd', NULL, "detach from DEV... (from every device when none is given)", OPT_DETACH, .type = KPR_OPT_FLAG },
	{ "status", 's', NULL, "list every attachment of the pin root, per network namespace", OPT_STATUS, .type = KPR_OPT_FLAG },
	{ "internal", 0, NULL, "DEV... are pods' host-side veths: ClusterIPs served there (see --sock-hostns-only)",
	  OPT_INTERNAL, .type = KPR_OPT_FLAG },
	{ "node-ip", 0, "ADDR", "one more node address for NodePort frontends (repeatable)", OPT_NODE_IP,
	  .type = KPR_OPT_ADDR },
	{ NULL },
};

static int handle(void *priv, int id, const struct kpr_optval *v)
{
	struct args *a = priv;

	switch (id) {
	case OPT_MODE:
		a->mode = (enum kpr_xdp_mode)v->u;
		return 0;
	case OPT_DETACH:
		a->detach = true;
		return 0;
	case OPT_STATUS:
		a->status = true;
		return 0;
	case OPT_INTERNAL:
		a->internal = true;
		return 0;
	case OPT_NODE_IP:
		if (a->n_node_ip == MAX_NODE_IPS) {
			kpr_err("at most %d --node-ip", MAX_NODE_IPS);
			return -EINVAL;
		}
		a->node_ip[a->n_node_ip++] = v->s;
		return 0;
	}
	return -EINVAL;
}

static const struct kpr_tool_desc tool = {
	.name = "xdp-attach",
	.usage = "[OPTIONS] [--mode MODE] DEV...\n--detach [DEV...]\n--status",
	.summary = "Attach the kpr node datapath (XDP ingress) to each DEV. The links are pinned\n"
		   "under the pin root, so the datapath keeps running after the tool exits;\n"
		   "the devices' addresses become node addresses for NodePort frontends.",
	.opts = opts,
	.flags = KPR_T_MUTATE | KPR_T_NETNS,
	.handle = handle,
};

static void print_dev(const struct kpr_xdp_dev *d, const char *action)
{
	out_obj_open(NULL);
	if (action)
		out_str("action", "%s ", action);
	out_str("dev", "%s", d->name);
	out_uint("ifindex", NULL, d->ifindex);
	out_str("mode", " %s", d->ifindex ? kpr_xdp_mode_name(d->mode) : "gone");
	if (d->fallback)
		out_bool("fallback", " (native refused)", true);
	out_bool("internal", d->internal ? " internal" : NULL, d->internal);
	out_uint("prog_id", " prog %llu", d->prog_id);
	out_uint("link_id", " link %llu\n", d->link_id);
	out_obj_close();
}

static void print_att(const struct kpr_attachment *a, unsigned long long *netns)
{
	/* cgroups come last, after every netns */
	if (a->hook == KPR_HOOK_CGROUP && *netns != ~1ULL)
		out_text("cgroups:\n");
	else if (a->hook != KPR_HOOK_CGROUP && *netns != a->netns)
		out_text("netns %llu%s%s%s:\n", a->netns, *a->netns_name ? " (" : "",
			 a->netns_name, *a->netns_name ? ")" : a->netns ? "" : " (unknown: old pins)");
	*netns = a->hook == KPR_HOOK_CGROUP ? ~1ULL : a->netns;
	out_obj_open(NULL);
	out_str("hook", "  %-9s", kpr_hook_name(a->hook));
	if (a->hook == KPR_HOOK_CGROUP) {
		out_str("cgroup", " %s", *a->cgroup_path ? a->cgroup_path : "(removed)");
		out_uint("cgroup_id", NULL, a->cgroup);
		out_str("type", " %s", kpr_cgroup_type_name(a->type) ?: "?");
	} else {
		out_uint("netns", NULL, a->netns);
		out_str("netns_name", NULL, a->netns_name);
		out_str("dev", " %s", a->dev);
		out_uint("ifindex", NULL, a->ifindex);
		if (a->link_id && !a->ifindex)
			out_str("mode", " %s", "gone");	/* the link says so */
		else if (!a->seen && (a->hook == KPR_HOOK_XDP || a->tc_filter))
			out_str("mode", " %s", "unknown");	/* its netns was not found */
		else if (!a->ifindex)
			out_str("mode", " %s", "gone");
		else if (a->hook == KPR_HOOK_XDP)
			out_str("mode", " %s", kpr_xdp_mode_name(a->mode));
		else
			out_str("mode", " %s", a->tc_filter ? "clsact" : "tcx");
		out_bool("old_pin", a->legacy ? " (old pin)" : NULL, a->legacy);
	}
	out_uint("prog_id", " prog %llu", a->prog_id);
	out_uint("link_id", " link %llu", a->link_id);
	if (a->ifindex)
		out_uint(NULL, " ifindex %llu", a->ifindex);
	out_text("\n");
	out_str("pin", NULL, a->pin);
	out_obj_close();
}

static int status(struct kpr_state *st)
{
	unsigned long long netns = ~0ULL;
	struct kpr_node_addr_ent *addrs;
	struct kpr_attachment *att;
	struct kpr_xdp_dev *v;
	size_t n, k = 0;
	int ret;

	/* this netns's XDP devices, as before --status listed every hook */
	ret = kpr_xdp_list(st, &v, &n);
	if (ret)
		return ret;
	out_arr_open("devices");
	for (size_t i = 0; i < n; i++) {
		if (out_json())
			print_dev(&v[i], NULL);
		else if (v[i].internal)
			out_text("%s%s", k++ ? " " : "internal devices: ", v[i].name);
	}
	out_arr_close();
	out_text("%s", k ? "\n" : "");
	free(v);

	ret = kpr_attach_list(st->root, true, &att, &n);
	if (ret)
		return ret;
	out_arr_open("attachments");
	for (size_t i = 0; i < n; i++)
		print_att(&att[i], &netns);
	out_arr_close();
	if (!n)
		out_text("not attached\n");
	free(att);

	ret = kpr_node_addrs_list(st, &addrs, &n);
	if (ret)
		return ret;
	out_arr_open("node_addrs");
	out_text("node addresses:");
	for (size_t i = 0; i < n; i++) {
		char a[KPR_ADDRSTRLEN];

		kpr_fmt_addr(&addrs[i].key.addr, addrs[i].key.family, a, sizeof(a));
		out_obj_open(NULL);
		out_str("addr", " %s", a);
		out_obj_close();
	}
	out_text("%s\n", n ? "" : " none");
	out_arr_close();
	free(addrs);
	return 0;
}

int main(int argc, char **argv)
{
	struct kpr_state st = { .lock_fd = -1 };
	struct kpr_xdp x = { .st = &st };
	struct args a = { .mode = KPR_XDP_BEST_EFFORT };
	bool changed = false;
	struct kpr_ctx ctx;
	int ret;

	ret = kpr_parse_args(&tool, &a, argc, argv, &ctx);
	if (ret)
		goto out;
	if (a.status + a.detach > 1 || ((a.status || a.detach || !ctx.argc) && a.internal) ||
	    (a.status && (ctx.argc || a.n_node_ip))) {
		kpr_err("--status takes no device; --detach and --status go alone; --internal needs DEV...");
		ret = -EINVAL;
		goto out;
	}
	if (!a.status && !a.detach && !ctx.argc && !a.n_node_ip) {
		kpr_err("give a device to attach to (or --detach, --status); see --help");
		ret = -EINVAL;
		goto out;
	}
	ret = kpr_netns_enter(ctx.netns);
	if (ret)
		goto out;
	/* bad input changes nothing: every device and address first */
	for (int i = 0; i < ctx.argc && !a.detach; i++) {
		ret = kpr_xdp_dev_check(ctx.argv[i]);
		if (ret)
			goto out;
	}

	ret = kpr_ctx_state_open(&st, &ctx, a.status ? 0 : KPR_OPEN_WRITE);
	if (ret)
		goto out;
	if (a.status) {
		ret = status(&st);
		goto out;
	}

	out_arr_open("devices");
	if (a.detach) {
		struct kpr_xdp_dev *v = NULL;
		size_t n = 0;

		if (!ctx.argc) {
			ret = kpr_xdp_list(&st, &v, &n);
			if (ret)
				goto out;
		}
		for (size_t i = 0; i < (ctx.argc ? (size_t)ctx.argc : n); i++) {
			struct kpr_xdp_dev d = {};

			snprintf(d.name, sizeof(d.name), "%s", ctx.argc ? ctx.argv[i] : v[i].name);
			ret = kpr_xdp_detach(&x, d.name, ctx.dry_run);
			if (ret < 0)
				break;
			changed |= ret == KPR_DELETED;
			out_obj_open(NULL);
			out_str("action", "%s", ret == KPR_DELETED ? "detached" : "not attached");
			out_str("dev", " %s\n", d.name);
			out_obj_close();
		}
		free(v);
		/* every device: the pins of devices gone in any netns too */
		if (ret >= 0 && !ctx.argc) {
			ret = kpr_attach_prune(st.root, ctx.dry_run);
			changed |= ret > 0;
			if (ret > 0)
				out_text("removed %d pins of gone devices or cgroups\n", ret);
		}
	} else {
		x.internal = a.internal;
		for (int i = 0; i < ctx.argc; i++) {
			struct kpr_xdp_dev d;

			ret = kpr_xdp_attach(&x, ctx.argv[i], a.mode, ctx.dry_run, &d);
			if (ret < 0)
				break;
			changed |= ret != KPR_UNCHANGED;
			print_dev(&d, ret == KPR_ADDED ? "attached" :
				      ret == KPR_UPDATED ? "updated" : "unchanged");
		}
	}
	out_arr_close();
	for (int i = 0; ret >= 0 && i < a.n_node_ip; i++) {
		ret = kpr_node_ip_add(&st, a.node_ip[i], ctx.dry_run);
		changed |= ret == KPR_ADDED;
		if (ret >= 0)
			out_text("node address %s%s\n", a.node_ip[i],
				 ret == KPR_ADDED ? " added" : " unchanged");
	}
	if (ret >= 0) {
		ret = 0;
		out_changed(changed);
		out_bool("dry_run", ctx.dry_run ? "(dry run: nothing was changed)\n" : NULL,
			 ctx.dry_run);
	}
out:
	kpr_xdp_close(&x);
	kpr_state_close(&st);
	return out_finish(ret == KPR_PARSE_DONE ? 0 : ret);
}
