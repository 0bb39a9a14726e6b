// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * The config map's one entry: the node's settings (mode, algorithm, Maglev
 * size and seed, nat range, timeouts) and the id counters. Applying a change
 * that needs the Maglev tables rebuilt is kpr_config_apply's, in svc/, since
 * it rewrites services.
 */
#include <bpf/bpf.h>
#include <errno.h>
#include <string.h>

#include "core/util.h"
#include "state/config.h"
#include "state/state.h"

/* The default seed of docs/maglev.md (Cilium's), "JLfvgnHc2kaSUFaI" decoded. */
static const __u8 default_seed[KPR_SEED_LEN] = {
	0x24, 0xb7, 0xef, 0x82, 0x71, 0xdc, 0xda, 0x46, 0x92, 0x50, 0x56, 0x88,
};

void kpr_config_defaults(struct kpr_config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->magic = KPR_MAGIC;
	cfg->layout = KPR_LAYOUT_VERSION;
	cfg->mode = KPR_MODE_SNAT;
	cfg->algorithm = KPR_ALG_RANDOM;
	cfg->dsr_dispatch = KPR_DISPATCH_OPT;
	cfg->flags = KPR_CFG_ICMP_ECHO;
	cfg->maglev_size = KPR_MAGLEV_DEFAULT_SIZE;
	memcpy(cfg->maglev_seed, default_seed, KPR_SEED_LEN);
	cfg->nat_port_min = 32768;
	cfg->nat_port_max = 65535;
	cfg->ct_timeout_tcp = 21600;
	cfg->ct_timeout_udp = 60;
	cfg->next_svc_id = 1;
	cfg->next_backend_id = 1;
}

int kpr_config_read(const struct kpr_state *st, struct kpr_config *cfg)
{
	__u32 zero = 0;

	if (st->unstamped) {
		kpr_config_defaults(cfg);
		return 0;
	}
	if (bpf_map_lookup_elem(st->config, &zero, cfg)) {
		int err = -errno;

		kpr_err("cannot read the config map: %s", strerror(-err));
		return err;
	}
	return 0;
}

int kpr_config_write(const struct kpr_state *st, const struct kpr_config *cfg)
{
	__u32 zero = 0;

	if (bpf_map_update_elem(st->config, &zero, cfg, BPF_ANY)) {
		int err = -errno;

		kpr_err("cannot write the config map: %s", strerror(-err));
		return err;
	}
	return 0;
}

void kpr_config_change_init(struct kpr_config_change *c)
{
	memset(c, 0, sizeof(*c));
	c->ext_clusterip = -1;
	c->icmp_echo = -1;
	c->socket_lb = -1;
	c->sock_hostns_only = -1;
}

bool kpr_config_change_any(const struct kpr_config_change *c)
{
	return c->ext_clusterip >= 0 || c->icmp_echo >= 0 || c->socket_lb >= 0 ||
	       c->sock_hostns_only >= 0 || c->nat_min || c->algorithm || c->mode ||
	       c->dsr_dispatch ||
	       c->maglev_size || c->set_seed;
}

static __u32 set_flag(__u32 flags, __u32 flag, int on)
{
	if (on < 0)
		return flags;
	return on ? flags | flag : flags & ~flag;
}

bool kpr_config_change_apply(const struct kpr_config_change *c, struct kpr_config *cfg)
{
	struct kpr_config old = *cfg;

	cfg->flags = set_flag(cfg->flags, KPR_CFG_EXTERNAL_CLUSTERIP, c->ext_clusterip);
	cfg->flags = set_flag(cfg->flags, KPR_CFG_ICMP_ECHO, c->icmp_echo);
	cfg->flags = set_flag(cfg->flags, KPR_CFG_SOCKET_LB, c->socket_lb);
	cfg->flags = set_flag(cfg->flags, KPR_CFG_SOCK_HOSTNS_ONLY, c->sock_hostns_only);
	/* the node's namespace, for --sock-hostns-only and the bind guard */
	if (c->socket_lb == 1)
		cfg->hostns_cookie = c->netns_cookie;
	if (c->nat_min) {
		cfg->nat_port_min = c->nat_min;
		cfg->nat_port_max = c->nat_max;
	}
	if (c->algorithm)
		cfg->algorithm = c->algorithm;
	if (c->mode)
		cfg->mode = c->mode;
	if (c->dsr_dispatch)
		cfg->dsr_dispatch = c->dsr_dispatch;
	if (c->maglev_size)
		cfg->maglev_size = c->maglev_size;
	if (c->set_seed)
		memcpy(cfg->maglev_seed, c->seed, KPR_SEED_LEN);
	return memcmp(cfg, &old, sizeof(old));
}
