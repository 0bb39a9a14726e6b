// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * lb-mode: show the datapath's configuration, and set its switches. The
 * datapath reads them from the config map on every packet, so a change
 * takes effect on the next one: nothing is reloaded.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "svc/addr.h"
#include "svc/maglev.h"
#include "svc/maglev_map.h"
#include "core/netns.h"
#include "cli/opts.h"
#include "core/out.h"
#include "state/state.h"
#include "svc/svc.h"
#include "core/util.h"
#include "dev/xdp.h"
#include "dev/masq.h"
#include "dev/sock.h"

enum {
	OPT_EXT_CLUSTERIP = 0x1000,
	OPT_ICMP_ECHO,
	OPT_ALGORITHM,
	OPT_MAGLEV_SIZE,
	OPT_MAGLEV_SEED,
	OPT_NAT_PORTS,
	OPT_MODE,
	OPT_DSR_DISPATCH,
	OPT_SOCKET_LB,
	OPT_CGROUP,
	OPT_SOCK_HOSTNS_ONLY,
};

static const struct kpr_opt opts[] = {
	{ "mode", 0, NULL, "forwarding of new flows (default snat; hybrid: dsr for TCP); open flows keep theirs", OPT_MODE,
	  .type = KPR_OPT_ENUM, .names = kpr_modes, .what = "mode" },
	{ "dsr-dispatch", 0, NULL, "how new DSR flows reach the backend's node (default opt: Cilium's IP option; ipip: an outer header)", OPT_DSR_DISPATCH,
	  .type = KPR_OPT_ENUM, .names = kpr_dsr_dispatches, .what = "dispatch" },
	{ "external-clusterip", 0, NULL, "ClusterIP frontends reachable from outside the node", OPT_EXT_CLUSTERIP,
	  .type = KPR_OPT_ONOFF },
	{ "icmp-echo", 0, NULL, "answer pings to service addresses (default on)", OPT_ICMP_ECHO,
	  .type = KPR_OPT_ONOFF },
	{ "socket-lb", 0, NULL, "socket LB: cgroup hooks send connect() to a service straight to a backend", OPT_SOCKET_LB,
	  .type = KPR_OPT_ONOFF },
	{ "cgroup", 0, "PATH", "the cgroup2 directory of --socket-lb on (default the cgroup2 root)", OPT_CGROUP,
	  .type = KPR_OPT_STRING },
	{ "sock-hostns-only", 0, NULL, "socket LB for sockets of lb-mode's network namespace only", OPT_SOCK_HOSTNS_ONLY,
	  .type = KPR_OPT_ONOFF },
	{ "nat-ports", 0, "MIN-MAX", "the source ports SNAT allocates from (default 32768-65535)", OPT_NAT_PORTS,
	  .type = KPR_OPT_RANGE, .min = 1024, .max = 65535 },
	{ "algorithm", 0, NULL, "backend selection of services that name none (default random)", OPT_ALGORITHM,
	  .type = KPR_OPT_ENUM, .names = kpr_algs, .what = "algorithm" },
	{ "maglev-table-size", 0, "M", "Maglev table size, a prime (default 16381)", OPT_MAGLEV_SIZE,
	  .type = KPR_OPT_UINT, .list = kpr_maglev_sizes, .n_list = KPR_MAGLEV_NSIZES },
	{ "maglev-seed", 0, "SEED", "Maglev seed: base64 of 12 bytes (maglev-gen makes new ones)", OPT_MAGLEV_SEED, .type = KPR_OPT_STRING },
	{ NULL },
};

