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

enum {
	OPT_EXT_CLUSTERIP = 0x1000,
	OPT_ICMP_ECHO,
	OPT_MODE,
	OPT_ALGORITHM,
	OPT_MAGLEV_SIZE,
	OPT_MAGLEV_SEED,
	OPT_SOCKET_LB,
	OPT_CGROUP,
	OPT_SOCK_HOSTNS_ONLY,
	OPT_NAT_PORTS,
};

struct args {
	int ext_clusterip;	/* -1: leave as it is */
	int icmp_echo;
	unsigned long nat_min, nat_max;	/* 0: leave as they are */
	__u8 algorithm;		/* 0: leave as it is */
	__u32 maglev_size;
	bool set_seed;
	__u8 seed[KPR_SEED_LEN];
	const char *later;	/* an option the datapath does not have yet, refused */
};

static const struct kpr_opt opts[] = {
	{ "external-clusterip", 0, "on|off", "ClusterIP frontends reachable from outside the node", OPT_EXT_CLUSTERIP },
	{ "icmp-echo", 0, "on|off", "answer pings to service addresses (default on)", OPT_ICMP_ECHO },
	{ "nat-ports", 0, "MIN-MAX", "the source ports SNAT allocates from (default 32768-65535)", OPT_NAT_PORTS },
	{ "mode", 0, "snat|dsr|hybrid", "forwarding mode (not supported yet: SNAT only)", OPT_MODE },
	{ "algorithm", 0, "random|maglev", "backend selection of services that name none (default random)", OPT_ALGORITHM },
	{ "maglev-table-size", 0, "M", "Maglev table size, a prime of 251 to 131071 (default 16381)", OPT_MAGLEV_SIZE },
	{ "maglev-seed", 0, "SEED", "Maglev seed: base64 of 12 bytes (maglev-gen makes new ones)", OPT_MAGLEV_SEED },
	{ "socket-lb", 0, "on|off", "socket load balancing (not supported yet)", OPT_SOCKET_LB },
	{ "cgroup", 0, "PATH", "cgroup of the socket hooks (not supported yet)", OPT_CGROUP },
	{ "sock-hostns-only", 0, "on|off", "socket LB in the host netns only (not supported yet)", OPT_SOCK_HOSTNS_ONLY },
	{ NULL },
};

static int handle(void *priv, int id, const char *arg)
{
	struct args *a = priv;
	bool on;
	int i;

	switch (id) {
	case OPT_EXT_CLUSTERIP:
	case OPT_ICMP_ECHO:
		if (kpr_parse_onoff(id == OPT_ICMP_ECHO ? "icmp-echo" : "external-clusterip",
				    arg, &on))
			return -EINVAL;
		if (id == OPT_ICMP_ECHO)
			a->icmp_echo = on;
		else
			a->ext_clusterip = on;
		return 0;
	case OPT_NAT_PORTS: {
		char buf[32], *dash;

		snprintf(buf, sizeof(buf), "%s", arg);
		dash = strchr(buf, '-');
		if (dash)
			*dash = '\0';
		if (!dash || kpr_parse_uint(buf, 1024, 65535, &a->nat_min) ||
		    kpr_parse_uint(dash + 1, 1024, 65535, &a->nat_max) || a->nat_max < a->nat_min) {
			kpr_err("bad --nat-ports '%s': use MIN-MAX within 1024-65535", arg);
			return -EINVAL;
		}
		return 0;
	}
	case OPT_ALGORITHM:
		i = kpr_alg_parse(arg);
		if (i < 0) {
			kpr_err("unknown algorithm '%s': use random or maglev", arg);
			return -EINVAL;
		}
		a->algorithm = (__u8)i;
		return 0;
	case OPT_MAGLEV_SIZE: {
		unsigned long m;

		if (kpr_parse_uint(arg, 1, 1UL << 20, &m) || !kpr_maglev_size_ok((__u32)m)) {
			kpr_err("bad --maglev-table-size '%s': use one of %s", arg, kpr_maglev_sizes_str());
			return -EINVAL;
		}
		a->maglev_size = (__u32)m;
		return 0;
	}
	case OPT_MAGLEV_SEED:
		if (kpr_maglev_seed_parse(arg, a->seed)) {
			kpr_err("bad --maglev-seed '%s': give base64 of exactly %d bytes (maglev-gen --new-seed makes one)",
				arg, KPR_SEED_LEN);
			return -EINVAL;
		}
		a->set_seed = true;
		return 0;
	}
	for (const struct kpr_opt *o = opts; o->name; o++)
		if (o->id == id && !a->later)
			a->later = o->name;
	return 0;
}

