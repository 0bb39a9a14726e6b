// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * masq-ctl: masquerade of pods' traffic to the outside, on tc egress of the
 * attached devices: show it (status, the default) or change it. The
 * datapath reads the masq maps on every packet, so a change takes effect
 * on the next one.
 */
#include <errno.h>
#include <string.h>

#include "cli/opts.h"
#include "core/netns.h"
#include "core/out.h"
#include "core/util.h"
#include "dev/masq.h"
#include "state/state.h"

enum {
	OPT_IPV4 = 0x1000,
	OPT_IPV6,
	OPT_DEV,
	OPT_POD_CIDR,
	OPT_NON_MASQ_CIDR,
	OPT_MASQ_IP,
	OPT_AGENT,
};

static const struct kpr_opt opts[] = {
	{ "ipv4", 0, NULL, "masquerade IPv4", OPT_IPV4, .type = KPR_OPT_ONOFF },
	{ "ipv6", 0, NULL, "masquerade IPv6", OPT_IPV6, .type = KPR_OPT_ONOFF },
	{ "dev", 0, "DEV", "masquerade leaving attached device DEV (repeat for more; all: every one, the default)", OPT_DEV, .type = KPR_OPT_STRING },
	{ "pod-cidr", 0, "CIDR", "a pod CIDR: its traffic is masqueraded (repeat for more; replaces the list)", OPT_POD_CIDR, .type = KPR_OPT_CIDR },
	{ "non-masq-cidr", 0, "CIDR", "traffic to CIDR keeps the pod's address (repeat for more; replaces the list)", OPT_NON_MASQ_CIDR, .type = KPR_OPT_CIDR },
	{ "ip-masq-agent", 0, "FILE", "non-masquerade CIDRs from ip-masq-agent's config FILE (YAML or JSON), or 'defaults'", OPT_AGENT, .type = KPR_OPT_STRING },
	{ "masq-ip", 0, "ADDR", "leave from node address ADDR, not the device's (per family; 0.0.0.0, :: undo)", OPT_MASQ_IP, .type = KPR_OPT_ADDR },
	{ NULL },
};

static struct kpr_masq_change change;

static int handle(void *priv, int id, const struct kpr_optval *v)
{
	struct kpr_masq_change *c = priv;

	switch (id) {
	case OPT_IPV4:
		c->v4 = (int)v->u;
		return 0;
	case OPT_IPV6:
		c->v6 = (int)v->u;
		return 0;
	case OPT_DEV:
		return kpr_masq_add_dev(c, v->s);
	case OPT_POD_CIDR:
		return kpr_masq_add_cidr(&c->pod, &c->set_pod, "pod-cidr", v);
	case OPT_NON_MASQ_CIDR:
		if (c->agent) {
			kpr_err("--non-masq-cidr and --ip-masq-agent both set the non-masquerade CIDRs: give one");
			return -EINVAL;
		}
		return kpr_masq_add_cidr(&c->nonmasq, &c->set_nonmasq, "non-masq-cidr", v);
	case OPT_AGENT:
		if (c->agent || c->set_nonmasq) {
			kpr_err("--ip-masq-agent: the non-masquerade CIDRs are given once, by --ip-masq-agent or --non-masq-cidr");
			return -EINVAL;
		}
		c->agent = v->s;
		return 0;
	case OPT_MASQ_IP:
		return kpr_masq_set_ip(c, v);
	}
	return -EINVAL;
}

static const struct kpr_tool_desc tool = {
	.name = "masq-ctl",
	.usage = "[status]\n[OPTIONS]",
	.summary = "Masquerade: traffic from the pod CIDRs leaving an attached device for a\n"
		   "destination outside the non-masquerade CIDRs leaves with the node's address\n"
		   "and a port of the nat allocator node-port SNAT shares; replies are translated\n"
		   "back. With no option (or status) show the switches, CIDRs and counters.",
	.opts = opts,
	.flags = KPR_T_MUTATE | KPR_T_NETNS,
	.handle = handle,
};

int main(int argc, char **argv)
{
	struct kpr_state st = { .lock_fd = -1 };
	static struct kpr_masq_view view;
	struct kpr_ctx ctx;
	bool set, changed;
	int ret;

	kpr_masq_change_init(&change);
	ret = kpr_parse_args(&tool, &change, argc, argv, &ctx);
	if (ret)
		goto out;
	set = kpr_masq_change_any(&change);
	if (ctx.argc > 1 || (ctx.argc == 1 && (strcmp(ctx.argv[0], "status") || set))) {
		kpr_err("masq-ctl takes options, or the one command status alone; see --help");
		ret = -EINVAL;
		goto out;
	}
	if (change.agent) {
		ret = kpr_masq_agent_load(&change, change.agent);
		if (ret)
			goto out;
	}
	ret = kpr_netns_enter(ctx.netns);
	if (ret)
		goto out;
	ret = kpr_ctx_state_open(&st, &ctx, set ? KPR_OPEN_WRITE : 0);
	if (ret)
		goto out;
	if (!set) {
		ret = kpr_masq_read(&st, &view);
		if (!ret)
			ret = kpr_masq_print(&st, &view, true);
		goto out;
	}
	ret = kpr_masq_apply(&st, &change, ctx.dry_run, &changed, &view);
	if (ret)
		goto out;
	out_changed(changed);
	out_bool("dry_run", NULL, ctx.dry_run);
	ret = kpr_masq_print(&st, &view, false);
	out_text("%s\n", !changed ? "(unchanged)" :
		 ctx.dry_run ? "(dry run: nothing was changed)" : "(changed)");
out:
	kpr_state_close(&st);
	return out_finish(ret == KPR_PARSE_DONE ? 0 : ret);
}