static int handle(void *priv, int id, const struct kpr_optval *v)
{
	struct kpr_config_change *c = priv;

	switch (id) {
	case OPT_SOCKET_LB:
		c->socket_lb = (int)v->u;
		return 0;
	case OPT_SOCK_HOSTNS_ONLY:
		c->sock_hostns_only = (int)v->u;
		return 0;
	case OPT_CGROUP:
		c->cgroup = v->s;
		return 0;
	case OPT_EXT_CLUSTERIP:
		c->ext_clusterip = (int)v->u;
		return 0;
	case OPT_ICMP_ECHO:
		c->icmp_echo = (int)v->u;
		return 0;
	case OPT_NAT_PORTS:
		c->nat_min = (__u16)v->u;
		c->nat_max = (__u16)v->hi;
		return 0;
	case OPT_ALGORITHM:
		c->algorithm = (__u8)v->u;
		return 0;
	case OPT_MODE:
		c->mode = (__u8)v->u;
		return 0;
	case OPT_DSR_DISPATCH:
		c->dsr_dispatch = (__u8)v->u;
		return 0;
	case OPT_MAGLEV_SIZE:
		c->maglev_size = (__u32)v->u;
		return 0;
	case OPT_MAGLEV_SEED:
		if (kpr_maglev_seed_parse(v->s, c->seed)) {
			kpr_err("bad --maglev-seed '%s': give base64 of exactly %d bytes (maglev-gen --new-seed makes one)",
				v->s, KPR_SEED_LEN);
			return -EINVAL;
		}
		c->set_seed = true;
		return 0;
	}
	return -EINVAL;
}

static const struct kpr_tool_desc tool = {
	.name = "lb-mode",
	.usage = "[OPTIONS]",
	.summary = "Show the datapath's configuration (no option), or set its switches; a change\n"
		   "takes effect on the next packet. Masquerade is shown here and set by masq-ctl.",
	.opts = opts,
	.flags = KPR_T_MUTATE | KPR_T_NETNS,
	.handle = handle,
};

static int show(struct kpr_state *st)
{
	struct kpr_stats node;
	struct kpr_config cfg;
	char seed[32];
	__u32 masq;
	int ret;

	ret = kpr_config_read(st, &cfg);
	if (!ret)
		ret = kpr_xdp_show_kpr_line(st, kpr_fwd_label(cfg.mode, cfg.dsr_dispatch));
	if (ret)
		return ret;
	out_line_str("mode", "Mode:", kpr_mode_name(cfg.mode));
	out_line_str("dsr_dispatch", "DSR dispatch:", kpr_dsr_dispatch_name(cfg.dsr_dispatch));
	out_line_str("algorithm", "Algorithm:", kpr_alg_name(cfg.algorithm));
	out_line_bool("external_clusterip", "External ClusterIP:", cfg.flags & KPR_CFG_EXTERNAL_CLUSTERIP);
	out_line_bool("icmp_echo", "ICMP echo:", cfg.flags & KPR_CFG_ICMP_ECHO);
	ret = kpr_sock_show(st, &cfg);
	if (ret)
		return ret;
	ret = kpr_masq_flags(st, &masq);
	if (ret)
		return ret;
	out_line_bool("masquerade_ipv4", "Masquerade IPv4 (masq-ctl):", masq & KPR_MASQ_V4);
	out_line_bool("masquerade_ipv6", "Masquerade IPv6 (masq-ctl):", masq & KPR_MASQ_V6);
	out_line_uint("maglev_table_size", "Maglev table size:", cfg.maglev_size);
	out_line_str("maglev_seed", "Maglev seed:", kpr_maglev_seed_fmt(cfg.maglev_seed, seed, sizeof(seed)));
	out_uint("nat_port_min", "NAT ports:                  %llu", cfg.nat_port_min);
	out_uint("nat_port_max", "-%llu\n", cfg.nat_port_max);
	out_uint("ct_timeout_tcp", "CT timeouts:                TCP %llus", cfg.ct_timeout_tcp);
	out_uint("ct_timeout_udp", ", UDP %llus\n", cfg.ct_timeout_udp);
	out_obj_open("map_sizes");
	out_text("%-28s", "Map sizes:");
	out_uint("services", "services %llu", kpr_map_size(st->services));
	out_uint("backends", ", backends %llu", kpr_map_size(st->backends));
	out_uint("ct", ", ct %llu", kpr_map_size(st->ct));
	out_uint("nat", ", nat %llu", kpr_map_size(st->nat));
	out_uint("affinity", ", affinity %llu\n", kpr_map_size(st->affinity));
	out_obj_close();
	/* new flows dropped for want of a free nat port, on the whole node */
	ret = kpr_svc_stats(st, KPR_STATS_NODE, 0, &node);
	if (ret)
		return ret;
	out_line_uint("nat_alloc_failures", "NAT allocation failures:", node.nat_fail);
	return 0;
}