static const struct kpr_tool_desc tool = {
	.name = "lb-mode",
	.usage = "[OPTIONS]\n[--external-clusterip on|off] [--icmp-echo on|off] [--nat-ports MIN-MAX]\n"
		 "[--algorithm random|maglev] [--maglev-table-size M] [--maglev-seed SEED]",
	.summary = "Show the datapath's configuration (no option), or set its switches; a change\n"
		   "takes effect on the next packet.",
	.opts = opts,
	.flags = KPR_T_MUTATE | KPR_T_NETNS,
	.handle = handle,
};

/* "KubeProxyReplacement: Strict [eth0 10.0.0.1 (native XDP, SNAT), ...]" */
static int print_kpr_line(struct kpr_state *st, const struct kpr_config *cfg)
{
	struct kpr_node_addr_ent *addrs;
	struct kpr_xdp_dev *devs;
	size_t n, na;
	int ret;

	ret = kpr_xdp_list(st, &devs, &n);
	if (ret)
		return ret;
	ret = kpr_node_addrs_list(st, &addrs, &na);
	if (ret) {
		free(devs);
		return ret;
	}
	out_str(NULL, "%-28s", "KubeProxyReplacement:");
	out_str(NULL, "%s", n ? "Strict   [" : "Disabled (no device attached: xdp-attach DEV)");
	out_str("kube_proxy_replacement", NULL, n ? "Strict" : "Disabled");
	out_arr_open("devices");
	for (size_t i = 0; i < n; i++) {
		out_obj_open(NULL);
		out_str("dev", "%s", devs[i].name);
		out_arr_open("addrs");
		for (size_t j = 0; j < na; j++) {
			char a[KPR_ADDRSTRLEN];

			if (addrs[j].val.ifindex != devs[i].ifindex)
				continue;
			kpr_fmt_addr(&addrs[j].key.addr, addrs[j].key.family, a, sizeof(a));
			out_obj_open(NULL);
			out_str("addr", " %s", a);
			out_obj_close();
		}
		out_arr_close();
		out_str("xdp", " (%s XDP", kpr_xdp_mode_name(devs[i].mode));
		out_str(NULL, ", %s)", "SNAT");
		out_str(NULL, "%s", i + 1 < n ? ", " : "]");
		out_obj_close();
	}
	out_arr_close();
	out_text("\n");
	free(devs);
	free(addrs);
	return 0;
}

static void line_str(const char *key, const char *label, const char *v)
{
	char fmt[64];

	snprintf(fmt, sizeof(fmt), "%-28s%%s\n", label);
	out_str(key, fmt, v);
}

static void line_uint(const char *key, const char *label, unsigned long long v)
{
	char fmt[64];

	snprintf(fmt, sizeof(fmt), "%-28s%%llu\n", label);
	out_uint(key, fmt, v);
}

/* on/off in the text, a boolean in JSON */
static void onoff(const char *key, const char *label, bool v)
{
	line_str(NULL, label, v ? "on" : "off");
	out_bool(key, NULL, v);
}

