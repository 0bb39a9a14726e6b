/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
#ifndef KPR_CONFIG_H
#define KPR_CONFIG_H

#include <stdbool.h>

#include "../bpf/kpr_maps.h"

struct kpr_state;

/* The defaults a new node starts with (docs/design.md, "The config map"). */
void kpr_config_defaults(struct kpr_config *cfg);
/* Read and write the one entry; errors are reported and returned as -errno. */
int kpr_config_read(const struct kpr_state *st, struct kpr_config *cfg);
int kpr_config_write(const struct kpr_state *st, const struct kpr_config *cfg);

/* The switches lb-mode sets; the others stay as they are. */
struct kpr_config_change {
	int ext_clusterip;	/* 0 or 1; -1: leave as it is */
	int icmp_echo;
	int socket_lb;
	int sock_hostns_only;
	unsigned long long netns_cookie;	/* recorded by socket_lb 1 */
	const char *cgroup;		/* of socket_lb 1; NULL: the cgroup2 root */
	__u16 nat_min, nat_max;	/* 0: leave as they are */
	__u8 algorithm;		/* 0: leave as it is */
	__u8 mode;		/* enum kpr_mode; 0: leave as it is */
	__u8 dsr_dispatch;	/* enum kpr_dsr_dispatch; 0: leave as it is */
	__u32 maglev_size;
	bool set_seed;
	__u8 seed[KPR_SEED_LEN];
};
void kpr_config_change_init(struct kpr_config_change *c);
/* Whether c sets anything. */
bool kpr_config_change_any(const struct kpr_config_change *c);
/* cfg with c applied; returns whether that differs from cfg as it was. */
bool kpr_config_change_apply(const struct kpr_config_change *c, struct kpr_config *cfg);

#endif