/* What a change set, as it is now. */
static void print_change(const struct kpr_config_change *c, const struct kpr_config *cfg)
{
	char seed[32];

	if (c->ext_clusterip >= 0)
		out_line_bool("external_clusterip", "External ClusterIP:", c->ext_clusterip);
	if (c->icmp_echo >= 0)
		out_line_bool("icmp_echo", "ICMP echo:", c->icmp_echo);
	if (c->socket_lb >= 0)
		out_line_bool("socket_lb", "Socket LB:", c->socket_lb);
	if (c->sock_hostns_only >= 0)
		out_line_bool("sock_hostns_only", "Socket LB host netns only:", c->sock_hostns_only);
	if (c->nat_min) {
		out_uint("nat_port_min", "NAT ports:                  %llu", cfg->nat_port_min);
		out_uint("nat_port_max", "-%llu\n", cfg->nat_port_max);
	}
	if (c->mode)
		out_line_str("mode", "Mode:", kpr_mode_name(cfg->mode));
	if (c->dsr_dispatch)
		out_line_str("dsr_dispatch", "DSR dispatch:", kpr_dsr_dispatch_name(cfg->dsr_dispatch));
	if (c->algorithm)
		out_line_str("algorithm", "Algorithm:", kpr_alg_name(cfg->algorithm));
	if (c->maglev_size)
		out_line_uint("maglev_table_size", "Maglev table size:", cfg->maglev_size);
	if (c->set_seed)
		out_line_str("maglev_seed", "Maglev seed:",
			 kpr_maglev_seed_fmt(cfg->maglev_seed, seed, sizeof(seed)));
}

int main(int argc, char **argv)
{
	struct kpr_state st = { .lock_fd = -1 };
	struct kpr_config_change cc, *c = &cc;
	struct kpr_config cfg, old;
	struct kpr_ctx ctx;
	bool set, changed;
	int ret;

	kpr_config_change_init(c);
	ret = kpr_parse_args(&tool, c, argc, argv, &ctx);
	if (ret)
		goto out;
	if (ctx.argc || (c->cgroup && c->socket_lb != 1)) {
		kpr_err(ctx.argc ? "lb-mode takes no arguments, only options; see --help" :
			"--cgroup goes with --socket-lb on");
		ret = -EINVAL;
		goto out;
	}
	ret = kpr_netns_enter(ctx.netns);
	if (!ret && c->socket_lb == 1)
		ret = kpr_netns_cookie(&c->netns_cookie);
	if (ret)
		goto out;
	set = kpr_config_change_any(c);
	ret = kpr_ctx_state_open(&st, &ctx, set ? KPR_OPEN_WRITE : 0);
	if (ret)
		goto out;
	if (!set) {
		ret = show(&st);
		goto out;
	}
	ret = kpr_config_read(&st, &old);
	if (ret)
		goto out;
	cfg = old;
	changed = kpr_config_change_apply(c, &cfg);
	/* before socket LB's step, and in a dry run too */
	ret = kpr_maglev_check_fit(&st, &old, &cfg);
	if (!ret)
		ret = kpr_sock_config_apply(&st, &old, &cfg, c->socket_lb, c->cgroup, ctx.dry_run,
					    &changed);
	if (ret)
		goto out;
	out_changed(changed);
	out_bool("dry_run", NULL, ctx.dry_run);
	print_change(c, &cfg);
	out_text("%s\n", !changed ? "(unchanged)" :
		 ctx.dry_run ? "(dry run: nothing was changed)" : "(changed)");
out:
	kpr_state_close(&st);
	return out_finish(ret == KPR_PARSE_DONE ? 0 : ret);
}