static int show(struct kpr_state *st)
{
	struct kpr_stats node;
	struct kpr_config cfg;
	char seed[32];
	int ret;

	ret = kpr_config_read(st, &cfg);
	if (!ret)
		ret = print_kpr_line(st, &cfg);
	if (ret)
		return ret;
	line_str("mode", "Mode:", kpr_mode_name(cfg.mode));
	line_str("algorithm", "Algorithm:", kpr_alg_name(cfg.algorithm));
	onoff("external_clusterip", "External ClusterIP:", cfg.flags & KPR_CFG_EXTERNAL_CLUSTERIP);
	onoff("icmp_echo", "ICMP echo:", cfg.flags & KPR_CFG_ICMP_ECHO);
	onoff("socket_lb", "Socket LB:", cfg.flags & KPR_CFG_SOCKET_LB);
	onoff("sock_hostns_only", "Socket LB host netns only:", cfg.flags & KPR_CFG_SOCK_HOSTNS_ONLY);
	line_uint("maglev_table_size", "Maglev table size:", cfg.maglev_size);
	line_str("maglev_seed", "Maglev seed:", kpr_maglev_seed_fmt(cfg.maglev_seed, seed, sizeof(seed)));
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
	line_uint("nat_alloc_failures", "NAT allocation failures:", node.nat_fail);
	return 0;
}

int main(int argc, char **argv)
{
	struct kpr_state st = { .lock_fd = -1 };
	struct args a = { .ext_clusterip = -1, .icmp_echo = -1 };
	struct kpr_config cfg, old;
	struct kpr_ctx ctx;
	bool set, changed;
	int ret;

	ret = kpr_parse_args(&tool, &a, argc, argv, &ctx);
	if (ret)
		goto out;
	if (a.later) {
		kpr_err("--%s is not supported yet: this datapath does SNAT and no socket LB",
			a.later);
		ret = -EINVAL;
		goto out;
	}
	if (ctx.argc) {
		kpr_err("lb-mode takes no arguments, only options; see --help");
		ret = -EINVAL;
		goto out;
	}
	ret = kpr_netns_enter(ctx.netns);
	if (ret)
		goto out;
	set = a.ext_clusterip >= 0 || a.icmp_echo >= 0 || a.nat_min || a.algorithm ||
	      a.maglev_size || a.set_seed;
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
	if (a.ext_clusterip >= 0)
		cfg.flags = a.ext_clusterip ? cfg.flags | KPR_CFG_EXTERNAL_CLUSTERIP :
					      cfg.flags & ~KPR_CFG_EXTERNAL_CLUSTERIP;
	if (a.icmp_echo >= 0)
		cfg.flags = a.icmp_echo ? cfg.flags | KPR_CFG_ICMP_ECHO :
					  cfg.flags & ~KPR_CFG_ICMP_ECHO;
	if (a.nat_min) {
		cfg.nat_port_min = (__u16)a.nat_min;
		cfg.nat_port_max = (__u16)a.nat_max;
	}
	if (a.algorithm)
		cfg.algorithm = a.algorithm;
	if (a.maglev_size)
		cfg.maglev_size = a.maglev_size;
	if (a.set_seed)
		memcpy(cfg.maglev_seed, a.seed, KPR_SEED_LEN);
	changed = memcmp(&cfg, &old, sizeof(cfg));
	if (changed && !ctx.dry_run)
		ret = kpr_config_apply(&st, &old, &cfg);
	if (ret)
		goto out;
	out_changed(changed);
	out_bool("dry_run", NULL, ctx.dry_run);
	if (a.ext_clusterip >= 0)
		onoff("external_clusterip", "External ClusterIP:", a.ext_clusterip);
	if (a.icmp_echo >= 0)
		onoff("icmp_echo", "ICMP echo:", a.icmp_echo);
	if (a.nat_min) {
		out_uint("nat_port_min", "NAT ports:                  %llu", cfg.nat_port_min);
		out_uint("nat_port_max", "-%llu\n", cfg.nat_port_max);
	}
	if (a.algorithm)
		line_str("algorithm", "Algorithm:", kpr_alg_name(cfg.algorithm));
	if (a.maglev_size)
		line_uint("maglev_table_size", "Maglev table size:", cfg.maglev_size);
	if (a.set_seed) {
		char seed[32];

		line_str("maglev_seed", "Maglev seed:", kpr_maglev_seed_fmt(cfg.maglev_seed, seed, sizeof(seed)));
	}
	out_text("%s\n", !changed ? "(unchanged)" :
		 ctx.dry_run ? "(dry run: nothing was changed)" : "(changed)");
out:
	kpr_state_close(&st);
	return out_finish(ret == KPR_PARSE_DONE ? 0 : ret);
}
